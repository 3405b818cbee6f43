"""Many questions at once: batched answering against answering them one by one.

    python benchmarks/bench_batching.py [--concurrency 1,10,50,100] [--repeats N] [--quick]

For each level N, N questions arrive together at the bot's batching answerer
(`bot.telegram.answerer.OffLoopAnswerer`, as a group chat's burst reaches it): the time until
the last is answered gives the throughput, and each question's time from arrival to answer
its latency. The baseline, in the same round, answers N other questions one by one with the
same warm answerer. Every round of every level asks questions not asked before in the run
(distinct texts; the header says if the QA sets ran out and some came round again), so no
answer is helped by caches warmed for the same question. Rounds alternate the two; medians
over rounds. The encoder's limit is the model alone encoding the burst's N questions in one
call (the fastest of three), in the same round: how fast answering could go if nothing but
the encode took time (issue 17 asks for 0.8 of it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from corpus import (
    AFTER_EVERYTHING,
    dataset_parser,
    eval_sets,
    int_list,
    make_embedder,
    news_articles,
    sample_questions,
)

from bot.settings import Settings
from bot.telegram.answerer import OffLoopAnswerer
from retrieval.answer import Answer, Question
from retrieval.answering import Answerer, AnswerSettings
from retrieval.articles import ArticleSummary
from retrieval.chunking import ChunkSettings
from retrieval.embedding import Embedder
from retrieval.index import EmbeddedStorage, IndexSpec, build_index

DEFAULT_MAX_BATCH = int(Settings.model_fields["batch_max_questions"].default)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = dataset_parser(__doc__, backend=True)
    parser.add_argument("--concurrency", type=int_list, default="1,10,50,100",
                        help="questions arriving at once")  # fmt: skip
    parser.add_argument("--articles", type=int, default=450, help="articles indexed (~2,500 "
                        "passages)")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=5, help="rounds per level")
    parser.add_argument("--wait-ms", type=float, default=5.0, help="the batcher's wait")
    parser.add_argument("--max-batch", type=int, default=DEFAULT_MAX_BATCH,
                        help="questions per batch (default: the setting's)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="a tiny run: 12 articles, 1 round")
    args = parser.parse_args(argv)
    if args.quick:
        args.articles, args.repeats, args.concurrency = 12, 1, [1, 4]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Build the index, run the rounds, print the table."""
    args = parse_args(argv)
    sets = eval_sets(args)
    embedder, chunking = make_embedder(args), ChunkSettings()
    load = os.getloadavg()[0]
    fresh = _Fresh(sample_questions(sets, 5 + 2 * args.repeats * sum(args.concurrency), seed=2))
    rows = []
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-batching-") as directory:
        data_dir = Path(directory)
        build_index(data_dir, news_articles(sets, args.articles), embedder, chunking)
        storage = EmbeddedStorage(data_dir, IndexSpec(embedder.name, chunking))
        answerer = _Dated(Answerer(storage, embedder, AnswerSettings()))
        for question in fresh.take(5):  # warm: model, index, caches
            answerer.answer(question)
        passages = answerer.inner.reader().size
        for level in args.concurrency:
            one_by_one, batched, latencies, sizes, encodes = [], [], [], [], []
            for _ in range(args.repeats):
                one_by_one.append(_one_by_one(answerer, fresh.take(level)))
                burst = fresh.take(level)
                seconds, waits, batches = asyncio.run(
                    _batched(answerer, burst, args.wait_ms, args.max_batch)
                )
                batched.append(seconds)
                latencies.extend(waits)
                sizes.extend(batches)
                encodes.append(_encode_alone(embedder, burst))
            rows.append(Level(level, one_by_one, batched, latencies, sizes, encodes))
    print(f"command: `python benchmarks/bench_batching.py {' '.join(argv or sys.argv[1:])}`\n")
    print(f"{passages:,} passages; {args.repeats} rounds per level, medians; batcher wait "
          f"{args.wait_ms:g} ms, at most {args.max_batch} questions a batch; 1-minute load "
          f"average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (2 cores); "
          f"{fresh.asked:,} questions asked, {fresh.repeated:,} of them a second time"
          "\n")  # fmt: skip
    print(_table(rows))
    return 0


