"""Answer types and the short spans that answer them ("June 18–19, 2024", "43 days")."""

from __future__ import annotations

import re

from retrieval.sentences import STOP_WORDS

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?(?:\s*[-–]\s*\d{1,2})?"
_DATE = re.compile(
    rf"\b{_MONTH}\s+{_DAY}(?:,?\s+\d{{4}})?\b|\b{_DAY}\s+{_MONTH}(?:,?\s+\d{{4}})?\b"
    rf"|\b{_MONTH}\s+\d{{4}}\b|\b(?:in|since|by|from|until)\s+(?:19|20)\d{{2}}\b"
    r"|\b(?:19|20)\d{2}\b"
)
_SCALE = r"(?:\s+(?:hundred|thousand|million|billion|trillion))?"
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
    r"thousands?|millions?|half|a third|a quarter|twice|second|third|fourth|fifth"
)
_NUMBER = re.compile(
    rf"(?:[$€£]\s?)?\b\d[\d,.]*(?:%|-[a-z]+)?{_SCALE}|\b(?:{_NUMBER_WORDS})\b(?:-[a-z]+)?",
    re.I,
)
_FOLLOWING_WORD = re.compile(r"\s+(?:percentage\s+points?|[a-z][a-z/-]*)")
# A run of capitalised words, allowing "of", "de", "van" and "d'" inside it.
_NAME = re.compile(
    r"\b[A-Z][\w'’.-]*(?:\s+(?:(?:of|de|da|van|von|der|al|the|and|d')\s+)?[A-Z][\w'’.-]*)*"
)
_PLACE_CUE = re.compile(r"\b(?:in|to|at|near|from|into|across|of|for)\s+$")
_CALENDAR = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
    "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "the", "a", "an", "it", "he", "she", "they", "this", "that",
    "but", "and", "in", "on", "at", "after", "before", "while", "as", "if", "when",
}  # fmt: skip

KINDS = ("when", "number", "who", "where", "which", "other")


_KIND_PATTERNS = (
    ("number", r"\bhow (?:many|much|long|far|big|old|fast|strong|high)\b|\bby how\b|"
               r"\bwhat (?:number|percentage|share|amount|price|rate)\b"),
    ("when", r"\bwhen\b|\bwhat (?:date|day|time|year|month)\b|\bdates?\b"),
    ("where", r"\bwhere\b|\bwhich (?:country|city|countries|cities|place|town|region)\b"),
    ("who", r"\bwho(?:m|se)?\b"),
    # "Which rocket ...", "what company ...", but not "what is ..." or "what did ...".
    ("which", r"\b(?:which|what) (?!(?:is|are|was|were|did|does|do|has|have|will)\b)[a-z]+\b"),
)  # fmt: skip


def answer_kind(question: str) -> str:
    """What a question asks for: when, number, who, where, which (a noun phrase) or other."""
    q = question.lower()
    return next((kind for kind, pattern in _KIND_PATTERNS if re.search(pattern, q)), "other")


def _words(text: str) -> set[str]:
    return {w.lower().strip("'’.") for w in re.findall(r"[\w'’.-]+", text)}


def _new(span: str, question_words: set[str]) -> bool:
    """Whether a span says something the question does not already contain."""
    words = {w for w in _words(span) if w not in STOP_WORDS} - _CALENDAR
    digits = {w for w in words if any(c.isdigit() for c in w)}
    if digits:
        return not digits <= question_words
    return bool(words) and not all(
        any(w.startswith(q[:5]) or q.startswith(w[:5]) for q in question_words if len(q) > 2)
        for w in words
    )


def _names(sentence: str) -> list[tuple[str, int]]:
    names = []
    for match in _NAME.finditer(sentence):
        words = match.group(0).split()
        while words and words[0].lower() in _CALENDAR:
            words = words[1:]
        while words and words[-1].lower() in {"of", "de", "van", "von", "der", "the", "and"}:
            words = words[:-1]
        if words:
            names.append((" ".join(words).rstrip(".,'’"), match.start()))
    return names


def answer_span(kind: str, sentence: str, question: str) -> str | None:
    """The first span of ``sentence`` of the kind the question asks for that the question
    does not already contain, or None."""
    asked = _words(question)
    if kind == "when":
        for match in _DATE.finditer(sentence):
            span = match.group(0)
            if _new(span, asked):
                return re.sub(r"^(?:in|since|by|from|until)\s+", "", span)
        return None
    if kind == "number":
        for match in _NUMBER.finditer(sentence):
            span = match.group(0).strip()
            if re.fullmatch(r"(?:19|20)\d\d", span) or not _new(span, asked):
                continue
            unit = _FOLLOWING_WORD.match(sentence, match.end())
            if unit and unit.group(0).strip().lower() not in STOP_WORDS:
                span += unit.group(0)
            return span.strip(" ,.")
        return None
    if kind in ("who", "where", "which"):
        names = [(n, at) for n, at in _names(sentence) if _new(n, asked)]
        if kind == "where":
            cued = [n for n, at in names if _PLACE_CUE.search(sentence[:at])]
            return cued[0] if cued else (names[0][0] if names else None)
        if kind == "who":  # "Ruth Chepkoech of Kenya": the person, not where from
            names = [(re.split(r" (?:of|from) ", n)[0], at) for n, at in names]
            people = [n for n, _ in names if " " in n]
            return people[0] if people else (names[0][0] if names else None)
        return names[0][0] if names else None
    return None
