"""Univariate drift from two profiles, with exactness stated per column.

Value counts (categorical columns, few-valued numeric ones) go through the very code the
exact path uses (`drift.univariate._decide` on a counted `Sample` or aligned counts), so their
statistics equal the exact path's. A numeric column binned on the plan's grid gets:
- KS: D read at the bin boundaries (a lower bound: D at a point the two CDFs are known) and
  `bound` = the largest bin mass of either side: the true D lies in [D, D + bound];
- Wasserstein: |F_ref - F_cur| integrated with each bin's midpoint value; `bound` =
  sum over bins of width × (both sides' masses), divided by the reference std (from sums);
- PSI on the reference deciles read on the grid (no bound: a different cut).
Such a column is `exact: false` with its `bound`; it is never called exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from aidebt_core.drift import methods
from aidebt_core.drift.collect import OTHER, AlignedCounts
from aidebt_core.drift.distribution import Distribution, from_counts
from aidebt_core.drift.kolmogorov import kstwo_sf
from aidebt_core.drift.options import DriftOptions
from aidebt_core.drift.result import ColumnDrift, DriftResult
from aidebt_core.drift.stats import Sample, psi_from_counts
from aidebt_core.errors import SchemaError
from aidebt_core.profiles.model import (
    CATEGORICAL,
    ColumnPlan,
    ColumnProfile,
    DatasetProfile,
    Grid,
    to_bins,
)


def check_comparable(reference: DatasetProfile, current: DatasetProfile) -> None:
    """Refuse two profiles whose shared numeric columns were binned on different grids."""
    cur_plans = {c.name: c for c in current.plan.columns}
    shared = [c for c in reference.plan.columns if c.name in cur_plans]
    if not shared:
        raise SchemaError(f"The profile of {current.source or 'current'} shares no column with "
                          f"{reference.source or 'reference'} (reference columns: "
                          f"{', '.join(reference.plan.names[:20])}; current: "
                          f"{', '.join(current.plan.names[:20])}).")
    for ref in shared:
        cur = cur_plans[ref.name]
        if ref.kind != cur.kind or (ref.kind != CATEGORICAL and ref.grid != cur.grid):
            raise SchemaError(f"Column {ref.name!r} was profiled differently in "
                              f"{reference.source or 'reference'} and "
                              f"{current.source or 'current'} (kind or grid); profile the "
                              "current data with the reference's plan (aidebt profile --like "
                              "REFERENCE.aidebt).")


def drift_from_profiles(reference: DatasetProfile, current: DatasetProfile,
                        columns: Sequence[str] | None = None,
                        exclude: Sequence[str] | None = None,
                        options: DriftOptions | None = None) -> DriftResult:
    """Per-column drift of `current` against `reference`, both profiles (whole sides)."""
    options = options or DriftOptions()
    check_comparable(reference, current)
    ref_all, cur_all = reference.overall(), current.overall()
    ref_names = [c.name for c in ref_all.columns]
    cur_names = {c.name for c in cur_all.columns}
    shared = [n for n in ref_names if n in cur_names]
    unknown = [c for c in (*(columns or ()), *(exclude or ())) if c not in shared]
    if unknown:
        raise SchemaError(f"Column(s) {', '.join(map(repr, unknown))} are not in both "
                          f"profiles. Profiled on both sides: {', '.join(shared)}.")
    chosen = [c for c in (columns or shared) if c not in set(exclude or ())]
    if not chosen:
        raise SchemaError("No columns left to compare (check --columns/--exclude).")
    types_ref, types_cur = dict(reference.column_types), dict(current.column_types)
    results, dists = [], []
    for name in chosen:
        col, dist = column_drift(ref_all.column(name), cur_all.column(name),
                                 reference.plan.column(name), options,
                                 types_ref.get(name, ""), types_cur.get(name, ""))
        results.append(col)
        if dist is not None:
            dists.append(dist)
    return DriftResult(reference.rows, current.rows, tuple(results), options,
                       tuple(n for n in ref_names if n not in cur_names),
                       tuple(sorted(cur_names - set(ref_names))), tuple(dists),
                       (reference.source or "reference", current.source or "current"))


def column_drift(ref: ColumnProfile, cur: ColumnProfile, plan: ColumnPlan,
                 options: DriftOptions, ref_type: str = "", cur_type: str = ""
                 ) -> tuple[ColumnDrift, Distribution | None]:
    from aidebt_core.drift.univariate import column_base as _base
    from aidebt_core.drift.univariate import decide_column as _decide

    rows = (ref.rows, cur.rows)
    base = _base(ref.name, ref.kind, ref_type, cur_type, rows, (ref.missing, cur.missing),
                 options)
    notes = []
    if ref.inf + cur.inf:
        notes.append(f"{ref.inf + cur.inf} infinite value(s) left out")
    if ref.kind == CATEGORICAL:
        aligned = _aligned(ref, cur)
        if aligned.folded:
            notes.append(f"high cardinality: the {len(aligned.categories) - 1:,} most frequent "
                         "values per chunk kept in the profile, the rest folded into "
                         f"'{OTHER}'")
        col, dist = _decide(base, None, None, aligned, notes, options)
        if aligned.folded:
            col = _mark(col, exact=False, bound=None)
        return col, dist
    if ref.bins is None and cur.bins is None:
        col, dist = _decide(base, _sample(ref), _sample(cur), None, notes, options)
        return col, dist
    grid = plan.grid
    return _binned(base, to_bins(ref, grid), to_bins(cur, grid), grid, notes, options)


def _mark(col: ColumnDrift, exact: bool, bound: float | None) -> ColumnDrift:
    from dataclasses import replace

    return replace(col, exact=exact, bound=bound)


def _sample(col: ColumnProfile) -> Sample:
    values = np.array([v for v, _ in col.values or ()], dtype=np.float64)
    counts = np.array([n for _, n in col.values or ()], dtype=np.int64)
    return Sample(values, counts)


def _aligned(ref: ColumnProfile, cur: ColumnProfile) -> AlignedCounts:
    r_counts, c_counts = ref.value_counts(), cur.value_counts()
    keys = sorted(set(r_counts) | set(c_counts))
    r = np.array([r_counts.get(k, 0) for k in keys], dtype=np.int64)
    c = np.array([c_counts.get(k, 0) for k in keys], dtype=np.int64)
    new = sorted((k for k in keys if not r_counts.get(k) and c_counts.get(k)),
                 key=lambda k: -c_counts[k])
    vanished = sorted((k for k in keys if not c_counts.get(k) and r_counts.get(k)),
                      key=lambda k: -r_counts[k])
    folded = bool(ref.other or cur.other)
    if folded:
        keys = [*keys, OTHER]
        r, c = np.append(r, ref.other), np.append(c, cur.other)
    return AlignedCounts(keys, r, c, new, vanished, folded, ref.missing, cur.missing)


# ---------------------------------------------------------------------------- binned columns

def _bounds(grid: Grid, ref: ColumnProfile, cur: ColumnProfile) -> tuple[np.ndarray, ...]:
    """Each bin's (low, high), the under/overflow bins closed by the sides' min and max."""
    lows, highs = grid.bin_bounds()
    lo = min(x for x in (ref.minimum, cur.minimum, grid.edges[0]) if x is not None)
    hi = max(x for x in (ref.maximum, cur.maximum, grid.edges[-1]) if x is not None)
    lows[0], highs[grid.cells * grid.fine + 1] = lo, hi   # under- and overflow bins
    return lows, highs


def binned_measures(ref: ColumnProfile, cur: ColumnProfile, grid: Grid) -> dict[str, float]:
    """KS, Wasserstein (normed and raw) and PSI from two histograms on `grid`, with bounds."""
    order = grid.order()   # bins by value: a point bin sits before the cell it starts
    r = np.asarray(ref.bins, dtype=np.float64)[order]
    c = np.asarray(cur.bins, dtype=np.float64)[order]
    n_r, n_c = r.sum(), c.sum()
    pr, pc = r / n_r, c / n_c
    diff = np.cumsum(pr) - np.cumsum(pc)
    d = float(np.max(np.abs(diff)))
    lows, highs = _bounds(grid, ref, cur)
    lows, highs = lows[order], highs[order]
    # A point bin holds one value: its mass moves both CDFs at one known place.
    spread = lows != highs
    ks_bound = float(np.max(np.maximum(pr, pc)[spread], initial=0.0))
    m, n = sorted([float(n_r), float(n_c)], reverse=True)
    p = kstwo_sf(min(d, 1.0), int(np.round(m * n / (m + n))))
    widths = np.where(np.isfinite(highs - lows), highs - lows, 0.0)
    before = np.concatenate([[0.0], diff[:-1]])
    w_raw = float(np.sum(widths * np.abs((before + diff) / 2)))
    w_bound_raw = float(np.sum(widths * (pr + pc)))
    std = _std(ref)
    if std > 0:
        w, w_bound = w_raw / std, w_bound_raw / std
    else:
        w, w_bound = (0.0 if w_raw == 0 else math.inf), math.inf
    return {"ks": d, "ks_p_value": p, "ks_bound": ks_bound, "wasserstein": w,
            "wasserstein_bound": w_bound, "wasserstein_raw": w_raw,
            "psi": _psi_on_grid(r, c), "reference_std": std}


def _std(col: ColumnProfile) -> float:
    """Population std from the sums (n = finite values)."""
    n = col.present
    if n <= 0:
        return float("nan")
    mean = col.total / n
    return float(math.sqrt(max(col.total_sq / n - mean * mean, 0.0)))


def _psi_on_grid(r: np.ndarray, c: np.ndarray, groups: int = 10) -> float:
    """PSI on groups of bins cut where the reference's cumulative share passes k/10."""
    cum = np.cumsum(r) / r.sum()
    cuts = np.unique(np.searchsorted(cum, np.arange(1, groups) / groups, side="left") + 1)
    ref_groups = np.add.reduceat(r, np.concatenate([[0], cuts[cuts < len(r)]]))
    cur_groups = np.add.reduceat(c, np.concatenate([[0], cuts[cuts < len(r)]]))
    return psi_from_counts(ref_groups, cur_groups)


