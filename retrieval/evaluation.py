"""Measuring retrieval and answers on a QA set: passages with ids, questions with gold ids."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from retrieval.answer import Answer
from retrieval.articles import Article
from retrieval.dates import parse_iso_day
from retrieval.errors import InvalidDateError, NewsbotError
from retrieval.sources import repair_paragraphs

EVAL_URL = "https://eval.invalid/passage/"
UNDATED = date(2000, 1, 1)  # passages without a date predate every question
FAR_FUTURE = date(2999, 12, 31)  # questions without a date see every passage


@dataclass(frozen=True)
class EvalQuestion:
    """A question with the ids of the passages that answer it and its answer strings."""

    id: str
    question: str
    gold: frozenset[str]
    answers: tuple[str, ...]
    date: date | None = None


@dataclass(frozen=True)
class EvalSet:
    """A QA set in the shared format (see ../shared/eval/README.md)."""

    name: str
    articles: tuple[Article, ...]
    questions: tuple[EvalQuestion, ...]


@dataclass(frozen=True)
class Metrics:
    """Figures for one configuration over one QA set."""

    questions: int
    hit_at_1: float
    hit_at_5: float
    hit_at_10: float
    mrr_at_10: float
    ndcg_at_10: float
    answer_found: float  # share of questions whose answer text contains a gold answer string
    not_found: float  # share of questions declined by the evidence gate
    p50_ms: float
    p99_ms: float


def load_eval_set(path: Path) -> EvalSet:
    """Read a QA set; every passage becomes an article whose URL carries the passage id."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        passages, questions = data["passages"], data["questions"]
        articles = tuple(_article(p) for p in passages)
        known = {p["id"] for p in passages}
        items = tuple(_question(q, known) for q in questions)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise NewsbotError(f"{path}: not a QA set in the expected format ({exc!r})") from None
    return EvalSet(path.stem, articles, items)


def _article(passage: dict) -> Article:
    text = str(passage["text"]).replace("\xa0", " ")
    day = passage.get("date") or passage.get("published")
    return Article(
        url=EVAL_URL + str(passage["id"]),
        title=str(passage.get("title") or ""),
        source=str(passage.get("source") or "eval"),
        published=parse_iso_day(day[:10]) if day else UNDATED,
        paragraphs=tuple(repair_paragraphs([text])) or (text,),
    )


def _question(record: dict, known: set[str]) -> EvalQuestion:
    gold = frozenset(str(g) for g in record["gold_passage_ids"])
    if not gold <= known:
        raise ValueError(f"question {record['id']} names unknown passages {sorted(gold - known)}")
    answers = tuple(_flatten(record.get("answers", [])))
    day = record.get("date")
    try:
        asked = parse_iso_day(str(day)[:10]) if day else None
    except InvalidDateError as exc:
        raise ValueError(f"question {record['id']}: {exc}") from None
    return EvalQuestion(str(record["id"]), str(record["question"]), gold, answers, asked)


def _flatten(values: object) -> list[str]:
    if isinstance(values, str):
        return [values]
    if isinstance(values, list):
        return [s for v in values for s in _flatten(v)]
    return []


def passage_id(url: str) -> str:
    """The QA set's passage id behind an evaluation URL."""
    return url.removeprefix(EVAL_URL)


def rank_of_gold(answer: Answer, gold: frozenset[str]) -> int | None:
    """1-based rank of the first gold passage among the results, or None."""
    for result in answer.results:
        if passage_id(result.url) in gold:
            return result.rank
    return None


def ndcg_at_10(answer: Answer, gold: frozenset[str]) -> float:
    """Normalised discounted cumulative gain with binary relevance, cut at 10."""
    gains, seen = [], set()
    for r in answer.results[:10]:
        found = passage_id(r.url)
        if found in gold and found not in seen:  # two chunks of one gold passage count once
            seen.add(found)
            gains.append(1 / math.log2(r.rank + 1))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(gold), 10)))
    return sum(gains) / ideal if ideal else 0.0


def answer_contains(answer: Answer, expected: Sequence[str]) -> bool:
    """Whether an answered question's text holds one of the expected answer strings."""
    text = answer.text.lower()
    return answer.answered and any(e.lower() in text for e in expected if e)


def evaluate(ask: Callable[[EvalQuestion], Answer], questions: Sequence[EvalQuestion]) -> Metrics:
    """Ask every question and compute the figures."""
    ranks: list[int | None] = []
    ndcg: list[float] = []
    found = declined = 0
    latencies: list[float] = []
    for item in questions:
        started = time.perf_counter()
        answer = ask(item)
        latencies.append((time.perf_counter() - started) * 1000)
        ranks.append(rank_of_gold(answer, item.gold))
        ndcg.append(ndcg_at_10(answer, item.gold))
        found += answer_contains(answer, item.answers)
        declined += not answer.answered
    count = len(questions) or 1

    def hit(k: int) -> float:
        return sum(1 for r in ranks if r is not None and r <= k) / count

    return Metrics(
        questions=len(questions),
        hit_at_1=hit(1),
        hit_at_5=hit(5),
        hit_at_10=hit(10),
        mrr_at_10=sum(1 / r for r in ranks if r is not None and r <= 10) / count,
        ndcg_at_10=sum(ndcg) / count,
        answer_found=found / count,
        not_found=declined / count,
        p50_ms=_percentile(latencies, 50),
        p99_ms=_percentile(latencies, 99),
    )


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


