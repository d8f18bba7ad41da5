"""The profile plan from the reference's aggregates: shared by every engine, so DuckDB and
Spark, given the same exact counts, make the same plan (docs/profiles.md, "How the plan is
made").

An engine runs three aggregates over the reference and hands the results here:
1. `NumericSummary` per numeric column (finite count, min, max, approximate distinct count);
2. exact value counts for the columns `wants_value_counts` names;
3. the equal-width plan histogram (`plan_bin_sql` / `plan_bins`) for the others, then, in
   their heavy plan bins (`heavy_plan_bins`), the counts per sub-bin (`sub_bin_sql`), then the
   exact counts (HAVING 64 * count >= n) of the values in the heavy sub-bins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from aidebt_core.errors import OptionError
from aidebt_core.profiles.model import (
    CATEGORICAL,
    DEFAULT_MAX_EXACT,
    DEFAULT_TOP_K,
    NUMERIC,
    PERIODS,
    PLAN_BINS,
    ColumnPlan,
    Grid,
    ProfilePlan,
    double_literal,
    grid_from_edges,
    grid_from_plan_histogram,
    heavy,
    plan_bin_width,
)

APPROX_FACTOR = 4   # exact value counts are read when the approximate distinct count is at
#                     most this many times max_exact (HLL errors are a few percent)


@dataclass(frozen=True)
class NumericSummary:
    """Step 1 for one numeric column, over its finite values."""

    name: str
    count: int
    minimum: float | None
    maximum: float | None
    approx_distinct: int



def kept_columns(schema, types: Mapping[str, str], label: str,
                 columns: Sequence[str] | None = None, categorical: Sequence[str] = (),
                 timestamp: str | None = None) -> list[tuple[str, str]]:
    """(column, kind) of what a profile keeps, the same on every engine: the `columns` asked
    for, else every column except ids, the timestamp, ignored and temporal/nested ones; kinds
    as the drift analysis decides them. `types` are DuckDB type names (engines map theirs)."""
    from aidebt_core.data import is_temporal_type
    from aidebt_core.drift.univariate import column_kind
    from aidebt_core.errors import SchemaError
    from aidebt_core.schema import is_nested_type

    if columns:
        chosen = list(dict.fromkeys(columns))
    else:
        chosen = [c.name for c in schema.columns
                  if c.role not in ("id", "timestamp", "ignore") and c.name != timestamp
                  and not is_temporal_type(types[c.name]) and not is_nested_type(types[c.name])]
    if not chosen:
        raise SchemaError(f"{label} has no column a profile can keep.")
    return [(name, column_kind(schema, name, types[name], categorical)) for name in chosen]


def wants_value_counts(summary: NumericSummary, max_exact: int = DEFAULT_MAX_EXACT) -> bool:
    """Step 2 reads this column's exact value counts (it may turn out exact)."""
    return summary.count == 0 or summary.approx_distinct <= APPROX_FACTOR * max_exact


def plan_bin_sql(value: str, summary: NumericSummary) -> str:
    """Step 3's SQL expression (DuckDB and Spark): the plan bin of a finite DOUBLE `value`."""
    low, high = summary.minimum, summary.maximum
    width = plan_bin_width(low, high)
    return (f"least({PLAN_BINS - 1}, CAST(floor(({value} - {double_literal(low)}) / "
            f"{double_literal(width)}) AS BIGINT))")


