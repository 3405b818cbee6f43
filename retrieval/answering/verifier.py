"""The answer verifier: evidence signals combined into a calibrated confidence.

The combiner is a logistic regression fitted by ``benchmarks/calibrate_verifier.py`` on the
development split of its data; the weights, the data they were fitted on and the default
threshold ship in ``verifier_weights.json`` beside this module.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from retrieval.answer import Answer
from retrieval.answering.search import Hit
from retrieval.answering.signals import Signals
from retrieval.errors import NewsbotError

WEIGHTS_FILE = "verifier_weights.json"
# Which signals speak for which reason to decline: the group pulling the confidence down
# the most (against an answerable question's typical signals) names the reason.
REASONS = {
    "coverage": "missing_terms",
    "soft_coverage": "missing_terms",
    "sentence_coverage": "missing_terms",
    "name_coverage": "missing_terms",
    "numbers_found": "missing_terms",
    "rarest_missing": "missing_terms",
    "type_found": "no_answer_of_type",
    "measure_missing": "no_answer_of_type",
    "outside_time_frame": "outside_time_frame",
    "age": "outside_time_frame",
}


@dataclass(frozen=True)
class Verdict:
    """The verifier's decision on one answer."""

    confidence: float
    answered: bool
    reason: str | None  # why it declined: weak_evidence, missing_terms, ...


@dataclass(frozen=True)
class Combiner:
    """Logistic regression over named signals."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    typical: tuple[float, ...]  # mean of each feature over answerable dev questions
    threshold: float  # the calibrated default NEWSBOT_MIN_CONFIDENCE

    def confidence(self, values: Mapping[str, float]) -> float:
        """The probability that the answer is supported."""
        z = self.bias + sum(w * values[f] for f, w in zip(self.features, self.weights, strict=True))
        return 1 / (1 + math.exp(-max(min(z, 30.0), -30.0)))

    def reason(self, values: Mapping[str, float]) -> str:
        """The reason to decline: the group of signals that lowers the confidence most."""
        pulls: dict[str, float] = {}
        for feature, weight, typical in zip(self.features, self.weights, self.typical, strict=True):
            reason = REASONS.get(feature, "weak_evidence")
            pulls[reason] = pulls.get(reason, 0.0) + weight * (values[feature] - typical)
        return min(pulls, key=lambda r: pulls[r])

    def to_dict(self) -> dict[str, object]:
        """The JSON form of the weights file (without the provenance)."""
        return {
            "features": list(self.features),
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "typical": [round(t, 6) for t in self.typical],
            "threshold": round(self.threshold, 4),
        }


def load_combiner(path: Path | None = None) -> Combiner:
    """The combiner in ``path``, by default the weights shipped with this package."""
    try:
        if path is None:
            text = resources.files(__package__).joinpath(WEIGHTS_FILE).read_text("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        features = tuple(str(f) for f in data["features"])
        combiner = Combiner(
            features,
            tuple(float(w) for w in data["weights"]),
            float(data["bias"]),
            tuple(float(t) for t in data["typical"]),
            float(data["threshold"]),
        )
        if not len(features) == len(combiner.weights) == len(combiner.typical):
            raise ValueError("features, weights and typical differ in length")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise NewsbotError(f"verifier weights {path or WEIGHTS_FILE}: {exc}") from None
    return combiner


class Verifier:
    """Decides whether a composed answer is supported well enough to give."""

    def __init__(self, combiner: Combiner, min_confidence: float | None = None) -> None:
        self.combiner = combiner
        self.min_confidence = combiner.threshold if min_confidence is None else min_confidence

    def verify(self, signals: Signals) -> Verdict:
        """The confidence in an answer with these signals, and whether to give it."""
        confidence = self.combiner.confidence(signals.values)
        if confidence >= self.min_confidence:
            return Verdict(confidence, True, None)
        return Verdict(confidence, False, self.combiner.reason(signals.values))


def settle(
    answer: Answer, declined: Answer, signals: Signals, verdict: Verdict, best: Hit, *,
    related: float,
) -> Answer:  # fmt: skip
    """The composed ``answer`` with its confidence and short answer when the verdict gives
    it, else the ``declined`` answer saying why (and which report is closest, when the best
    passage is at least ``related`` in similarity but does not answer)."""
    if verdict.answered:
        return replace(answer, confidence=round(verdict.confidence, 4),
                       short_answer=signals.short_answer, signals=signals.values)  # fmt: skip
    return replace(
        declined,
        confidence=round(verdict.confidence, 4),
        decline_reason=verdict.reason,
        missing_terms=signals.missing_terms if verdict.reason == "missing_terms" else (),
        closest_report=best.passage.article if best.similarity >= related else None,
        signals=signals.values,
    )