_BOUND_OF = {"ks": "ks_bound", "wasserstein": "wasserstein_bound"}


def _binned(base: dict, ref: ColumnProfile, cur: ColumnProfile, grid: Grid, notes: list[str],
            options: DriftOptions) -> tuple[ColumnDrift, Distribution | None]:
    from aidebt_core.drift.univariate import choose_method

    method, untestable = choose_method(base, ref.present, cur.present, notes, options)
    if untestable is not None:
        return untestable, None
    kind, threshold = base["kind"], base["threshold"]
    measures = binned_measures(ref, cur, grid)
    if method.measure not in measures:
        raise SchemaError(f"Drift method {method.name!r} needs the values of {base['name']!r}; "
                          "a binned profile has none. Use --exact or another method.")
    statistic = measures[method.measure]
    p_key = methods.auto_method(kind, methods.SMALL).p_value_measure
    p_value = measures[method.p_value_measure or p_key]
    notes.append(f"from a binned profile ({grid.bins:,} bins): approximate, see bound")
    bound = measures.get(_BOUND_OF.get(method.measure, ""))
    drifted = method.drifted(statistic, p_value, threshold)
    col = ColumnDrift(**base, statistic=statistic, p_value=p_value, drifted=drifted,
                      note="; ".join(notes), measures=measures, exact=False, bound=bound)
    return col, _distribution(base["name"], ref, cur, grid)


