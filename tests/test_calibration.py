"""Calibration figures and the logistic fit, on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.calibration import (
    Outcome,
    auroc,
    expected_calibration_error,
    fit_logistic,
    risk_coverage,
    verification,
)


def test_auroc_counts_ordered_pairs_and_ties_half() -> None:
    assert auroc([0.9, 0.8, 0.1], [True, True, False]) == 1.0
    assert auroc([0.1, 0.9], [True, False]) == 0.0
    assert auroc([0.5, 0.5, 0.9, 0.1], [True, False, True, False]) == pytest.approx(0.875)


def test_expected_calibration_error() -> None:
    assert expected_calibration_error([0.95, 0.95, 0.05, 0.05], [True, True, False, False]) == (
        pytest.approx(0.05)
    )
    # Always 0.9 sure, right half the time: off by 0.4.
    assert expected_calibration_error([0.9] * 4, [True, False, True, False]) == pytest.approx(0.4)


def test_risk_coverage() -> None:
    points = risk_coverage([0.9, 0.7, 0.4, 0.2], [True, False, True, False], [0.0, 0.5, 0.8, 0.95])
    assert [(p.coverage, p.precision) for p in points[:3]] == [(1.0, 0.5), (0.5, 0.5), (0.25, 1.0)]
    assert points[3].coverage == 0.0 and np.isnan(points[3].precision)


def test_verification_figures() -> None:
    outcomes = [Outcome(0.9, True, True), Outcome(0.6, True, False), Outcome(0.3, True, True),
                Outcome(0.7, False, False), Outcome(0.1, False, False)]  # fmt: skip
    figures = verification(outcomes, 0.5)
    assert (figures.answerable, figures.unanswerable) == (3, 2)
    assert figures.answered == pytest.approx(2 / 3) and figures.declined == 0.5
    assert figures.precision == pytest.approx(1 / 3)  # of 0.9, 0.6 and 0.7 only 0.9 is right
    assert figures.auroc == pytest.approx(4 / 6)
    assert 0.5 in [p.threshold for p in figures.risk]


def test_fit_logistic_recovers_the_signal_and_ignores_noise() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2))
    y = rng.random(2000) < 1 / (1 + np.exp(-(3 * x[:, 0] - 1)))
    weights, bias = fit_logistic(x, y, l2=0.1)
    assert weights[0] == pytest.approx(3, abs=0.4) and abs(weights[1]) < 0.3
    assert bias == pytest.approx(-1, abs=0.3)
    # Weighting the positives twice as much shifts the bias by about log 2.
    heavier = np.where(y, 2.0, 1.0)
    _, shifted = fit_logistic(x, y, l2=0.1, sample_weights=heavier)
    assert shifted - bias == pytest.approx(np.log(2), abs=0.15)
