"""The label-free estimate (CBPE) on data whose truth is known: scores calibrated by
construction, so P(y=1 | score) = score and the expected metrics are known."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from aidebt_core.performance.estimation import Calibrator, expected_metric
from aidebt_core.performance.realized import realized_metric

METRICS = ("roc_auc", "accuracy", "precision", "recall", "f1", "log_loss", "brier")


def test_expected_metrics_equal_monte_carlo_mean():
    # With the true probabilities (p = score), each expected metric must equal the average of
    # the realized metric over many label draws. Per-row averages (accuracy, log loss, Brier)
    # are exact expectations; AUC, precision, recall and F1 are ratios of expectations, whose
    # bias is O(1/n) ≈ 2e-4 at n = 4000, an order below the bound of 4 Monte-Carlo standard
    # errors (≈ 2e-3 here).
    rng = np.random.default_rng(7)
    n, draws = 4000, 300
    s = rng.beta(2, 4, n)
    pred = (s >= 0.35).astype(float)
    sims = {m: [] for m in METRICS}
    for _ in range(draws):
        y = (rng.uniform(size=n) < s).astype(float)
        for m in METRICS:
            sims[m].append(realized_metric(m, y, s, pred).value)
    for m in METRICS:
        values = np.asarray(sims[m])
        bound = 4 * values.std(ddof=1) / np.sqrt(draws)
        assert expected_metric(m, s, s, pred) == pytest.approx(values.mean(), abs=bound), m


def test_expected_auc_counts_ties_half():
    # Two rows with the same score, p = 0.5 each: the expected ROC is the diagonal, AUC 0.5.
    s = np.array([0.4, 0.4])
    assert expected_metric("roc_auc", s, np.array([0.5, 0.5]), None) == pytest.approx(0.5)
    # Perfectly separating probabilities give AUC 1.
    s = np.array([0.1, 0.2, 0.8, 0.9])
    assert expected_metric("roc_auc", s, np.array([0, 0, 1, 1.0]), None) == pytest.approx(1.0)
    assert expected_metric("roc_auc", s, np.array([0, 0, 1, 1.0]), None) == pytest.approx(
        skm.roc_auc_score([0, 0, 1, 1], s))


def test_isotonic_calibrator_recovers_calibrated_scores():
    # y ~ Bernoulli(score): isotonic regression should return ≈ the score itself. With 200k
    # rows each isotonic block averages hundreds of labels, so 0.03 is several binomial SEs.
    rng = np.random.default_rng(2)
    s = rng.uniform(0, 1, 200_000)
    y = (rng.uniform(size=s.size) < s).astype(float)
    cal = Calibrator.fit(s, y)
    grid = np.linspace(0.05, 0.95, 19)
    assert np.max(np.abs(cal(grid) - grid)) < 0.03
    assert cal(np.array([-1.0, 2.0])).tolist() == [cal(np.array([s.min()]))[0],
                                                  cal(np.array([s.max()]))[0]]


def test_estimate_tracks_realized_under_data_drift():
    # Reference and current have different score distributions (data drift) but the same
    # P(y | score): the estimate from a calibrator fitted on the reference must match the
    # realized AUC on the current data within 4 DeLong standard errors of the realized AUC
    # (the realized value's own sampling noise; the estimate's error is far smaller).
    rng = np.random.default_rng(12)
    s_ref = rng.beta(2, 5, 60_000)
    y_ref = (rng.uniform(size=s_ref.size) < s_ref).astype(float)
    cal = Calibrator.fit(s_ref, y_ref)
    for a, b in ((2, 5), (2, 3), (4, 3)):
        s = rng.beta(a, b, 10_000)
        y = (rng.uniform(size=s.size) < s).astype(float)
        pred = (s >= 0.5).astype(float)
        real = realized_metric("roc_auc", y, s, pred)
        se = (real.high - real.low) / 2 / 1.959964
        est = expected_metric("roc_auc", s, cal(s), pred)
        assert est == pytest.approx(real.value, abs=4 * se), (a, b)
        acc = realized_metric("accuracy", y, s, pred)
        se_acc = np.sqrt(acc.value * (1 - acc.value) / s.size)
        assert expected_metric("accuracy", s, cal(s), pred) == pytest.approx(acc.value,
                                                                            abs=4 * se_acc)


def test_calibrator_needs_both_classes():
    from aidebt_core.errors import SchemaError

    with pytest.raises(SchemaError, match="both classes"):
        Calibrator.fit(np.array([0.1, 0.2]), np.array([1.0, 1.0]))


def test_expected_auc_equals_weighted_sklearn_auc():
    # Independent formulation: each row counts as a positive with weight p and as a negative
    # with weight 1-p; sklearn's weighted ROC AUC of that doubled data is the expected-ROC area.
    rng = np.random.default_rng(21)
    s = np.round(rng.beta(2, 5, 3000), 3)          # rounded: many ties
    p = np.clip(s + rng.normal(0, 0.05, s.size), 0, 1)
    doubled_y = np.r_[np.ones(s.size), np.zeros(s.size)]
    expected = skm.roc_auc_score(doubled_y, np.r_[s, s], sample_weight=np.r_[p, 1 - p])
    assert expected_metric("roc_auc", s, p, None) == pytest.approx(expected, rel=1e-12)


def test_calibrator_equals_sklearn_isotonic_regression():
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(8)
    s = np.round(rng.beta(2, 5, 20_000), 4)        # ties, as real scores have
    y = (rng.uniform(size=s.size) < s**0.8).astype(float)
    ours = Calibrator.fit(s, y)
    theirs = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s, y)
    grid = np.r_[-0.5, np.linspace(0, 1, 2001), 1.5, s[:500]]
    np.testing.assert_allclose(ours(grid), theirs.predict(grid), rtol=0, atol=1e-12)