def _distribution(name: str, ref: ColumnProfile, cur: ColumnProfile, grid: Grid
                  ) -> Distribution:
    """The chart's distribution: shares per coarse cell (under/overflow in the end cells)."""
    r, c = np.asarray(ref.bins, float), np.asarray(cur.bins, float)
    lows, highs = _bounds(grid, ref, cur)
    # each bin's coarse cell by its low end (under/overflow into the end cells)
    cell = np.clip(np.searchsorted(np.asarray(grid.edges[1:-1]), lows, side="right"), 0,
                   grid.cells - 1)

    def per_cell(x: np.ndarray) -> np.ndarray:
        return np.bincount(cell, weights=x, minlength=grid.cells)

    edges = np.array([lows[0], *grid.edges[1:-1], highs[grid.cells * grid.fine + 1]],
                     dtype=float)
    rc, cc = per_cell(r), per_cell(c)
    labels = tuple(f"{a:.4g}–{b:.4g}" for a, b in zip(edges[:-1], edges[1:], strict=True))
    return Distribution(name, "numeric", labels, edges, rc / max(rc.sum(), 1),
                        cc / max(cc.sum(), 1), int(rc.sum()), int(cc.sum()))


__all__ = ["binned_measures", "check_comparable", "column_drift", "drift_from_profiles",
           "from_counts"]