class _Fresh:
    """Hands out questions not handed out before, in order (round again when used up)."""

    def __init__(self, questions: list[str]) -> None:
        self.questions = list(dict.fromkeys(questions))
        self.asked = 0

    def take(self, count: int) -> list[str]:
        taken = [self.questions[(self.asked + i) % len(self.questions)] for i in range(count)]
        self.asked += count
        return taken

    @property
    def repeated(self) -> int:
        return max(self.asked - len(self.questions), 0)


@dataclass(frozen=True)
class Level:
    """One level's rounds: seconds one by one and batched, each question's latency (ms),
    the batch sizes formed, and (ms per question one by one, batched) of the bare encode."""

    questions: int
    one_by_one: list[float]
    batched: list[float]
    latencies: list[float]
    sizes: list[int]
    encodes: list[tuple[float, float]]


def _encode_alone(embedder: Embedder, questions: list[str]) -> tuple[float, float]:
    """Milliseconds per question of the model alone: one call each, then one call for all,
    the fastest of three (a call of 100 ms that another process slowed would lower the
    limit, and so flatter the ratio)."""
    started = time.perf_counter()
    for question in questions:
        embedder.encode([question])
    single = time.perf_counter() - started
    calls = []
    for _ in range(3):
        started = time.perf_counter()
        embedder.encode(questions, batch_size=len(questions))
        calls.append(time.perf_counter() - started)
    return single * 1000 / len(questions), min(calls) * 1000 / len(questions)


class _Dated:
    """The answerer as the bot uses it, every question asked after every article."""

    def __init__(self, inner: Answerer) -> None:
        self.inner = inner
        self.batch_sizes: list[int] = []  # the size of each batch the bot's batcher formed

    def answer(self, question: str, *, context: str | None = None, **_: object) -> Answer:
        return self.inner.answer(question, context=context, as_of=AFTER_EVERYTHING)

    def answer_many(self, questions: Sequence[Question]) -> list[Answer]:
        self.batch_sizes.append(len(questions))
        return self.inner.answer_many([replace(q, as_of=AFTER_EVERYTHING) for q in questions])

    def list_articles(self) -> list[ArticleSummary]:
        return self.inner.list_articles()

    def stats(self) -> dict[str, int]:
        return self.inner.stats()


def _one_by_one(answerer: _Dated, questions: list[str]) -> float:
    started = time.perf_counter()
    for question in questions:
        answerer.answer(question)
    return time.perf_counter() - started


async def _batched(answerer: _Dated, questions: list[str], wait_ms: float,
                   max_batch: int) -> tuple[float, list[float], list[int]]:  # fmt: skip
    batcher = OffLoopAnswerer(answerer, wait_ms=wait_ms, max_batch=max_batch)  # type: ignore[arg-type]
    answerer.batch_sizes.clear()
    started = time.perf_counter()

    async def ask(question: str) -> float:
        await batcher.answer(question)
        return time.perf_counter() - started

    waits = await asyncio.gather(*(ask(q) for q in questions))
    return time.perf_counter() - started, [w * 1000 for w in waits], list(answerer.batch_sizes)


def _table(rows: list[Level]) -> str:
    lines = [
        "| questions at once | one by one: questions/s (baseline) | batched: questions/s "
        "| throughput ratio | batched latency p50 / p99 ms | batch sizes (median, max) "
        "| bare encode ms/question: one by one, one call | encoder's limit: questions/s "
        "| batched / limit |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        base = row.questions / float(np.median(row.one_by_one))
        fast = row.questions / float(np.median(row.batched))
        p50, p99 = np.percentile(row.latencies, [50, 99])
        single, together = np.median(np.array(row.encodes), axis=0)
        lines.append(
            f"| {row.questions} | {base:.1f} | {fast:.1f} | {fast / base:.2f} "
            f"| {p50:.0f} / {p99:.0f} | {np.median(row.sizes):.0f}, {max(row.sizes)} "
            f"| {single:.1f}, {together:.1f} | {1000 / together:.1f} "
            f"| {fast * together / 1000:.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
