"""Drift over time from profiles chunked by calendar period (`DatasetProfile.chunks`).

The same chunks, methods, thresholds and bands as `aidebt_core.drift.over_time`, computed
from each chunk's column profile instead of the rows:

* a column counted value by value in every chunk (categorical values with nothing folded,
  few-valued numeric columns) is **exact**: the chunk and leave-one-out bases are count
  vectors / counted samples, scored by the very method functions the row path uses, and the
  sampling-noise null is built from the same counts (same shares, same seeded draws);
* a numeric column binned on the plan's grid is `exact: false`: the Wasserstein distance of
  each chunk is read from the histograms with its `bound` (`profiles.drift.binned_measures`:
  the true value lies within ± bound), PSI on the grid's decile groups (no bound), and the
  noise null is built from the bins at their midpoints (an approximate threshold);
* a categorical column folded beyond the profile's top-k is `exact: false` (no bound).

A leave-one-out reference chunk is the merged reference minus that chunk: counts, bins and
sums subtract exactly. Missing shares are exact (missing / rows per chunk).

Chunks with a timestamp come from the profile keys; their `partial` marks need each chunk's
first and last timestamp, which a profile does not hold: a side that is a DuckDB table is
chunked by `chunks.plan_chunks` (one GROUP BY on the time column, rows checked equal to the
profile's), a saved profile or a Spark side reports `partial: false` and says so in a note.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from aidebt_core.chunks import MIN_CHUNK_ROWS, Chunk, Chunking, plan_chunks, side_labels
from aidebt_core.drift import methods, stats
from aidebt_core.drift.chunk_info import ChunkInfo
from aidebt_core.drift.collect import OTHER
from aidebt_core.drift.noise import (
    NULL_BINS,
    Null,
    noise_thresholds,
    tail_probability,
)
from aidebt_core.drift.over_time import (
    MAX_CATEGORIES,
    OverTimeResult,
    alert_bands,
    check_options,
    chunk_method,
)
from aidebt_core.errors import AidebtError, SchemaError
from aidebt_core.profiles.drift import binned_measures
from aidebt_core.profiles.model import (
    CATEGORICAL,
    ColumnProfile,
    DatasetProfile,
    Grid,
    to_bins,
)
from aidebt_core.profiles.periods import dated_chunks, period_chunks, spans_known


class ViewUnavailable(AidebtError):
    """A view cannot be computed from the profiles at hand; the message says why in one
    line (pages show it as a note, the CLI prints it and leaves the view out)."""


# ---------------------------------------------------------------------------- chunks

def _chunk_infos(ref: list[Chunk], cur: list[Chunk], chunking: Chunking) -> tuple[ChunkInfo,
                                                                                  ...]:
    labels = side_labels(ref, cur, chunking)
    return tuple(ChunkInfo(label, c.start, c.end, c.rows, period, c.partial, c.too_small)
                 for chunks, period, names in zip((ref, cur), ("reference", "current"), labels,
                                                  strict=True)
                 for c, label in zip(chunks, names, strict=True))


# ---------------------------------------------------------------------------- counted samples

def _sample(col: ColumnProfile) -> stats.Sample:
    values = np.array([v for v, _ in col.values or ()], dtype=np.float64)
    counts = np.array([n for _, n in col.values or ()], dtype=np.int64)
    return stats.Sample(values, counts)


def _pool(samples: Sequence[stats.Sample]) -> stats.Sample:
    """The counted sample of several counted samples together (sorted distinct values)."""
    if not samples:
        return stats.Sample(np.array([]), np.array([], dtype=np.int64))
    values = np.concatenate([s.values for s in samples])
    counts = np.concatenate([s.counts for s in samples])
    distinct, inverse = np.unique(values, return_inverse=True)
    return stats.Sample(distinct, np.bincount(inverse, weights=counts,
                                              minlength=len(distinct)).astype(np.int64))


def _minus(whole: stats.Sample, part: stats.Sample) -> stats.Sample:
    """`whole` without the rows of `part` (part's values are among whole's)."""
    counts = whole.counts.copy()
    if len(part.values):
        np.subtract.at(counts, np.searchsorted(whole.values, part.values), part.counts)
    keep = counts > 0
    return stats.Sample(whole.values[keep], counts[keep])


def counted_wasserstein_null(whole: stats.Sample, std: float | None = None) -> Null | None:
    """`noise.numeric_null(whole, "wasserstein")` for a counted sample, without expanding it:
    the same equal-mass bins (positions in the expanded order mapped to values through the
    cumulative counts), the same shares (so the same seeded draws) and the bins' means from
    prefix sums. `std` overrides the sample's (a binned column's std from its exact sums)."""
    values, counts = whole.values, whole.counts
    n = int(counts.sum())
    if n < 2:
        return None
    scale = stats.overflow_scale(values)
    v = values * scale
    std = whole.std(scale=scale) if std is None else std * scale
    if not std > 0:
        return None
    cum = np.cumsum(counts)
    tails = 2.0 ** -np.arange(math.log2(NULL_BINS) + 1, math.log2(n) + 1)
    probs = np.concatenate([np.arange(1, NULL_BINS) / NULL_BINS, tails, 1 - tails])
    positions = np.unique(np.clip((probs * n).astype(np.int64), 1, n - 1))
    cuts = v[np.searchsorted(cum, positions, side="right")]
    below = np.concatenate([[0], cum])[np.searchsorted(v, cuts, side="left")]
    starts = np.unique(np.concatenate([[0], below]))
    sizes = np.diff(np.append(starts, n)).astype(float)
    # The rows of a bin are whole runs of equal values: its sum from the prefix sums.
    prefix = np.concatenate([[0.0], np.cumsum(v * counts)])
    at = np.searchsorted(np.concatenate([[0], cum]), np.append(starts, n))
    support = np.diff(prefix[at]) / sizes
    shares = sizes / n
    cdf, widths = np.cumsum(shares)[:-1], np.diff(support)

    def wasserstein(c: np.ndarray) -> np.ndarray:
        drawn = np.cumsum(c / c.sum(axis=1, keepdims=True), axis=1)[:, :-1]
        return np.abs(drawn - cdf) @ widths / std

    return Null(shares, wasserstein, squared=True)


def _numeric_null(method: methods.Method, whole: stats.Sample, std: float | None = None
                  ) -> Null | None:
    if method.name == "wasserstein":
        return counted_wasserstein_null(whole, std)
    if method.name == "psi":   # deciles from counted quantiles: counts-aware as it is
        return method.null("numeric", whole)
    if whole.n > 5_000_000:
        raise ViewUnavailable(f"The {method.name} method's noise null needs every value; "
                              "from a profile drift over time uses wasserstein or psi.")
    return method.null("numeric", stats.Sample(whole.expand()))


# ---------------------------------------------------------------------------- one column

def _numeric_exact(ref_cols, cur_cols, method: methods.Method):
    ref = [_sample(c) for c in ref_cols]
    cur = [_sample(c) for c in cur_cols]
    whole = _pool(ref)

    def score(base: stats.Sample, chunk: stats.Sample) -> float:
        if base.n == 0 or chunk.n == 0:
            return np.nan
        return method.numeric(base, chunk)[0]

    out = [score(_minus(whole, c), c) for c in ref] + [score(whole, c) for c in cur]
    sizes = np.array([s.n for s in ref + cur])
    return np.array(out, dtype=float), sizes, _numeric_null(method, whole), None


def _sum_columns(cols: Sequence[ColumnProfile], grid: Grid) -> ColumnProfile:
    bins = np.sum([np.asarray(c.bins, dtype=np.int64) for c in cols], axis=0)
    lows = [c.minimum for c in cols if c.minimum is not None]
    highs = [c.maximum for c in cols if c.maximum is not None]
    return ColumnProfile(cols[0].name, cols[0].kind, sum(c.rows for c in cols),
                         sum(c.missing for c in cols), sum(c.inf for c in cols),
                         bins=tuple(int(b) for b in bins),
                         minimum=min(lows) if lows else None,
                         maximum=max(highs) if highs else None,
                         total=math.fsum(c.total for c in cols),
                         total_sq=math.fsum(c.total_sq for c in cols))


def _without(whole: ColumnProfile, part: ColumnProfile) -> ColumnProfile:
    """The reference without one chunk: bins and sums subtract (min/max stay the whole's, a
    wider closing of the open end bins: the bound only grows)."""
    from dataclasses import replace

    bins = np.asarray(whole.bins, dtype=np.int64) - np.asarray(part.bins, dtype=np.int64)
    return replace(whole, rows=whole.rows - part.rows, missing=whole.missing - part.missing,
                   inf=whole.inf - part.inf, bins=tuple(int(b) for b in bins),
                   total=whole.total - part.total, total_sq=whole.total_sq - part.total_sq)


def _midpoint_sample(col: ColumnProfile, grid: Grid) -> stats.Sample:
    """A binned column as a counted sample with every bin at its midpoint (the end bins
    closed by the column's min/max): what the noise null is drawn from."""
    lows, highs = grid.bin_bounds()
    lo = min(x for x in (col.minimum, grid.edges[0]) if x is not None)
    hi = max(x for x in (col.maximum, grid.edges[-1]) if x is not None)
    lows[0], highs[grid.cells * grid.fine + 1] = lo, hi
    mids = (lows + highs) / 2
    counts = np.asarray(col.bins, dtype=np.int64)
    keep = counts > 0
    distinct, inverse = np.unique(mids[keep], return_inverse=True)
    return stats.Sample(distinct, np.bincount(inverse, weights=counts[keep],
                                              minlength=len(distinct)).astype(np.int64))


def _numeric_binned(ref_cols, cur_cols, grid: Grid, method: methods.Method):
    ref = [to_bins(c, grid) for c in ref_cols]
    cur = [to_bins(c, grid) for c in cur_cols]
    whole = _sum_columns(ref, grid)
    measure = method.measure
    if measure not in ("wasserstein", "psi"):
        raise ViewUnavailable(f"Drift over time by {method.name} needs the values; a binned "
                              "profile gives wasserstein (with its bound) or psi.")
    out, bounds = [], []
    for base, chunk in [(_without(whole, c), c) for c in ref] + [(whole, c) for c in cur]:
        if base.present <= 0 or chunk.present <= 0:
            out.append(np.nan)
            bounds.append(np.nan)
            continue
        got = binned_measures(base, chunk, grid)
        out.append(got[measure])
        bounds.append(got["wasserstein_bound"] if measure == "wasserstein" else np.nan)
    sizes = np.array([c.present for c in ref + cur])
    std = _std(whole)
    null = _numeric_null(method, _midpoint_sample(whole, grid), std) if whole.present else None
    return np.array(out, dtype=float), sizes, null, np.array(bounds, dtype=float)


def _std(col: ColumnProfile) -> float:
    n = col.present
    if n <= 0:
        return float("nan")
    mean = col.total / n
    return float(math.sqrt(max(col.total_sq / n - mean * mean, 0.0)))


def _categorical(ref_cols, cur_cols, method: methods.Method):
    """As `drift.over_time._categorical_row` on the profile's value counts: the same
    categories in the same order (top MAX_CATEGORIES by total count, ties by value, then
    OTHER), so the same statistics and the same seeded null draws."""
    totals: dict[str, int] = {}
    for col in (*ref_cols, *cur_cols):
        for v, n in col.values or ():
            totals[v] = totals.get(v, 0) + n
    ranked = sorted(totals, key=lambda v: (-totals[v], v))
    keep = set(ranked[:MAX_CATEGORIES])
    folded = any(c.other for c in (*ref_cols, *cur_cols))
    categories = sorted(keep) + ([OTHER] if len(totals) > len(keep) or folded else [])
    index = {c: i for i, c in enumerate(categories)}

    def row(col: ColumnProfile) -> np.ndarray:
        out = np.zeros(len(categories), dtype=np.int64)
        for v, n in col.values or ():
            out[index.get(v, index.get(OTHER, 0))] += n
        if col.other:
            out[index[OTHER]] += col.other
        return out

    ref_m = np.array([row(c) for c in ref_cols]).reshape(len(ref_cols), len(categories))
    cur_m = np.array([row(c) for c in cur_cols]).reshape(len(cur_cols), len(categories))
    ref_total = ref_m.sum(axis=0)

    def score(base: np.ndarray, r: np.ndarray) -> float:
        return method.categorical(base, r)[0] if r.sum() and base.sum() else np.nan

    out = [score(ref_total - r, r) for r in ref_m] + [score(ref_total, r) for r in cur_m]
    sizes = np.concatenate([ref_m.sum(axis=1), cur_m.sum(axis=1)])
    return (np.array(out, dtype=float), sizes, method.null("categorical", ref_total), folded)


# ---------------------------------------------------------------------------- the analysis

def over_time_from_profiles(reference: DatasetProfile, current: DatasetProfile,
                            columns: Sequence[str], kinds: Sequence[str],
                            chunking: Chunking | str, *, method: str = "auto",
                            sigmas: float = 3.0, min_rows: int = MIN_CHUNK_ROWS,
                            spans: tuple = (None, None)) -> OverTimeResult:
    """`drift.over_time.drift_over_time` from two profiles chunked by `chunking`'s period.
    `spans`: per side, the `chunks.Chunk`s of its rows when they are at hand (partial marks)."""
    chunking = Chunking.parse(chunking) if isinstance(chunking, str) else chunking
    check_options(method, columns, sigmas)
    check_chunked(reference, current, chunking)
    ref_chunks, cur_chunks = dated_chunks(reference), dated_chunks(current)
    chunks = _chunk_infos(period_chunks(reference, chunking.kind, min_rows, spans[0]),
                          period_chunks(current, chunking.kind, min_rows, spans[1]), chunking)
    n_ref = len(ref_chunks)
    shape = (len(columns), len(chunks))
    values, missing, noise = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape,
                                                                                     np.nan)
    bounds = np.full(shape, np.nan)
    used, exact = [], []
    for i, (name, kind) in enumerate(zip(columns, kinds, strict=True)):
        plan = reference.plan.column(name)
        if plan.kind != kind:
            raise SchemaError(f"Column {name!r} is profiled as {plan.kind}, asked as {kind}; "
                              "profile it with --categorical to match.")
        ref_cols = [c.column(name) for c in ref_chunks]
        cur_cols = [c.column(name) for c in cur_chunks]
        scorer = chunk_method(method, kind)
        if kind == CATEGORICAL:
            row, sizes, null, folded = _categorical(ref_cols, cur_cols, scorer)
            exact.append(not folded)
        elif all(c.bins is None for c in (*ref_cols, *cur_cols)):
            row, sizes, null, _ = _numeric_exact(ref_cols, cur_cols, scorer)
            exact.append(True)
        else:
            row, sizes, null, bound = _numeric_binned(ref_cols, cur_cols, plan.grid, scorer)
            bounds[i] = bound
            exact.append(False)
        values[i] = row
        used.append(scorer.name)
        if n_ref >= 2:
            noise[i] = noise_thresholds(null, sizes, n_ref, tail_probability(sigmas), name)
        missing[i] = [c.missing / c.rows if c.rows else np.nan
                      for c in (*ref_cols, *cur_cols)]
    rows = np.array([c.rows for c in chunks], dtype=float)
    judged = np.array([not c.too_small for c in chunks], dtype=bool)
    thresholds, chunk_thresholds, low, high, source = alert_bands(
        values, missing, noise, rows, n_ref, used, sigmas, judged)
    known = [s is not None or spans_known(p) for s, p in zip(spans, (reference, current),
                                                             strict=True)]
    note = "" if all(known) else (
        "Partial periods are not known from a saved profile or a Spark source (shown as "
        "whole)")
    return OverTimeResult(chunks, tuple(columns), tuple(kinds), tuple(used), values,
                          thresholds, chunk_thresholds, missing, low, high, source,
                          float(sigmas), int(min_rows), str(chunking),
                          reference.plan.timestamp, method, exact=tuple(exact),
                          bounds=bounds, note=note)


