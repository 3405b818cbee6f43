"""Vector index benchmark: exact (flat) search against IVF and HNSW on large corpora.

    python benchmarks/bench_index.py [--sizes 100000,1000000] [--queries N] [--kinds ivf,hnsw]

For each set (random unit vectors; realistic: noisy copies of real passage embeddings with
the real questions as queries) and size, builds each index the way a generation is built
(``retrieval.vectors.build``), and reports build time, bytes per passage, the memory of a
fresh process holding the index, single-query search p50/p99 (k=50, as the answerer asks,
queries one at a time and interleaved across the indexes so that they share the load) and
recall@10 against exact search; then sweeps nprobe and efSearch. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np
from corpus import DEFAULT_SETS, dataset_parser, load_eval_set
from vector_sets import VectorSet, clustered, embed_real, uniform

from retrieval.index import DEFAULT_POLICY, IndexPolicy
from retrieval.index.vectors import ByteScan, build, configure, list_total

# HNSW is measured here beside IVF but never chosen by the index policy (recall 0.85-0.90 at
# 1M on these sets, more memory than flat, no removal): it is built by this benchmark alone.
HNSW_NEIGHBOURS = 32  # graph degree M: FAISS's usual choice for ~400-dimensional vectors
HNSW_EF_SEARCH = 128

ROOT = Path(__file__).resolve().parents[1]
K = 50  # what the answerer fetches for one question (search.retrieve)
NPROBES = (4, 8, 16, 32, 64, 128)
EF_SEARCHES = (16, 32, 64, 128, 256, 512, 1024)
FLAT_SIZES = (25_000, 50_000, 100_000, 200_000)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = dataset_parser(__doc__)
    parser.add_argument("--sizes", default="1000000", help="passage counts, comma-separated")
    parser.add_argument("--sets", default="realistic,random", help="realistic and/or random")
    parser.add_argument("--kinds", default="ivf,hnsw", help="approximate kinds beside flat")
    parser.add_argument("--queries", type=int, default=1000, metavar="N")
    parser.add_argument(
        "--flat-queries", type=int, default=300, metavar="N", help="queries timed on flat"
    )
    parser.add_argument("--sweep-queries", type=int, default=500, metavar="N")
    parser.add_argument(
        "--cosine",
        type=float,
        default=0.75,
        help="cosine of a realistic passage to the real vector it copies (default 0.75)",
    )
    parser.add_argument("--threads", type=int, help="FAISS threads (default: FAISS's own)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "newsbot-bench")
    parser.add_argument("--no-model", action="store_true", help="measure RSS without the model")
    parser.add_argument("--rss-of", help=argparse.SUPPRESS)  # the child process's mode
    args = parser.parse_args(argv)
    args.dataset = args.dataset or list(DEFAULT_SETS)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    args = parse_args(argv)
    if args.rss_of is not None:
        return _report_rss(args.rss_of, not args.no_model)
    command = shlex.join(["python", "benchmarks/bench_index.py", *(argv or sys.argv[1:])])
    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    try:
        sets = [load_eval_set(path) for path in args.dataset]
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"command: `{command}`\n")
    print(f"load average at the start: {_uptime()}")
    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} FAISS threads, "
          f"{os.cpu_count()} cores; policy defaults: {DEFAULT_POLICY}\n")  # fmt: skip
    real = embed_real(sets, args.cache) if "realistic" in args.sets else None
    if real is not None:
        print(f"realistic: {len(real.centres)} real vectors ({real.passage_texts} passages, "
              f"{real.sentence_texts} sentences) as centres, copies at cosine {args.cosine} "
              f"to their centre; {len(real.questions)} real questions\n")  # fmt: skip
    sizes = [int(s) for s in args.sizes.split(",")]
    largest: VectorSet | None = None
    for name in args.sets.split(","):
        for size in sizes:
            if name == "realistic" and real is not None:
                data = clustered(real, size, args.cosine)
            else:
                data = uniform(size, args.queries)
            print(_measure(data, args))
            if name == "realistic" and size == max(sizes):
                largest = data
    if largest is not None:
        print(_flat_by_size(largest, args.flat_queries))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nthis benchmark's own peak RSS (all indexes at once): {peak:.0f} MB")
    print(f"load average at the end: {_uptime()}")
    return 0


def _measure(data: VectorSet, args: argparse.Namespace) -> str:
    size = len(data.passages)
    queries = data.queries[: args.queries]
    ids = np.arange(size, dtype=np.int64)
    indexes, build_s = {}, {}
    for kind in ["flat", *args.kinds.split(",")]:
        started = time.perf_counter()
        indexes[kind] = _build(kind, ids, data.passages)
        build_s[kind] = time.perf_counter() - started
        _configure(indexes[kind], DEFAULT_POLICY.nprobe, HNSW_EF_SEARCH)
    exact = indexes["flat"].search(queries, 10)[1]  # batched: the same exact answers
    times, found = _timed_searches(indexes, queries, args.flat_queries)
    lines = [
        f"### {data.name}, {size:,} passages, {len(queries)} queries "
        f"(flat: {min(args.flat_queries, len(queries))}), k={K}",
        "",
        "| index | build s | bytes/passage | process RSS MB | process peak MB "
        "| search p50 ms | p99 ms | p50 ratio to flat | recall@10 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-index-") as work:
        bare = _child_rss("", not args.no_model)
        flat_p50 = float(np.median(times["flat"]))
        for kind, index in indexes.items():
            path = Path(work) / f"{kind}.faiss"
            faiss.write_index(index, str(path))  # the bytes faiss.serialize_index makes
            stored = path.stat().st_size / size
            rss = _child_rss(str(path), not args.no_model)
            path.unlink()
            p50, p99 = np.percentile(times[kind], [50, 99])
            lines.append(
                f"| {_label(kind, index)} | {build_s[kind]:.1f} "
                f"| {stored:.0f} | {rss[0]:.0f} | {rss[1]:.0f} "
                f"| {p50:.2f} | {p99:.2f} | {p50 / flat_p50:.3f} "
                f"| {_recall(found[kind], exact):.3f} |"
            )
    loaded = "imports only" if args.no_model else "imports and the model"
    lines.append(f"\nA fresh process without an index: RSS {bare[0]:.0f} MB, "
                 f"peak {bare[1]:.0f} MB ({loaded}).")  # fmt: skip
    lines.extend(_sweeps(indexes, queries[: args.sweep_queries], exact))
    lines += ["", *THREADS_HEADER]
    for kind, index in indexes.items():
        if kind != "flat":
            lines.append(_by_threads(_label(kind, index), index, queries[: args.flat_queries]))
    return "\n".join(lines) + "\n"


def _label(kind: str, index: faiss.Index) -> str:
    if kind == "ivf":
        return f"ivf, 8-bit ({list_total(index)} lists, nprobe {DEFAULT_POLICY.nprobe})"
    if kind == "hnsw":
        return f"hnsw (M {HNSW_NEIGHBOURS}, efSearch {HNSW_EF_SEARCH})"
    return "flat (baseline)"


def _timed_searches(
    indexes: dict[str, faiss.Index], queries: np.ndarray, flat_queries: int
) -> tuple[dict[str, list[float]], dict[str, np.ndarray]]:
    """Milliseconds and top-10 ids per query and index: one query at a time, each query on
    every index in turn, so that a burst of load hits them all alike."""
    times: dict[str, list[float]] = {kind: [] for kind in indexes}
    found: dict[str, list[np.ndarray]] = {kind: [] for kind in indexes}
    for number, query in enumerate(queries):
        for kind, index in indexes.items():
            if kind == "flat" and number >= flat_queries:
                continue
            started = time.perf_counter()
            _, ids = index.search(query[None, :], K)
            times[kind].append((time.perf_counter() - started) * 1000)
            found[kind].append(ids[0, :10])
    return times, {kind: np.array(rows) for kind, rows in found.items()}


def _recall(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of the exact top 10 among the top 10 found (rows of ``exact`` in order)."""
    hits = [len(set(row) & set(truth)) for row, truth in zip(found, exact, strict=False)]
    return float(np.mean(hits)) / 10


