"""Drift statistics against scipy and hand computations (no data layer involved)."""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from aidebt_core.drift import stats as ds
from aidebt_core.drift.kolmogorov import kstwo_sf


def _sample(values, grouped=False):
    values = np.sort(np.asarray(values, dtype=float))
    if grouped:
        u, c = np.unique(values, return_counts=True)
        return ds.Sample(u, c)
    return ds.Sample(values)


CASES = [(50, 70, None), (3000, 2000, 1), (1, 1, None), (1, 7, None), (10_000, 9_000, 2),
         (12_000, 30_000, None), (40_000, 25_000, 1), (200_000, 150_000, 0)]


@pytest.mark.parametrize("n1,n2,decimals", CASES)
@pytest.mark.parametrize("grouped", [False, True])
def test_ks_matches_scipy_exactly_and_wasserstein_closely(n1, n2, decimals, grouped):
    rng = np.random.default_rng(n1 + n2)
    a, b = rng.normal(0, 1, n1), rng.normal(0.03, 1.1, n2)
    if decimals is not None:
        a, b = a.round(decimals), b.round(decimals)
    ref, cur = _sample(a, grouped), _sample(b, grouped)
    pair = ds.ks_and_wasserstein(ref.values, cur.values, ref.counts, cur.counts)
    d, p = ds.ks_test(ref, cur, pair.ks_statistic)
    expected = stats.ks_2samp(a, b)
    assert d == expected.statistic
    assert p == expected.pvalue
    assert pair.wasserstein == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-12)


def test_numeric_measures_norm_wasserstein_by_reference_std():
    rng = np.random.default_rng(3)
    a, b = rng.gamma(2, 3, 5000), rng.gamma(2.5, 3, 4000)
    m = ds.numeric_measures(_sample(a), _sample(b))
    assert m["reference_std"] == pytest.approx(np.std(a), rel=1e-12)
    assert m["wasserstein"] == pytest.approx(stats.wasserstein_distance(a, b) / np.std(a),
                                             rel=1e-12)
    grouped = ds.numeric_measures(_sample(a.round(0), True), _sample(b.round(0), True))
    assert grouped["reference_std"] == pytest.approx(np.std(a.round(0)), rel=1e-12)


def test_constant_reference_gives_zero_or_infinite_normed_distance():
    same = ds.numeric_measures(_sample([5.0] * 20), _sample([5.0] * 30))
    assert same["wasserstein"] == 0.0 and same["ks"] == 0.0 and same["ks_p_value"] == 1.0
    moved = ds.numeric_measures(_sample([5.0] * 20), _sample([6.0] * 30))
    assert math.isinf(moved["wasserstein"]) and moved["ks"] == 1.0


@pytest.mark.parametrize("n", [141, 500, 3000, 30_000, 99_999, 100_001, 500_000, 5_000_000])
def test_kstwo_sf_equals_scipy_in_every_branch(n):
    rng = np.random.default_rng(n)
    pelz_good = rng.uniform(0, math.sqrt(2.2 / n), 12)         # n·x² < 2.2
    smirnov = [math.sqrt(30 / n)] if n <= 30_000 else []      # 2.2 ≤ n·x² < 370 (slow in scipy)
    far = rng.uniform(min(math.sqrt(370 / n), 0.49), 0.49, 4)  # n·x² ≥ 370: p = 0
    edges = [0.0, 0.5 / n, 0.9 / n, 1 / n, 1.5 / n, 0.5, 0.7, (n - 1) / n, 1.0]
    for x in [*pelz_good, *smirnov, *far, *edges]:
        assert kstwo_sf(x, n) == float(np.clip(stats.kstwo.sf(x, n), 0, 1)), x


def test_sample_quantiles_and_bins_from_counts_match_expanded_values():
    rng = np.random.default_rng(5)
    values = rng.integers(0, 30, 997).astype(float)
    flat, grouped = _sample(values), _sample(values, grouped=True)
    probs = np.arange(1, 10) / 10
    np.testing.assert_allclose(grouped.quantile(probs), np.quantile(values, probs), rtol=1e-12)
    edges = np.array([-1.0, 3.0, 3.5, 17.0, 40.0])
    np.testing.assert_array_equal(grouped.count_below(edges), flat.count_below(edges))
    np.testing.assert_array_equal(flat.count_below(edges), [(values < e).sum() for e in edges])


def test_psi_hand_computed():
    # shares r = .5/.3/.2, c = .4/.4/.2 -> (-.1) ln(.8) + (.1) ln(4/3)
    expected = -0.1 * math.log(0.8) + 0.1 * math.log(4 / 3)
    assert ds.psi_from_counts([50, 30, 20], [40, 40, 20]) == pytest.approx(expected, rel=1e-12)
    # an empty bin uses the 1e-4 floor instead of log(0): c = (1, 1e-4), r = (.5, .5)
    expected = 0.5 * math.log(2) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert ds.psi_from_counts([5, 5], [10, 0]) == pytest.approx(expected, rel=1e-12)


