"""Ranking retrieved passages: pure functions over scored hits."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from retrieval.answering.fusion import fuse
from retrieval.answering.timeframe import Window
from retrieval.articles import ArticleSummary
from retrieval.storage import StoredPassage

if TYPE_CHECKING:
    from retrieval.storage import StoreReader

# Word-trigram cosine above which two passages are copies of one text: measured on the seed
# article, its paragraphs share at most 0.09 with each other while lightly edited copies
# share 0.81-1.0; syndicated snippets in the RGB set pair at 0.77-1.0.
COPY_OVERLAP = 0.5
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Hit:
    """A retrieved passage: its cosine similarity to the query, and its ranking score."""

    passage: StoredPassage
    similarity: float
    score: float
    boost: float = 0.0  # the part of ``score`` owed to recency or the question's time frame
    also: tuple[ArticleSummary, ...] = ()  # other outlets that carried the same text


def collapse_per_article(hits: Iterable[Hit], per_article: int, limit: int) -> list[Hit]:
    """The best hits in score order, at most ``per_article`` from any one article."""
    kept: list[Hit] = []
    counts: dict[str, int] = {}
    for hit in sorted(hits, key=lambda h: -h.score):
        url = hit.passage.article.url
        if counts.get(url, 0) >= per_article:
            continue
        counts[url] = counts.get(url, 0) + 1
        kept.append(hit)
        if len(kept) >= limit:
            break
    return kept


# Questions about what is next, latest or current want the newest reports; plain factual
# questions ("who founded ...") are not skewed by age.
_WANTS_RECENT = re.compile(
    r"\b(?:latest|newest|most recent|recent(?:ly)?|current(?:ly)?|now|next|upcoming|still|"
    r"yet|today|tonight|tomorrow|this (?:week|month|year)|will|going to|scheduled|planned|"
    r"(?:when|where) (?:is|are|will))\b",
    re.I,
)


def wants_recent(question: str) -> bool:
    """Whether a question asks about the latest state of a story."""
    return bool(_WANTS_RECENT.search(question))


def freshness(published: date, reference: date, half_life_days: float) -> float:
    """1.0 for a report from the reference date, halving every ``half_life_days`` before it."""
    age = max((reference - published).days, 0)
    return float(0.5 ** (age / half_life_days))


def boost_recent(
    hits: Iterable[Hit], reference: date, half_life_days: float, weight: float
) -> list[Hit]:
    """Hits with ``weight * freshness`` added to their scores."""
    return [
        _boosted(h, weight * freshness(h.passage.article.published, reference, half_life_days))
        for h in hits
    ]


def boost_window(hits: Iterable[Hit], window: Window, weight: float) -> list[Hit]:
    """Hits published inside the question's time frame get ``weight`` added."""
    return [_boosted(h, weight) if h.passage.article.published in window else h for h in hits]


def _boosted(hit: Hit, amount: float) -> Hit:
    # Built directly: dataclasses.replace took 1 ms for the 100 hits of a recent-news question.
    return Hit(hit.passage, hit.similarity, hit.score + amount, hit.boost + amount, hit.also)


@lru_cache(maxsize=4096)  # the same passages come back for question after question
def shingles(text: str) -> frozenset[int]:
    """The word trigrams of a text, each as its hash: copies of one story share most of
    theirs. Hashes, not tuples of words: 4,096 cached texts held about 300,000 tuples, and
    Python's full garbage collections walking them were the slowest folds (50-120 ms at
    100,000 passages, bench_scale.py). Two trigrams of one pair of texts share a 64-bit
    hash by chance about once in 10^15 pairs."""
    words = _WORD.findall(text.lower())
    return frozenset(map(hash, zip(words, words[1:], words[2:], strict=False)))


def merge_copies(
    hits: list[Hit], threshold: float = COPY_OVERLAP, keep: int | None = None
) -> list[Hit]:
    """Hits (best first) with copies of a better hit's text from other articles folded
    into it as ``also``: a syndicated agency story is shown once, "also reported by" …

    Two texts are copies when the cosine of their word-trigram sets reaches ``threshold``.
    Each hit is compared with the kept ones in order, by a set intersection (in C), and only
    with those whose sizes allow that cosine at all (it is at most sqrt(smaller / larger)).
    An index from trigram to the kept hits holding it was slower: at 34,000 passages of
    retold news, common trigrams ("one of the") are held by most kept hits, and counting
    through them took 6 ms a question, the largest part of a search. With ``keep``,
    folding stops once that many hits are kept and the rest follow as they are: only the
    top of the list is shown or read.
    """
    kept: list[Hit] = []
    # Per kept hit: its trigrams, their count and its article's URL.
    sets: list[tuple[frozenset[int], int, str]] = []
    square = threshold * threshold - 1e-9  # float rounding must not drop an exact tie
    for position, hit in enumerate(hits):
        if keep is not None and len(kept) >= keep:
            return kept + hits[position:]
        mine = shingles(hit.passage.text)
        size = len(mine)
        url = hit.passage.article.url
        copy_of = None
        if size:
            low, high = square * size, size / square
            for index, (theirs, count, their_url) in enumerate(sets):
                if (
                    low <= count <= high and their_url != url
                    and (shared := len(mine & theirs))
                    and shared / math.sqrt(size * count) >= threshold
                ):  # fmt: skip
                    copy_of = index
                    break
        if copy_of is None:
            kept.append(hit)
            sets.append((mine, size, url))
        elif all(a.url != url for a in kept[copy_of].also):
            original = kept[copy_of]
            # Built directly, as in ``_boosted``: dataclasses.replace cost 0.1-0.2 ms a
            # question at 34,000 passages of retold news, where folds are many.
            kept[copy_of] = Hit(original.passage, original.similarity, original.score,
                                original.boost, (*original.also, hit.passage.article))  # fmt: skip
    return kept


