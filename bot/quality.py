"""`newsbot eval`: retrieval and answer quality on a QA set, configurations side by side."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.settings import Settings

if TYPE_CHECKING:
    from retrieval.embedding import Embedder
    from retrieval.storage import Storage

BACKENDS = ("embedded", "postgres")

COLUMNS = [
    ("hit@1", "hit_at_1"), ("hit@5", "hit_at_5"), ("hit@10", "hit_at_10"),
    ("MRR@10", "mrr_at_10"), ("nDCG@10", "ndcg_at_10"), ("answer found", "answer_found"),
    ("not found", "not_found"), ("p50 ms", "p50_ms"), ("p99 ms", "p99_ms"),
]  # fmt: skip


def eval_command(
    settings: Settings,
    dataset: Path,
    top_k: int,
    methods: list[str],
    as_json: bool,
    stdout: TextIO,
    unanswerable: bool = False,
    plot: Path | None = None,
    backends: tuple[str, ...] = ("embedded",),
) -> int:
    """Index the QA set's passages in a temporary directory (and, for ``postgres`` among the
    ``backends``, in a throwaway schema of NEWSBOT_DATABASE_URL) and answer every question on
    each; with ``unanswerable``, measure the verifier with some gold passages withheld
    (``plot``: a PNG of its reliability diagram and risk–coverage curve)."""
    from bot.app import answer_settings, chunk_settings, make_embedder, make_reranker
    from bot.progress import ProgressPrinter
    from bot.verification import plot_verification, render_verification, verify_set
    from retrieval.answering import Answerer
    from retrieval.evaluation import FAR_FUTURE, article_urls, evaluate, load_eval_set
    from retrieval.index import build_index

    eval_set = load_eval_set(dataset)
    embedder = make_embedder(settings)
    rows = {}
    with tempfile.TemporaryDirectory(prefix="newsbot-eval-") as directory:
        data_dir = Path(directory)
        build_index(data_dir, eval_set.articles, embedder, chunk_settings(settings),
                    progress=ProgressPrinter(sys.stderr))  # fmt: skip
        dated = any(q.date for q in eval_set.questions)
        with eval_storages(settings, backends, data_dir, embedder) as storages:
            for (backend, storage), method in ((b, m) for b in storages.items() for m in methods):
                answerer = Answerer(storage, embedder, answer_settings(settings, method=method),
                                    reranker=make_reranker(settings))  # fmt: skip
                name = method if len(storages) == 1 else f"{method} ({backend})"
                rows[name] = evaluate(
                    lambda q: answerer.answer(q.question, top_k=top_k, as_of=FAR_FUTURE),  # noqa: B023
                    eval_set.questions,
                )
                if dated:
                    rows[f"{name} +dates"] = evaluate(
                        lambda q: answerer.answer(q.question, top_k=top_k,  # noqa: B023
                                                  as_of=q.date or FAR_FUTURE),
                        eval_set.questions,
                    )  # fmt: skip
    urls = article_urls(dataset) if unanswerable else None
    checks = verify_set(settings, eval_set, embedder, methods, top_k, urls) if unanswerable else {}
    if plot is not None and checks:
        plot_verification(checks, plot)
    if as_json:
        record = {"dataset": str(dataset), "questions": len(eval_set.questions),
                  "passages": len(eval_set.articles), "top_k": top_k, "backends": list(backends),
                  "results": {name: asdict(m) for name, m in rows.items()},
                  "verification": {name: asdict(v) for name, v in checks.items()}}  # fmt: skip
        stdout.write(json.dumps(record) + "\n")
        return 0
    stdout.write(
        f"{eval_set.name}: {len(eval_set.questions)} questions, {len(eval_set.articles)} "
        f"passages, top-k {top_k}, evidence threshold {settings.evidence_threshold}\n\n"
    )
    stdout.write("| configuration | " + " | ".join(label for label, _ in COLUMNS) + " |\n")
    stdout.write("|---" * (len(COLUMNS) + 1) + "|\n")
    for name, metrics in rows.items():
        cells = [_cell(key, getattr(metrics, key)) for _, key in COLUMNS]
        stdout.write(f"| {name} | " + " | ".join(cells) + " |\n")
    if checks:
        stdout.write("\n" + render_verification(checks))
    return 0


@contextmanager
def eval_storages(
    settings: Settings, backends: tuple[str, ...], data_dir: Path, embedder: Embedder
) -> Iterator[dict[str, Storage]]:
    """The index built in ``data_dir``, in each backend asked for: as it is (embedded), and
    imported, the same vectors, into a schema of NEWSBOT_DATABASE_URL of its own (postgres),
    dropped with everything in it when the block ends."""
    from bot.app import index_spec, make_storage

    storages: dict[str, Storage] = {}
    with ExitStack() as stack:
        if "embedded" in backends:
            storages["embedded"] = make_storage(settings, embedder, data_dir)
        if "postgres" in backends:
            from retrieval.pgstore import PgStorage, import_embedded, scratch_schema

            assert settings.database_url is not None  # eval_from_args checked it
            url = stack.enter_context(scratch_schema(settings.database_url.get_secret_value()))
            spec = index_spec(settings, embedder)
            storage = PgStorage(url, spec, vector_index=settings.database_vector_index,
                                ef_search=settings.database_ef_search, pool_size=2)  # fmt: skip
            stack.callback(storage.close)
            import_embedded(data_dir, storage, spec)
            storages["postgres"] = storage
        yield storages


def add_eval_arguments(evaluation: argparse.ArgumentParser, top_k: Callable[[str], int]) -> None:
    """The command line of `newsbot eval`."""
    evaluation.add_argument("dataset", type=Path, metavar="DATASET")
    evaluation.add_argument("--top-k", type=top_k, default=10, metavar="N")
    evaluation.add_argument("--json", action="store_true", help="one JSON object")
    evaluation.add_argument("--unanswerable", action="store_true",
                            help="also withhold some evidence; report the verifier")  # fmt: skip
    evaluation.add_argument("--plot", type=Path, metavar="PNG",
                            help="with --unanswerable: a reliability and risk-coverage plot "
                            "(pip install -e '.[plot]')")  # fmt: skip
    evaluation.add_argument(
        "--compare",
        metavar="METHODS",
        help="comma-separated retrieval methods to compare: dense,bm25,hybrid,rrf",
    )
    evaluation.add_argument(
        "--backend",
        default="embedded",
        metavar="BACKENDS",
        help="comma-separated stores to measure side by side: embedded (the default), "
        "postgres (a throwaway schema in NEWSBOT_DATABASE_URL)",
    )


def _cell(key: str, value: float) -> str:
    return f"{value:.0f}" if key.endswith("_ms") else f"{value:.3f}"


def eval_from_args(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    """`newsbot eval` from its parsed command line: the methods to compare checked first."""
    from retrieval.answering import METHODS

    methods = args.compare.split(",") if args.compare else [settings.retrieval_method]
    unknown = set(methods) - set(METHODS)
    if unknown:
        print(f"error: unknown retrieval method(s) {', '.join(sorted(unknown))} for "
              f"--compare (choose from {', '.join(METHODS)})", file=sys.stderr)  # fmt: skip
        return 2
    backends = tuple(dict.fromkeys(args.backend.split(",")))
    if unknown := set(backends) - set(BACKENDS):
        print(f"error: unknown backend(s) {', '.join(sorted(unknown))} for --backend "
              f"(choose from {', '.join(BACKENDS)})", file=sys.stderr)  # fmt: skip
        return 2
    if "postgres" in backends and settings.database_url is None:
        print("error: `newsbot eval --backend postgres` needs NEWSBOT_DATABASE_URL "
              "(postgresql://...)", file=sys.stderr)  # fmt: skip
        return 2
    return eval_command(settings, args.dataset, args.top_k, methods, args.json, stdout,
                        args.unanswerable, args.plot, backends)  # fmt: skip
