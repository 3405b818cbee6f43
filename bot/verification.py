"""`newsbot eval --unanswerable`: how well the verifier's confidence says when to decline."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.settings import Settings
from retrieval.calibration import Outcome, Verification, verification
from retrieval.embedding import Embedder
from retrieval.evaluation import FAR_FUTURE, EvalSet, answer_contains, joined, withhold


def verify_set(
    settings: Settings,
    eval_set: EvalSet,
    embedder: Embedder,
    methods: list[str],
    top_k: int,
    urls: dict[str, str] | None = None,
) -> dict[str, Verification]:
    """Withhold the gold passages of one question group in four (see
    ``retrieval.evaluation.withhold``), ask every question with and without its date, and
    measure the confidences against the configured threshold. Passages that ``urls`` names
    the article of are indexed as those articles, as the bot indexes news."""
    from bot.app import chunk_settings, make_answerer
    from retrieval.answering import load_combiner
    from retrieval.index import build_index

    split = withhold(eval_set)
    labelled = [(q, True) for q in split.answerable] + [(q, False) for q in split.unanswerable]
    threshold = settings.min_confidence
    if threshold is None:
        threshold = load_combiner().threshold
    checks: dict[str, Verification] = {}
    with tempfile.TemporaryDirectory(prefix="newsbot-eval-withheld-") as directory:
        data_dir = Path(directory)
        articles = joined(split.articles, urls) if urls else split.articles
        build_index(data_dir, articles, embedder, chunk_settings(settings))
        dated = [False, True] if any(q.date for q, _ in labelled) else [False]
        for method in methods:
            # Every composed answer is kept, so that any threshold can be measured.
            answerer = make_answerer(settings, embedder, data_dir, method=method,
                                     min_confidence=0.0)  # fmt: skip
            for with_dates in dated:
                outcomes = []
                for question, answerable in labelled:
                    as_of = question.date if with_dates and question.date else FAR_FUTURE
                    answer = answerer.answer(question.question, top_k=top_k, as_of=as_of)
                    found = answerable and answer_contains(answer, question.answers)
                    outcomes.append(Outcome(answer.confidence, answerable, found))
                name = f"{method} +dates" if with_dates else method
                checks[name] = verification(outcomes, threshold)
            answerer.reader().close()
    return checks


def render_verification(checks: dict[str, Verification]) -> str:
    """The verifier's figures per configuration, then a risk–coverage table."""
    some = next(iter(checks.values()))
    lines = [
        f"Verifier at confidence {some.threshold:.3f}, the gold passages of one question "
        f"group in four withheld: {some.answerable} answerable, {some.unanswerable} "
        "unanswerable questions.",
        "",
        "| configuration | answerable answered | unanswerable declined | precision of answered "
        "| AUROC | ECE |",
        "|---|---|---|---|---|---|",
    ]
    for name, v in checks.items():
        lines.append(f"| {name} | {v.answered:.3f} | {v.declined:.3f} | {v.precision:.3f} "
                     f"| {v.auroc:.3f} | {v.ece:.3f} |")  # fmt: skip
    lines += ["", "Risk–coverage (coverage: share of all questions answered; precision: share "
              "of those whose answer holds an answer string):", "",
              "| threshold | " + " | ".join(f"{n} coverage | {n} precision" for n in checks) + " |",
              "|---" * (1 + 2 * len(checks)) + "|"]  # fmt: skip
    for row, point in enumerate(some.risk):
        cells = [
            f"{check.risk[row].coverage:.3f} | {check.risk[row].precision:.3f}"
            for check in checks.values()
        ]
        lines.append(f"| {point.threshold:.3f} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_verification(checks: dict[str, Verification], path: Path) -> None:
    """A PNG of the reliability diagram and the risk–coverage curve (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("error: --plot needs matplotlib: pip install -e '.[plot]'") from None
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    left.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for name, check in checks.items():
        left.plot([b[0] for b in check.reliability], [b[1] for b in check.reliability],
                  marker="o", label=name)  # fmt: skip
        points = [p for p in check.risk if p.coverage > 0]
        right.plot([p.coverage for p in points], [p.precision for p in points], marker="o",
                   label=name)  # fmt: skip
    left.set(title="Reliability", xlabel="confidence", ylabel="share answerable",
             xlim=(0, 1), ylim=(0, 1))  # fmt: skip
    right.set(title="Risk–coverage", xlabel="coverage (share answered)",
              ylabel="precision of answered", xlim=(0, 1), ylim=(0, 1))  # fmt: skip
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
