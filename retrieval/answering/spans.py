"""Answer types and the short spans that answer them ("June 18–19, 2024", "43 days")."""

from __future__ import annotations

import re

from retrieval.sentences import STOP_WORDS, content_words

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
_CALENDAR_NAMES = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
    "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december",
}  # fmt: skip
# Words that open a sentence with a capital without being a name.
_OPENERS = {
    "the", "a", "an", "it", "he", "she", "they", "this", "that", "but", "and", "in", "on",
    "at", "after", "before", "while", "as", "if", "when", "since", "until", "during", "for",
    "with", "from", "by", "to", "of", "its", "his", "her", "their", "there", "some", "many",
}  # fmt: skip
_CALENDAR = _CALENDAR_NAMES | _OPENERS
KINDS = ("when", "number", "who", "where", "which", "other")

# What a number must be followed by to answer "how long", "how much" ...: a unit, an
# amount of money or a share. "How many turbines" asks for its own noun instead.
_DURATION = r"(?:seconds?|minutes?|hours?|days?|nights?|weeks?|months?|years?|decades?)"
_LENGTH = r"(?:km|kilomet(?:re|er)s?|miles?|met(?:re|er)s?|m|cm|mm|feet|foot|ft|inch(?:es)?)"
_MONEY = (
    r"(?:[$€£¥]|\b(?:dollars?|euros?|pounds?|yen|yuan|francs?|kron[aeoru]r?|crowns?|zloty"
    r"|forints?|rupees?|cents?|pence)\b)"
)
_SHARE = r"(?:%|\bper ?cent\b|\bpercentage points?\b|\bbasis points?\b)"
_WEIGHT = r"(?:tonnes?|tons?|kg|kilo(?:gram)?s?|grams?|litres?|liters?|barrels?|mw|gw|kwh)"
_UNITS = (
    (r"\bhow long\b", rf"{_DURATION}|{_LENGTH}"),
    (r"\bhow far\b|\bhow high\b|\bhow tall\b|\bhow deep\b", _LENGTH),
    (r"\bhow old\b", r"years?|-year-old"),
    (r"\bby how much\b|\bwhat (?:percentage|share|rate)\b", rf"{_SHARE}|{_MONEY}"),
    (r"\bhow much\b|\bwhat (?:amount|price)\b", rf"{_MONEY}|{_SHARE}|{_WEIGHT}|million|billion"),
)  # fmt: skip
_COUNTED = re.compile(r"\bhow many ((?:[a-z'’-]+\s*){1,3})")
_REPEATS = re.compile(
    r"(?:once|twice|thrice|first|second|third|fourth|fifth|\d+(?:st|nd|rd|th))\b", re.I
)
_AUXILIARIES = {"will", "did", "has", "have", "had", "are", "were", "is", "was", "do", "does"}


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
        # "The" or "A" opening a sentence is not part of a name ("near A Coruna" is).
        opening = not sentence[: match.start()].strip(" \"'“‘(")
        while words and words[0].lower() in (_CALENDAR if opening else _CALENDAR_NAMES):
            words = words[1:]
        while words and words[-1].lower() in {"of", "de", "van", "von", "der", "the", "and"}:
            words = words[:-1]
        if words:
            names.append((" ".join(words).rstrip(".,'’"), match.start()))
    return names


# "Who will visit ...", "who has won ...": the verb after these is what the person did.
_SUBJECT_AUXILIARIES = {"will", "would", "has", "have", "had", "is", "was", "are", "were",
                        "could", "can", "should", "might", "may", "must"}  # fmt: skip
_WHO_THEN = re.compile(r"\bwho\b((?:\s+[\w'’-]+){1,3})", re.I)
_DONE_BY = re.compile(r"([\w'’-]+)\s+by\s+(?:the\s+)?$", re.I)  # "announced by (the) ..."


def _asked_doing(question: str) -> set[str]:
    """What a "who" question asks the person to have done, as content words: {"announc"}
    of "Who announced it?", {"win"} of "Who has won ...". Empty when it asks about the
    person's object ("Who did Putin meet?") or names nobody's action ("Who is ...")."""
    match = _WHO_THEN.search(question)
    words = match.group(1).split() if match else []
    while len(words) > 1 and words[0].lower() in _SUBJECT_AUXILIARIES:
        words = words[1:]
    verb = words[0] if words else ""
    if verb != verb.lower() or verb in _AUXILIARIES | _SUBJECT_AUXILIARIES:
        return set()
    return content_words(verb)