# The development protocol of the verifier (benchmarks/calibrate_verifier.py): in each QA
# set the gold passages of one question group in WITHHOLD_EVERY are taken out of the index
# (their questions become unanswerable, "negative rejection"), and one group in
# HELD_OUT_EVERY is never fitted on. A group is the questions of one gold passage.
WITHHOLD_EVERY = 4
HELD_OUT_EVERY = 3


@dataclass(frozen=True)
class Holdout:
    """Some passages taken out: questions whose gold passages all went are unanswerable."""

    articles: tuple[Article, ...]
    answerable: tuple[EvalQuestion, ...]
    unanswerable: tuple[EvalQuestion, ...]


def question_group(question: EvalQuestion) -> str:
    """The key that keeps the questions of one passage (or article) on one side."""
    return min(question.gold) if question.gold else question.id


def _bucket(key: str, salt: str, every: int) -> bool:
    digest = hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()
    return int(digest[:8], 16) % every == 0


def is_held_out(question: EvalQuestion) -> bool:
    """Whether a question belongs to the held-out split (decided by a hash of its group)."""
    return _bucket(question_group(question), "held-out", HELD_OUT_EVERY)


def withhold(eval_set: EvalSet, every: int = WITHHOLD_EVERY) -> Holdout:
    """The set with the gold passages of one question group in ``every`` taken out;
    questions left without a gold passage (or written without one) are unanswerable."""
    removed = {
        g for q in eval_set.questions if q.gold and _bucket(question_group(q), "withhold", every)
        for g in q.gold
    }  # fmt: skip
    kept = tuple(a for a in eval_set.articles if passage_id(a.url) not in removed)
    return Holdout(
        kept,
        tuple(q for q in eval_set.questions if q.gold - removed),
        tuple(q for q in eval_set.questions if not q.gold - removed),
    )


# The verifier's development data, indexed the way the bot indexes news. ``load_eval_set``
# makes every passage an article of its own, which is right for measuring retrieval of
# passages but not for calibrating the verifier: in the bot an article has several
# paragraphs (the margin to "the next report" skips its own paragraphs) and the index holds
# other stories (which sets how rare a question's word is). So the news sets join the
# passages of one article (the same ``url`` in the QA file) back into one article, after
# the withheld passages are taken out, beside a background of XQuAD's Wikipedia paragraphs,
# each dated by a hash of its id within 2024-2025 (RGB's snippets are real news and would
# answer some of the written news' unanswerable questions, so they are no background).
BACKGROUND_START, BACKGROUND_DAYS = date(2024, 1, 1), 730


def article_urls(path: Path) -> dict[str, str]:
    """Passage id -> the URL of the article it belongs to, for passages that name one."""
    passages = json.loads(path.read_text(encoding="utf-8"))["passages"]
    return {str(p["id"]): str(p["url"]) for p in passages if p.get("url")}


def joined(articles: Sequence[Article], urls: dict[str, str]) -> tuple[Article, ...]:
    """The passages of one article joined again: one article per URL, paragraphs in order.

    Passages without a URL stay articles of their own.
    """
    by_url: dict[str, list[Article]] = {}
    for article in articles:
        key = urls.get(passage_id(article.url), article.url)
        by_url.setdefault(key, []).append(article)
    return tuple(
        replace(parts[0], url=url, paragraphs=tuple(p for a in parts for p in a.paragraphs))
        for url, parts in by_url.items()
    )


def background(sets: Iterable[EvalSet]) -> tuple[Article, ...]:
    """Every passage of ``sets`` as a dated article of its own, to fill an index."""
    articles = []
    for eval_set in sets:
        for article in eval_set.articles:
            digest = hashlib.sha256(article.url.encode()).digest()
            day = BACKGROUND_START + timedelta(int.from_bytes(digest[:4]) % BACKGROUND_DAYS)
            articles.append(replace(article, published=day, source=f"{eval_set.name} background"))
    return tuple(articles)


def news_set(name: str, paths: Sequence[Path]) -> tuple[EvalSet, dict[str, str]]:
    """The QA files in ``paths`` as one set named ``name``, with their article URLs."""
    loaded = [load_eval_set(p) for p in paths]
    urls = {k: v for p in paths for k, v in article_urls(p).items()}
    articles = tuple(a for s in loaded for a in s.articles)
    return EvalSet(name, articles, tuple(q for s in loaded for q in s.questions)), urls
