"""Saved postings give FTS5's own BM25 ranking, and follow updates of the generation."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from retrieval.articles import Article
from retrieval.chunking import ChunkSettings
from retrieval.index import IndexSpec, Writer, keywords, open_index, update_index
from retrieval.index.keywords import KEYWORDS, KeywordIndex
from retrieval.index.postings import save_keywords
from tests.conftest import HashingEmbedder

WORDS = (
    "dam", "river", "flood", "bridge", "minister", "election", "vote", "budget", "tax",
    "school", "teacher", "strike", "hospital", "nurse", "storm", "rain", "harbour", "ship",
    "port", "trade", "tariff", "court", "judge", "appeal", "visit", "summit", "treaty",
    "north", "korea", "putin", "vietnam", "weapons", "missile", "satellite", "food", "grain",
)  # fmt: skip


def _articles(count: int, seed: int) -> list[Article]:
    rng = random.Random(seed)
    articles = []
    for number in range(count):
        paragraphs = tuple(
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30))).capitalize() + "."
            for _ in range(rng.randint(1, 3))
        )
        articles.append(
            Article(
                f"https://n.example/{seed}/{number}",
                f"Report {rng.choice(WORDS)}",
                "Outlet",
                date(2024, 1, 1) + timedelta(days=rng.randrange(200)),
                paragraphs,
            )
        )
    return articles


@pytest.fixture
def writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Writer:
    monkeypatch.setattr(keywords, "MIN_PASSAGES", 1)  # every generation saves its postings
    return Writer(tmp_path, HashingEmbedder(), ChunkSettings())


# "north-korea" and "putin's" are phrases to FTS5 (two tokens in a row), scored by FTS5 alone.
QUERIES = [["dam", "flood"], ["visiting", "visit", "putin"], ["minister"], ["tariffs", "trade"],
           ["nothing"], ["north-korea"], ["judges", "appealed", "court", "storm"],
           ["north-korea", "missile", "putin's"], ["korea-north", "north"]]  # fmt: skip


def _check_same_as_fts5(data_dir: Path) -> None:
    reader = open_index(data_dir, IndexSpec("test/hashing", ChunkSettings()))
    assert reader.keywords is not None
    for terms in QUERIES:
        for day in (date(2024, 3, 1), date(2030, 1, 1)):
            mine = reader.keyword_search(terms, 40, day)
            theirs = reader.store.keyword_search(terms, 40, day)
            assert theirs or terms == ["nothing"]
            assert [s for _, s in mine] == pytest.approx([s for _, s in theirs], rel=1e-5)
            # Ties may come in another order; everything above the cut is the same set.
            cut = theirs[-1][1] if len(theirs) == 40 else -1.0
            assert {i for i, s in mine if s > cut + 1e-6} == {
                i for i, s in theirs if s > cut + 1e-6
            }
    reader.close()


def test_saved_postings_rank_as_fts5_does(writer: Writer) -> None:
    update_index(writer, _articles(150, seed=1))
    _check_same_as_fts5(writer.data_dir)


def test_postings_follow_additions_and_removals(writer: Writer) -> None:
    first, second = _articles(120, seed=2), _articles(60, seed=3)
    update_index(writer, first)
    update_index(writer, second, remove=[a.url for a in first[:40]])
    _check_same_as_fts5(writer.data_dir)
    # The same as saving every posting afresh.
    live = writer.data_dir / (writer.data_dir / "CURRENT").read_text().strip()
    save_keywords(live / "store.sqlite", live.parent / "fresh.npz")
    kept, fresh = np.load(live / KEYWORDS, allow_pickle=True), np.load(live.parent / "fresh.npz",
                                                                    allow_pickle=True)  # fmt: skip
    assert np.array_equal(kept["ids"], fresh["ids"])

    def postings(data: np.lib.npyio.NpzFile) -> set[tuple[str, int, int]]:
        terms = np.repeat(data["terms"], np.diff(data["starts"]))
        return set(zip(terms.tolist(), data["ids"][data["rows"]].tolist(),
                       data["counts"].tolist(), strict=True))  # fmt: skip

    assert postings(kept) == postings(fresh)


def test_small_generations_ask_fts5(tmp_path: Path) -> None:
    writer = Writer(tmp_path, HashingEmbedder(), ChunkSettings())
    update_index(writer, _articles(20, seed=4))
    reader = open_index(tmp_path, IndexSpec("test/hashing", ChunkSettings()))
    assert reader.size < keywords.MIN_PASSAGES and reader.keywords is None
    assert reader.keyword_search(["dam"], 5, date(2030, 1, 1)) == reader.store.keyword_search(
        ["dam"], 5, date(2030, 1, 1)
    )
    reader.close()


def test_a_missing_previous_file_means_a_full_save(writer: Writer, tmp_path: Path) -> None:
    update_index(writer, _articles(30, seed=5))
    live = writer.data_dir / (writer.data_dir / "CURRENT").read_text().strip()
    save_keywords(live / "store.sqlite", tmp_path / "a.npz", tmp_path / "absent.npz")
    index = KeywordIndex(tmp_path / "a.npz")
    assert index.search(["dam"], 5, date(2030, 1, 1), lambda phrase: [])


def test_counts_from_the_postings_are_fts5s(writer: Writer) -> None:
    update_index(writer, _articles(80, seed=6))
    reader = open_index(writer.data_dir, IndexSpec("test/hashing", ChunkSettings()))
    terms = ["dam", "floods", "north-korea", "putin's", "nothing", "visiting"]
    reader.keyword_search(["dam"], 5, date(2030, 1, 1))  # loads the postings
    assert reader.keywords is not None and reader.keywords.frequency("north-korea") is None
    assert reader.document_frequencies(terms) == reader.store.document_frequencies(terms)
    assert reader.keywords.frequency("dam") == reader.store.document_frequencies(["dam"])["dam"] > 0
    reader.close()
