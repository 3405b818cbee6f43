"""Time frames named in questions ("last week", "in June 2024"), resolved against a date."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from retrieval.dates import MONTHS


@dataclass(frozen=True)
class Window:
    """An inclusive range of publication dates a question is about."""

    start: date
    end: date
    # False for a month named without its year ("in May"): which May the asker means is a
    # guess (the last one before the question date).
    certain: bool = field(default=True, compare=False)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


_RELATIVE = re.compile(
    r"\b(?P<word>today|tonight|yesterday)\b|\b(?P<which>this|last|past|previous)\s+"
    r"(?P<unit>week|month|year)\b|\b(?:in\s+the\s+)?(?:past|last)\s+(?P<n>\d+|two|three|few)\s+"
    r"(?P<units>days|weeks|months)\b",
    re.I,
)
_MONTH_YEAR = re.compile(
    r"\b(?:in\s+)?(?P<month>January|February|March|April|May|June|July|August|September|"
    r"October|November|December)(?:\s+(?P<year>\d{4}))?\b"
)
_YEAR = re.compile(r"\b(?:in|during|of)\s+(?P<year>(?:19|20)\d{2})\b", re.I)
_COUNTS = {"two": 2, "three": 3, "few": 3}


def _month_window(year: int, month: int) -> Window:
    return Window(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def question_window(question: str, reference: date) -> Window | None:
    """The publication dates a question asks about, resolved against ``reference``."""
    if match := _RELATIVE.search(question):
        if word := match["word"]:
            day = reference - timedelta(days=1 if word.lower() == "yesterday" else 0)
            return Window(day, day)
        if match["unit"]:
            unit = match["unit"].lower()
            step = 0 if match["which"].lower() == "this" else 1
            if unit == "week":
                monday = reference - timedelta(days=reference.weekday(), weeks=step)
                return Window(monday, min(monday + timedelta(days=6), reference))
            if unit == "month":
                index = reference.year * 12 + reference.month - 1 - step
                return _month_window(index // 12, index % 12 + 1)
            return Window(date(reference.year - step, 1, 1), date(reference.year - step, 12, 31))
        raw = match["n"].lower()
        count = int(raw) if raw.isdigit() else _COUNTS[raw]
        days = count * {"days": 1, "weeks": 7, "months": 30}[match["units"].lower()]
        return Window(reference - timedelta(days=days), reference)
    # "May" alone is too often the verb: a month counts with "in" or a year.
    match = _MONTH_YEAR.search(question)
    if match and (match["year"] or match.group(0).lower().startswith("in ")):
        month = MONTHS[match["month"].lower()]
        year = reference.year if month <= reference.month else reference.year - 1
        window = _month_window(int(match["year"] or year), month)
        return window if match["year"] else replace(window, certain=False)
    if match := _YEAR.search(question):
        year = int(match["year"])
        return Window(date(year, 1, 1), date(year, 12, 31))
    return None