def _does(sentence: str, name: str, at: int, doing: set[str]) -> bool:
    """Whether the sentence has ``name`` (found at ``at``) do what the question asks about:
    "Who announced it?" is answered by "the Kremlin announced Monday" or "announced by the
    Kremlin", before any other name of the sentence ("Russian President Vladimir Putin")."""
    if not doing:
        return False
    end = sentence.find(name, at) + len(name)
    near = re.findall(r"[\w'’-]+", sentence[end : end + 40])[:2]
    if done_by := _DONE_BY.search(sentence[max(at - 40, 0) : at]):
        near.append(done_by.group(1))
    return bool(content_words(" ".join(near)) & doing)


def answer_span(kind: str, sentence: str, question: str) -> str | None:
    """The best span of ``sentence`` of the kind the question asks for that the question
    does not already contain, or None."""
    found = answer_spans(kind, sentence, question)
    return min(found)[2] if found else None


def answer_spans(kind: str, sentence: str, question: str) -> list[tuple[int, int, str]]:
    """Every span of ``sentence`` that could answer: (preference, position, span), lower
    preferred. A date the text gives itself ("June 18–19") comes before one written in
    brackets from a relative date ("on Monday (June 17, 2024)"), which comes before a week
    or a bare year."""
    asked = _words(question)
    if kind == "when":
        spans = []
        for match in _DATE.finditer(sentence):
            span = re.sub(r"^(?:in|since|by|from|until)\s+", "", match.group(0))
            if not _new(span, asked):
                continue
            before = sentence[: match.start()]
            bracketed = before.rfind("(") > before.rfind(")")
            vague = bool(re.fullmatch(r"(?:19|20)\d\d", span)) or before.endswith("week of ")
            spans.append((2 if vague else int(bracketed), match.start(), span))
        return spans
    if kind == "number":
        dates = [m.span() for m in _DATE.finditer(sentence)]
        numbers = []
        for match in _NUMBER.finditer(sentence):
            span = match.group(0).strip()
            if any(start <= match.start() < end for start, end in dates):
                continue  # the day of "April 30, 2025" is no count
            if not _new(span, asked):
                continue
            unit = _FOLLOWING_WORD.match(sentence, match.end())
            if unit and unit.group(0).strip().lower() not in STOP_WORDS:
                span += unit.group(0)
            after = sentence[match.start() : match.end() + 40]
            numbers.append((0 if fits(question, after) else 1, match.start(), span.strip(" ,.")))
        return numbers
    if kind in ("who", "where", "which"):
        names = [(n, at) for n, at in _names(sentence) if _new(n, asked)]
        if kind == "where":  # a name after "in", "to", "near" ... first
            return [(0 if _PLACE_CUE.search(sentence[:at]) else 1, at, n) for n, at in names]
        if kind == "who":  # "Ruth Chepkoech of Kenya": the person, not where from
            asked_doing = _asked_doing(question)
            doing = [_does(sentence, n, at, asked_doing) for n, at in names]
            names = [(re.split(r" (?:of|from) ", n)[0], at) for n, at in names]
            return [
                (0 if does else 1 if " " in n else 2, at, n)
                for (n, at), does in zip(names, doing, strict=True)
            ]
        return [(0, at, n) for n, at in names]
    return []


def fits(question: str, number: str) -> bool:
    """Whether a number with the words after it (``number``) is of the measure the question
    asks for: "how many turbines" wants turbines after it, "how long" a duration or a
    length, "how much" money, a share or a weight. Questions that name no measure fit any
    number."""
    q = question.lower()
    counted = _COUNTED.search(q)
    if counted:
        nouns = []
        for word in counted.group(1).split():
            if word in _AUXILIARIES or word in STOP_WORDS:
                break
            nouns.append(word)
        following = content_words(" ".join(number.split()[:5]))
        if nouns[:1] == ["times"]:  # "twice", "a second trip", "for the third time"
            return bool(_REPEATS.match(number)) or "time" in following
        return not nouns or bool(content_words(" ".join(nouns)) & following)
    for asked, units in _UNITS:
        if re.search(asked, q):
            unit = rf"(?:{units})(?![a-z])"
            return bool(re.match(rf"\S*?{unit}|\S+(?:\s+\S+){{0,2}}?\s+{unit}", number, re.I))
    return True
