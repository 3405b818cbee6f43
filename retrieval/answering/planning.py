"""What the answerer looks for, per question of a batch: its settings, each question's
search plan and terms, and the batch's first candidates gathered together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from retrieval.answer import Question
from retrieval.answering.search import Found, SearchPlan, first_fetch, gather, wants_recent
from retrieval.answering.timeframe import question_window
from retrieval.sentences import keyword_terms

if TYPE_CHECKING:
    from retrieval.storage import StoreReader


@dataclass(frozen=True)
class AnswerSettings:
    """How the answerer retrieves and composes."""

    top_k: int = 5
    method: str = "hybrid"
    keyword_weight: float = 0.3
    threshold: float = 0.40
    per_article: int = 2
    evidence_passages: int = 3
    evidence_margin: float = 0.12
    sentence_margin: float = 0.08
    max_sentences: int = 2
    context_weight: float = 0.5
    recency_half_life_days: float = 30.0
    recency_weight: float = 0.05
    window_weight: float = 0.1
    age_note_days: int = 2
    rerank_top: int = 20
    # Below this confidence the answerer declines; None takes the calibrated default.
    min_confidence: float | None = None


@dataclass(frozen=True)
class Search:
    """One question of a batch: what it asks, as of when, how many results, how to rank."""

    asked: Question
    reference: date
    top_k: int
    plan: SearchPlan
    terms: list[str]


def plan_search(asked: Question, reference: date, settings: AnswerSettings) -> Search:
    """What to look for and how, for one question asked as of ``reference``."""
    question = asked.text
    plan = SearchPlan(
        method=settings.method,
        keyword_weight=settings.keyword_weight,
        per_article=settings.per_article,
        recency_half_life_days=settings.recency_half_life_days,
        recency_weight=settings.recency_weight if wants_recent(question) else 0.0,
        window=question_window(question, reference),
        window_weight=settings.window_weight,
        merge_margin=settings.rerank_top,
    )
    terms = keyword_terms(f"{question} {asked.context}" if asked.context else question)
    return Search(asked, reference, asked.top_k or settings.top_k, plan, terms)


def gather_first(
    reader: StoreReader, queries: np.ndarray, searches: list[Search], method: str
) -> list[Found]:
    """The first candidates of every question (a row of ``queries`` each), gathered
    together for the questions that ask for as many (the same ``top_k``)."""
    found: dict[int, Found] = {}
    fetches = [first_fetch(s.top_k, s.plan) for s in searches]
    for fetch in dict.fromkeys(fetches):
        rows = [row for row, f in enumerate(fetches) if f == fetch]
        batch = gather(reader, queries[rows], [searches[r].terms for r in rows],
                       [searches[r].reference for r in rows], fetch, method)  # fmt: skip
        found.update(zip(rows, batch, strict=True))
    return [found[row] for row in range(len(searches))]
