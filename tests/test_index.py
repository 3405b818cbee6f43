"""The on-disk index: build, load, manifest checks, atomic swaps and crash safety."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import faiss
import numpy as np
import pytest

from retrieval.answering import Answerer
from retrieval.chunking import ChunkSettings
from retrieval.errors import (
    IndexDamagedError,
    IndexMismatchError,
    IndexMissingError,
    NewsbotError,
)
from retrieval.index import (
    EmbeddedStorage,
    IndexSpec,
    build_index,
    current_generation,
    generations,
    open_index,
)
from retrieval.index import layout as index_module
from retrieval.sources import load_articles
from tests.conftest import FIXTURES, SEEDS, HashingEmbedder

FAR_FUTURE = date(2100, 1, 1)


def _spec(embedder: HashingEmbedder, **chunking: int) -> IndexSpec:
    return IndexSpec(embedder.name, ChunkSettings(**chunking))


def test_build_and_open(tmp_path: Path, hashing_embedder: HashingEmbedder) -> None:
    articles = load_articles([SEEDS, FIXTURES / "changing_story.jsonl"])
    manifest = build_index(tmp_path, articles, hashing_embedder, ChunkSettings())
    assert manifest.articles == 4
    assert manifest.generation == 1
    reader = open_index(tmp_path, _spec(hashing_embedder))
    assert reader.size == manifest.passages == reader.store.counts()["passages"]
    on_disk = json.loads((tmp_path / "gen-000001" / "manifest.json").read_text())
    assert on_disk["model"] == "test/hashing"
    assert on_disk["dimension"] == 64
    assert on_disk["chunking"] == {"max_tokens": 256, "min_chars": 80}
    assert on_disk["format_version"] == index_module.FORMAT_VERSION
    # FAISS ids are the store's passage ids: every search hit resolves to a passage.
    query = hashing_embedder.encode(["Vienna summit"])[0]
    hits = reader.search(query, 5)
    stored = reader.store.passages(i for i, _ in hits)
    assert set(stored) == {i for i, _ in hits}
    assert stored[hits[0][0]].article.title == "Northland-Southland Summit Moved to Vienna"
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)


def test_missing_index_says_what_to_run(tmp_path: Path, hashing_embedder: HashingEmbedder) -> None:
    with pytest.raises(IndexMissingError, match="run `newsbot index`"):
        open_index(tmp_path / "nothing", _spec(hashing_embedder))


def test_manifest_mismatch(tmp_path: Path, hashing_embedder: HashingEmbedder) -> None:
    build_index(tmp_path, load_articles([SEEDS]), hashing_embedder, ChunkSettings())
    with pytest.raises(IndexMismatchError) as error:
        open_index(tmp_path, IndexSpec("other/model", ChunkSettings()))
    assert "'test/hashing'" in str(error.value) and "'other/model'" in str(error.value)
    assert "run `newsbot index --existing`" in str(error.value)
    with pytest.raises(IndexMismatchError, match="passage settings"):
        open_index(tmp_path, _spec(hashing_embedder, max_tokens=128))


def test_unreadable_manifest(tmp_path: Path, hashing_embedder: HashingEmbedder) -> None:
    build_index(tmp_path, load_articles([SEEDS]), hashing_embedder, ChunkSettings())
    (tmp_path / "gen-000001" / "manifest.json").write_text("{not json")
    with pytest.raises(IndexDamagedError, match=r"unreadable.*`newsbot index --existing`"):
        open_index(tmp_path, _spec(hashing_embedder))


def test_passages_longer_than_the_model_reads_are_refused(
    tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    with pytest.raises(NewsbotError, match="NEWSBOT_MAX_PASSAGE_TOKENS"):
        build_index(
            tmp_path, load_articles([SEEDS]), hashing_embedder, ChunkSettings(max_tokens=512)
        )
    assert current_generation(tmp_path) is None


@pytest.mark.parametrize("failing", ["write_index", "add_article", "replace_current"])
def test_crash_mid_build_keeps_the_previous_index(
    tmp_path: Path,
    hashing_embedder: HashingEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
) -> None:
    seeds = load_articles([SEEDS])
    build_index(tmp_path, seeds, hashing_embedder, ChunkSettings())

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("simulated crash")

    target = {
        "write_index": (faiss, "write_index"),
        "add_article": (generations.Store, "add_article"),
        "replace_current": (generations, "_replace_current"),
    }[failing]
    monkeypatch.setattr(*target, crash)
    with pytest.raises(OSError, match="simulated crash"):
        build_index(
            tmp_path,
            load_articles([FIXTURES / "changing_story.jsonl"]),
            hashing_embedder,
            ChunkSettings(),
        )
    monkeypatch.undo()
    assert current_generation(tmp_path) == "gen-000001"
    reader = open_index(tmp_path, _spec(hashing_embedder))
    assert reader.store.counts() == {"articles": 1, "passages": 10}
    answer = Answerer(EmbeddedStorage(tmp_path, _spec(hashing_embedder)), hashing_embedder).answer(
        "Putin North Korea visit Kremlin", as_of=FAR_FUTURE
    )
    assert answer.results and answer.results[0].url == seeds[0].url
    assert not list(tmp_path.glob(".build-*"))
    assert [p.name for p in tmp_path.glob("gen-*")] == ["gen-000001"]
    manifest = build_index(tmp_path, seeds, hashing_embedder, ChunkSettings())
    assert current_generation(tmp_path) == f"gen-{manifest.generation:06d}"


def test_leftover_build_from_a_killed_process_is_ignored_then_removed(
    tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    build_index(tmp_path, load_articles([SEEDS]), hashing_embedder, ChunkSettings())
    leftover = tmp_path / ".build-killed"
    leftover.mkdir()
    (leftover / "vectors.faiss").write_bytes(b"half a file")
    assert open_index(tmp_path, _spec(hashing_embedder)).size == 10
    build_index(tmp_path, load_articles([SEEDS]), hashing_embedder, ChunkSettings())
    assert not leftover.exists()


def test_rebuild_swaps_generations_and_keeps_one_old(
    tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    for _ in range(3):
        build_index(tmp_path, load_articles([SEEDS]), hashing_embedder, ChunkSettings())
    assert current_generation(tmp_path) == "gen-000003"
    assert sorted(p.name for p in tmp_path.glob("gen-*")) == ["gen-000002", "gen-000003"]


def test_answerer_reloads_after_a_rebuild(
    tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    build_index(tmp_path, load_articles([SEEDS]), hashing_embedder, ChunkSettings())
    answerer = Answerer(EmbeddedStorage(tmp_path, _spec(hashing_embedder)), hashing_embedder)
    assert answerer.stats() == {"articles": 1, "passages": 10}
    build_index(
        tmp_path,
        load_articles([SEEDS, FIXTURES / "changing_story.jsonl"]),
        hashing_embedder,
        ChunkSettings(),
    )
    assert answerer.stats()["articles"] == 4
    assert [a.published for a in answerer.list_articles()] == sorted(
        (a.published for a in answerer.list_articles()), reverse=True
    )


def test_vectors_are_normalised_cosine(tmp_path: Path, embedder) -> None:
    build_index(tmp_path, load_articles([SEEDS]), embedder, ChunkSettings())
    reader = open_index(tmp_path, IndexSpec(embedder.name, ChunkSettings()))
    vectors = reader.vectors.index.reconstruct_n(0, reader.size)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
