"""Drift statistics on already-summarised data: sorted samples or count vectors (numpy only).

The data layer hands over sorted values (numeric) or aligned counts (categorical), so these
functions never see a DataFrame. KS and chi-square reproduce `scipy.stats.ks_2samp` (default
method) and `scipy.stats.chi2_contingency` exactly; scipy itself is imported lazily and only
for the KS p-value, to keep the CLI's start-up short.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

KS_EXACT_MAX_N = 10_000      # scipy's MAX_AUTO_N: 'auto' is exact when both sides are this small
PSI_BINS = 10
PSI_FLOOR = 1e-4             # share used for an empty bin, so PSI stays finite
_BLOCK = 1 << 20             # values per block when sweeping merged samples (bounds memory)


@dataclass(frozen=True)
class SortedPair:
    """KS statistic and unnormalised Wasserstein-1 distance of two sorted samples."""

    ks_statistic: float
    wasserstein: float


def ks_and_wasserstein(a: np.ndarray, b: np.ndarray) -> SortedPair:
    """KS statistic (bit-identical to scipy's) and Wasserstein-1 distance from sorted samples.

    Sweeps the merged values in blocks: at every value both empirical CDFs are evaluated
    with `searchsorted(side='right')`, exactly as scipy does, without holding n-sized
    temporaries for the whole merged sample.
    """
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples need at least one value")
    merged = np.concatenate([a, b])
    merged.sort(kind="stable")  # two sorted runs: timsort merges them in linear time
    max_plus = -np.inf
    max_minus = -np.inf
    w_total = 0.0
    for start in range(0, len(merged), _BLOCK):
        block = merged[start:start + _BLOCK + 1]  # one overlap value for the deltas
        cdf1 = np.searchsorted(a, block, side="right") / n1
        cdf2 = np.searchsorted(b, block, side="right") / n2
        diff = cdf1 - cdf2
        last = len(block) if start + _BLOCK >= len(merged) else len(block) - 1
        max_plus = max(max_plus, float(diff[:last].max()))
        max_minus = max(max_minus, float((-diff[:last]).max()))
        w_total += float(np.sum(np.abs(diff[:-1]) * np.diff(block)))
    d = max(max_plus, min(max(max_minus, 0.0), 1.0))
    return SortedPair(ks_statistic=float(d), wasserstein=w_total)


def ks_test(a: np.ndarray, b: np.ndarray, d: float) -> tuple[float, float]:
    """Two-sided KS (statistic, p-value) exactly as `scipy.stats.ks_2samp(a, b)` returns them.

    `d` is the raw statistic from `ks_and_wasserstein`. When both sides have at most 10,000
    values scipy's exact method applies (it also snaps d to a multiple of 1/lcm(n1, n2)), so
    scipy is called on the (then small) samples; above that, Smirnov's asymptotic
    distribution `kstwo.sf(d, round(n1*n2/(n1+n2)))`, as scipy's 'auto' does.
    """
    from scipy import stats  # lazy: a 0.5 s import the CLI only pays when testing numbers

    n1, n2 = len(a), len(b)
    if max(n1, n2) <= KS_EXACT_MAX_N:
        result = stats.ks_2samp(a, b)
        return float(result.statistic), float(result.pvalue)
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return d, float(np.clip(stats.kstwo.sf(d, np.round(en)), 0, 1))


def psi_from_counts(reference: np.ndarray, current: np.ndarray, floor: float = PSI_FLOOR
                    ) -> float:
    """Population stability index sum((c - r) * ln(c / r)) over shares; empty bins -> `floor`."""
    r = np.asarray(reference, dtype=float)
    c = np.asarray(current, dtype=float)
    if r.sum() <= 0 or c.sum() <= 0:
        return float("nan")
    r = np.maximum(r / r.sum(), floor)
    c = np.maximum(c / c.sum(), floor)
    return float(np.sum((c - r) * np.log(c / r)))


def psi_edges(reference_sorted: np.ndarray, bins: int = PSI_BINS) -> np.ndarray:
    """Inner bin edges at the reference's deciles (linear quantiles), duplicates removed."""
    probs = np.arange(1, bins) / bins
    return np.unique(np.quantile(reference_sorted, probs))


def binned_counts(values_sorted: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    """Counts in bins (-inf, e1), [e1, e2), …, [ek, inf) of a sorted sample."""
    below = np.searchsorted(values_sorted, inner_edges, side="left")
    return np.diff(np.concatenate([[0], below, [len(values_sorted)]]))


def psi_numeric(reference_sorted: np.ndarray, current_sorted: np.ndarray,
                bins: int = PSI_BINS) -> float:
    """PSI on reference-decile bins (left-closed bins, as `data.histogram` counts)."""
    edges = psi_edges(reference_sorted, bins)
    return psi_from_counts(binned_counts(reference_sorted, edges),
                           binned_counts(current_sorted, edges))


def jensen_shannon(reference: np.ndarray, current: np.ndarray) -> float:
    """Jensen–Shannon distance (natural log, as `scipy.spatial.distance.jensenshannon`)."""
    p = np.asarray(reference, dtype=float)
    q = np.asarray(current, dtype=float)
    if p.sum() <= 0 or q.sum() <= 0:
        return float("nan")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log(p / m), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log(q / m), 0.0).sum()
    return float(math.sqrt(max((kl_p + kl_q) / 2, 0.0)))


def chi2_two_sample(reference: np.ndarray, current: np.ndarray) -> tuple[float, float, int]:
    """Chi-square test of the 2×k count table, as `scipy.stats.chi2_contingency` computes it
    (Yates' correction when there is one degree of freedom). Returns (statistic, p, dof)."""
    from scipy.special import chdtrc  # chi2.sf

    observed = np.vstack([np.asarray(reference, dtype=float), np.asarray(current, dtype=float)])
    observed = observed[:, observed.sum(axis=0) > 0]
    dof = observed.shape[1] - 1
    if dof <= 0:
        return 0.0, 1.0, 0
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    if dof == 1:
        diff = expected - observed
        observed = observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    stat = float(np.sum((observed - expected) ** 2 / expected))
    return stat, float(chdtrc(dof, stat)), dof
