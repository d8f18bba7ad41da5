"""How far a drift statistic strays for a chunk without drift: its null distribution.

A chunk of n values drawn from the reference (N values) differs from it by sampling noise
alone. The statistics over time are computed from counts, so that noise is cheap to simulate:
`NULL_DRAWS` seeded multinomial draws of a chunk's counts over the reference's categories
(numeric columns: over `NULL_BINS` equal-mass bins of the reference, halving towards both
tails down to single values so a heavy tail keeps its share of the distance, each bin at its
mean; PSI: its decile bins), each scored against the reference. A chunk compared with the
whole reference behaves like one draw of the effective size n·N/(n + N) (a reference chunk
against the rest: n·(N - n)/N); sizes are rounded down to a quarter octave, so similar
chunks share one simulation and a rounded threshold errs on the wide side.

The alert quantile lies far in the tail (α = 0.135 % for 3σ), beyond what a thousand draws
resolve, so it is extrapolated: the squared distance (PSI itself) has an exponential upper
tail (a Gaussian-process norm, or a chi-square), so the draws above their 90 % quantile u are
fitted by u + Exp(β), β their mean excess, and the (1 - α) quantile is u + β·ln(0.1 / α).
Checked against 200,000 draws: within 4 % at α = 0.135 % for uniform, lognormal, exponential,
discrete and binary data (a moment-matched scaled chi-square was 5-10 % low). Seeded per
column name and size: the same data always gives the same thresholds.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from aidebt_core.drift import stats

NULL_DRAWS = 1000     # bootstrap draws per column and chunk-size class
NULL_BINS = 64        # equal-mass bins a numeric reference is summarised by
TAIL_FROM = 0.1       # the exponential tail is fitted to the draws above this quantile
NULL_SEED = 20250101


def tail_probability(sigmas: float) -> float:
    """One-sided normal tail beyond `sigmas` (3 -> 0.135 %): the false-alert rate per column
    and chunk that a band of `sigmas` stands for."""
    return 0.5 * math.erfc(sigmas / math.sqrt(2))


@dataclass(frozen=True, eq=False)
class Null:
    """What a chunk drawn from the reference looks like, on counts: the reference's shares
    over its bins / categories and the statistic of a batch of drawn count rows."""

    shares: np.ndarray
    score: Callable[[np.ndarray], np.ndarray]   # (draws × bins) counts -> statistic per draw
    squared: bool                               # True: statistic² is the quadratic form


def _size_class(n_eff: float) -> int:
    """Round an effective chunk size down to a quarter octave (a conservative, shared size)."""
    return max(1, int(2 ** (math.floor(math.log2(max(n_eff, 1.0)) * 4) / 4)))


def noise_thresholds(null: Null | None, sizes: np.ndarray, n_ref: int, alpha: float,
                     column: str) -> np.ndarray:
    """Per chunk (`sizes`: values per chunk, the first `n_ref` from the reference): the
    (1 - alpha) quantile of the statistic for a chunk of that size without drift."""
    out = np.full(len(sizes), np.nan)
    if null is None:
        return out
    total = float(sizes[:n_ref].sum())
    n = sizes.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(np.arange(len(sizes)) < n_ref, n * (total - n) / total,
                         n * total / (n + total))
    seed = zlib.crc32(column.encode())
    cache: dict[int, float] = {}
    for j, m in enumerate(n_eff):
        if not (np.isfinite(m) and m >= 1):
            continue
        size = _size_class(m)
        if size not in cache:
            rng = np.random.default_rng([NULL_SEED, seed, size])
            draws = null.score(rng.multinomial(size, null.shares, size=NULL_DRAWS))
            q = draws ** 2 if null.squared else draws
            x = _upper_quantile(q, alpha)
            cache[size] = math.sqrt(x) if null.squared else x
        out[j] = cache[size]
    return out


def _upper_quantile(q: np.ndarray, alpha: float) -> float:
    """The (1 - alpha) quantile of `q`, extrapolated by an exponential tail when alpha is
    below `TAIL_FROM` (see the module docstring)."""
    if alpha >= TAIL_FROM:
        return float(np.quantile(q, 1 - alpha))
    u = float(np.quantile(q, 1 - TAIL_FROM))
    excess = q[q > u] - u
    beta = float(excess.mean()) if len(excess) else 0.0
    return u + beta * math.log(TAIL_FROM / alpha)


def _js_rows(base: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Jensen–Shannon distance of `base` shares to each row of `counts` (as `jensen_shannon`)."""
    p = base / base.sum()
    q = counts / counts.sum(axis=1, keepdims=True)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log(p / m), 0.0).sum(axis=1)
        kl_q = np.where(q > 0, q * np.log(q / m), 0.0).sum(axis=1)
    return np.sqrt(np.maximum((kl_p + kl_q) / 2, 0.0))


def _psi_rows(base: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """PSI of each row of `counts` against `base` (as `stats.psi_from_counts`)."""
    r = np.maximum(base / base.sum(), stats.PSI_FLOOR)
    c = np.maximum(counts / counts.sum(axis=1, keepdims=True), stats.PSI_FLOOR)
    return np.sum((c - r) * np.log(c / r), axis=1)


def numeric_null(whole: stats.Sample, method: str) -> Null | None:
    scale = stats.overflow_scale(whole.values)  # values near ±1e308: W/std is scale-free
    v, n = whole.values * scale, whole.n
    std = whole.std(scale=scale)
    if n < 2 or not std > 0:
        return None
    if method == "psi":
        edges = np.unique(whole.quantile(np.arange(1, stats.PSI_BINS) / stats.PSI_BINS))
        base = np.diff(np.concatenate([[0], whole.count_below(edges), [n]])).astype(float)
        return Null(base / n, lambda c: _psi_rows(base, c), squared=False)
    # Equal-mass bins, halving towards both tails (down to single values: a heavy tail's
    # share of the distance is kept); runs of equal values are never split; bins sit at
    # their means.
    tails = 2.0 ** -np.arange(math.log2(NULL_BINS) + 1, math.log2(n) + 1)
    probs = np.concatenate([np.arange(1, NULL_BINS) / NULL_BINS, tails, 1 - tails])
    cuts = v[np.unique(np.clip((probs * n).astype(np.int64), 1, n - 1))]
    starts = np.unique(np.concatenate([[0], np.searchsorted(v, cuts, side="left")]))
    counts = np.diff(np.append(starts, n)).astype(float)
    support = np.add.reduceat(v, starts) / counts
    shares = counts / n
    cdf, widths = np.cumsum(shares)[:-1], np.diff(support)

    def wasserstein(c: np.ndarray) -> np.ndarray:
        drawn = np.cumsum(c / c.sum(axis=1, keepdims=True), axis=1)[:, :-1]
        return np.abs(drawn - cdf) @ widths / std

    return Null(shares, wasserstein, squared=True)


def categorical_null(reference_counts: np.ndarray, method: str) -> Null | None:
    """The null of Jensen–Shannon distance (or PSI) against the reference's category counts."""
    seen = reference_counts > 0
    if reference_counts.sum() < 2:
        return None
    base = reference_counts[seen].astype(float)
    rows = _psi_rows if method == "psi" else _js_rows
    return Null(base / base.sum(), lambda c: rows(base, c), squared=method != "psi")
