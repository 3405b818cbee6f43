"""Checking what the model wrote: each sentence against the sources it cites."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from retrieval.dates import format_date, resolve_relative_dates
from retrieval.sentences import STOP_WORDS, content_words, split_sentences
from retrieval.writing.prompt import NOT_IN_SOURCES, Source

# Whether a sentence (markers removed, dates made absolute) is supported by the sources it
# cites, for the question being answered. The writer plugs the answer verifier in here; the
# hard rules of `grounding_problem` apply whatever check is used.
SupportCheck = Callable[[str, Sequence[Source]], bool]

# Share of a sentence's content words that its cited passages must contain. At 0.6 every
# sentence of the scripted good answers in tests/test_writing.py passes and a sentence that
# adds one claim of two or three new words to a short statement does not.
MIN_WORD_COVERAGE = 0.6
# The share of a sentence's content words one place of a source must hold (stated_support).
MIN_STATED = 0.8

_MARKERS = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d+(?:\s*,\s*\d+)*\])+")
_PARTIAL_MARKERS = re.compile(r"[\s\[\]\d,]*")
_LINK = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'\]\[)(]+|\b[a-z0-9-]+\.(?:com|org|net|io|ru)\b",
                   re.IGNORECASE)  # fmt: skip
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALISED = re.compile(r"(?<![\w'’])[A-Z][A-Za-z'’-]*")
_WORD = re.compile(r"[a-z0-9]+")
# Words that turn a claim around: a sentence with one needs one in the place that states it.
_NEGATION = re.compile(
    r"\b(?:not|no|never|nothing|none|nobody|neither|nor|without|refus\w*|den(?:y|ied|ies)|"
    r"cancel\w*|called off|rul\w* out|fail\w*)\b|n't\b"
)
_DENIAL = re.compile(r"\b(?:not|no|never|without)\b|n't\b")
_MARKUP = re.compile(r"\*\*|__|`|^\s*(?:[-*•]|\d+\.)\s+", re.MULTILINE)
# Sentences of an article that address the model ("ignore previous instructions…") are kept
# in the prompt as quoted data but are no evidence: a reply that repeats them is not backed.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions?|rules|prompt)\b|"
    r"\byou are now\b|\bsystem prompt\b|\bdeveloper mode\b|\bas an ai\b",
    re.IGNORECASE,
)
_DECLINES = re.compile(
    r"\b(?:sources?|articles?|reports?)\s+(?:do|does|did)\s+not\s+(?:say|answer|mention|state|"
    r"contain|include|provide|specify)|\bno information\b|\bcannot answer\b|\bcan't answer\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Checked:
    """A sentence that passed: its text (dates made absolute, no markers) and what it cites."""

    text: str
    cited: tuple[int, ...]


def declines(reply: str) -> bool:
    """Whether the model says the sources do not answer the question."""
    if NOT_IN_SOURCES.lower() in reply.lower():
        return True
    return bool(_DECLINES.search(reply)) and not _MARKERS.search(reply)


def split_reply(reply: str, *, final: bool = True) -> list[str]:
    """The reply's sentences, each with the ``[n]`` markers that follow it.

    With ``final`` false (text still arriving), the last sentence is left out: more of it,
    or its markers, may be on the way.
    """
    pieces: list[str] = []
    for line in _MARKUP.sub("", reply).splitlines():
        for piece in split_sentences(line):
            lead = _LEADING_MARKERS.match(piece)
            if lead and pieces:  # "… 2024. [1] Then …": the marker belongs to the sentence before
                pieces[-1] += " " + lead.group(0).strip()
                piece = piece[lead.end() :].strip()
            if piece:
                pieces.append(piece)
    if final:
        return pieces
    # "… 2024. [" : the markers of the sentence before may still be arriving.
    return pieces[:-2] if pieces and _PARTIAL_MARKERS.fullmatch(pieces[-1]) else pieces[:-1]


def check_sentence(
    sentence: str, sources: Mapping[int, Source], support: SupportCheck
) -> Checked | str:
    """The sentence as it may be shown, or why it is dropped."""
    numbers = [int(n) for group in _MARKERS.findall(sentence) for n in re.split(r"\s*,\s*", group)]
    cited = tuple(dict.fromkeys(n for n in numbers if n in sources))
    if not cited:
        return "cites no source" if not numbers else "cites a source that does not exist"
    text = _MARKERS.sub("", sentence).strip()
    cited_sources = [sources[n] for n in cited]
    text = resolve_relative_dates(text, cited_sources[0].article.published)
    problem = grounding_problem(text, cited_sources)
    if problem:
        return problem
    if not support(text, cited_sources):
        return "not supported by the sources it cites"
    return Checked(text, cited)


def evidence_text(source: Source) -> str:
    """What a sentence citing ``source`` may draw on: its passages with relative dates
    written out as the extractive answers write them, less any sentence addressed to the
    model."""
    return " ".join(_evidence_sentences(source))


def _evidence_sentences(source: Source) -> list[str]:
    published = source.article.published
    sentences = (s for passage in source.passages for s in split_sentences(passage))
    return [resolve_relative_dates(s, published) for s in sentences if not _INSTRUCTION.search(s)]


def grounding_problem(sentence: str, cited: Sequence[Source]) -> str | None:
    """The first link, or number, date or name its cited sources lack, in ``sentence``.

    Links are never shown in the text, even ones a source contains: the prompt asks for
    none, and the citations carry the sources' own addresses.
    """
    link = _LINK.search(sentence)
    if link:
        return f"a link in the text ({link.group(0)})"
    evidence = " ".join(_label(source) + " " + evidence_text(source) for source in cited)
    lowered = evidence.lower()
    known = _numbers(evidence)
    for number in _NUMBER.findall(sentence):
        if number.replace(",", "") not in known:
            return f"a number the sources do not contain ({number})"
    words = set(_WORD.findall(lowered))
    for match in _CAPITALISED.finditer(sentence):
        name = match.group(0).rstrip("'’").removesuffix("'s").removesuffix("’s")
        if match.start() == 0 or name.lower() in STOP_WORDS:
            continue  # the first word is capitalised whatever it is
        if not _known_name(name.lower(), words, lowered):
            return f"a name the sources do not contain ({name})"
    return None


def word_support(sentence: str, cited: Sequence[Source]) -> bool:
    """Whether the cited sources contain most of the sentence's content words."""
    wanted = {w for w in content_words(sentence) if not w.isdigit()}
    if not wanted:
        return False
    found = content_words(" ".join(evidence_text(source) for source in cited))
    return len(wanted & found) / len(wanted) >= MIN_WORD_COVERAGE


