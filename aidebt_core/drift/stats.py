"""Drift statistics on already-summarised data: sorted samples or count vectors (numpy only).

The data layer hands over sorted values (numeric) or aligned counts (categorical), so these
functions never see a DataFrame. KS and chi-square reproduce `scipy.stats.ks_2samp` (default
method) and `scipy.stats.chi2_contingency` exactly; `scipy.stats` is imported only for exact
KS p-values on small samples, to keep the CLI's start-up short.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aidebt_core.drift.chisquare import chi2_sf
from aidebt_core.drift.kolmogorov import kstwo_sf

KS_EXACT_MAX_N = 10_000      # scipy's MAX_AUTO_N: 'auto' is exact when both sides are this small
PSI_BINS = 10
PSI_FLOOR = 1e-4             # share used for an empty bin, so PSI stays finite
_BLOCK = 1 << 18             # merged positions per block when sweeping the two samples
# Above this magnitude squares (std) and differences (Wasserstein, quantiles) can overflow
# float64, so values are multiplied by a power of two first (exact: only the exponent moves).
_SAFE_MAGNITUDE = 2.0 ** 500


def overflow_scale(*arrays: np.ndarray) -> float:
    """1.0 for ordinary values; for values near ±1e308 the power of two that brings the
    largest magnitude into [0.5, 1), so squares and differences stay finite."""
    largest = max((float(np.max(np.abs(a))) for a in arrays if len(a)), default=0.0)
    if not math.isfinite(largest) or largest <= _SAFE_MAGNITUDE:
        return 1.0
    return math.ldexp(1.0, -math.frexp(largest)[1])


@dataclass(frozen=True, eq=False)
class Sample:
    """A numeric sample as sorted values, with a count per value when it came from a GROUP BY
    (`counts=None` means every value counts once)."""

    values: np.ndarray
    counts: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.values) if self.counts is None else int(self.counts.sum())

    def sorted(self) -> Sample:
        """This sample with its values sorted (GROUP BY samples arrive sorted)."""
        if self.counts is None:
            self.values.sort()
        return self

    def expand(self) -> np.ndarray:
        """Every value, repeated by its count (only for small samples)."""
        return self.values if self.counts is None else np.repeat(self.values, self.counts)

    def std(self, scale: float | None = None) -> float:
        """Population standard deviation (ddof=0, as `np.std`). With `scale`, the std of the
        values times `scale`; without, computed on scaled values when they are extreme and
        scaled back, so values near ±1e308 do not overflow in the squares."""
        factor = overflow_scale(self.values) if scale is None else scale
        values = self.values if factor == 1.0 else self.values * factor
        if self.counts is None:
            std = float(np.std(values))
        else:
            w = self.counts / self.counts.sum()
            mean = float(np.sum(w * values))
            std = float(np.sqrt(np.sum(w * (values - mean) ** 2)))
        return std / factor if scale is None else std

    def quantile(self, probs: np.ndarray) -> np.ndarray:
        """Linear-interpolation quantiles (numpy's default), from values and counts."""
        factor = overflow_scale(self.values)
        if factor != 1.0:  # extreme values: interpolate on scaled values, scale back
            scaled = Sample(self.values * factor, self.counts)
            return scaled.quantile(probs) / factor
        if self.counts is None:
            return np.quantile(self.values, probs)
        h = (self.n - 1) * np.asarray(probs, dtype=float)
        lo, hi = np.floor(h).astype(np.int64), np.ceil(h).astype(np.int64)
        cum = np.cumsum(self.counts)
        v_lo = self.values[np.searchsorted(cum, lo, side="right")]
        v_hi = self.values[np.searchsorted(cum, hi, side="right")]
        return v_lo + (h - lo) * (v_hi - v_lo)

    def count_below(self, edges: np.ndarray) -> np.ndarray:
        """How many values are strictly below each edge."""
        idx = np.searchsorted(self.values, edges, side="left")
        if self.counts is None:
            return idx
        return np.concatenate([[0], np.cumsum(self.counts)])[idx]


@dataclass(frozen=True)
class SortedPair:
    """KS statistic and unnormalised Wasserstein-1 distance of two sorted samples.

    `scaled_wasserstein` is the distance between the samples times `scale` (1.0 unless the
    values are near ±1e308); `wasserstein` is it scaled back, which overflows to inf only when
    the true distance exceeds the float range. Ratios use the scaled value (`normalised`).
    """

    ks_statistic: float
    wasserstein: float
    scale: float = 1.0
    scaled_wasserstein: float | None = None

    def normalised(self, reference: Sample) -> float:
        """The distance in units of the reference's std (0 or inf for a constant one)."""
        w = self.wasserstein if self.scaled_wasserstein is None else self.scaled_wasserstein
        std = reference.std(scale=self.scale)
        if std > 0:
            return w / std
        return 0.0 if w == 0 else float("inf")


def ks_and_wasserstein(a: np.ndarray, b: np.ndarray, a_counts: np.ndarray | None = None,
                       b_counts: np.ndarray | None = None) -> SortedPair:
    """KS statistic (bit-identical to scipy's) and Wasserstein-1 distance of two samples given
    as sorted values, optionally with a count per value (as a GROUP BY returns them).

    The two sorted runs are merged (a stable sort: linear for timsort), and every merged
    position is labelled with its side (b's positions are `searchsorted(a, b, 'right') + j`,
    since ties keep a first). Cumulative counts at the last value of each tie group are
    exactly the `searchsorted(side='right')` counts scipy divides by n, so D is the same float,
    and the Wasserstein integral sums |F1 - F2| over the same steps. The sweep runs in blocks
    with a running count, so memory stays near 1.5 copies of the merged values. Value steps
    are taken on values times `overflow_scale` (a power of two), so ±1e308 does not overflow.
    """
    if len(a) == 0 or len(b) == 0:
        raise ValueError("both samples need at least one value")
    scale = overflow_scale(a[[0, -1]], b[[0, -1]])  # sorted: the ends hold the extremes
    values = np.concatenate([a, b])
    values.sort(kind="stable")
    from_b = np.zeros(len(values), dtype=bool)
    pos_b = np.searchsorted(a, b, side="right")
    pos_b += np.arange(len(b), dtype=pos_b.dtype)
    from_b[pos_b] = True
    del pos_b
    if a_counts is None and b_counts is None:
        weights, n1, n2 = None, len(a), len(b)
    else:
        weights = np.ones(len(values), dtype=np.int64)
        if b_counts is not None:
            weights[from_b] = b_counts
        if a_counts is not None:
            weights[~from_b] = a_counts
        n1, n2 = int(weights[~from_b].sum()), int(weights[from_b].sum())
    total = len(values)
    max_plus = max_minus = -np.inf
    w_total = 0.0
    carry_a = carry_b = 0
    last_diff = last_value = None
    for start in range(0, total, _BLOCK):
        stop = min(start + _BLOCK, total)
        nxt = values[start:min(stop + 1, total)]
        ends = np.flatnonzero(nxt[1:] != nxt[:-1])  # last position of each run of equal values
        if stop == total:
            ends = np.append(ends, stop - start - 1)
        side = from_b[start:stop]
        if weights is None:
            cum_b = np.cumsum(side, dtype=np.int64) + carry_b
            cum_a = np.arange(start + 1, stop + 1, dtype=np.int64) - cum_b
        else:
            w = weights[start:stop]
            cum_b = np.cumsum(np.where(side, w, 0)) + carry_b
            cum_a = np.cumsum(np.where(side, 0, w)) + carry_a
        carry_a, carry_b = int(cum_a[-1]), int(cum_b[-1])
        if len(ends) == 0:
            continue
        diff = cum_a[ends] / n1 - cum_b[ends] / n2
        max_plus = max(max_plus, float(diff.max()))
        max_minus = max(max_minus, float((-diff).max()))
        v = values[start:stop][ends]
        if scale != 1.0:
            v = v * scale
        if last_diff is not None:
            w_total += abs(last_diff) * (v[0] - last_value)
        w_total += float(np.sum(np.abs(diff[:-1]) * np.diff(v)))
        last_diff, last_value = float(diff[-1]), float(v[-1])
    d = max(max_plus, min(max(max_minus, 0.0), 1.0))
    if scale == 1.0:
        return SortedPair(ks_statistic=d, wasserstein=w_total)
    with np.errstate(over="ignore"):  # inf only if the true distance exceeds the float range
        raw = float(np.float64(w_total) / scale)
    return SortedPair(ks_statistic=d, wasserstein=raw, scale=scale, scaled_wasserstein=w_total)


def ks_test(a: Sample, b: Sample, d: float) -> tuple[float, float]:
    """Two-sided KS (statistic, p-value) exactly as `scipy.stats.ks_2samp(a, b)` returns them.

    `d` is the raw statistic from `ks_and_wasserstein`. When both sides have at most 10,000
    values scipy's exact method applies (it also snaps d to a multiple of 1/lcm(n1, n2)), so
    scipy is called on the (then small) samples; above that, Smirnov's asymptotic
    distribution `kstwo.sf(d, round(n1*n2/(n1+n2)))`, as scipy's 'auto' does (reproduced in
    `kolmogorov`, so large data never waits for the `scipy.stats` import).
    """
    n1, n2 = a.n, b.n
    if max(n1, n2) <= KS_EXACT_MAX_N:
        from scipy import stats  # lazy: a 0.5 s import, paid only for small samples

        result = stats.ks_2samp(a.expand(), b.expand())
        return float(result.statistic), float(result.pvalue)
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return d, kstwo_sf(d, int(np.round(en)))


def numeric_measures(reference: Sample, current: Sample) -> dict[str, float]:
    """KS (statistic, p), Wasserstein normed by the reference std (and raw), PSI."""
    pair = ks_and_wasserstein(reference.values, current.values, reference.counts,
                              current.counts)
    d, p = ks_test(reference, current, pair.ks_statistic)
    std = reference.std()
    # a constant reference: any move is infinitely many of its (zero) stds
    w_norm = pair.normalised(reference)
    return {"ks": d, "ks_p_value": p, "wasserstein": w_norm,
            "wasserstein_raw": pair.wasserstein, "psi": psi_numeric(reference, current),
            "reference_std": std}


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


def psi_numeric(reference: Sample, current: Sample, bins: int = PSI_BINS) -> float:
    """PSI on bins cut at the reference's deciles (bins [e_i, e_i+1), open at both ends, as
    `data.histogram` counts them); tied deciles are merged."""
    edges = np.unique(reference.quantile(np.arange(1, bins) / bins))

    def counts(sample: Sample) -> np.ndarray:
        return np.diff(np.concatenate([[0], sample.count_below(edges), [sample.n]]))

    return psi_from_counts(counts(reference), counts(current))


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
    return stat, chi2_sf(dof, stat), dof  # scipy's chdtrc, without importing scipy
