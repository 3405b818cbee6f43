"""Dates in news text: parsing publication dates and writing relative dates absolutely."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from retrieval.errors import InvalidDateError

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
MONTH_NAMES = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_MDY = re.compile(rf"^{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b", re.I)
_DMY = re.compile(rf"^(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<year>\d{{4}})\b", re.I)
_ISO = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?:$|[T ])")
_ISO_TIME = re.compile(r"^(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?")
# A publication date may run this far ahead of the clock (time zones); beyond it, it is wrong.
FUTURE_TOLERANCE = timedelta(days=1)
_WEEKDAY_PREFIX = re.compile(
    r"^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+", re.I
)


def format_date(day: date) -> str:
    """'June 17, 2024'."""
    return f"{MONTH_NAMES[day.month - 1]} {day.day}, {day.year}"


def parse_date(text: str) -> date:
    """Parse a publication date: 'June 17, 2024', '17 June 2024', '2024-06-17', ISO datetimes."""
    value = _WEEKDAY_PREFIX.sub("", text.strip())
    try:
        for pattern in (_ISO, _MDY, _DMY):
            match = pattern.match(value)
            if match:
                month = match["month"]
                number = int(month) if month.isdigit() else MONTHS[month.lower().rstrip(".")]
                day = date(int(match["year"]), number, int(match["day"]))
                if pattern is _ISO:
                    _check_time(value[match.end() :])
                return day
    except ValueError as exc:  # e.g. February 30
        raise InvalidDateError(f"not a valid date: {text!r} ({exc})") from None
    raise InvalidDateError(f"not a date: {text!r} (expected e.g. 'June 17, 2024' or 2024-06-17)")


def _check_time(text: str) -> None:
    """Refuse the time of an ISO datetime when it cannot be one ('25:00', '10:61')."""
    match = _ISO_TIME.match(text)
    if match is None:
        return
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
    if hour > 23 or minute > 59 or second > 60:  # 60: a leap second
        raise ValueError(f"no time of day {match[0]}")


def check_not_future(day: date, today: date | None = None) -> None:
    """Refuse a publication date more than a day after ``today`` (by default, the clock's)."""
    today = today or date.today()
    if day > today + FUTURE_TOLERANCE:
        raise InvalidDateError(
            f"{day.isoformat()} is more than a day in the future (today is {today.isoformat()})"
        )


def parse_iso_day(text: str) -> date:
    """Parse a strict YYYY-MM-DD reference date (for --as-of and as_of fields)."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise InvalidDateError(f"invalid date {text!r}: expected YYYY-MM-DD") from None


# --- relative dates in article sentences -------------------------------------------------

_FUTURE = re.compile(
    r"\b(will|'ll|shall|is to|are to|is due|are due|plans? to|planned|scheduled|expected|"
    r"set to|going to|next|upcoming|would)\b",
    re.I,
)
_WEEKDAY_RE = re.compile(
    r"\b(?P<on>on\s+)?(?P<name>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
    r"(?!,?\s+(?:\(|" + _MONTH + r"\s+\d|\d{1,2}\s))",
    re.I,
)
_PAST = re.compile(r"\b(?:was|were|had|did|happened|took place|ago|\w{3,}ed)\b", re.I)
_DAY_WORD_RE = re.compile(r"\b(?P<word>today|tonight|yesterday|tomorrow)\b(?!\s+\()", re.I)
_PERIOD_RE = re.compile(r"\b(?P<which>this|next|last)\s+(?P<unit>week|month|year)\b(?!\s+\()", re.I)
_AGO_RE = re.compile(
    r"\b(?P<n>\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+"
    r"(?P<unit>day|week|month|year)s?\s+ago\b(?!\s+\()",
    re.I,
)
_MONTH_DAY_RE = re.compile(
    rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?P<range>\s*[-–]\s*\d{{1,2}})?\b"
    r"(?!,?\s+\d{4}|\d|\s*[-–]\s*\d|:)",
    re.I,
)
_DAY_MONTH_RE = re.compile(
    rf"\b(?P<day>\d{{1,2}})(?P<range>\s*[-–]\s*\d{{1,2}})?\s+{_MONTH}(?!,?\s+\d{{4}})\b", re.I
)
_IN_MONTH_RE = re.compile(
    r"\b(?P<prep>(?i:in|since|by|until|from|last|next|this|early|late|mid-))\s*"
    r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|December)\b"
    r"(?!\s+\d)",
)
_NUMBER_WORDS = {
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip


def _nearest_year(month: int, day: int, published: date) -> int:
    """The year that puts month/day closest to the publication date."""
    best = published.year
    best_gap: int | None = None
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            gap = abs((date(year, month, day) - published).days)
        except ValueError:  # February 29
            continue
        if best_gap is None or gap < best_gap:
            best, best_gap = year, gap
    return best


def _weekday(match: re.Match[str], text: str, published: date) -> str:
    target = WEEKDAYS.index(match["name"].lower())
    delta = (target - published.weekday()) % 7
    if delta:
        before = text[max(0, match.start() - 80) : match.start()]
        after = text[match.end() : match.end() + 10]
        future = bool(_FUTURE.search(before)) or "next" in after.lower()
        day = published + timedelta(days=delta if future else delta - 7)
    else:
        day = published
    return f"{match.group(0)} ({format_date(day)})"


def _day_word(match: re.Match[str], published: date) -> str:
    offset = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}[match["word"].lower()]
    return f"{match.group(0)} ({format_date(published + timedelta(days=offset))})"


def _period(match: re.Match[str], published: date) -> str:
    step = {"this": 0, "next": 1, "last": -1}[match["which"].lower()]
    unit = match["unit"].lower()
    if unit == "week":
        monday = published - timedelta(days=published.weekday()) + timedelta(weeks=step)
        label = f"the week of {format_date(monday)}"
    elif unit == "month":
        index = published.year * 12 + published.month - 1 + step
        label = f"{MONTH_NAMES[index % 12]} {index // 12}"
    else:
        label = str(published.year + step)
    return f"{match.group(0)} ({label})"


def _ago(match: re.Match[str], published: date) -> str:
    raw = match["n"].lower()
    count = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
    unit = match["unit"].lower()
    if unit == "year":
        label = f"in {published.year - count}"
    elif unit == "month":
        index = published.year * 12 + published.month - 1 - count
        label = f"in {MONTH_NAMES[index % 12]} {index // 12}"
    else:
        days = count * (7 if unit == "week" else 1)
        label = format_date(published - timedelta(days=days))
    return f"{match.group(0)} ({label})"


def _month_day(match: re.Match[str], published: date) -> str:
    month = MONTHS[match["month"].lower().rstrip(".")]
    try:
        year = _nearest_year(month, int(match["day"]), published)
    except ValueError:
        return match.group(0)
    text = match.group(0)
    if match["range"]:
        text = re.sub(r"\s*[-–]\s*", "–", text)
    return f"{text}, {year}" if _MONTH_DAY_RE is match.re else f"{text} {year}"


def _in_month(match: re.Match[str], text: str, published: date) -> str:
    month = MONTHS[match["month"].lower()]
    prep = match["prep"].lower()
    before = text[max(0, match.start() - 80) : match.start()]
    future = prep == "next" or (prep not in ("last", "since") and _FUTURE.search(before))
    past = prep in ("last", "since") or (not future and _PAST.search(before))
    if future:  # "next June" in June is a year away; "in June" is this month
        year = published.year + (
            month < published.month or (prep == "next" and month == published.month)
        )
    elif past:
        year = published.year - (month > published.month)
    else:
        year = _nearest_year(month, 15, published)
    return f"{match.group(0)} {year}"


# A chosen sentence is written out three to four times an answer (composing, citing, checking
# for conflicts and the verifier), and the same sentences answer question after question.
@lru_cache(maxsize=4096)
def resolve_relative_dates(text: str, published: date) -> str:
    """Write relative dates in ``text`` absolutely, as seen from ``published``.

    "on Tuesday" in a Monday, June 17, 2024 article becomes "on Tuesday (June 18, 2024)";
    "June 18-19" becomes "June 18–19, 2024"; "this week", "yesterday", "24 years ago" and
    "in May" get their dates or years.
    """
    text = _MONTH_DAY_RE.sub(lambda m: _month_day(m, published), text)
    text = _DAY_MONTH_RE.sub(lambda m: _month_day(m, published), text)
    text = _IN_MONTH_RE.sub(lambda m: _in_month(m, text, published), text)
    text = _WEEKDAY_RE.sub(lambda m: _weekday(m, text, published), text)
    text = _DAY_WORD_RE.sub(lambda m: _day_word(m, published), text)
    text = _PERIOD_RE.sub(lambda m: _period(m, published), text)
    return _AGO_RE.sub(lambda m: _ago(m, published), text)


def describe_age(evidence: date, reference: date) -> str:
    """How long before the reference date the evidence was published, in words."""
    days = (reference - evidence).days
    if days < 0:
        return f"{_span(-days)} after"
    if days == 0:
        return "the same day as"
    return f"{_span(days)} before"


def age_note(newest: date, reference: date, min_days: int) -> str:
    """The note that the newest evidence is ``min_days`` or more older than the reference date
    ("As of June 17, 2024, 2 days before the question date (June 19, 2024)."), else ""."""
    if (reference - newest).days < min_days:
        return ""
    return (
        f"As of {format_date(newest)}, {describe_age(newest, reference)} "
        f"the question date ({format_date(reference)})."
    )


def _span(days: int) -> str:
    if days < 14:
        return "1 day" if days == 1 else f"{days} days"
    if days < 61:
        return f"{days // 7} weeks"
    if days < 730:
        return f"{days // 30} months"
    return f"{days // 365} years"
