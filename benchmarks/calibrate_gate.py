"""Calibrating the evidence threshold from top-1 scores with and without the gold passages.

    python benchmarks/calibrate_gate.py [--dataset PATH ...] [--seeds DIR] [--quick]

Each QA set is indexed with ``build_index`` (one article per passage). A question's top-1
score is the best cosine between its query vector and the indexed passage vectors, which
is what the old evidence gate compared with the threshold and what the verifier now reads as
its ``top_similarity`` signal: with every passage (answerable), with
the question's gold passages left out (unanswerable, and close in topic), and for the
questions of the other sets (off-topic). A sample of questions is asked of the answerer
itself: the top_similarity it reports must be the computed score. (The verifier, which
replaced the gate, decides with more than this score: see benchmarks/calibrate_verifier.py.)
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from corpus import (
    AFTER_EVERYTHING,
    DEFAULT_SETS,
    EvalSet,
    dataset_parser,
    eval_articles,
    load_eval_set,
    passage_id,
)

from retrieval.answering import Answerer, AnswerSettings
from retrieval.chunking import ChunkSettings
from retrieval.embedding import SentenceTransformerEmbedder
from retrieval.index import EmbeddedStorage, IndexSpec, build_index, open_index
from retrieval.sources import load_articles

THRESHOLDS = tuple(round(0.20 + 0.05 * i, 2) for i in range(9))
CURRENT_THRESHOLD = AnswerSettings().threshold
MIN_ANSWERED = 90.0  # % of answerable questions the suggested threshold must still answer
CHECK_MARGIN = 5e-4  # signals are rounded to 1e-4; batched and single encodes differ ~1e-6
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SEED_QUESTIONS = (
    ("When is Putin visiting Pyongyang?", True),
    ("Where will Putin go after North Korea?", True),
    ("What have Washington and Seoul said Russia gave Pyongyang?", True),
    ("Who won the 2018 FIFA World Cup?", False),
)


@dataclass(frozen=True)
class SetScores:
    """Top-1 scores and gold ranks of one QA set's questions over its own index."""

    name: str
    passages: int
    chunks: int
    answerable: np.ndarray  # top-1 with every passage indexed
    unanswerable: np.ndarray  # top-1 with the question's gold passages left out
    gold_rank: np.ndarray  # 1-based rank of the best gold passage among passages
    checked: int
    agreed: int  # checked questions the answerer's gate treats as the computed score says
    off_topic: np.ndarray | None = None  # top-1 of the other sets' questions


