"""What checking a generation on open costs: sizes, CRC-32 of each file, SQLite quick_check.

    python benchmarks/bench_integrity.py [--sizes 10000,50000] [--repeats 3]

Each size is a generation of synthetic articles (five passages of three sentences each)
with random unit vectors of the default model's 384 dimensions, so the FAISS file, the
store and its sentence vectors have the sizes real ones would. Opening it with the checks
(``open_index``, its record of checked generations cleared before each run) is timed
against opening the same files without them (``IndexReader``), alternately, in one run;
both read the FAISS file, as the first question does.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import numpy as np

from retrieval.articles import Article
from retrieval.chunking import ChunkSettings
from retrieval.embedding import TokenBatch, batches_by_length
from retrieval.index import (
    IndexReader,
    IndexSpec,
    build_index,
    find_live,
    integrity,
    open_index,
    read_manifest,
)

# Topic words the synthetic sentences are drawn from.
WORDS = ("council", "harbour", "budget", "minister", "strike", "ferry", "summit", "border",
         "trade", "election", "court", "river", "bridge", "tram", "school", "hospital",
         "police", "storm", "harvest", "market")  # fmt: skip


class RandomEmbedder:
    """Random unit token vectors of 384 dimensions: the files' sizes, not their meaning."""

    name = "bench/random-384"
    dimension = 384
    max_tokens = 256

    def __init__(self) -> None:
        self._rng = np.random.default_rng(3)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        rows = self._rng.standard_normal((len(texts), self.dimension)).astype(np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    def token_vectors(self, texts: list[str], batch_size: int = 64) -> list:
        """One random row per word, with the word's character span."""
        result = []
        for text in texts:
            spans, start = [], 0
            for word in text.split():
                start = text.index(word, start)
                spans.append((start, start + len(word)))
                start += len(word)
            result.append((self.encode([""] * len(spans)), np.array(spans, dtype=np.int64)))
        return result

    def token_batches(self, texts: list[str], batch_size: int = 64) -> Iterator[TokenBatch]:
        """``token_vectors`` in calls of ``batch_size``."""
        return batches_by_length(self, texts, batch_size)

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        return [self.count_tokens(t) for t in texts]


def articles(passages: int) -> list[Article]:
    """Synthetic articles of five paragraphs (one passage each) of three sentences."""
    rng = np.random.default_rng(5)

    def sentence() -> str:
        return " ".join(rng.choice(WORDS, 12)).capitalize() + "."

    def body(i: int) -> tuple[str, ...]:
        return tuple(" ".join(sentence() for _ in range(3)) + f" Item {i}.{p}." for p in range(5))

    return [
        Article(f"https://bench.invalid/{i}", f"Story {i}", "Bench", date(2024, 5, 1), body(i))
        for i in range(passages // 5)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Build each size, time opening it with and without the checks, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000", help="passage counts")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    embedder, chunking = RandomEmbedder(), ChunkSettings()
    spec = IndexSpec(embedder.name, chunking)
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-integrity-") as directory:
        for size in (int(s) for s in args.sizes.split(",")):
            data_dir = Path(directory) / str(size)
            build_index(data_dir, articles(size), embedder, chunking)
            live = find_live(data_dir)
            assert live is not None
            generation = data_dir / live.name
            megabytes = sum(p.stat().st_size for p in generation.iterdir()) / 1e6
            checked, plain, check_only = [], [], []
            for _ in range(args.repeats):
                integrity._checked.clear()
                started = time.perf_counter()
                problem = integrity.damage(generation)
                check_only.append(time.perf_counter() - started)
                assert problem is None, problem
                integrity._checked.clear()
                started = time.perf_counter()
                _ = (reader := open_index(data_dir, spec)).vectors
                reader.close()
                checked.append(time.perf_counter() - started)
                started = time.perf_counter()
                _ = (reader := IndexReader(generation, read_manifest(generation))).vectors
                reader.close()
                plain.append(time.perf_counter() - started)
            rows.append((size, megabytes, *map(statistics.median, (plain, checked, check_only))))
    print(f"command: `python benchmarks/bench_integrity.py {' '.join(argv or sys.argv[1:])}`")
    print(f"median of {args.repeats}; 1-minute load average {load:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end (2 cores)\n")  # fmt: skip
    print("| passages | files (MB) | open, no checks (ms) | open with checks (ms) | "
          "the checks alone (ms) | ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for size, megabytes, plain_s, checked_s, check_s in rows:
        print(f"| {size:,} | {megabytes:.1f} | {plain_s * 1000:.1f} | {checked_s * 1000:.1f} | "
              f"{check_s * 1000:.1f} | {checked_s / plain_s:.1f}× |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
