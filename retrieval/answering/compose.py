"""Choosing the sentences that answer a question: pure scoring over given vectors."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.answering.spans import answer_kind, answer_spans
from retrieval.sentences import content_words

_DATE_WORDS = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow|yesterday|"
    r"tonight|week|month|year|jan(?:uary)?|feb(?:ruary)?|march|april|may|june|july|august|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|\d{4}|\d{1,2}(?:st|nd|rd|th)?)\b",
    re.I,
)
_SPECIFIC_DATE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b|"
    r"\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|"
    r"\b(?:on\s+)(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    re.I,
)
# "After", "next", "then": the question asks what follows (or precedes) something, and so
# does a sentence that answers it.
_SEQUENCE = (
    re.compile(r"\b(?:after(?:wards)?|then|next|later|subsequently)\b", re.I),
    re.compile(r"\b(?:before|previously|earlier|prior to)\b", re.I),
)
_NUMBER = re.compile(r"\b\d[\d,.]*\b|\b(?:hundred|thousand|million|billion)\b", re.I)
_NAME = re.compile(r"(?<=[a-z,;] )[A-Z][a-zA-Z'’-]+|(?<=\bto )[A-Z][a-zA-Z'’-]+")


_CALENDAR_NAMES = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
}  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, with where it came from."""

    text: str
    passage_rank: int
    position: int
    passage_score: float
    bonus: float = 0.0  # the passage's recency or time-frame bonus, carried to its sentences


@dataclass(frozen=True)
class Scored:
    """A candidate sentence and its score for one question."""

    candidate: Candidate
    score: float
    index: int


def question_kind(question: str) -> str:
    """The kind of answer a question asks for: when, where, who, number, or other."""
    q = question.lower()
    if re.search(r"\bwhen\b|\bwhat (?:date|day|time|year|month)\b|\bdates?\b|\bhow long ago\b", q):
        return "when"
    if re.search(r"\bwhere\b|\bwhich (?:country|city|countries|cities|place)\b", q):
        return "where"
    if re.search(r"\bhow (?:many|much)\b|\bwhat (?:number|percentage|share)\b", q):
        return "number"
    if re.search(r"\bwho(?:m|se)?\b", q):
        return "who"
    return "other"


def _type_bonus(kind: str, sentence: str, question_words: set[str]) -> float:
    """Reward sentences that hold the kind of fact the question asks for."""
    if kind == "when":
        if _SPECIFIC_DATE.search(sentence):
            return 0.15
        return 0.05 if _DATE_WORDS.search(sentence) else 0.0
    if kind == "number":
        return 0.1 if _NUMBER.search(sentence) else 0.0
    if kind in ("where", "who"):
        names = {n.lower() for n in _NAME.findall(sentence)} - _CALENDAR_NAMES
        new = {n for n in names if not any(n.startswith(w) for w in question_words)}
        return 0.1 if new else 0.0
    return 0.0


def score_sentences(
    question: str,
    query_vector: np.ndarray,
    candidates: Sequence[Candidate],
    sentence_vectors: np.ndarray,
    extra_words: set[str] | None = None,
) -> list[Scored]:
    """Score each candidate sentence: similarity to the query, shared words, answer type."""
    question_words = content_words(question) | (extra_words or set())
    raw_words = {w.lower() for w in re.findall(r"[A-Za-z]+", question)}
    kind = question_kind(question)
    sequence = [pattern for pattern in _SEQUENCE if pattern.search(question)]
    similarities = sentence_vectors @ query_vector
    sentence_words = [content_words(c.text) for c in candidates]
    weights = _local_idf(question_words, sentence_words)
    total = sum(weights.values())
    scored = []
    for index, (candidate, similarity) in enumerate(zip(candidates, similarities, strict=True)):
        words = sentence_words[index]
        overlap = sum(weights[w] for w in words & question_words) / total if total else 0.0
        score = (
            float(similarity)
            + 0.25 * overlap
            + 0.1 * candidate.passage_score
            + candidate.bonus
            + _type_bonus(kind, candidate.text, raw_words)
            + (0.15 if any(p.search(candidate.text) for p in sequence) else 0.0)
        )
        scored.append(Scored(candidate, score, index))
    return sorted(scored, key=lambda s: -s.score)


def _local_idf(question_words: set[str], sentence_words: list[set[str]]) -> dict[str, float]:
    """Weights of the question's words: those in every candidate sentence tell little apart."""
    count = len(sentence_words)
    return {
        word: math.log((count + 1) / (sum(word in words for words in sentence_words) + 0.5))
        for word in question_words
    }


def pick_sentences(
    scored: Sequence[Scored], sentence_vectors: np.ndarray, *, margin: float, limit: int
) -> list[Scored]:
    """The best sentence, plus close runners-up that add something new, in reading order."""
    if not scored:
        return []
    chosen = [scored[0]]
    for candidate in scored[1:]:
        if len(chosen) >= limit or candidate.score < scored[0].score - margin:
            break
        vector = sentence_vectors[candidate.index]
        if all(float(vector @ sentence_vectors[c.index]) < 0.9 for c in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda s: (s.candidate.passage_rank, s.candidate.position))


def drop_said(chosen: list[Scored], question: str, context: str) -> list[Scored]:
    """In a follow-up, the chosen sentences that the conversation (``context``) has not said
    yet, when one of them holds an answer to the question that it has not given either
    ("Where does he go after that?": Vietnam): the earlier answer is then not repeated."""
    said = content_words(context)
    new = [s for s in chosen if not _already_said(content_words(s.candidate.text), said)]
    kind, asked = answer_kind(question), f"{question} {context}"
    if len(new) < len(chosen) and any(answer_spans(kind, s.candidate.text, asked) for s in new):
        return new
    return chosen


def _already_said(words: set[str], said: set[str]) -> bool:
    return bool(words) and len(words & said) >= 0.8 * len(words)
