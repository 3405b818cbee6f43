"""Ranking helpers as pure functions over hits."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import date
from pathlib import Path

from retrieval.answering.search import Hit, merge_copies, shingles
from retrieval.articles import Article, ArticleSummary, Passage
from retrieval.index import Store
from retrieval.storage import StoredPassage

STORY = "The central bank raised its main rate by half a point on Thursday to fight inflation."


def _hit(number: int, text: str, score: float) -> Hit:
    article = ArticleSummary(f"https://n{number}.example/a", f"T{number}", f"Outlet {number}",
                             date(2024, 5, 1))  # fmt: skip
    return Hit(StoredPassage(number, 0, text, article), score, score)


def test_copies_fold_into_the_better_hit() -> None:
    hits = [_hit(1, STORY, 0.9), _hit(2, "Rain is expected all week in the north.", 0.8),
            _hit(3, STORY + " Markets fell.", 0.7)]  # fmt: skip
    merged = merge_copies(hits)
    assert [h.passage.id for h in merged] == [1, 2]
    assert [a.source for a in merged[0].also] == ["Outlet 3"]


def test_folding_stops_after_keep_hits_and_the_rest_follow_unchanged() -> None:
    hits = [_hit(1, STORY, 0.9), _hit(2, STORY, 0.85), _hit(3, "Rain all week here.", 0.8),
            _hit(4, "A bridge closed for repairs today.", 0.7), _hit(5, STORY, 0.6)]  # fmt: skip
    merged = merge_copies(hits, keep=2)
    assert [h.passage.id for h in merged] == [1, 3, 4, 5]  # 2 folded, 5 past the kept two
    assert [a.source for a in merged[0].also] == ["Outlet 2"]
    assert merged[3] is hits[4]


def test_keyword_search_leaves_out_articles_after_the_date(tmp_path: Path) -> None:
    writer = Store(tmp_path / "store.sqlite")
    for day, url in ((1, "https://a.example/old"), (20, "https://a.example/new")):
        article = Article(url, "Dam news", "Outlet", date(2024, 5, day), ("The dam opened.",))
        writer.add_article(article, [Passage(url, 0, "The dam opened.")])
    writer.close()
    store = Store(tmp_path / "store.sqlite", readonly=True)
    assert [i for i, _ in store.keyword_search(["dam"], 10, date(2024, 5, 10))] == [1]
    assert sorted(i for i, _ in store.keyword_search(["dam"], 10, date(2024, 6, 1))) == [1, 2]
    assert sorted(i for i, _ in store.keyword_search(["dam"], 10, date(2024, 5, 20))) == [1, 2]
    assert store.keyword_search(["dam"], 10, date(2024, 4, 1)) == []
    store.close()


def _pairwise_reference(hits: list[Hit], threshold: float = 0.5) -> list[tuple[int, list[str]]]:
    """The definition, pair by pair: (kept passage id, sources folded into it)."""
    kept: list[tuple[Hit, list[str]]] = []
    for hit in hits:
        mine = shingles(hit.passage.text)
        for other, folded in kept:
            theirs = shingles(other.passage.text)
            cosine = (
                len(mine & theirs) / math.sqrt(len(mine) * len(theirs)) if mine and theirs else 0
            )
            if hit.passage.article.url != other.passage.article.url and cosine >= threshold:
                if hit.passage.article.source not in folded:
                    folded.append(hit.passage.article.source)
                break
        else:
            kept.append((hit, []))
    return [(hit.passage.id, folded) for hit, folded in kept]


def test_merging_through_the_trigram_index_matches_the_pairwise_definition() -> None:
    rng = random.Random(5)
    pieces = [STORY, "Rain is expected all week in the north of the country.",
              "The minister said the plan would be ready by the end of the year.",
              "Shares in the company fell sharply after the report was published."]  # fmt: skip
    for _ in range(30):
        hits = []
        for number in range(1, 25):
            text = " ".join(rng.sample(pieces, rng.randint(1, 3)))
            hits.append(_hit(number if rng.random() < 0.8 else 1, text, 1 - number / 100))
        hits = [replace(h, passage=replace(h.passage, id=n)) for n, h in enumerate(hits)]
        merged = merge_copies(hits)
        assert [(h.passage.id, [a.source for a in h.also]) for h in merged] == (
            _pairwise_reference(hits)
        )
