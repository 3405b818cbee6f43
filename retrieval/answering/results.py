"""Hits as what an answer lists: ranked results and the closest articles."""

from __future__ import annotations

from retrieval.answer import Result
from retrieval.answering.search import Hit
from retrieval.articles import ArticleSummary


def results(hits: list[Hit]) -> tuple[Result, ...]:
    """Hits as the ranked passages an answer lists."""
    return tuple(
        Result(
            rank=rank,
            passage_id=hit.passage.id,
            url=hit.passage.article.url,
            title=hit.passage.article.title,
            source=hit.passage.article.source,
            published=hit.passage.article.published,
            score=round(hit.score, 4),
            text=hit.passage.text,
            also_reported_by=hit.also,
            author=hit.passage.article.author,
        )
        for rank, hit in enumerate(hits, start=1)
    )


def distinct_articles(hits: list[Hit], limit: int) -> tuple[ArticleSummary, ...]:
    """The articles of the first hits, each once, at most ``limit``."""
    seen: dict[str, ArticleSummary] = {}
    for hit in hits:
        seen.setdefault(hit.passage.article.url, hit.passage.article)
    return tuple(list(seen.values())[:limit])
