"""What a Telegram /sources costs on an index of N articles, before and after the bot's copy.

Before: each request read every article from the store (``Answerer.list_articles``) and
rendered every page. After: the list comes from ``OffLoopAnswerer.list_articles`` (a copy at
most 30 s old) and the pages from ``pages_for`` (rendered once per list). Both are timed in
the same run on the same index. Also: the language check every question now goes through,
beside the bare encode of a question.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

from bot.app import make_answerer, make_embedder
from bot.settings import Settings
from bot.telegram.answerer import OffLoopAnswerer
from bot.telegram.commands import pages_for
from bot.telegram.formatting import render_source_pages
from retrieval.answering import language_problem
from retrieval.articles import Article
from retrieval.chunking import ChunkSettings
from retrieval.index import build_index

QUESTIONS = ("When is Putin visiting Pyongyang?", "Who won the vote in Story 17?",
             "Кто президент Франции?")  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000, metavar="N")
    parser.add_argument("--requests", type=int, default=50, metavar="N")
    return parser.parse_args(argv)


def articles(count: int) -> list[Article]:
    """Short one-paragraph articles, one passage each."""
    day = date(2024, 1, 1)
    return [
        Article(f"https://news.example/{n}", f"Story {n}: the council votes on bridge {n}",
                "Example News", day + timedelta(days=n % 700),
                (f"The council of town {n} voted on Tuesday to repair bridge {n}, the mayor "
                 f"said, after {n % 40} years of delays and a report on its safety.",))
        for n in range(count)
    ]  # fmt: skip


def p50_ms(call: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``call`` in milliseconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the index, time both paths, print the table."""
    args = parse_args(argv)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    embedder = make_embedder(settings)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        build_index(data_dir, articles(args.articles), embedder, ChunkSettings())
        answerer = make_answerer(settings, embedder, data_dir)
        answerer.answer(QUESTIONS[0])  # load everything once
        before = p50_ms(lambda: render_source_pages(answerer.list_articles()), args.requests)
        cached, pages_cache = OffLoopAnswerer(answerer), {}
        loop = asyncio.new_event_loop()

        def after_request() -> list[str]:
            return pages_for(loop.run_until_complete(cached.list_articles()), pages_cache)

        after_request()  # the one read (and render) in 30 s
        after = p50_ms(after_request, args.requests)
        loop.close()
        encode = p50_ms(lambda: embedder.encode([QUESTIONS[0]]), 50)
        check = p50_ms(lambda: [language_problem(q, ("en",)) for q in QUESTIONS], 200)
    check /= len(QUESTIONS)
    load = os.getloadavg()[0]
    command = " ".join(["python", "benchmarks/bench_browsing.py", *sys.argv[1:]])
    print(f"{command}\n{args.articles} articles, onnx, load average {load:.1f}\n")
    print("| per /sources request | before: read and render | after: the bot's copy | ratio |")
    print("|---|---|---|---|")
    print(f"| article list and pages, p50 | {before:.2f} ms | {after:.3f} ms | "
          f"{after / before:.5f}x |")  # fmt: skip
    print(f"\nlanguage check: {check * 1000:.1f} µs per question; bare encode of a question: "
          f"{encode:.2f} ms ({check / encode:.4f}x)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