def plan_bins(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Step 3 in numpy (the same float64 operations as `plan_bin_sql`)."""
    width = plan_bin_width(low, high)
    return np.minimum(PLAN_BINS - 1, np.floor((np.asarray(values, float) - low) / width)
                      ).astype(np.int64)


def heavy_plan_bins(summary: NumericSummary, plan_histogram: Mapping[int, int]) -> list[int]:
    """Plan bins (or sub-bins) holding ≥ 1/64 of the finite values: only there can a heavy
    value be."""
    return sorted(int(u) for u, n in plan_histogram.items() if heavy(int(n), summary.count))


def sub_bin_sql(value: str, summary: NumericSummary) -> str:
    """The plan sub-bin key of a finite DOUBLE `value`: each plan bin u cut again into
    PLAN_BINS equal sub-bins, key = u * PLAN_BINS + sub (both engines; `sub_bins` in numpy).
    Heavy values are searched in heavy sub-bins of heavy plan bins, so the exact value counts
    read never span more than a 1/2^32 slice of the range (a heavy-tailed column's centre
    would otherwise hold nearly all its distinct values)."""
    width = plan_bin_width(summary.minimum, summary.maximum)
    u = plan_bin_sql(value, summary)
    low = f"({double_literal(summary.minimum)} + ({u}) * {double_literal(width)})"
    sub = (f"least({PLAN_BINS - 1}, greatest(0, CAST(floor(({value} - {low}) / "
           f"{double_literal(width / PLAN_BINS)}) AS BIGINT)))")
    return f"(({u}) * {PLAN_BINS} + {sub})"


def numeric_plan(summary: NumericSummary, value_counts: Mapping[float, int] | None = None,
                 plan_histogram: Mapping[int, int] | None = None,
                 heavy_counts: Mapping[float, int] | None = None,
                 max_exact: int = DEFAULT_MAX_EXACT) -> ColumnPlan:
    """One numeric column's plan: exact when its value counts have ≤ max_exact values; its
    grid from the plan histogram (computed here from the value counts when given) with the
    heavy values (from the value counts, or `heavy_counts` of the heavy plan bins) as points."""
    if summary.count == 0 or summary.minimum is None:
        # No finite value in the reference: count values; a placeholder grid for a
        # current side with too many values (all of them fall outside it).
        return ColumnPlan(summary.name, NUMERIC, True, grid_from_edges([0.0]))
    exact = value_counts is not None and len(value_counts) <= max_exact
    if value_counts is not None:
        values = np.array(list(value_counts), dtype=np.float64)
        counts = np.array(list(value_counts.values()), dtype=np.int64)
        u = plan_bins(values, summary.minimum, summary.maximum)
        plan_histogram = {}
        for b, n in zip(u.tolist(), counts.tolist(), strict=True):
            plan_histogram[b] = plan_histogram.get(b, 0) + n
        heavy_counts = value_counts
    if plan_histogram is None:
        raise ValueError(f"column {summary.name!r}: need value counts or a plan histogram")
    points = sorted(float(v) for v, n in (heavy_counts or {}).items()
                    if heavy(int(n), summary.count))
    grid = grid_from_plan_histogram(summary.minimum, summary.maximum, plan_histogram, points)
    return ColumnPlan(summary.name, NUMERIC, exact, grid)


def make_plan(columns: Sequence[ColumnPlan | tuple[str, str]], *, timestamp: str | None = None,
              chunk: str | None = None, target: str | None = None,
              prediction: str | None = None, score: str | None = None,
              top_k: int = DEFAULT_TOP_K, max_exact: int = DEFAULT_MAX_EXACT) -> ProfilePlan:
    """The plan: numeric columns as `ColumnPlan`s from `numeric_plan`, categorical ones as
    (name, CATEGORICAL); the score's grid is its column's grid."""
    if chunk is not None and chunk not in PERIODS:
        raise OptionError(f"A profile is chunked by a calendar period ({', '.join(PERIODS)}), "
                          f"not {chunk!r}.")
    if chunk is not None and timestamp is None:
        raise OptionError("Chunking a profile needs --timestamp.")
    plans = tuple(c if isinstance(c, ColumnPlan) else ColumnPlan(c[0], CATEGORICAL)
                  for c in columns)
    score_grid: Grid | None = None
    for c in plans:
        if c.name == score and c.kind == NUMERIC:
            score_grid = c.grid
    return ProfilePlan(plans, timestamp, chunk, target, prediction, score, score_grid,
                       top_k, max_exact)
