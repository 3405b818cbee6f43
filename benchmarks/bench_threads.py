"""Encode latency and throughput with 1 and with 2 torch threads, interleaved in one process.

    python benchmarks/bench_threads.py [--questions N] [--batches N] [--quick]

Each question is encoded alone with one setting and then the other (which goes first
alternates), and so are batches of 128 passages, so that both settings see the same load.
Torch is loaded by the embedder, so its OpenMP settings (or the environment's) apply.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Sequence

import numpy as np
from corpus import DEFAULT_SETS, dataset_parser, load_eval_set, news_articles, sample_questions

from retrieval.embedding import SentenceTransformerEmbedder

SETTINGS = (1, 2)
BATCH = 128


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = dataset_parser(__doc__)
    parser.add_argument("--questions", type=int, default=100, metavar="N")
    parser.add_argument("--batches", type=int, default=6, metavar="N")
    parser.add_argument("--quick", action="store_true", help="10 questions, 2 batches")
    args = parser.parse_args(argv)
    if args.quick:
        args.questions, args.batches = 10, 2
    args.dataset = args.dataset or list(DEFAULT_SETS)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Time both settings and print a table."""
    args = parse_args(argv)
    command = shlex.join(["python", "benchmarks/bench_threads.py", *(argv or sys.argv[1:])])
    try:
        sets = [load_eval_set(path) for path in args.dataset]
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    embedder = SentenceTransformerEmbedder()
    embedder.encode(["warm up"])  # loads torch the embedder's way (OpenMP settings first)
    import torch

    questions = sample_questions(sets, args.questions)
    passages = [p for a in news_articles(sets, 60) for p in a.paragraphs]
    batch = [passages[i % len(passages)] for i in range(BATCH)]
    load_before = os.getloadavg()[0]
    latency: dict[int, list[float]] = {n: [] for n in SETTINGS}
    throughput: dict[int, list[float]] = {n: [] for n in SETTINGS}
    original = torch.get_num_threads()
    try:
        for number in range(max(len(questions), args.batches)):
            for threads in SETTINGS if number % 2 == 0 else SETTINGS[::-1]:
                torch.set_num_threads(threads)
                if number < len(questions):
                    started = time.perf_counter()
                    embedder.encode([questions[number]])
                    latency[threads].append((time.perf_counter() - started) * 1000)
                if number < args.batches:
                    started = time.perf_counter()
                    embedder.encode(batch)
                    throughput[threads].append(BATCH / (time.perf_counter() - started))
    finally:
        torch.set_num_threads(original)
    print(f"command: `{command}`\n")
    print(f"1-minute load average (2 cores): {load_before:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end\n")  # fmt: skip
    print("| torch threads | question p50 ms | question p99 ms | batch passages/s (median) |")
    print("|---:|---:|---:|---:|")
    for threads in SETTINGS:
        p50, p99 = np.percentile(latency[threads], [50, 99])
        rate = float(np.median(throughput[threads]))
        print(f"| {threads} | {p50:.1f} | {p99:.1f} | {rate:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