def _sweeps(indexes: dict[str, faiss.Index], queries: np.ndarray, exact: np.ndarray) -> list[str]:
    lines = []
    knobs = {"ivf": ("nprobe", NPROBES), "hnsw": ("efSearch", EF_SEARCHES)}
    for kind, (knob, values) in knobs.items():
        if kind not in indexes:
            continue
        lines += [
            "",
            f"| {kind} {knob} | search p50 ms | p99 ms | recall@10 |",
            "|---:|---:|---:|---:|",
        ]
        for value in values:
            _configure(indexes[kind], value, value)
            times, found = _timed_searches({kind: indexes[kind]}, queries, 0)
            p50, p99 = np.percentile(times[kind], [50, 99])
            default = DEFAULT_POLICY.nprobe if kind == "ivf" else HNSW_EF_SEARCH
            mark = " (default)" if value == default else ""
            lines.append(f"| {value}{mark} | {p50:.2f} | {p99:.2f} "
                         f"| {_recall(found[kind], exact):.3f} |")  # fmt: skip
        _configure(indexes[kind], DEFAULT_POLICY.nprobe, HNSW_EF_SEARCH)
    return lines


def _build(kind: str, ids: np.ndarray, vectors: np.ndarray) -> faiss.Index:
    """The app's flat or IVF index, or this benchmark's HNSW graph."""
    if kind != "hnsw":
        return build(kind, ids, vectors)
    graph = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    index = faiss.IndexIDMap2(graph)
    index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
    return index


