"""What the answerer returns: plain data that every front-end renders its own way."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from retrieval.articles import ArticleSummary

NOT_FOUND_TEXT = "I couldn't find that in the indexed news."


@dataclass(frozen=True)
class Citation:
    """A numbered source the answer text points to with ``[n]``."""

    n: int
    url: str
    title: str
    source: str
    published: date
    quote: str
    author: str | None = None
    also_reported_by: tuple[ArticleSummary, ...] = ()


@dataclass(frozen=True)
class Result:
    """One retrieved passage, in rank order."""

    rank: int
    passage_id: int
    url: str
    title: str
    source: str
    published: date
    score: float
    text: str
    also_reported_by: tuple[ArticleSummary, ...] = ()
    author: str | None = None


@dataclass(frozen=True)
class Answer:
    """An answer to one question.

    ``text`` holds ``[n]`` markers that refer to ``citations`` (numbered in the order the
    text uses them). When ``answered`` is false, ``text`` is :data:`NOT_FOUND_TEXT` and
    ``closest`` lists the nearest headlines so the user can look for themselves.
    ``as_of`` is the publication date of the newest cited article; ``as_of_query`` is the
    reference date the question was answered as of; ``age_note`` says how old the evidence
    is relative to it when that matters (empty otherwise). ``evidence`` holds the best
    passages before the per-article cap of ``results`` (what a written answer draws on).
    ``answer_mode`` says who wrote ``text``: ``"extractive"`` (sentences of the sources) or
    ``"llm"`` (a language model, every sentence checked); ``dropped_sentences`` counts the
    model's sentences that failed the check and ``llm_ms`` how long the model took (None when
    it was not asked).

    ``confidence`` is the verifier's calibrated probability that the best answer it could
    compose is supported, on every answer, given or declined. A declined answer says why in
    ``decline_reason`` (``weak_evidence``, ``missing_terms`` with ``missing_terms``,
    ``no_answer_of_type``, ``outside_time_frame``) and, when the best passage is related but
    does not answer, names its article in ``closest_report``. A confident answer carries the
    span that answers (a date, a number, a name) in ``short_answer``; ``signals`` are the
    verifier's inputs, for traces.
    """

    question: str
    answered: bool
    text: str
    as_of_query: date
    citations: tuple[Citation, ...] = ()
    results: tuple[Result, ...] = ()
    as_of: date | None = None
    closest: tuple[ArticleSummary, ...] = ()
    age_note: str = ""
    evidence: tuple[Result, ...] = ()
    answer_mode: str = "extractive"
    dropped_sentences: int = 0
    llm_ms: float | None = None
    confidence: float = 0.0
    decline_reason: str | None = None
    missing_terms: tuple[str, ...] = ()
    short_answer: str | None = None
    closest_report: ArticleSummary | None = None
    signals: dict[str, float] = field(default_factory=dict, compare=False)
    timings: dict[str, float] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Question:
    """A question to answer, as of a date, after an earlier exchange (``context``)."""

    text: str
    top_k: int | None = None
    as_of: date | None = None
    context: str | None = None
