"""Association measures against pandas / scipy / scikit-learn and hand-computed tables."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats.contingency import association
from sklearn.metrics import mutual_info_score

from aidebt_core.entanglement import measures


@pytest.fixture(scope="module")
def numeric_with_gaps():
    rng = np.random.default_rng(3)
    n = 4000
    x = rng.normal(size=(n, 5))
    x[:, 1] = 1e6 + 40 * x[:, 0] + rng.normal(size=n)   # large offset: tests conditioning
    x[:, 2] = np.round(x[:, 2] * 2)                         # many ties
    x[:, 3] = np.exp(x[:, 0]) + rng.normal(0, 0.1, n)      # monotone, not linear
    x[rng.random(n) < 0.15, 2] = np.nan
    x[rng.random(n) < 0.3, 3] = np.nan
    return x


def test_pearson_equals_pandas_pairwise_complete(numeric_with_gaps, monkeypatch):
    # Small blocks so that complete and incomplete row blocks are both accumulated.
    monkeypatch.setattr(measures, "CHUNK_ROWS", 700)
    r, n = measures.pearson_matrix(numeric_with_gaps)
    frame = pd.DataFrame(numeric_with_gaps)
    np.testing.assert_allclose(r, frame.corr().to_numpy(), atol=1e-10)
    present = frame.notna().astype(int)
    np.testing.assert_array_equal(n, (present.T @ present).to_numpy())


def test_pearson_pair_equals_scipy(numeric_with_gaps):
    x = numeric_with_gaps
    r, _ = measures.pearson_matrix(x)
    both = ~np.isnan(x[:, 1]) & ~np.isnan(x[:, 3])
    assert r[1, 3] == pytest.approx(stats.pearsonr(x[both, 1], x[both, 3]).statistic, abs=1e-12)


def test_spearman_equals_pandas_with_ties_and_gaps(numeric_with_gaps):
    rho, _ = measures.spearman_matrix(numeric_with_gaps)
    expected = pd.DataFrame(numeric_with_gaps).corr(method="spearman").to_numpy()
    np.testing.assert_allclose(rho, expected, atol=1e-10)
    both = ~np.isnan(numeric_with_gaps[:, 2]) & ~np.isnan(numeric_with_gaps[:, 3])
    scipy_rho = stats.spearmanr(numeric_with_gaps[both, 2], numeric_with_gaps[both, 3])
    assert rho[2, 3] == pytest.approx(scipy_rho.statistic, abs=1e-12)


def test_constant_and_tiny_pairs_are_nan():
    x = np.array([[1.0, 5.0, 1.0], [2.0, 5.0, np.nan], [3.0, 5.0, np.nan], [4.0, 5.0, 2.0]])
    r, n = measures.pearson_matrix(x)
    assert np.isnan(r[0, 1]) and np.isnan(r[1, 0])     # column 1 is constant
    assert n[0, 2] == 2 and np.isnan(r[0, 2])          # fewer than three complete rows


def _bergsma_v(a, b) -> float:
    """Independent implementation: pandas crosstab + scipy chi² + Bergsma (2013)."""
    table = pd.crosstab(a, b).to_numpy()
    chi2 = stats.chi2_contingency(table, correction=False)[0]
    n = table.sum()
    r, k = table.shape
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    rcorr = r - (r - 1) ** 2 / (n - 1)
    kcorr = k - (k - 1) ** 2 / (n - 1)
    return math.sqrt(phi2 / min(kcorr - 1, rcorr - 1))


@pytest.mark.parametrize("seed,n", [(0, 300), (1, 5000), (2, 80)])
def test_cramers_v_bias_corrected_equals_independent_formula(seed, n):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, n)
    b = np.where(rng.random(n) < 0.4, a, rng.integers(0, 6, n))
    table = measures.contingency(a, b, 4, 6)
    assert measures.cramers_v(table) == pytest.approx(_bergsma_v(a, b), abs=1e-12)


def test_cramers_v_uncorrected_equals_scipy():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 3, 2000)
    b = (a + rng.integers(0, 3, 2000)) % 5
    table = measures.contingency(a, b, 3, 5)
    expected = association(table, method="cramer", correction=False)
    assert measures.cramers_v(table, bias_correction=False) == pytest.approx(expected, abs=1e-12)


def test_cramers_v_is_one_for_a_relabelling_and_nan_for_a_constant():
    a = np.repeat(np.arange(5), 100)
    assert measures.cramers_v(measures.contingency(a, (a * 7) % 5, 5, 5)) == pytest.approx(1.0)
    assert np.isnan(measures.cramers_v(measures.contingency(a, np.zeros_like(a), 5, 1)))


def test_contingency_drops_missing_codes():
    a = np.array([0, 0, 1, -1, 1, 1])
    b = np.array([0, 1, 1, 0, -1, 0])
    np.testing.assert_array_equal(measures.contingency(a, b, 2, 2), [[1, 1], [1, 1]])


def test_theils_u_on_hand_computed_table():
    # x = rows (a, b), y = columns (p, q, r); counts [[2, 2, 0], [0, 0, 4]] (n = 8).
    # H(x) = ln 2. Knowing y removes all uncertainty about x: U(x|y) = 1.
    # H(y) = -(1/4 ln 1/4 + 1/4 ln 1/4 + 1/2 ln 1/2) = 1.5 ln 2; H(y|x) = 1/2 · ln 2;
    # U(y|x) = (1.5 ln 2 − 0.5 ln 2) / (1.5 ln 2) = 2/3.
    table = np.array([[2, 2, 0], [0, 0, 4]])
    assert measures.theils_u(table) == pytest.approx(1.0)
    assert measures.theils_u(table.T) == pytest.approx(2 / 3)
    assert measures.theils_u(np.array([[3, 3], [3, 3]])) == pytest.approx(0.0)
    assert np.isnan(measures.theils_u(np.array([[4, 2]])))  # x constant


def test_theils_u_equals_mutual_information_over_entropy():
    rng = np.random.default_rng(9)
    x = rng.integers(0, 4, 3000)
    y = np.where(rng.random(3000) < 0.5, x, rng.integers(0, 3, 3000))
    table = measures.contingency(x, y, 4, 4)
    expected = mutual_info_score(x, y) / stats.entropy(np.bincount(x))
    assert measures.theils_u(table) == pytest.approx(expected, abs=1e-12)


def test_correlation_ratio_on_hand_computed_groups():
    # Groups A = {1, 2, 3}, B = {4, 5, 6}: grand mean 3.5, SS_total = 17.5,
    # SS_between = 3·1.5² + 3·1.5² = 13.5, η = sqrt(13.5 / 17.5).
    x = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [np.nan]])
    codes = np.array([0, 0, 0, 1, 1, 1, 1])
    eta, n = measures.correlation_ratio(x, codes, 2)
    assert eta[0] == pytest.approx(math.sqrt(13.5 / 17.5))
    assert n[0] == 6


def test_correlation_ratio_equals_groupby_formula(monkeypatch):
    monkeypatch.setattr(measures, "CHUNK_ROWS", 500)
    rng = np.random.default_rng(11)
    n = 3000
    codes = rng.integers(-1, 5, n)        # −1: missing category
    x = np.column_stack([codes * 2.0 + rng.normal(size=n), rng.normal(size=n) + 1e5])
    x[rng.random(n) < 0.1, 0] = np.nan
    eta, counts = measures.correlation_ratio(x, codes, 5)
    for j in range(2):
        frame = pd.DataFrame({"x": x[:, j], "g": codes})
        frame = frame[(frame.g >= 0) & frame.x.notna()]
        means = frame.groupby("g")["x"].transform("mean")
        ratio = ((means - frame.x.mean()) ** 2).sum() / ((frame.x - frame.x.mean()) ** 2).sum()
        assert eta[j] == pytest.approx(math.sqrt(ratio), abs=1e-9)
        assert counts[j] == len(frame)


def test_fisher_z_pvalue_by_hand():
    # atanh(0.5) = 0.5493061443, atanh(0.3) = 0.3095196042, se = sqrt(2/100);
    # z = 1.695525..., two-sided p = 2·(1 − Φ(z)).
    z = (0.5493061443 - 0.3095196042) / math.sqrt(2 / 100)
    expected = math.erfc(z / math.sqrt(2))
    assert measures.fisher_z_pvalue(0.5, 103, 0.3, 103) == pytest.approx(expected, rel=1e-8)
    assert measures.fisher_z_pvalue(0.5, 103, 0.5, 2000) == pytest.approx(1.0)
    assert np.isnan(measures.fisher_z_pvalue(np.nan, 100, 0.3, 100))