def _configure(index: faiss.Index, nprobe: int, ef_search: int) -> None:
    """Set IVF's nprobe through the app's policy, or the HNSW graph's efSearch."""
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else None
    if isinstance(inner, faiss.IndexHNSW):
        inner.hnsw.efSearch = ef_search
    else:
        configure(index, IndexPolicy(nprobe=nprobe))


THREADS_HEADER = [
    "| index | 1 thread p50 ms | 1 thread p99 ms | 2 threads p50 ms | 2 threads p99 ms |",
    "|---|---:|---:|---:|---:|",
]


def _by_threads(name: str, index: faiss.Index, queries: np.ndarray) -> str:
    """A row of single-query p50/p99 with one FAISS thread and with two, the two in turn
    query by query."""
    default = faiss.omp_get_max_threads()
    times: dict[int, list[float]] = {1: [], 2: []}
    for query in queries:
        for threads in times:
            faiss.omp_set_num_threads(threads)
            started = time.perf_counter()
            index.search(query[None, :], K)
            times[threads].append((time.perf_counter() - started) * 1000)
    faiss.omp_set_num_threads(default)
    cells = [f"{v:.2f}" for t in times.values() for v in np.percentile(t, [50, 99])]
    return f"| {name} | " + " | ".join(cells) + " |"


def _flat_by_size(data: VectorSet, count: int) -> str:
    """Flat search time on the first N passages: where flat stops answering in a few
    milliseconds (the default flat limit); and the same index through the 8-bit scan that
    the reader searches flat indexes of ``SCAN_MIN_PASSAGES`` or more with."""
    queries = data.queries[:count]
    lines = [f"### flat search by size ({data.name} set, {len(queries)} queries, k={K})", ""]
    lines += THREADS_HEADER
    for size in [s for s in FLAT_SIZES if s <= len(data.passages)] or [len(data.passages)]:
        index = build("flat", np.arange(size, dtype=np.int64), data.passages[:size])
        lines.append(_by_threads(f"flat, {size:,} passages", index, queries))
        lines.append(_by_threads(f"flat, {size:,} passages, 8-bit scan", ByteScan(index),
                                 queries))  # fmt: skip
    return "\n".join(lines)


def _child_rss(path: str, with_model: bool) -> tuple[float, float]:
    """RSS and peak RSS in MB of a fresh process that loads the index at ``path`` (none when
    empty) and searches it, with the model loaded first as in the bot."""
    argv = [sys.executable, __file__, "--rss-of", path, *([] if with_model else ["--no-model"])]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["rss_mb"], report["peak_mb"]


def _report_rss(path: str, with_model: bool) -> int:
    """The child process: load what the bot loads, search, print its memory as JSON."""
    query = np.zeros((1, 384), dtype=np.float32)
    if with_model:
        from retrieval.embedding import SentenceTransformerEmbedder

        query = SentenceTransformerEmbedder().encode(["How big is the index?"])
    if path:
        index = faiss.read_index(path)
        configure(index, DEFAULT_POLICY)
        for _ in range(20):
            index.search(query[:, : index.d], K)
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss, peak = (int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM"))
    print(json.dumps({"rss_mb": rss, "peak_mb": peak}))
    return 0


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
