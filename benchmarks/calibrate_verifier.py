"""Fitting the answer verifier's combiner, and reporting it against today's gate.

    python benchmarks/calibrate_verifier.py [--write] [--records FILE] [--rgb PATH]

The development data (see ``retrieval.evaluation``: ``withhold``, ``is_held_out``):

- ``news_dev``: news articles and questions written for this project (tests/data), with
  questions that no article answers, each asked as of its own date; with the seed article's
  golden questions (tests/data/seed_golden.json);
- ``xquad``: XQuAD English (tests/data, CC BY-SA 4.0);
- ``rgb``: RGB English news facts, read from ../shared/eval (CC BY-NC-SA: never shipped).

In each set the gold passages of one question group in four are withheld from its index
(their questions are unanswerable: the evidence is missing but on-topic passages remain),
and one group in three is the held-out split, never fitted on. Every question is answered
with the verifier turned off (every composed answer kept) and its signals recorded; the
combiner is fitted on the dev split of the dated run, its threshold set to answer
``TARGET_ANSWERED`` of the dev split's answerable questions. ``--write`` stores the weights
in retrieval/answering/verifier_weights.json. The baseline is today's gate as the answerer
applied it before the verifier: best cosine >= 0.40 and a key word of the question cited
(or cosine >= 0.6), computed from the same run's signals.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import make_embedder  # noqa: E402
from bot.settings import Settings  # noqa: E402
from retrieval.answering import Answerer, AnswerSettings  # noqa: E402
from retrieval.answering.verifier import WEIGHTS_FILE, Combiner  # noqa: E402
from retrieval.calibration import auroc, expected_calibration_error, fit_logistic  # noqa: E402
from retrieval.chunking import ChunkSettings  # noqa: E402
from retrieval.evaluation import (  # noqa: E402
    FAR_FUTURE,
    EvalSet,
    answer_contains,
    is_held_out,
    load_eval_set,
    withhold,
)
from retrieval.index import EmbeddedStorage, IndexSpec, build_index  # noqa: E402

DATA = ROOT / "tests" / "data"
RGB = ROOT.parent.parent / "shared" / "eval" / "rgb_en_fact.json"
SIGNALS = (
    "top_similarity", "cited_similarity", "sentence_similarity", "margin", "coverage",
    "sentence_coverage", "rarest_missing", "typed", "type_found", "outside_time_frame", "age",
    "agreement", "shares_word",
)  # fmt: skip
# Three signals are computed but not combined: in the dev split's cross-validation
# (--ablation) leaving out rarest_missing, cited_similarity or shares_word changed no
# source's AUROC by more than 0.005 (shares_word is the old gate's support check, which
# coverage subsumes). The others each cost some source AUROC when left out, or decide a
# reason to decline (type_found: no_answer_of_type).
UNUSED = ("rarest_missing", "cited_similarity", "shares_word")
FEATURES = tuple(s for s in SIGNALS if s not in UNUSED)
TARGET_ANSWERED = 0.92  # on the dev split: a margin over the 90% target on held-out data
L2 = 10.0  # chosen by --ablation on the dev split (0.1-30 are within 0.01 AUROC)
SOURCE_EXPONENT = 0.5  # each source weighs as its size to this power
FOLDS = 5
OLD_THRESHOLD, OLD_EXEMPT = 0.40, 0.6


@dataclass
class Record:
    """One question's signals and outcome."""

    source: str
    id: str
    held_out: bool
    dated: bool
    answerable: bool
    found: bool  # the composed answer holds an answer string
    signals: dict[str, float]


def dev_sets(rgb: Path | None) -> list[EvalSet]:
    """The QA sets of the protocol: written news (with the seed golden set), XQuAD, RGB."""
    news = load_eval_set(DATA / "news_dev.json")
    seeds = load_eval_set(DATA / "seed_golden.json")
    sets = [
        EvalSet("news_dev", news.articles + seeds.articles, news.questions + seeds.questions),
        load_eval_set(DATA / "xquad_en.json"),
    ]
    if rgb is not None and rgb.exists():
        sets.append(load_eval_set(rgb))
    return sets


