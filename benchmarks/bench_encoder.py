"""The encoder backends side by side: torch, onnx and onnx-int8 on the same texts, one run.

    python benchmarks/bench_encoder.py [--passages N] [--repeats N] [--eval-questions N] [--quick]

Throughput: the passages ``build_index`` embeds for the QA sets (title prefix, chunked),
encoded by each backend in turn with the same batch size, the order rotating each round.
Latency: questions encoded one at a time by each backend in turn. Start-up: a fresh
process that imports the embedder, makes it and encodes one question (the ONNX export is
cached by then). Quality: each backend builds its own index of each QA set and the default
answerer answers every question, as `newsbot eval` does. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from corpus import DEFAULT_SETS, dataset_parser

from retrieval.answering import Answerer, AnswerSettings
from retrieval.chunking import ChunkSettings, chunk_article, embedding_text
from retrieval.embedding import Embedder, OnnxEmbedder, SentenceTransformerEmbedder
from retrieval.errors import NewsbotError
from retrieval.evaluation import FAR_FUTURE, EvalSet, Metrics, evaluate, load_eval_set
from retrieval.index import EmbeddedStorage, IndexSpec, build_index

BACKENDS = ("torch", "onnx", "onnx-int8")
ROOT = Path(__file__).resolve().parents[1]
TARGET_SPEED, TARGET_POINTS = 1.5, 1.0
MAKERS = {
    "torch": "from retrieval.embedding import SentenceTransformerEmbedder as E; e = E()",
    "onnx": "from retrieval.embedding import OnnxEmbedder as E; e = E(cache_dir=C)",
    "onnx-int8": "from retrieval.embedding import OnnxEmbedder as E; e = E(cache_dir=C, int8=True)",
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = dataset_parser(__doc__)
    parser.add_argument("--passages", type=int, metavar="N", help="for throughput (default 600)")
    parser.add_argument("--repeats", type=int, metavar="N", help="throughput rounds (default 3)")
    parser.add_argument("--questions", type=int, metavar="N", help="for latency (default 200)")
    parser.add_argument(
        "--eval-questions", type=int, metavar="N", help="per QA set for quality (default: all)"
    )
    parser.add_argument("--batch-size", type=int, default=64, metavar="N")
    parser.add_argument("--batch-sizes", default="16,32,64,128", help="tried with the fastest")
    parser.add_argument("--startups", type=int, default=3, metavar="N", help="fresh processes")
    parser.add_argument("--cache-dir", type=Path, help="ONNX export cache (default: a temp dir)")
    parser.add_argument("--quick", action="store_true", help="a tiny run to check it works")
    args = parser.parse_args(argv)
    defaults = (12, 1, 4, 3) if args.quick else (600, 3, 200, 0)
    for name, value in zip(("passages", "repeats", "questions", "eval_questions"), defaults,
                           strict=True):  # fmt: skip
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.quick:
        args.batch_sizes, args.startups = "2,4", 1
    args.dataset = args.dataset or list(DEFAULT_SETS)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every backend and print the tables."""
    args = parse_args(argv)
    command = shlex.join(["python", "benchmarks/bench_encoder.py", *(argv or sys.argv[1:])])
    try:
        sets = [load_eval_set(path) for path in args.dataset]
    except NewsbotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-encoder-") as work:
        cache_dir = args.cache_dir or Path(work) / "models"
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        embedders: dict[str, Embedder] = {
            "torch": SentenceTransformerEmbedder(),
            "onnx": OnnxEmbedder(cache_dir=cache_dir),
            "onnx-int8": OnnxEmbedder(cache_dir=cache_dir, int8=True),
        }
        for embedder in embedders.values():
            embedder.encode(["warm up"])  # loads, and exports when the cache is empty
        prepared = time.perf_counter() - started
        texts = _passages(sets, embedders["torch"], args.passages)
        speed = _throughput(embedders, texts, args.batch_size, args.repeats)
        questions = [q.question for s in sets for q in s.questions]
        questions = questions[:: max(1, len(questions) // args.questions)][: args.questions]
        latency = _latency(embedders, questions)
        startup = {b: _startup(b, cache_dir, args.startups) for b in BACKENDS}
        quality = {b: _quality(e, sets, Path(work) / b, args.eval_questions)
                   for b, e in embedders.items()}  # fmt: skip
        best = max(BACKENDS, key=lambda b: float(np.median(speed[b])))
        sizes = [int(s) for s in args.batch_sizes.split(",")]
        by_size = {n: _median_rate(embedders[best], texts, n, args.repeats) for n in sizes}
    print(f"command: `{command}`\n")
    print(f"{len(texts)} passages from {', '.join(s.name for s in sets)}; models loaded and "
          f"ONNX exported (if not cached) in {prepared:.1f} s; 1-minute load average (2 cores) "
          f"{load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end\n")  # fmt: skip
    print(_speed_table(speed, latency, startup, len(texts), args) + "\n")
    print(_quality_table(quality) + "\n")
    print(f"Batch sizes with {best} (passages/s, median of {args.repeats}): "
          + ", ".join(f"{n}: {rate:.1f}" for n, rate in by_size.items()) + "\n")  # fmt: skip
    print(_verdict(speed, quality))
    return 0


def _passages(sets: list[EvalSet], embedder: Embedder, limit: int) -> list[str]:
    """The texts build_index embeds for the sets' passages, every k-th up to ``limit``."""
    texts = [
        embedding_text(article.title, passage.text)
        for eval_set in sets
        for article in eval_set.articles
        for passage in chunk_article(article, ChunkSettings(), embedder.count_tokens)
    ]
    return texts[:: max(1, len(texts) // limit)][:limit]


def _rate(embedder: Embedder, texts: list[str], batch_size: int) -> float:
    started = time.perf_counter()
    embedder.encode(texts, batch_size=batch_size)
    return len(texts) / (time.perf_counter() - started)


def _median_rate(embedder: Embedder, texts: list[str], batch_size: int, repeats: int) -> float:
    return float(np.median([_rate(embedder, texts, batch_size) for _ in range(repeats)]))


def _throughput(
    embedders: dict[str, Embedder], texts: list[str], batch_size: int, repeats: int
) -> dict[str, list[float]]:
    """Passages/s per round; the order of the backends rotates to share out load drift."""
    rates: dict[str, list[float]] = {b: [] for b in embedders}
    for round_ in range(repeats):
        for i in range(len(BACKENDS)):
            backend = BACKENDS[(i + round_) % len(BACKENDS)]
            rates[backend].append(_rate(embedders[backend], texts, batch_size))
    return rates


def _latency(embedders: dict[str, Embedder], questions: list[str]) -> dict[str, list[float]]:
    """Milliseconds per single-question encode, the backends taking turns per question."""
    times: dict[str, list[float]] = {b: [] for b in embedders}
    for number, question in enumerate(questions):
        for i in range(len(BACKENDS)):
            backend = BACKENDS[(i + number) % len(BACKENDS)]
            started = time.perf_counter()
            embedders[backend].encode([question])
            times[backend].append((time.perf_counter() - started) * 1000)
    return times


def _startup(backend: str, cache_dir: Path, repeats: int) -> float:
    """Median seconds for a fresh process to import, make the embedder and encode once."""
    code = (
        "import time; t = time.perf_counter(); from pathlib import Path; "
        f"C = Path({str(cache_dir)!r}); {MAKERS[backend]}; e.encode(['When is the summit?']); "
        "print(time.perf_counter() - t)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    seconds = []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                              capture_output=True, text=True)  # fmt: skip
        seconds.append(float(done.stdout.split()[-1]))
    return float(np.median(seconds))


def _quality(
    embedder: Embedder, sets: list[EvalSet], work: Path, per_set: int
) -> dict[str, Metrics]:
    """Retrieval figures of the default answerer over each set, indexed with ``embedder``."""
    results = {}
    for eval_set in sets:
        data_dir = work / eval_set.name
        build_index(data_dir, eval_set.articles, embedder, ChunkSettings())
        storage = EmbeddedStorage(data_dir, IndexSpec(embedder.name, ChunkSettings()))
        answerer = Answerer(storage, embedder, AnswerSettings(top_k=10))
        questions = eval_set.questions[:per_set] if per_set else eval_set.questions
        ask: Callable = lambda q: answerer.answer(q.question, as_of=FAR_FUTURE)  # noqa: B023, E731
        results[eval_set.name] = evaluate(ask, questions)
    return results


def _speed_table(
    speed: dict[str, list[float]],
    latency: dict[str, list[float]],
    startup: dict[str, float],
    passages: int,
    args: argparse.Namespace,
) -> str:
    base = float(np.median(speed["torch"]))
    lines = [
        f"Speed: {passages} passages, batch size {args.batch_size}, median of {args.repeats} "
        f"rounds; {len(latency['torch'])} questions encoded one at a time; start-up median "
        f"of {args.startups} fresh processes (import, make, encode one question):",
        "",
        "| backend | passages/s | × torch | question p50 ms | question p99 ms | start-up s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for backend in BACKENDS:
        rate = float(np.median(speed[backend]))
        p50, p99 = np.percentile(latency[backend], [50, 99])
        lines.append(f"| {backend} | {rate:.1f} | {rate / base:.2f} | {p50:.1f} | {p99:.1f} "
                     f"| {startup[backend]:.2f} |")  # fmt: skip
    rounds = "; ".join(f"{b} " + ", ".join(f"{r:.1f}" for r in speed[b]) for b in BACKENDS)
    return "\n".join([*lines, "", f"passages/s per round: {rounds}"])


def _quality_table(quality: dict[str, dict[str, Metrics]]) -> str:
    lines = [
        "Quality: each backend's own index of each set, default answerer (hybrid), top 10:",
        "",
        "| set | backend | questions | hit@1 | hit@5 | MRR@10 | hit@5 − torch (points) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, base in quality["torch"].items():
        for backend in BACKENDS:
            m = quality[backend][name]
            delta = 100 * (m.hit_at_5 - base.hit_at_5)
            lines.append(f"| {name} | {backend} | {m.questions} | {m.hit_at_1:.3f} "
                         f"| {m.hit_at_5:.3f} | {m.mrr_at_10:.3f} | {delta:+.1f} |")  # fmt: skip
    return "\n".join(lines)


def _verdict(speed: dict[str, list[float]], quality: dict[str, dict[str, Metrics]]) -> str:
    base = float(np.median(speed["torch"]))
    lines = []
    for backend in BACKENDS[1:]:
        ratio = float(np.median(speed[backend])) / base
        drop = max(100 * (quality["torch"][n].hit_at_5 - m.hit_at_5)
                   for n, m in quality[backend].items())  # fmt: skip
        met = ratio >= TARGET_SPEED and drop <= TARGET_POINTS
        lines.append(
            f"{backend}: {ratio:.2f}× torch throughput, hit@5 at worst {0.0 - drop:+.1f} points "
            f"against torch: target (≥ {TARGET_SPEED}×, within {TARGET_POINTS:.0f} point) "
            + ("met" if met else "not met")
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
