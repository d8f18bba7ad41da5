"""Intervals and tests for slices, checked against scipy, sklearn and hand-computed values."""

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from aidebt_core.slices import intervals as iv
from aidebt_core.slices.metrics import hanley_mcneil_se


def _wilson_by_roots(k: int, n: int, z: float) -> tuple[float, float]:
    """Wilson bounds as the roots of (p_hat - p)^2 = z^2 p (1 - p) / n (a quadratic in p)."""
    p_hat = k / n
    a = 1 + z * z / n
    b = -(2 * p_hat + z * z / n)
    c = p_hat * p_hat
    lo, hi = sorted(np.roots([a, b, c]).real)
    return lo, hi


@pytest.mark.parametrize("k,n", [(0, 10), (8, 10), (81, 263), (500, 1000), (1, 3), (30, 30)])
def test_wilson_equals_the_roots_of_its_defining_quadratic(k, n):
    low, high = iv.wilson_interval(k, n, 0.95)
    lo, hi = _wilson_by_roots(k, n, stats.norm.ppf(0.975))
    assert float(low) == pytest.approx(max(lo, 0), abs=1e-10)
    assert float(high) == pytest.approx(min(hi, 1), abs=1e-10)


def test_wilson_hand_values():
    # Published 95% Wilson intervals: 0/10 -> [0, 0.2775]; 8/10 -> [0.4902, 0.9433].
    low, high = iv.wilson_interval([0, 8], [10, 10], 0.95)
    assert low == pytest.approx([0.0, 0.4902], abs=1e-4)
    assert high == pytest.approx([0.2775, 0.9433], abs=1e-4)


def test_wilson_empty_slice_is_nan():
    low, high = iv.wilson_interval([0], [0])
    assert np.isnan(low[0]) and np.isnan(high[0])


def test_bh_equals_scipy_false_discovery_control():
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 1e-4, size=20), [0.5, 0.5]])
    np.testing.assert_allclose(iv.bh_qvalues(p), stats.false_discovery_control(p), rtol=1e-12)


def test_bh_with_pruned_tests_equals_scipy_on_p_values_padded_with_ones():
    rng = np.random.default_rng(4)
    p = rng.uniform(0, 0.02, size=50)
    padded = np.concatenate([p, np.ones(450)])
    expected = stats.false_discovery_control(padded)[:50]
    np.testing.assert_allclose(iv.bh_qvalues(p, total_tests=500), expected, rtol=1e-12)


def test_bh_keeps_nan_as_nan():
    q = iv.bh_qvalues([0.01, np.nan, 0.04])
    assert np.isnan(q[1])
    np.testing.assert_allclose(q[[0, 2]], stats.false_discovery_control([0.01, 0.04]))


def test_two_proportion_test_equals_chi_square_without_correction():
    k1, n1, k2, n2 = 34, 120, 310, 1500
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    expected = stats.chi2_contingency(table, correction=False).pvalue
    assert float(iv.two_proportion_p(k1, n1, k2, n2)) == pytest.approx(expected, rel=1e-9)


def test_welch_from_sums_equals_scipy_ttest():
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.3, 1, 80), rng.normal(0, 2, 300)
    p = iv.welch_p(a.size, a.sum(), (a * a).sum(), b.size, b.sum(), (b * b).sum())
    assert float(p) == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-8)


def test_hanley_mcneil_standard_error_hand_value():
    # AUC 0.8 with 50 positives and 50 negatives: Q1 = 0.8/1.2, Q2 = 1.28/1.8.
    q1, q2 = 0.8 / 1.2, 2 * 0.64 / 1.8
    var = (0.8 * 0.2 + 49 * (q1 - 0.64) + 49 * (q2 - 0.64)) / 2500
    assert float(hanley_mcneil_se(0.8, 50, 50)) == pytest.approx(np.sqrt(var))
    assert float(hanley_mcneil_se(0.8, 50, 50)) == pytest.approx(0.0445, abs=5e-4)


def test_grouped_auc_of_groups_and_their_rest_equals_sklearn():
    from aidebt_core.slices.metrics import grouped_auc

    rng = np.random.default_rng(12)
    n = 4000
    score = np.round(rng.random(n), 2)          # many ties
    y = (rng.random(n) < score).astype(int)
    group = rng.integers(0, 6, n)               # 5 = in no group (still in every rest)
    auc, rest = grouped_auc(score, y, group, 5)
    for g in range(5):
        inside = group == g
        assert auc[g] == pytest.approx(roc_auc_score(y[inside], score[inside]), abs=1e-12)
        assert rest[g] == pytest.approx(roc_auc_score(y[~inside], score[~inside]), abs=1e-12)
    one_class = grouped_auc(score, np.zeros(n, int), group, 5)
    assert np.isnan(one_class[0]).all() and np.isnan(one_class[1]).all()


def test_f1_standard_error_matches_a_bootstrap():
    from aidebt_core.slices.metrics import f1_se

    rng = np.random.default_rng(13)
    n = 3000
    y = rng.random(n) < 0.3
    pred = np.where(rng.random(n) < 0.2, ~y, y)
    tp, pp, ap = (y & pred).sum(), pred.sum(), y.sum()
    reps = []
    for _ in range(2000):
        i = rng.integers(0, n, n)
        a, b, c = (y[i] & pred[i]).sum(), pred[i].sum(), y[i].sum()
        reps.append(2 * a / (b + c))
    assert float(f1_se(tp, pp, ap)) == pytest.approx(np.std(reps, ddof=1), rel=0.08)
