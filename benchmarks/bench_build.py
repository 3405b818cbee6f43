"""`newsbot index` of a large real-looking corpus against the bare encode of the same texts.

    python benchmarks/bench_build.py [--articles N] [--repeats N] [--busy] [--quick]

The corpus is ``corpus.news_articles`` (real sentences of the QA sets, retold past the first
use of each story), written as a JSONL dump; read back as `newsbot index` reads it (which
joins a paragraph cut off mid-sentence to the next), 8,200 articles make 30,064 passages.
Each round runs two fresh processes back to back (which goes first alternates): the
baseline loads the default encoder and times its bare ``encode`` of exactly the texts the
build embeds (``embedding_text`` of every chunk of the articles as read from the dump,
batch size 64), model loading excluded; then ``newsbot index corpus.jsonl``, timed end to
end (start-up, reading, chunking, encoding with sentence vectors, writing), whose manifest
must count as many passages. The peak RSS of each process comes from ``os.wait4``.
``--busy`` runs a process that keeps one core busy (a Python loop) through both, as
another job on the machine would.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bench_ingest import write_jsonl
from corpus import dataset_parser, eval_sets, make_embedder, news_articles

from retrieval.chunking import ChunkSettings, chunk_article, embedding_text
from retrieval.index import current_generation, read_manifest
from retrieval.sources import load_articles

ROOT = Path(__file__).resolve().parents[1]
# The baseline process: the app's encoder, warmed up, then one bare encode of every text.
BARE_ENCODE = """
import json, sys, time
from bot.app import make_embedder
from bot.settings import load_settings
texts = json.load(open(sys.argv[1], encoding="utf-8"))
embedder = make_embedder(load_settings(None))
embedder.encode(texts[:64], batch_size=64)
started = time.perf_counter()
embedder.encode(texts, batch_size=64)
print(json.dumps({"seconds": time.perf_counter() - started}))
"""
BUSY_LOOP = "while True: pass"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = dataset_parser(__doc__)
    parser.add_argument(
        "--articles", type=int, default=8200, help="articles (default 8,200: 30,064 passages)"
    )
    parser.add_argument("--repeats", type=int, default=1, help="rounds (bare encode and index)")
    parser.add_argument(
        "--busy", action="store_true", help="keep one core busy with another process meanwhile"
    )
    parser.add_argument("--quick", action="store_true", help="a tiny run: 12 articles")
    args = parser.parse_args(argv)
    if args.quick:
        args.articles, args.repeats = 12, 1
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Write the corpus, run the rounds, print the table."""
    args = parse_args(argv)
    command = shlex.join(["python", "benchmarks/bench_build.py", *(argv or sys.argv[1:])])
    loads = [os.getloadavg()[0]]
    rounds: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-build-") as work:
        dump, text_file = Path(work) / "corpus.jsonl", Path(work) / "texts.json"
        write_jsonl(news_articles(eval_sets(args), args.articles), dump)
        articles = load_articles([dump])
        embedder = make_embedder(argparse.Namespace(backend="onnx"))
        texts = [
            embedding_text(article.title, passage.text)
            for article in articles
            for passage in chunk_article(article, ChunkSettings(), embedder.count_tokens)
        ]
        del embedder
        text_file.write_text(json.dumps(texts), encoding="utf-8")
        env = _environment(Path(work))
        busy = _busy() if args.busy else None
        try:
            for number in range(args.repeats):
                env["NEWSBOT_DATA_DIR"] = str(Path(work) / f"data-{number}")
                bare = [sys.executable, "-c", BARE_ENCODE, str(text_file)]
                index = [sys.executable, "-m", "bot", "index", str(dump)]
                if number % 2 == 0:
                    raw, built = _child(bare, env), _child(index, env)
                else:
                    built, raw = _child(index, env), _child(bare, env)
                _check_passages(Path(env["NEWSBOT_DATA_DIR"]), len(texts))
                rounds.append({"raw_s": json.loads(raw.stdout)["seconds"], "raw_rss": raw.rss,
                               "build_s": built.wall, "build_rss": built.rss})  # fmt: skip
                loads.append(os.getloadavg()[0])
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
    print(f"command: `{command}`\n")
    busy_note = "one core kept busy by another process; " if args.busy else ""
    load_note = ", ".join(f"{x:.1f}" for x in loads)
    print(f"{len(articles):,} articles, {len(texts):,} passages; {args.repeats} round(s); "
          f"{busy_note}1-minute load average {load_note} (start, after each round)\n")  # fmt: skip
    print(_table(rounds, len(texts)))
    return 0


def _environment(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    return env


def _check_passages(data_dir: Path, expected: int) -> None:
    """Refuse a round whose build embedded other passages than the baseline's texts."""
    built = read_manifest(data_dir / str(current_generation(data_dir))).passages
    if built != expected:
        raise SystemExit(f"the build made {built} passages, the baseline encoded {expected}")


def _busy() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", BUSY_LOOP])


@dataclass(frozen=True)
class Finished:
    """A process run to its end: wall seconds, what it printed, its peak RSS in MB."""

    wall: float
    stdout: str
    rss: float


def _child(command: list[str], env: dict[str, str]) -> Finished:
    """Run ``command`` to its end."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command[:4])} failed: {err.read()[-2000:]}")
        return Finished(wall, out.read(), usage.ru_maxrss / 1024)  # ru_maxrss is in KB


def _table(rounds: list[dict[str, float]], passages: int) -> str:
    raw = float(np.median([r["raw_s"] for r in rounds]))
    build = float(np.median([r["build_s"] for r in rounds]))
    ratios = [r["raw_s"] / r["build_s"] for r in rounds]
    lines = [
        "| process | wall s | passages/s | throughput ratio | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
        f"| bare `encode` of the same texts (baseline) | {raw:.1f} | {passages / raw:.1f} "
        f"| 1.00 | {max(r['raw_rss'] for r in rounds):.0f} |",
        f"| `newsbot index` end to end | {build:.1f} | {passages / build:.1f} "
        f"| {float(np.median(ratios)):.2f} | {max(r['build_rss'] for r in rounds):.0f} |",
        "",
        f"index/bare throughput ratio per round: {', '.join(f'{r:.3f}' for r in ratios)} "
        "(target >= 0.9; >= 0.8 with a core kept busy); peak RSS target < 1,000 MB",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
