"""Realized metrics and their intervals against scikit-learn, scipy and a row bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from aidebt_core.performance.realized import (
    f1_interval,
    midranks,
    realized_metric,
    roc_auc,
    wilson,
)


def _data(n=3000, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    score = rng.beta(2, 5, n)
    if ties:
        score = np.round(score, 2)
    y = (rng.uniform(size=n) < score).astype(float)
    pred = (score >= 0.3).astype(float)
    return y, score, pred


@pytest.mark.parametrize("ties", [False, True])
def test_values_equal_sklearn(ties):
    y, s, p = _data(ties=ties)
    expected = {
        "roc_auc": skm.roc_auc_score(y, s), "accuracy": skm.accuracy_score(y, p),
        "precision": skm.precision_score(y, p), "recall": skm.recall_score(y, p),
        "f1": skm.f1_score(y, p), "log_loss": skm.log_loss(y, s),
        "brier": skm.brier_score_loss(y, s)}
    for metric, value in expected.items():
        assert realized_metric(metric, y, s, p).value == pytest.approx(value, rel=1e-12,
                                                                       abs=1e-12), metric


def test_log_loss_clips_like_sklearn():
    y = np.array([1.0, 0.0, 1.0, 0.0])
    s = np.array([0.0, 1.0, 1.0, 0.0])   # certain and wrong twice
    assert realized_metric("log_loss", y, s, None).value == pytest.approx(
        skm.log_loss(y, s), rel=1e-12)


def test_regression_equal_sklearn():
    rng = np.random.default_rng(3)
    y = rng.normal(10, 3, 2000)
    p = y + rng.normal(0, 1.5, 2000)
    assert realized_metric("mae", y, None, p).value == pytest.approx(
        skm.mean_absolute_error(y, p), rel=1e-12)
    rmse = realized_metric("rmse", y, None, p)
    assert rmse.value == pytest.approx(skm.root_mean_squared_error(y, p), rel=1e-12)
    assert rmse.low < rmse.value < rmse.high


def test_midranks_equal_scipy():
    values = np.round(np.random.default_rng(5).normal(size=500), 1)
    np.testing.assert_allclose(midranks(values), stats.rankdata(values))


def test_wilson_equals_scipy():
    for k, n in ((0, 20), (7, 20), (830, 1000), (20, 20)):
        got = wilson(k, n)
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
        assert (got.low, got.high) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_mean_interval_equals_normal_theory():
    y, s, _ = _data(n=4000, seed=9)
    got = realized_metric("brier", y, s, None)
    losses = (s - y) ** 2
    low, high = stats.norm.interval(0.95, loc=losses.mean(), scale=stats.sem(losses))
    assert (got.low, got.high) == pytest.approx((low, high), rel=1e-10)


def test_delong_se_matches_bootstrap():
    # The DeLong standard error must agree with a row bootstrap of sklearn's AUC. With 400
    # resamples the bootstrap SE itself is uncertain by ≈ 1/sqrt(2·400) ≈ 3.5 %, so 12 % is a
    # > 3σ bound.
    y, s, _ = _data(n=2000, seed=11)
    got = roc_auc(y, s)
    se_delong = (got.high - got.low) / 2 / stats.norm.ppf(0.975)
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(400):   # Mann-Whitney AUC from scipy's ranks (same value as sklearn's)
        i = rng.integers(0, len(y), len(y))
        yy, ranks = y[i], stats.rankdata(s[i])
        m = yy.sum()
        boot.append((ranks[yy == 1].sum() - m * (m + 1) / 2) / (m * (len(yy) - m)))
    assert se_delong == pytest.approx(np.std(boot, ddof=1), rel=0.12)


def test_f1_interval_matches_row_bootstrap():
    # Multinomial resampling of the four cells is a row bootstrap; compare percentiles with a
    # row bootstrap (600 draws: percentile noise ≈ 0.004 at this n).
    y, _, p = _data(n=1500, seed=4)
    tp, fp = int(((y == 1) & (p == 1)).sum()), int(((y == 0) & (p == 1)).sum())
    fn = int(((y == 1) & (p == 0)).sum())
    got = f1_interval(tp, fp, fn, len(y) - tp - fp - fn)
    assert got.value == pytest.approx(skm.f1_score(y, p), rel=1e-12)
    rng = np.random.default_rng(1)
    boot = []
    for _ in range(600):
        i = rng.integers(0, len(y), len(y))
        yy, pp = y[i] == 1, p[i] == 1
        boot.append(2 * (yy & pp).sum() / (yy.sum() + pp.sum()))
    low, high = np.quantile(boot, [0.025, 0.975])
    assert got.low == pytest.approx(low, abs=0.012)
    assert got.high == pytest.approx(high, abs=0.012)


def test_undefined_metrics_are_nan():
    y = np.zeros(50)
    s = np.linspace(0, 1, 50)
    assert np.isnan(realized_metric("roc_auc", y, s, (s > 0.5).astype(float)).value)
    assert np.isnan(realized_metric("precision", np.r_[y, 1.0], np.r_[s, 0.2],
                                    np.zeros(51)).value)
    assert np.isnan(realized_metric("recall", y, s, (s > 0.5).astype(float)).value)
    assert np.isnan(realized_metric("accuracy", np.array([]), np.array([]),
                                    np.array([])).value)
