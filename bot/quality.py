"""`newsbot eval`: retrieval and answer quality on a QA set, configurations side by side."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from bot.settings import Settings

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
) -> int:
    """Index the QA set's passages in a temporary directory and answer every question; with
    ``unanswerable``, measure the verifier with some gold passages withheld (``plot``: a PNG
    of its reliability diagram and risk–coverage curve)."""
    from bot.app import chunk_settings, make_answerer, make_embedder
    from bot.progress import ProgressPrinter
    from bot.verification import plot_verification, render_verification, verify_set
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
        for method in methods:
            answerer = make_answerer(settings, embedder, data_dir, method=method)
            rows[method] = evaluate(
                lambda q: answerer.answer(q.question, top_k=top_k, as_of=FAR_FUTURE),  # noqa: B023
                eval_set.questions,
            )
            if dated:
                rows[f"{method} +dates"] = evaluate(
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
                  "passages": len(eval_set.articles), "top_k": top_k,
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
    return eval_command(settings, args.dataset, args.top_k, methods, args.json, stdout,
                        args.unanswerable, args.plot)  # fmt: skip
