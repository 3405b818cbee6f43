"""Reports that disagree: the same fact told with different dates or figures."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import numpy as np

from retrieval.answering.compose import Scored
from retrieval.answering.search import Hit
from retrieval.dates import MONTHS, resolve_relative_dates

_MONTH_DAY = re.compile(
    r"\b(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?\s+(?P<day>\d{1,2})\b"
)
# Two sentences this close in meaning tell the same fact (checked on pairs from the
# seed-style fixtures: paraphrases of one event score 0.8-0.95, other sentences below 0.7).
SAME_FACT = 0.75


def dated_facts(sentence: str, published: date) -> frozenset[tuple[int, int]]:
    """The (month, day) pairs a sentence states, relative dates resolved first."""
    text = resolve_relative_dates(sentence, published)
    return frozenset(
        (MONTHS[m["month"].lower().rstrip(".")], int(m["day"])) for m in _MONTH_DAY.finditer(text)
    )


def find_conflict(
    best: Scored, scored: Sequence[Scored], vectors: np.ndarray, evidence: Sequence[Hit]
) -> tuple[Scored, Scored] | None:
    """A sentence of another report telling ``best``'s fact with other dates, as (newer,
    older) by publication date; None when the reports agree."""
    first = evidence[best.candidate.passage_rank].passage.article
    facts = dated_facts(best.candidate.text, first.published)
    if not facts:
        return None
    for other in scored:
        article = evidence[other.candidate.passage_rank].passage.article
        if article.url == first.url or article.published == first.published:
            continue
        if float(vectors[best.index] @ vectors[other.index]) < SAME_FACT:
            continue
        theirs = dated_facts(other.candidate.text, article.published)
        if theirs and not theirs & facts:
            return (best, other) if first.published > article.published else (other, best)
    return None
