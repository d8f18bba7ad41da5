"""Intervals and tests for slice metrics: Wilson, Poisson bootstrap, z/Welch tests, BH q-values.

All functions are vectorised over slices so discovery can test thousands of them at once.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from aidebt_core.errors import OptionError

_ERFC = np.frompyfunc(math.erfc, 1, 1)


def normal_two_sided(z) -> np.ndarray:
    """2·P(Z > |z|) for a standard normal Z (erfc keeps the far tail: 1e-300, not 0).

    The standard library's erfc, not scipy: `aidebt slices` on 10k rows should not spend a
    fifth of a second importing scipy.special."""
    z = np.abs(np.asarray(z, dtype=np.float64))
    out = np.full(z.shape, np.nan)
    ok = ~np.isnan(z)
    out[ok] = _ERFC(z[ok] / math.sqrt(2)).astype(np.float64)
    return out


def z_value(confidence: float) -> float:
    """Two-sided normal quantile for a confidence level (0.95 -> 1.959964)."""
    if not 0 < confidence < 1:
        raise OptionError(f"confidence must be between 0 and 1, got {confidence}")
    return float(NormalDist().inv_cdf(0.5 + confidence / 2))


def wilson_interval(successes, trials, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for proportions successes/trials (NaN where trials == 0)."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z = z_value(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    bad = ~(n > 0)
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def two_proportion_p(k1, n1, k2, n2) -> np.ndarray:
    """Two-sided pooled z-test of k1/n1 vs k2/n2 (= chi-square on the 2x2 table, no correction)."""
    k1, n1, k2, n2 = (np.asarray(a, dtype=float) for a in (k1, n1, k2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (k1 + k2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (k1 / n1 - k2 / n2) / se
    p = normal_two_sided(z)
    # Identical proportions with zero pooled variance (all 0 or all 1): no evidence of a difference.
    p = np.where((se == 0) & (n1 > 0) & (n2 > 0), 1.0, p)
    return np.where((n1 > 0) & (n2 > 0), p, np.nan)


def welch_p(n1, s1, ss1, n2, s2, ss2) -> np.ndarray:
    """Two-sided Welch t-test from counts, sums and sums of squares of two groups."""
    n1, s1, ss1, n2, s2, ss2 = (np.asarray(a, dtype=float) for a in (n1, s1, ss1, n2, s2, ss2))
    with np.errstate(invalid="ignore", divide="ignore"):
        m1, m2 = s1 / n1, s2 / n2
        v1 = np.maximum(ss1 - n1 * m1 * m1, 0) / (n1 - 1)
        v2 = np.maximum(ss2 - n2 * m2 * m2, 0) / (n2 - 1)
        a, b = v1 / n1, v2 / n2
        t = (m1 - m2) / np.sqrt(a + b)
        df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    from scipy import special  # Student t: only regression and score losses need it

    p = 2 * special.stdtr(df, -np.abs(t))  # two-sided Student t tail
    p = np.where((a + b == 0) & (m1 == m2), 1.0, p)
    return np.where((n1 > 1) & (n2 > 1), p, np.nan)


def normal_diff_p(est1, se1, est2, se2) -> np.ndarray:
    """Two-sided z-test of est1 - est2 with independent standard errors."""
    est1, se1, est2, se2 = (np.asarray(a, dtype=float) for a in (est1, se1, est2, se2))
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(se1 ** 2 + se2 ** 2)
        z = (est1 - est2) / se
    p = normal_two_sided(z)
    return np.where((se == 0) & (est1 == est2), 1.0, p)


def bh_qvalues(p_values, total_tests: int | None = None) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN p-values stay NaN.

    `total_tests` > len(p) counts hypotheses that were examined but pruned without a p-value as
    p = 1, which is conservative: q equals BH on the p-values padded with ones.
    """
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    vals = p[ok]
    m = max(int(total_tests or 0), vals.size)
    if vals.size == 0:
        return q
    order = np.argsort(vals, kind="mergesort")
    ranked = vals[order] * m / np.arange(1, vals.size + 1)
    # Padded ones rank after every real p-value and contribute min(1, ...) = 1 to the running min.
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(vals)
    out[order] = np.clip(adjusted, 0, 1)
    q[ok] = out
    return q


# Poisson(1) CDF: P(X <= k) for k = 0..11 (the tail beyond 11 is below 1e-9).
_POISSON1_CDF = np.cumsum([np.exp(-1.0) / np.prod(np.arange(1, k + 1)) for k in range(12)])


def poisson_weights(rng: np.random.Generator, replicates: int, rows: int) -> np.ndarray:
    """Poisson(1) bootstrap weights, one row per replicate (float32 to keep memory small).

    Drawn by inverting the CDF of uniform float32s (a weight is the number of CDF steps below
    its uniform): ~10x faster than `rng.poisson` for the millions of weights a bootstrap of a
    large table needs, with the same distribution up to a 1e-9 tail."""
    u = rng.random((replicates, rows), dtype=np.float32)
    out = np.zeros((replicates, rows), dtype=np.float32)
    for step in _POISSON1_CDF[:-1]:
        out += u > np.float32(step)
    return out


def percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile bootstrap interval of finite replicate values (NaN if fewer than 10)."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size < 10:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def weighted_auc(score: np.ndarray, positive: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC (Mann–Whitney, ties count 1/2) for each column of `weights` (rows x replicates)."""
    order = np.argsort(score, kind="mergesort")
    s, pos = score[order], positive[order].astype(bool)
    w = weights.reshape(len(score), -1)[order]
    w_pos, w_neg = np.where(pos[:, None], w, 0), np.where(pos[:, None], 0, w)
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    if starts.size < s.size:  # tied scores: pool each run of equal scores
        w_pos = np.add.reduceat(w_pos, starts, axis=0)
        w_neg = np.add.reduceat(w_neg, starts, axis=0)
    below = np.cumsum(w_neg, axis=0) - w_neg
    num = (w_pos * (below + 0.5 * w_neg)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / (w_pos.sum(axis=0) * w_neg.sum(axis=0))
