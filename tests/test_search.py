"""Ranking helpers as pure functions over hits."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from retrieval.articles import Article, ArticleSummary, Passage
from retrieval.search import Hit, merge_copies
from retrieval.store import Store, StoredPassage

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