@dataclass(frozen=True)
class SearchPlan:
    """How to rank passages for one question."""

    method: str = "hybrid"
    keyword_weight: float = 0.3
    per_article: int = 2
    recency_half_life_days: float = 30.0
    recency_weight: float = 0.0
    window: Window | None = None
    window_weight: float = 0.1
    # Hits beyond the top_k × per_article that may be shown are still folded, as far down as
    # the answerer reads (evidence, reranking).
    merge_margin: int = 20


@dataclass(frozen=True)
class Found:
    """One question's candidates: cosine of each (dense hits and keyword-only ones alike),
    BM25 scores of the keyword hits, and the passages, published by the reference date."""

    dense: dict[int, float]
    keyword: dict[int, float]
    stored: dict[int, StoredPassage]


def first_fetch(top_k: int, plan: SearchPlan) -> int:
    """How many candidates each search asks for first."""
    return max(50, top_k * plan.per_article * 5)


def gather(
    reader: StoreReader,
    vectors: np.ndarray,
    terms: Sequence[list[str]],
    references: Sequence[date],
    fetch: int,
    method: str,
) -> list[Found]:
    """The ``fetch`` best candidates of several questions (a row of ``vectors`` each),
    found together: one dense search for all, one read of their passages and of the
    vectors of passages only keyword search found. A batch of questions (a group chat's
    burst) pays these calls once instead of once a question."""
    count = len(references)
    dense = reader.search_many(vectors, fetch) if method != "bm25" else [[]] * count
    keyword = [
        reader.keyword_search(words, fetch, reference) if method != "dense" else []
        for words, reference in zip(terms, references, strict=True)
    ]
    wanted = [
        sorted({i for i, _ in d} | {i for i, _ in k}) for d, k in zip(dense, keyword, strict=True)
    ]
    passages = reader.passages({i for ids in wanted for i in ids})
    found = []
    for row, ids in enumerate(wanted):
        stored = {
            i: passages[i]
            for i in ids
            if i in passages and passages[i].article.published <= references[row]
        }
        scores = {i: s for i, s in dense[row] if i in stored}
        missing = [i for i in stored if i not in scores]
        scores.update(zip(missing, reader.similarities(vectors[row], missing), strict=True))
        found.append(Found(scores, dict(keyword[row]), stored))
    return found


def retrieve(
    reader: StoreReader,
    vector: np.ndarray,
    terms: list[str],
    reference: date,
    top_k: int,
    plan: SearchPlan,
    found: Found | None = None,
) -> tuple[list[Hit], list[Hit]]:
    """Passages published on or before ``reference``: all candidates, best first, and the
    top ``top_k`` with at most ``plan.per_article`` from one article. ``found``: the
    candidates of the first fetch, when a batch has gathered them already."""
    fetch = first_fetch(top_k, plan)
    while True:
        if found is None:
            found = gather(reader, vector.reshape(1, -1), [terms], [reference], fetch,
                           plan.method)[0]  # fmt: skip
        dense, stored = found.dense, found.stored
        scores = fuse(plan.method, dense, found.keyword, plan.keyword_weight)
        hits = [Hit(stored[i], dense[i], scores[i]) for i in stored]
        if plan.recency_weight:
            hits = boost_recent(hits, reference, plan.recency_half_life_days, plan.recency_weight)
        if plan.window is not None:
            hits = boost_window(hits, plan.window, plan.window_weight)
        hits.sort(key=lambda hit: -hit.score)
        hits = merge_copies(hits, keep=top_k * plan.per_article + plan.merge_margin)
        collapsed = collapse_per_article(hits, plan.per_article, top_k)
        if len(collapsed) >= top_k or fetch >= reader.size:
            return hits, collapsed
        fetch *= 4
        found = None