def record_set(eval_set: EvalSet, embedder: object) -> list[Record]:
    """Answer every question of one set over its withheld index; keep the signals."""
    split = withhold(eval_set)
    labelled = [(q, True) for q in split.answerable] + [(q, False) for q in split.unanswerable]
    records = []
    with tempfile.TemporaryDirectory(prefix="newsbot-verifier-") as directory:
        data_dir = Path(directory)
        build_index(data_dir, split.articles, embedder, ChunkSettings())  # type: ignore[arg-type]
        spec = IndexSpec(embedder.name, ChunkSettings())  # type: ignore[attr-defined]
        storage = EmbeddedStorage(data_dir, spec)
        answerer = Answerer(storage, embedder, AnswerSettings(min_confidence=0.0))  # type: ignore[arg-type]
        for question, answerable in labelled:
            for dated in (True, False) if question.date else (False,):
                answer = answerer.answer(
                    question.question, as_of=question.date if dated else FAR_FUTURE
                )
                records.append(
                    Record(
                        eval_set.name, question.id, is_held_out(question), dated, answerable,
                        answerable and answer_contains(answer, question.answers),
                        answer.signals,
                    )
                )  # fmt: skip
        answerer.reader().close()
    return records


def matrix(records: list[Record], features: tuple[str, ...] = FEATURES) -> np.ndarray:
    """The feature matrix of some records."""
    return np.array([[r.signals.get(f, 0.0) for f in features] for r in records])


def old_gate(record: Record) -> bool:
    """Whether today's evidence gate answers: cosine >= 0.40 and a key word cited."""
    s = record.signals
    return s["top_similarity"] >= OLD_THRESHOLD and (
        s["shares_word"] > 0 or s["top_similarity"] >= OLD_EXEMPT
    )


def fit(
    records: list[Record],
    features: tuple[str, ...] = FEATURES,
    l2: float = L2,
    exponent: float = SOURCE_EXPONENT,
) -> Combiner:
    """The combiner fitted on ``records`` with its threshold at TARGET_ANSWERED."""
    x, y = matrix(records, features), np.array([r.answerable for r in records])
    # Each source weighs as the square root of its size: XQuAD's 1,190 questions would
    # otherwise drown the news sets the bot is for.
    sizes = {s: sum(r.source == s for r in records) for s in {r.source for r in records}}
    counts = np.array([sizes[r.source] ** -exponent for r in records])
    weights, bias = fit_logistic(x, y, l2=l2, sample_weights=counts * len(counts) / counts.sum())
    combiner = Combiner(features, tuple(weights), bias, tuple(x[y].mean(axis=0)), 0.5)
    scores = np.array([combiner.confidence(dict(zip(features, row, strict=True))) for row in x])
    threshold = float(np.quantile(scores[y], 1 - TARGET_ANSWERED))
    return Combiner(features, tuple(weights), bias, combiner.typical, threshold)


def cross_validated(
    dev: list[Record], features: tuple[str, ...], l2: float, exponent: float
) -> dict[str, float]:
    """AUROC per source of confidences from FOLDS-fold cross-validation on the dev split
    (folds by a hash of the question id), and the news questions answered and declined."""
    scores: dict[int, float] = {}
    for k in range(FOLDS):
        train = [r for r in dev if _fold(r) != k]
        combiner = fit(train, features, l2, exponent)
        scores.update(
            {i: combiner.confidence(r.signals) for i, r in enumerate(dev) if _fold(r) == k}
        )
    result = {}
    for source in sorted({r.source for r in dev}):
        rows = [i for i, r in enumerate(dev) if r.source == source]
        result[source] = auroc([scores[i] for i in rows], [dev[i].answerable for i in rows])
    return result


def _fold(record: Record) -> int:
    return int(hashlib.sha256(record.id.encode()).hexdigest()[:6], 16) % FOLDS


def ablation(dev: list[Record]) -> str:
    """Cross-validated AUROC per source: the chosen fit, each signal left out or added, and
    other strengths of the L2 penalty."""
    rows: list[tuple[str, tuple[str, ...], float]] = [("chosen", FEATURES, L2)]
    rows += [(f"without {f}", tuple(g for g in FEATURES if g != f), L2) for f in FEATURES]
    rows += [(f"with {f}", (*FEATURES, f), L2) for f in SIGNALS if f not in FEATURES]
    rows += [(f"l2 {l2}", FEATURES, l2) for l2 in (0.1, 1.0, 30.0)]
    sources = sorted({r.source for r in dev})
    lines = ["| fit | " + " | ".join(f"{s} AUROC" for s in sources) + " |",
             "|---" * (len(sources) + 1) + "|"]  # fmt: skip
    for name, features, l2 in rows:
        values = cross_validated(dev, features, l2, SOURCE_EXPONENT)
        lines.append(f"| {name} | " + " | ".join(f"{values[s]:.3f}" for s in sources) + " |")
    return "\n".join(lines)