def check_chunked(reference: DatasetProfile, current: DatasetProfile,
                  chunking: Chunking) -> None:
    """Both profiles chunked by `chunking`'s period, else ViewUnavailable saying why."""
    check_chunked_period(chunking)
    for profile in (reference, current):
        chunk = profile.plan.chunk
        if chunk != chunking.kind:
            raise ViewUnavailable(
                f"{profile.source or 'The profile'} is profiled "
                f"{'by ' + chunk if chunk else 'without chunks'}; drift over time by "
                f"{chunking.kind} needs a profile made with --timestamp T --chunk "
                f"{chunking.kind}.")
        if not dated_chunks(profile):
            raise ViewUnavailable(f"{profile.source or 'The profile'} has no chunk with a "
                                  "timestamp.")


# ---------------------------------------------------------------------------- the route

def over_time_route(reference, current, columns: Sequence[str], kinds: Sequence[str],
                    chunking: Chunking | str, timestamp: str | None, *, method: str = "auto",
                    sigmas: float = 3.0, min_rows: int = MIN_CHUNK_ROWS
                    ) -> OverTimeResult | None:
    """Drift over time from profiles when `route.decide` says so (a saved profile or a Spark
    side, or sides above the row threshold), else None (the rows path). Row chunks of large
    DuckDB tables keep the rows path; from a saved profile or Spark they are ViewUnavailable,
    as is a profile chunked by another period (one line saying why)."""
    from aidebt_core.profiles.route import decide, side_profiles
    from aidebt_core.profiles.source import ProfileTable, reads_rows

    if not decide(reference, current).use:
        return None
    chunking = Chunking.parse(chunking) if isinstance(chunking, str) else chunking
    tables = (reference, current)
    if not chunking.is_period:
        if all(reads_rows(t) for t in tables):
            return None
        check_chunked_period(chunking)
    saved = [t for t in tables if isinstance(t, ProfileTable)]
    if saved:
        plan = saved[0].profile.plan
        if plan.chunk != chunking.kind:
            raise ViewUnavailable(
                f"{saved[0].label} is profiled "
                f"{'by ' + plan.chunk if plan.chunk else 'without chunks'}; drift over time "
                f"by {chunking.kind} needs a profile made with --timestamp T --chunk "
                f"{chunking.kind}.")
        timestamp = plan.timestamp
    if not timestamp:
        raise ViewUnavailable(f"Drift over time by {chunking.kind} needs a time column.")
    forced = [c for c, k in zip(columns, kinds, strict=True) if k == CATEGORICAL]
    ref_p, cur_p = side_profiles(reference, current, None, columns=list(columns),
                                 categorical=forced, timestamp=timestamp,
                                 chunk=chunking.kind)
    spans = tuple(plan_chunks(t, chunking, timestamp, min_rows=min_rows).chunks
                  if reads_rows(t) else None for t in tables)
    return over_time_from_profiles(ref_p, cur_p, columns, kinds, chunking, method=method,
                                   sigmas=sigmas, min_rows=min_rows, spans=spans)


def first_timestamp(table):
    """When a saved profile's data starts: its first dated chunk's start (None without
    chunks, or for a source that is neither a profile nor rows)."""
    import pandas as pd

    profile = getattr(table, "profile", None)
    dated = dated_chunks(profile) if profile is not None else []
    return pd.Timestamp(dated[0].key) if dated else None


def check_chunked_period(chunking: Chunking) -> None:
    if not chunking.is_period:
        raise ViewUnavailable(f"Drift over time by {chunking} needs the rows in order; a "
                              "profile is chunked by calendar period (day/week/month/quarter/"
                              "year): chunk by the profile's period.")


__all__ = ["ViewUnavailable", "check_chunked", "counted_wasserstein_null",
           "first_timestamp", "over_time_from_profiles", "over_time_route"]
