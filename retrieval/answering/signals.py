"""Evidence signals for a composed answer: does this sentence answer this question?

Each signal is a plain number computed from what the answerer already has (the question's
vector, the retrieved passages, the chosen sentences and their stored vectors, document
frequencies from the index): no second model call.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from retrieval.answering.aliases import alias_found
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
    "year", "years", "week", "month", "day", "time", "times", "date", "dates", "happening",
    "before", "after", "ago", "since", "still", "now", "currently", "recently", "ever",
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
    # Normalised vectors of single words (the model's word-piece table), when available.
    word_vectors: Callable[[Sequence[str]], np.ndarray] | None = None


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


def names(terms: Sequence[str]) -> list[str]:
    """The terms that name something: capitalised words and numbers ("Latvia", "2024")."""
    return [t for t in terms if t[0].isupper() or any(c.isdigit() for c in t)]


# Every term weighs at least this much: in a small index a word of a story's title is in
# every passage, and its IDF alone would make it count for nothing.
IDF_FLOOR = 0.2


def idf(frequency: int, passages: int) -> float:
    """Inverse document frequency, scaled to IDF_FLOOR..1 (1 for a word no passage holds)."""
    scaled = math.log((passages + 1) / (frequency + 0.5)) / math.log((passages + 1) / 0.5)
    return IDF_FLOOR + (1 - IDF_FLOOR) * max(scaled, 0.0)


def missing_terms(terms: Sequence[str], text: str, question: str = "") -> list[str]:
    """The terms ``text`` does not hold, under their own name or another ("Pyongyang" is
    found in "North Korea", and so are "North" and "Korea" of a question about North
    Korea)."""
    found = content_words(text)
    return [
        t for t in terms
        if not (content_words(t) <= found) and not alias_found(t, text, question)
    ]  # fmt: skip


def coverage(
    terms: Sequence[str],
    text: str,
    frequencies: Mapping[str, int],
    passages: int,
    question: str = "",
) -> tuple[float, list[str]]:
    """The IDF-weighted share of ``terms`` found in ``text``, and the missing terms, rarest
    first."""
    weights = {t: idf(frequencies.get(t.lower(), 0), passages) for t in terms}
    missing = missing_terms(terms, text, question)
    total = sum(weights.values())
    if not total:
        return 1.0, []
    share = 1 - sum(weights[t] for t in missing) / total
    return share, sorted(missing, key=lambda t: -weights[t])


def soft_coverage(
    terms: Sequence[str],
    text: str,
    frequencies: Mapping[str, int],
    passages: int,
    word_vectors: Callable[[Sequence[str]], np.ndarray],
    question: str = "",
) -> float:
    """Like ``coverage``, but a missing term counts with its closest word of ``text`` (the
    cosine of their word-piece vectors) instead of nothing."""
    missing = missing_terms(terms, text, question)
    weights = {t: idf(frequencies.get(t.lower(), 0), passages) for t in terms}
    total = sum(weights.values())
    if not total:
        return 1.0
    words = sorted({w.lower() for w in _WORD.findall(text)} - STOP_WORDS)
    if not missing or not words:
        return 1 - sum(weights[t] for t in missing) / total
    closest = (word_vectors([t.lower() for t in missing]) @ word_vectors(words).T).max(axis=1)
    lost = sum(weights[t] * (1 - max(float(c), 0.0)) for t, c in zip(missing, closest, strict=True))
    return 1 - lost / total


def time_fit(question: str, published: date, reference: date) -> tuple[float, float]:
    """(1 when the question names a time frame the report predates, the report's age as a
    share of a year when the question asks about the latest state). A report from after
    the time frame may still tell what happened in it ("where did Putin travel in May?")."""
    window = question_window(question, reference)
    # "In May" without a year may mean an earlier May than the last one: no evidence against.
    outside = 1.0 if window is not None and window.certain and published < window.start else 0.0
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
    counts, size, asked = evidence.frequencies, evidence.passages, evidence.question
    passage_cover, missing = coverage(terms, text, counts, size, asked)
    sentence_cover, _ = coverage(terms, " ".join(evidence.sentences), counts, size, asked)
    name_cover, _ = coverage(names(terms), text, counts, size, asked)
    soft = (
        soft_coverage(terms, text, counts, size, evidence.word_vectors, asked)
        if evidence.word_vectors is not None
        else passage_cover
    )
    numbers = [t for t in terms if any(c.isdigit() for c in t)]
    numbers_found = not missing_terms(numbers, text)
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
    # "How many turbines" wants a number of turbines; "700 megawatts" is a number, not that.
    measure_missing = kind == "number" and not (spans and min(spans)[0] == 0)
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
        "name_coverage": name_cover,
        "soft_coverage": soft,
        # A year or figure of the question that the evidence lacks ("in 2020").
        "numbers_found": 1.0 if numbers_found else 0.0,
        "rarest_missing": rarest_missing,
        "typed": 1.0 if kind != "other" else 0.0,
        "type_found": 1.0 if span else 0.0,
        "measure_missing": 1.0 if measure_missing else 0.0,
        "outside_time_frame": outside,
        "age": age,
        "agreement": min(agreeing, 2) / 2,
        # The support check of the old evidence gate: a key word of the question is cited.
        "shares_word": 1.0 if content_words(evidence.question) & content_words(text) else 0.0,
    }
    return Signals(
        {k: round(float(v), 4) for k, v in values.items()}, span, tuple(missing[:3]), kind
    )
