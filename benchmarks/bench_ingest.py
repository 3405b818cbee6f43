"""`newsbot add` against `newsbot index` on the same generated articles, in one process.

Both paths use the same loaded model and batch size: `index` builds one generation from all
articles as read from the JSONL dump (as `newsbot index` of it would); `add` reads the dump
through the ingest path (source reading, URL canonicalisation, duplicate checks, a commit
every 50 articles). A second `add` of the same file measures the cost of recognising
unchanged articles.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from corpus import DEFAULT_SETS, dataset_parser, load_eval_set, make_embedder, news_articles

from retrieval.articles import Article
from retrieval.chunking import ChunkSettings
from retrieval.embedding import Embedder, TokenBatch, TokenVectors, batches_by_length, normalise
from retrieval.index import Writer, build_index
from retrieval.ingest import ingest
from retrieval.sources import Fetcher, load_articles


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = dataset_parser(__doc__, backend=True)
    parser.add_argument("--articles", type=int, default=300, metavar="N")
    parser.add_argument("--repeats", type=int, default=3, metavar="N")
    parser.add_argument(
        "--no-model",
        action="store_true",
        help="embed with a cheap word-hashing stand-in: what is left is what index and add do "
        "besides the model (copies, commits, keyword postings), at sizes the model would take "
        "hours for",
    )
    args = parser.parse_args(argv)
    args.dataset = args.dataset or list(DEFAULT_SETS)
    return args


class HashingEmbedder:
    """A stand-in for the model: one hashed one-hot row per word, 384 wide as the model's."""

    name = "bench/hashing"
    dimension = 384
    max_tokens = 256

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Normalised sums of the word rows."""
        rows = [tokens.sum(axis=0) for tokens, _ in self.token_vectors(texts)]
        return normalise(np.vstack(rows)) if rows else np.zeros((0, self.dimension), np.float32)

    def token_vectors(self, texts: list[str], batch_size: int = 64) -> list[TokenVectors]:
        """Per text, a row per word and the word's span."""
        result = []
        for text in texts:
            words = list(_WORD.finditer(text)) or [None]
            rows = np.zeros((len(words), self.dimension), dtype=np.float32)
            spans = np.zeros((len(words), 2), dtype=np.int64)
            for row, word in enumerate(words):
                if word is not None:
                    rows[row, zlib.crc32(word.group().lower().encode()) % self.dimension] = 1
                    spans[row] = word.span()
            result.append((rows, spans))
        return result

    def token_batches(self, texts: list[str], batch_size: int = 64) -> Iterator[TokenBatch]:
        """``token_vectors`` in calls of ``batch_size``."""
        return batches_by_length(self, texts, batch_size)

    def count_tokens(self, text: str) -> int:
        """About the model's count: words and punctuation, and the two special tokens."""
        return len(text.split()) * 5 // 4 + 2

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        return [self.count_tokens(t) for t in texts]


_WORD = re.compile(r"\w+")


def write_jsonl(articles: list[Article], path: Path) -> None:
    """The articles as a JSONL dump, the format `newsbot add` reads."""
    with path.open("w", encoding="utf-8") as out:
        for a in articles:
            record = {
                "url": a.url,
                "title": a.title,
                "published": a.published.isoformat(),
                "source": a.source,
                "author": a.author,
                "text": "\n\n".join(a.paragraphs),
            }
            out.write(json.dumps(record) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Time `index` and `add` on the same articles and print a table."""
    args = parse_args(argv)
    command = shlex.join(["python", "benchmarks/bench_ingest.py", *(argv or sys.argv[1:])])
    load = os.getloadavg()[0]
    embedder: Embedder = HashingEmbedder() if args.no_model else make_embedder(args)
    embedder.encode(["warm up"])
    rows: dict[str, list[float]] = {"index": [], "add": [], "add again (unchanged)": []}
    passages = 0
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-ingest-") as work:
        dump = Path(work) / "articles.jsonl"
        write_jsonl(news_articles([load_eval_set(p) for p in args.dataset], args.articles), dump)
        articles = load_articles([dump])  # as `add` reads them: the same passages both ways
        for number in range(args.repeats):
            started = time.perf_counter()
            manifest = build_index(Path(work) / f"index-{number}", articles, embedder,
                                   ChunkSettings())  # fmt: skip
            rows["index"].append(time.perf_counter() - started)
            passages = manifest.passages
            writer = Writer(Path(work) / f"add-{number}", embedder, ChunkSettings())
            with Fetcher() as fetcher:
                started = time.perf_counter()
                first = ingest([str(dump)], writer, fetcher)
                rows["add"].append(time.perf_counter() - started)
                started = time.perf_counter()
                again = ingest([str(dump)], writer, fetcher)
                rows["add again (unchanged)"].append(time.perf_counter() - started)
            # Generated stories can repeat a text; those count as copies, not additions.
            if again.added or first.added + first.duplicates != len(articles):
                raise SystemExit(f"unexpected ingest counts: {first.line()}; {again.line()}")
    print(f"command: `{command}`\n")
    print(f"{len(articles)} articles, {passages} passages, model {embedder.name}, "
          f"median of {args.repeats} runs; 1-minute load average {load:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end (2 cores)\n")  # fmt: skip
    base = sorted(rows["index"])[len(rows["index"]) // 2]
    print("| path | seconds | articles/s | passages/s | time vs `index` |")
    print("|---|---|---|---|---|")
    for name, times in rows.items():
        median = sorted(times)[len(times) // 2]
        print(f"| {name} | {median:.2f} | {len(articles) / median:.1f} | "
              f"{passages / median:.1f} | {median / base:.2f}× |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