def figures(records: list[Record], combiner: Combiner) -> dict[str, float]:
    """Answered, declined, precision and AUROC for the gate and the verifier."""
    if not records:
        return {}
    scores = [combiner.confidence(r.signals) for r in records]
    labels = [r.answerable for r in records]
    given = [s >= combiner.threshold for s in scores]
    gate = [old_gate(r) for r in records]
    pos = [i for i, r in enumerate(records) if r.answerable]
    neg = [i for i, r in enumerate(records) if not r.answerable]

    def share(flags: list[bool], rows: list[int]) -> float:
        return sum(flags[i] for i in rows) / len(rows) if rows else float("nan")

    def precision(flags: list[bool]) -> float:
        answered = [i for i, f in enumerate(flags) if f]
        return sum(records[i].found for i in answered) / len(answered) if answered else 0.0

    return {
        "n": len(pos), "u": len(neg),
        "gate answered": share(gate, pos), "gate declined": 1 - share(gate, neg),
        "gate precision": precision(gate),
        "gate AUROC": auroc([r.signals["top_similarity"] for r in records], labels),
        "answered": share(given, pos), "declined": 1 - share(given, neg),
        "precision": precision(given), "AUROC": auroc(scores, labels),
        "ECE": expected_calibration_error(scores, labels),
    }  # fmt: skip


COLUMNS = ("n", "u", "gate answered", "gate declined", "gate precision", "gate AUROC",
           "answered", "declined", "precision", "AUROC", "ECE")  # fmt: skip


def report(records: list[Record], combiner: Combiner) -> str:
    """The table of figures by split, source, and with or without the questions' dates."""
    lines = ["| split | source | dates | " + " | ".join(COLUMNS) + " |",
             "|---" * (len(COLUMNS) + 3) + "|"]  # fmt: skip
    sources = sorted({r.source for r in records})
    dated_sources = {r.source for r in records if r.dated}
    for held_out in (False, True):
        side = [r for r in records if r.held_out == held_out]
        for source in [*sources, "all"]:
            if source == "all" or source in dated_sources:
                options: list[bool | None] = [True, False]
            else:
                options = [None]
            for dated in options:
                rows = [r for r in side if source in ("all", r.source)
                        and (dated is None or r.dated == dated
                             or (dated and r.source not in dated_sources))]  # fmt: skip
                values = figures(rows, combiner)
                cells = [f"{values[c]:.0f}" if c in "nu" else f"{values[c]:.3f}" for c in COLUMNS]
                label = {True: "yes", False: "no", None: "-"}[dated]
                lines.append(f"| {'held-out' if held_out else 'dev'} | {source} | {label} | "
                             + " | ".join(cells) + " |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Record (or reload) the signals, fit on the dev split, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, help="reuse (or save) the recorded signals")
    parser.add_argument("--rgb", type=Path, default=RGB, help="RGB set (not shipped)")
    parser.add_argument("--write", action="store_true", help=f"write {WEIGHTS_FILE}")
    parser.add_argument("--ablation", action="store_true", help="cross-validate other fits")
    args = parser.parse_args(argv)
    if args.records and args.records.exists():
        records = [Record(**r) for r in json.loads(args.records.read_text())]
    else:
        embedder = make_embedder(Settings(_env_file=None))  # type: ignore[call-arg]
        records = [r for s in dev_sets(args.rgb) for r in record_set(s, embedder)]
        if args.records:
            args.records.write_text(json.dumps([r.__dict__ for r in records]))
    dev = [r for r in records if not r.held_out and (r.dated or r.source != "news_dev")]
    combiner = fit(dev)
    if args.ablation:
        print(ablation(dev) + "\n")
    print(report(records, combiner))
    weights = {f: round(float(w), 3) for f, w in zip(FEATURES, combiner.weights, strict=True)}
    print("\nweights:", weights)
    print(f"bias {combiner.bias:.3f}, threshold {combiner.threshold:.3f}")
    if args.write:
        sources = sorted({r.source for r in dev})
        data = combiner.to_dict() | {
            "fitted_on": f"dev split of {', '.join(sources)} ({len(dev)} questions, "
            f"{sum(r.answerable for r in dev)} answerable), withheld and split as in "
            "retrieval.evaluation",
            "script": "benchmarks/calibrate_verifier.py --write",
        }
        target = ROOT / "retrieval" / "answering" / WEIGHTS_FILE
        target.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
