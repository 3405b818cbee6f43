"""Ranking retrieved passages: pure functions over scored hits."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from retrieval.store import StoredPassage
from retrieval.timeframe import Window


@dataclass(frozen=True)
class Hit:
    """A retrieved passage: its cosine similarity to the query, and its ranking score."""

    passage: StoredPassage
    similarity: float
    score: float


def collapse_per_article(hits: Iterable[Hit], per_article: int, limit: int) -> list[Hit]:
    """The best hits in score order, at most ``per_article`` from any one article."""
    kept: list[Hit] = []
    counts: dict[str, int] = {}
    for hit in sorted(hits, key=lambda h: -h.score):
        url = hit.passage.article.url
        if counts.get(url, 0) >= per_article:
            continue
        counts[url] = counts.get(url, 0) + 1
        kept.append(hit)
        if len(kept) >= limit:
            break
    return kept


# Questions about what is next, latest or current want the newest reports; plain factual
# questions ("who founded ...") are not skewed by age.
_WANTS_RECENT = re.compile(
    r"\b(?:latest|newest|most recent|recent(?:ly)?|current(?:ly)?|now|next|upcoming|still|"
    r"yet|today|tonight|tomorrow|this (?:week|month|year)|will|going to|scheduled|planned|"
    r"(?:when|where) (?:is|are|will))\b",
    re.I,
)


def wants_recent(question: str) -> bool:
    """Whether a question asks about the latest state of a story."""
    return bool(_WANTS_RECENT.search(question))


def freshness(published: date, reference: date, half_life_days: float) -> float:
    """1.0 for a report from the reference date, halving every ``half_life_days`` before it."""
    age = max((reference - published).days, 0)
    return float(0.5 ** (age / half_life_days))


def boost_recent(
    hits: Iterable[Hit], reference: date, half_life_days: float, weight: float
) -> list[Hit]:
    """Hits with ``weight * freshness`` added to their scores."""
    return [
        Hit(
            h.passage,
            h.similarity,
            h.score + weight * freshness(h.passage.article.published, reference, half_life_days),
        )
        for h in hits
    ]


def boost_window(hits: Iterable[Hit], window: Window, weight: float) -> list[Hit]:
    """Hits published inside the question's time frame get ``weight`` added."""
    return [
        Hit(h.passage, h.similarity, h.score + weight)
        if h.passage.article.published in window
        else h
        for h in hits
    ]
