"""Calibration figures and the logistic fit behind the verifier: numpy only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Area under the ROC curve: the chance a positive scores above a negative (ties half)."""
    positives = [s for s, y in zip(scores, labels, strict=True) if y]
    negatives = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not positives or not negatives:
        return float("nan")
    pos, neg = np.array(positives)[:, None], np.array(negatives)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def expected_calibration_error(
    scores: Sequence[float], labels: Sequence[bool], bins: int = 10
) -> float:
    """Mean gap between confidence and the share of positives, over equal-width bins."""
    values, truth = np.asarray(scores, float), np.asarray(labels, float)
    if not len(values):
        return float("nan")
    which = np.minimum((values * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            gap += mask.sum() * abs(values[mask].mean() - truth[mask].mean())
    return float(gap / len(values))


def reliability(
    scores: Sequence[float], labels: Sequence[bool], bins: int = 10
) -> list[tuple[float, float, int]]:
    """(mean confidence, share of positives, count) per non-empty equal-width bin."""
    values, truth = np.asarray(scores, float), np.asarray(labels, float)
    which = np.minimum((values * bins).astype(int), bins - 1)
    return [
        (float(values[which == b].mean()), float(truth[which == b].mean()), int((which == b).sum()))
        for b in range(bins)
        if (which == b).any()
    ]


@dataclass(frozen=True)
class RiskPoint:
    """What answering above one confidence threshold gives."""

    threshold: float
    coverage: float  # share of all questions answered
    precision: float  # share of the answered whose answer string is found


def risk_coverage(
    scores: Sequence[float], correct: Sequence[bool], thresholds: Sequence[float]
) -> list[RiskPoint]:
    """Coverage and precision of the answered questions at each threshold."""
    values, right = np.asarray(scores, float), np.asarray(correct, bool)
    points = []
    for threshold in thresholds:
        answered = values >= threshold
        count = int(answered.sum())
        precision = float(right[answered].mean()) if count else float("nan")
        points.append(RiskPoint(threshold, count / max(len(values), 1), precision))
    return points


def fit_logistic(
    features: np.ndarray,
    labels: np.ndarray,
    l2: float = 1.0,
    steps: int = 50,
    sample_weights: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression (Newton's method) on raw
    features; they are standardised inside the fit so that ``l2`` treats each alike."""
    counts = np.ones(len(features)) if sample_weights is None else sample_weights
    mean, scale = features.mean(axis=0), features.std(axis=0)
    scale[scale == 0] = 1.0
    x = np.hstack([(features - mean) / scale, np.ones((len(features), 1))])
    y = labels.astype(float)
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (counts * (p - y)) + penalty * w
        hessian = (x * (counts * p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    weights = w[:-1] / scale
    return weights, float(w[-1] - (weights * mean).sum())


@dataclass(frozen=True)
class Outcome:
    """One question asked with the verifier's decision left open."""

    confidence: float
    answerable: bool  # its evidence is indexed
    found: bool  # the composed answer holds one of its answer strings


@dataclass(frozen=True)
class Verification:
    """How the verifier's confidence sorts answerable from unanswerable questions."""

    answerable: int
    unanswerable: int
    threshold: float
    answered: float  # share of the answerable answered at the threshold
    declined: float  # share of the unanswerable declined at the threshold
    precision: float  # share of the answered whose answer holds an answer string
    auroc: float
    ece: float
    risk: tuple[RiskPoint, ...]
    reliability: tuple[tuple[float, float, int], ...]


RISK_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def verification(outcomes: Sequence[Outcome], threshold: float) -> Verification:
    """The figures of some outcomes with the answerer declining below ``threshold``."""
    scores = [o.confidence for o in outcomes]
    labels = [o.answerable for o in outcomes]
    correct = [o.answerable and o.found for o in outcomes]
    given = [o for o in outcomes if o.confidence >= threshold]
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]

    def share(part: Sequence[Outcome], total: Sequence[Outcome]) -> float:
        return len(part) / len(total) if total else float("nan")

    return Verification(
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        threshold=threshold,
        answered=share([o for o in answerable if o.confidence >= threshold], answerable),
        declined=share([o for o in unanswerable if o.confidence < threshold], unanswerable),
        precision=share([o for o in given if o.answerable and o.found], given),
        auroc=auroc(scores, labels),
        ece=expected_calibration_error(scores, labels),
        risk=tuple(risk_coverage(scores, correct, sorted({*RISK_THRESHOLDS, threshold}))),
        reliability=tuple(reliability(scores, labels)),
    )
