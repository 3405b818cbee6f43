"""Evidence signals for a composed answer: does this sentence answer this question?

Each signal is a plain number computed from what the answerer already has (the question's
vector, the retrieved passages, the chosen sentences and their stored vectors, document
frequencies from the index): no second model call.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from retrieval.answering.search import Hit, wants_recent
from retrieval.answering.spans import answer_kind, answer_spans
from retrieval.answering.timeframe import question_window
from retrieval.sentences import STOP_WORDS, content_words

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
# Question words that say how to ask, not what about: missing from a passage, they mean
# nothing.
_ASKING = frozenset({
    "happen", "happened", "many", "much", "long", "far", "big", "old", "fast", "strong", "high",
    "number", "percentage", "share", "amount", "did", "does", "do", "new", "first", "last",
    "year", "years", "week", "month", "day", "time", "date", "dates", "happening",
})  # fmt: skip


@dataclass(frozen=True)
class Evidence:
    """What the verifier reads for one composed answer."""

    question: str
    query: np.ndarray
    ranked: Sequence[Hit]  # every candidate passage, best first
    cited: Sequence[Hit]  # the passages the chosen sentences come from, in answer order
    sentences: Sequence[str]  # the chosen sentences as written (dates made absolute)
    sentence_vectors: np.ndarray  # their stored vectors, one row per sentence
    reference: date
    passages: int  # passages in the index
    frequencies: Mapping[str, int]  # passages holding each question term


@dataclass(frozen=True)
class Signals:
    """The evidence signals of one answer, with the short answer and the missing terms."""

    values: dict[str, float]
    short_answer: str | None
    missing_terms: tuple[str, ...]
    kind: str


def question_terms(question: str) -> list[str]:
    """The question's words worth finding in the evidence (names, numbers, rare words)."""
    words = (w.replace("’", "'").removesuffix("'s") for w in _WORD.findall(question))
    kept = (w for w in words if w.lower() not in STOP_WORDS and w.lower() not in _ASKING)
    return list(dict.fromkeys(w for w in kept if len(w) > 1))


# Every term weighs at least this much: in a small index a word of a story's title is in
# every passage, and its IDF alone would make it count for nothing.
IDF_FLOOR = 0.2


def idf(frequency: int, passages: int) -> float:
    """Inverse document frequency, scaled to IDF_FLOOR..1 (1 for a word no passage holds)."""
    scaled = math.log((passages + 1) / (frequency + 0.5)) / math.log((passages + 1) / 0.5)
    return IDF_FLOOR + (1 - IDF_FLOOR) * max(scaled, 0.0)


def coverage(
    terms: Sequence[str], text: str, frequencies: Mapping[str, int], passages: int
) -> tuple[float, list[str]]:
    """The IDF-weighted share of ``terms`` found in ``text``, and the missing terms, rarest
    first."""
    found = content_words(text)
    weights = {t: idf(frequencies.get(t.lower(), 0), passages) for t in terms}
    missing = [t for t in terms if not (content_words(t) <= found)]
    total = sum(weights.values())
    if not total:
        return 1.0, []
    share = 1 - sum(weights[t] for t in missing) / total
    return share, sorted(missing, key=lambda t: -weights[t])


def time_fit(question: str, published: date, reference: date) -> tuple[float, float]:
    """(1 when the question names a time frame the report predates, the report's age as a
    share of a year when the question asks about the latest state). A report from after
    the time frame may still tell what happened in it ("where did Putin travel in May?")."""
    window = question_window(question, reference)
    outside = 1.0 if window is not None and published < window.start else 0.0
    age = (reference - published).days if wants_recent(question) else 0
    return outside, min(max(age, 0), 365) / 365


def compute(evidence: Evidence) -> Signals:
    """Every signal of one answer."""
    ranked, cited = evidence.ranked, evidence.cited
    first = cited[0]
    other = next((h for h in ranked if h.passage.article.url != first.passage.article.url), None)
    sentence_sims = evidence.sentence_vectors @ evidence.query
    terms = question_terms(evidence.question)
    text = " ".join(f"{h.passage.article.title} {h.passage.text}" for h in cited)
    passage_cover, missing = coverage(terms, text, evidence.frequencies, evidence.passages)
    sentence_cover, _ = coverage(
        terms, " ".join(evidence.sentences), evidence.frequencies, evidence.passages
    )
    rarest_missing = max(
        (idf(evidence.frequencies.get(t.lower(), 0), evidence.passages) for t in missing),
        default=0.0,
    )
    kind = answer_kind(evidence.question)
    # The best span of any chosen sentence; of equally good ones, the first sentence's.
    spans = [
        (preference, row, position, span)
        for row, sentence in enumerate(evidence.sentences)
        for preference, position, span in answer_spans(kind, sentence, evidence.question)
    ]
    span = min(spans)[3] if spans else None
    outside, age = time_fit(
        evidence.question, max(h.passage.article.published for h in cited), evidence.reference
    )
    agreeing = sum(
        1
        for h in ranked[1:5]
        if span and h.passage.article.url != first.passage.article.url
        and span.lower() in h.passage.text.lower()
    )  # fmt: skip
    values = {
        "top_similarity": max(h.similarity for h in ranked),
        "cited_similarity": first.similarity,
        "sentence_similarity": float(sentence_sims.max()) if len(sentence_sims) else 0.0,
        "margin": first.score - other.score if other is not None else 0.3,
        "coverage": passage_cover,
        "sentence_coverage": sentence_cover,
        "rarest_missing": rarest_missing,
        "typed": 1.0 if kind != "other" else 0.0,
        "type_found": 1.0 if span else 0.0,
        "outside_time_frame": outside,
        "age": age,
        "agreement": min(agreeing, 2) / 2,
        # The support check of the old evidence gate: a key word of the question is cited.
        "shares_word": 1.0 if content_words(evidence.question) & content_words(text) else 0.0,
    }
    return Signals(
        {k: round(float(v), 4) for k, v in values.items()}, span, tuple(missing[:3]), kind
    )