def test_numeric_psi_uses_reference_quantile_bins():
    # bins=2: edge = reference median 2.5; ref counts 2/2, current 1/3
    got = ds.psi_numeric(_sample([1, 2, 3, 4]), _sample([1, 3, 4, 5]), bins=2)
    assert got == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5), rel=1e-12)
    rng = np.random.default_rng(9)
    a, b = rng.normal(0, 1, 4000), rng.normal(0.4, 1, 3000)
    edges = np.unique(np.quantile(a, np.arange(1, 10) / 10))
    full = np.concatenate([[-np.inf], edges, [np.inf]])
    r, c = np.histogram(a, full)[0], np.histogram(b, full)[0]
    rs, cs = r / r.sum(), c / c.sum()
    assert ds.psi_numeric(_sample(a), _sample(b)) == pytest.approx(
        np.sum((cs - rs) * np.log(cs / rs)), rel=1e-12)


def test_jensen_shannon_matches_scipy_and_hand_value():
    assert ds.jensen_shannon([1, 0], [0, 1]) == pytest.approx(math.sqrt(math.log(2)), rel=1e-12)
    p, q = [10, 20, 30, 0], [12, 18, 25, 5]
    assert ds.jensen_shannon(p, q) == pytest.approx(jensenshannon(p, q), rel=1e-12)
    assert ds.jensen_shannon([3, 3], [6, 6]) == 0.0


@pytest.mark.parametrize("ref,cur", [([30, 70], [45, 55]), ([10, 20, 30], [15, 15, 40]),
                                     ([5, 0, 9, 1], [3, 4, 2, 0]), ([100], [50])])
def test_chi_square_matches_chi2_contingency(ref, cur):
    stat, p, dof = ds.chi2_two_sample(ref, cur)
    table = np.array([ref, cur])
    table = table[:, table.sum(axis=0) > 0]
    expected = stats.chi2_contingency(table)
    assert stat == pytest.approx(expected.statistic, rel=1e-12, abs=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-12)
    assert dof == expected.dof


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("magnitude", [1e307, 1.7e308])
def test_values_near_the_float_limit_give_the_scaled_data_statistics(grouped, magnitude):
    # Planted: the same draws scaled into ordinary range give scipy's values; at ±1e308 the
    # differences and squares would overflow (Wasserstein 0.0 and a numpy warning before).
    rng = np.random.default_rng(11)
    a, b = rng.uniform(-1, 1, 3000), rng.uniform(-0.6, 1, 2500)
    a[0], b[0] = 1.0, -1.0  # the extremes reach ±magnitude exactly
    with np.errstate(all="raise"):  # any overflow/invalid operation fails the test
        m = ds.numeric_measures(_sample(a * magnitude, grouped), _sample(b * magnitude, grouped))
    assert m["wasserstein"] == pytest.approx(stats.wasserstein_distance(a, b) / np.std(a),
                                             rel=1e-9)
    assert m["reference_std"] == pytest.approx(np.std(a) * magnitude, rel=1e-9)
    assert m["ks"] == stats.ks_2samp(a, b).statistic
    assert m["psi"] == pytest.approx(ds.numeric_measures(_sample(a, grouped),
                                                         _sample(b, grouped))["psi"], rel=1e-9)
    assert m["wasserstein"] > 0.1  # so a drift verdict sees the shift


def test_a_distance_beyond_the_float_range_is_inf_raw_but_finite_normed():
    scaled_a, scaled_b = np.array([-1.0, -1.0, -1.0, 1.0]), np.array([1.0] * 4)
    with np.errstate(all="raise"):
        m = ds.numeric_measures(ds.Sample(scaled_a * 1.7e308), ds.Sample(scaled_b * 1.7e308))
    assert math.isinf(m["wasserstein_raw"])  # 0.75 · 3.4e308 is past the float range
    assert m["wasserstein"] == pytest.approx(
        stats.wasserstein_distance(scaled_a, scaled_b) / np.std(scaled_a), rel=1e-12)


def test_the_over_time_null_is_the_same_for_values_near_the_float_limit():
    from aidebt_core.drift.noise import numeric_null

    a = np.sort(np.random.default_rng(4).uniform(-1, 1, 4000))
    plain = numeric_null(ds.Sample(a), "wasserstein")
    with np.errstate(all="raise"):
        extreme = numeric_null(ds.Sample(a * 1.7e308), "wasserstein")
        draws = np.random.default_rng(5).multinomial(300, extreme.shares, size=50)
        scored = extreme.score(draws)
    np.testing.assert_allclose(extreme.shares, plain.shares)
    np.testing.assert_allclose(scored, plain.score(draws), rtol=1e-9)