@dataclass(frozen=True)
class SeedResult:
    """A seed question's top-1 cosine and the answerer's reply at the current threshold."""

    question: str
    should_answer: bool
    score: float
    answered: bool
    text: str


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = dataset_parser(__doc__)
    parser.add_argument(
        "--seeds",
        type=Path,
        default=SEEDS,
        metavar="DIR",
        help="seed articles for the four seed questions (default: seeds/)",
    )
    parser.add_argument(
        "--check",
        type=int,
        metavar="N",
        help="questions per set checked against Answerer.answer (default 40)",
    )
    parser.add_argument(
        "--max-questions",
        type=int,
        metavar="N",
        help="use at most N questions per set (default: all)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a tiny run (20 questions per set, 3 checked) to check it works",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.max_questions = args.max_questions or 20
    if args.check is None:
        args.check = 3 if args.quick else 40
    args.dataset = args.dataset or list(DEFAULT_SETS)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Score every set and the seed questions, and print the tables."""
    args = parse_args(argv)
    command = shlex.join(["python", "benchmarks/calibrate_gate.py", *(argv or sys.argv[1:])])
    try:
        sets = [_limit(load_eval_set(path), args.max_questions) for path in args.dataset]
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    embedder = SentenceTransformerEmbedder()
    spec = IndexSpec(model=embedder.name, chunking=ChunkSettings())
    queries = {s.name: embedder.encode([_normalise(q.question) for q in s.questions]) for s in sets}
    with tempfile.TemporaryDirectory(prefix="newsbot-calibrate-") as work:
        scores = [
            score_set(s, embedder, spec, Path(work) / s.name, queries, args.check) for s in sets
        ]
        seeds = score_seeds(args.seeds, embedder, spec, Path(work) / "seeds")
    print(f"command: `{command}`\n")
    print(retrieval_table(scores) + "\n")
    print(distribution_table(scores) + "\n")
    print(threshold_table(scores, seeds) + "\n")
    print(seed_table(seeds) + "\n")
    print(suggestion(scores, seeds))
    return 0


def _limit(eval_set: EvalSet, count: int | None) -> EvalSet:
    if count is None:
        return eval_set
    return EvalSet(eval_set.name, eval_set.articles, eval_set.questions[:count])


def _normalise(question: str) -> str:
    return " ".join(question.split())  # as Answerer.answer does


def score_set(
    eval_set: EvalSet,
    embedder: SentenceTransformerEmbedder,
    spec: IndexSpec,
    data_dir: Path,
    queries: dict[str, np.ndarray],
    check: int,
) -> SetScores:
    """Index one set and score its questions (and the other sets' ones) against it."""
    build_index(data_dir, eval_articles(eval_set), embedder, spec.chunking)
    vectors, urls = indexed_vectors(data_dir, spec)
    column = {passage_id(p.url): j for j, p in enumerate(eval_set.articles)}
    groups = np.array([column[passage_id(url)] for url in urls])

    scores = best_per_passage(queries[eval_set.name] @ vectors.T, groups, len(column))
    gold = np.zeros(scores.shape, dtype=bool)
    for row, question in enumerate(eval_set.questions):
        gold[row, [column[i] for i in question.gold]] = True
    without = np.where(gold, -np.inf, scores)
    best_gold = np.where(gold, scores, -np.inf).max(axis=1)
    others = [q for name, q in queries.items() if name != eval_set.name]
    off_topic = None
    if others:
        off_topic = best_per_passage(np.vstack(others) @ vectors.T, groups, len(column)).max(axis=1)
    answerable = scores.max(axis=1)
    questions = [q.question for q in eval_set.questions]
    checked, agreed = check_gate(data_dir, embedder, spec, questions, answerable, check)
    return SetScores(
        name=eval_set.name,
        passages=len(column),
        chunks=len(urls),
        answerable=answerable,
        unanswerable=without.max(axis=1),
        gold_rank=1 + (without > best_gold[:, None]).sum(axis=1),
        checked=checked,
        agreed=agreed,
        off_topic=off_topic,
    )


def indexed_vectors(data_dir: Path, spec: IndexSpec) -> tuple[np.ndarray, list[str]]:
    """Every passage vector of the live index, and the URL of each one's article."""
    reader = open_index(data_dir, spec)
    try:
        id_map: Any = reader.vectors  # an IndexIDMap2 over a flat inner-product index
        vectors = faiss.downcast_index(id_map.index).reconstruct_n(0, id_map.ntotal)
        ids = [int(i) for i in faiss.vector_to_array(id_map.id_map)]
        stored = reader.store.passages(ids)
    finally:
        reader.close()
    return vectors, [stored[i].article.url for i in ids]


def best_per_passage(chunk_scores: np.ndarray, groups: np.ndarray, passages: int) -> np.ndarray:
    """Per question (row), the best score of each passage's chunks (columns by group)."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    if not np.array_equal(sorted_groups[starts], np.arange(passages)):
        raise ValueError("every passage must have at least one indexed chunk")
    return np.maximum.reduceat(chunk_scores[:, order], starts, axis=1)


def check_gate(
    data_dir: Path,
    embedder: SentenceTransformerEmbedder,
    spec: IndexSpec,
    questions: list[str],
    top1: np.ndarray,
    count: int,
) -> tuple[int, int]:
    """Ask a spread of questions and compare the best cosine the answerer's verifier read
    (its ``top_similarity`` signal, which replaced the gate's comparison) with top-1.

    Returns how many were asked and how many agreed within CHECK_MARGIN.
    """
    answerer = Answerer(EmbeddedStorage(data_dir, spec), embedder, AnswerSettings())
    rows = np.unique(np.linspace(0, len(questions) - 1, min(count, len(questions))).round())
    agreed = 0
    for row in rows.astype(int):
        answer = answerer.answer(questions[row], as_of=AFTER_EVERYTHING)
        seen = answer.signals.get("top_similarity")
        agreed += seen is not None and abs(seen - float(top1[row])) <= CHECK_MARGIN
    answerer.reader().close()
    return len(rows), agreed


def score_seeds(
    seeds: Path, embedder: SentenceTransformerEmbedder, spec: IndexSpec, data_dir: Path
) -> list[SeedResult]:
    """Top-1 cosine of each seed question over the seed articles, and the current reply."""
    build_index(data_dir, load_articles([seeds]), embedder, spec.chunking)
    vectors, _ = indexed_vectors(data_dir, spec)
    top1 = (embedder.encode([q for q, _ in SEED_QUESTIONS]) @ vectors.T).max(axis=1)
    answerer = Answerer(EmbeddedStorage(data_dir, spec), embedder, AnswerSettings())
    results = []
    for (question, should_answer), score in zip(SEED_QUESTIONS, top1, strict=True):
        answer = answerer.answer(question, as_of=AFTER_EVERYTHING)
        results.append(
            SeedResult(question, should_answer, float(score), answer.answered, answer.text)
        )
    answerer.reader().close()
    return results


def _share(values: np.ndarray, below: bool, threshold: float) -> float:
    """Percentage answered (score >= threshold) or declined (score < threshold)."""
    hits = values < threshold if below else values >= threshold
    return 100.0 * float(hits.mean()) if len(values) else float("nan")


def retrieval_table(scores: list[SetScores]) -> str:
    """Dense retrieval quality with the gold passages present, and the answerer check."""
    lines = [
        "Dense retrieval, gold passages present (ranking passages by their best chunk):",
        "",
        "| set | passages | chunks | questions | hit@1 | hit@5 | MRR@10 | gate agrees with "
        "the answerer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        ranks = s.gold_rank
        mrr = float(np.where(ranks <= 10, 1.0 / ranks, 0.0).mean())
        lines.append(
            f"| {s.name} | {s.passages} | {s.chunks} | {len(ranks)} | {(ranks <= 1).mean():.3f}"
            f" | {(ranks <= 5).mean():.3f} | {mrr:.3f} | {s.agreed} of {s.checked} |"
        )
    return "\n".join(lines)


def distribution_table(scores: list[SetScores]) -> str:
    """Quantiles of the top-1 score under each condition."""
    lines = [
        "Top-1 cosine score quantiles:",
        "",
        "| set | condition | n | p10 | p25 | p50 | p75 | p90 |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        conditions = [("gold present", s.answerable), ("gold removed", s.unanswerable)]
        if s.off_topic is not None:
            conditions.append(("off-topic (other sets' questions)", s.off_topic))
        for condition, values in conditions:
            q = np.percentile(values, [10, 25, 50, 75, 90])
            figures = " | ".join(f"{v:.3f}" for v in q)
            lines.append(f"| {s.name} | {condition} | {len(values)} | {figures} |")
    return "\n".join(lines)


def seeds_right(seeds: list[SeedResult], threshold: float) -> int:
    """Seed questions the gate gets right at ``threshold``."""
    return sum((r.score >= threshold) == r.should_answer for r in seeds)


def threshold_table(scores: list[SetScores], seeds: list[SeedResult]) -> str:
    """Per threshold and set: % answered, % declined with gold removed, % declined off-topic."""
    head = ["threshold"]
    for s in scores:
        head += [f"{s.name} answered", f"{s.name} declined (gold removed)"]
        if s.off_topic is not None:
            head.append(f"{s.name} declined (off-topic)")
    head.append(f"seed questions right (of {len(seeds)})")
    lines = [
        "Gate outcome per threshold (% of questions; answered = top-1 >= threshold, i.e. let "
        "through to composing):",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---:|" * len(head),
    ]
    for t in THRESHOLDS:
        row = [f"{t:.2f}" + (" (current)" if abs(t - CURRENT_THRESHOLD) < 1e-9 else "")]
        for s in scores:
            row.append(f"{_share(s.answerable, False, t):.1f}")
            row.append(f"{_share(s.unanswerable, True, t):.1f}")
            if s.off_topic is not None:
                row.append(f"{_share(s.off_topic, True, t):.1f}")
        row.append(str(seeds_right(seeds, t)))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def seed_table(seeds: list[SeedResult]) -> str:
    """The seed questions: score, and the answer at the current threshold."""
    lines = [
        f"Seed questions (seed index; answered at the current threshold {CURRENT_THRESHOLD}):",
        "",
        "| question | should answer | top-1 score | answered | answer |",
        "|---|---|---:|---|---|",
    ]
    for r in seeds:
        text = r.text if len(r.text) <= 120 else r.text[:117] + "..."
        lines.append(
            f"| {r.question} | {'yes' if r.should_answer else 'no'} | {r.score:.3f} | "
            f"{'yes' if r.answered else 'no'} | {text.replace('|', '/')} |"
        )
    return "\n".join(lines)


def suggestion(scores: list[SetScores], seeds: list[SeedResult]) -> str:
    """The highest threshold that still answers enough and gets every seed question right.

    Declines only grow with the threshold, so the highest one that keeps answering
    MIN_ANSWERED % of the answerable questions of every set declines the most.
    """
    fitting = [
        t
        for t in THRESHOLDS
        if seeds_right(seeds, t) == len(seeds)
        and all(_share(s.answerable, False, t) >= MIN_ANSWERED for s in scores)
    ]
    rule = (
        f"the highest that answers >= {MIN_ANSWERED:.0f}% of the answerable questions of every "
        "set and gets every seed question right"
    )
    if not fitting:
        return f"suggested threshold: none ({rule}: no threshold does)"
    return f"suggested threshold: {max(fitting):.2f} ({rule})"


if __name__ == "__main__":
    sys.exit(main())