def stated_support(sentence: str, cited: Sequence[Source]) -> bool:
    """Whether one place of a cited source states the sentence: a sentence of it, or two
    that follow each other, or its title, holding ``MIN_STATED`` of the sentence's content
    words, each of its numbers (the article's date counts as every place's) and, when the
    sentence negates, a negation; a place that denies one of its words ("no one has died")
    does not state it. "Bread prices are forecast to rise sharply" has three fifths of its
    words in "Prices for bread are forecast to fall by the autumn", enough for
    ``word_support``, not for this. Claims that swap who did what within one place of the
    source still pass (docs/llm.md)."""
    wanted = {w for w in content_words(sentence) if not w.isdigit()}
    numbers = _numbers(sentence)
    negated = _NEGATION.search(sentence.lower()) is not None
    denied = _negated_words(sentence)
    if not wanted:
        return False
    for source in cited:
        dated = _numbers(format_date(source.article.published))
        for place in _places(source):
            found = content_words(place)
            if len(wanted & found) < MIN_STATED * len(wanted):
                continue
            known = dated | _numbers(place)
            if not numbers <= known:
                continue
            if negated and not _negates(place, denied):
                continue  # "Russia has given Pyongyang nothing" where the source gave
            if not negated and wanted & _negated_words(place):
                continue  # "Eighteen patients have died" where "no one has died"
            return True
    return False


def _numbers(text: str) -> set[str]:
    """The numbers in ``text``, thousands separators dropped ("5,600" is "5600")."""
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _negates(place: str, denied: set[str]) -> bool:
    """Whether ``place`` negates as a sentence does that denies ``denied`` ("not sell"):
    it denies one of them too; for other negations ("refused", "nothing") it has one."""
    if denied:
        return bool(denied & _negated_words(place))
    return _NEGATION.search(place.lower()) is not None


def _negated_words(place: str) -> set[str]:
    """The content words a plain negation in ``place`` denies: up to three words after
    "not", "no", "never", "without" or "n't", within the clause ("would not sell")."""
    denied: set[str] = set()
    for match in _DENIAL.finditer(place.lower()):
        clause = re.split(r"[,;:.!?]|\b(?:and|but|or)\b", place.lower()[match.end() :], maxsplit=1)
        denied |= content_words(" ".join(clause[0].split()[:3]))
    return denied


def _places(source: Source) -> list[str]:
    """Where a source may state a sentence: its title, each sentence of what it may draw on
    (as ``evidence_text`` gives it) and each two that follow each other."""
    sentences = _evidence_sentences(source)
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(sentences)]
    return [source.article.title, *sentences, *pairs]


def _label(source: Source) -> str:
    """The title, outlet and date the prompt shows for ``source``."""
    article = source.article
    return f"{article.title} {article.source} {format_date(article.published)}"


def _known_name(name: str, words: set[str], evidence: str) -> bool:
    """A name is known when the evidence has it, or a word it derives from ("Korean" from
    "Korea", "Vietnamese" from "Vietnam")."""
    if name in words:
        return True
    stem = name[: max(4, len(name) - 3)]
    return re.search(rf"\b{re.escape(stem)}", evidence) is not None
