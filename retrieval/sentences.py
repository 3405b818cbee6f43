"""Sentence splitting and content words, shared by chunking and answer composition."""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "sgt", "capt", "gov", "sen", "rep",
    "st", "jr", "sr", "no", "vs", "etc", "inc", "ltd", "co", "corp", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n",
    "e.g", "i.e", "a.m", "p.m", "approx", "dept", "est", "fig",
}  # fmt: skip
# A sentence ends at . ! or ? (possibly followed by closing quotes or brackets), then
# white space, then something that can start a sentence.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")

_STOP_WORD_TEXT = """
    a about above again against all also am an and any are as at be because been being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only
    or other our ours out over own said same say says she should so some such than that
    the their theirs them there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours
    tell me know please any anything something latest news
"""
STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())


def split_sentences(text: str) -> list[str]:
    """Split text into sentences, keeping abbreviations such as 'U.S.' and 'Dr.' intact."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        head = text[start : match.start()].rstrip("\"'”’)]")
        last_word = head.rsplit(None, 1)[-1].rstrip(".").lower() if head.split() else ""
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        sentences.append(text[start : match.start() + len(match.group(0))].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


# Words that news sentences use for what questions ask with another word.
SYNONYMS = {
    "then": "after", "afterwards": "after", "later": "after", "subsequently": "after",
    "next": "after", "following": "after",
    "earlier": "before", "previously": "before", "prior": "before",
    "travel": "go", "travels": "go", "traveling": "go", "travelling": "go", "head": "go",
    "heads": "go", "fly": "go", "flies": "go", "goes": "go", "going": "go", "went": "go",
    "arrive": "go", "arrives": "go", "arrived": "go", "arriving": "go",
    "gave": "give", "given": "give", "giving": "give", "provide": "give", "providing": "give",
    "provided": "give", "sending": "send", "sent": "send",
    "met": "meet", "meeting": "meet", "won": "win", "winning": "win",
}  # fmt: skip


def content_words(text: str) -> set[str]:
    """Lower-cased words of ``text`` that carry meaning (no stop words, light stemming)."""
    words = set()
    for word in _WORD.findall(text.lower()):
        word = word.replace("’", "'").removesuffix("'s")
        if word in STOP_WORDS or len(word) < 2:
            continue
        words.add(SYNONYMS.get(word) or _stem(word))
    return words


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def keyword_terms(text: str) -> list[str]:
    """The words of a question worth matching by keyword (BM25 stems them itself)."""
    words = (w.replace("’", "'").removesuffix("'s") for w in _WORD.findall(text.lower()))
    return list(dict.fromkeys(w for w in words if w not in STOP_WORDS and len(w) > 1))
