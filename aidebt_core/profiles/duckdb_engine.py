"""Profiles computed in DuckDB SQL: aggregates only, no row reaches Python.

`plan_profile(table, ...)` makes the plan from the reference (a summary of the numeric
columns, then per column its value counts or plan histogram and heavy values, see
`planning`); `compute_profile(table, plan)` profiles one side with one GROUP BY per column
(grouped by chunk: values, or bins with their min/max/sums), after one approximate distinct
count of the exact numeric columns (the reference's comes from its plan) and before one
query for the label × prediction counts and score histograms and the sections.
The semantics are those of docs/profiles.md (shared with the Spark engine).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import replace

from aidebt_core.data import ROWS, Table, quote_ident
from aidebt_core.profiles import planning
from aidebt_core.profiles.model import (
    ALL_ROWS,
    CATEGORICAL,
    DEFAULT_MAX_EXACT,
    DEFAULT_TOP_K,
    NO_TIMESTAMP,
    NUMERIC,
    POINT_SHARE,
    ChunkProfile,
    ColumnPlan,
    ColumnProfile,
    DatasetProfile,
    Grid,
    PerformanceCounts,
    ProfilePlan,
    double_literal,
    performance_counts,
    side_rule,
)
from aidebt_core.profiles.sections import SqlContext, compute_sections


def _num(col: str) -> str:
    return f"CAST({quote_ident(col)} AS DOUBLE)"


def _finite(col: str) -> str:
    return f"isfinite({_num(col)})"


def _guarded(col: str) -> str:
    """The DOUBLE value with NULL/NaN/inf replaced by 0: DuckDB evaluates an aggregate's
    argument before its FILTER, and a bin's CAST(... AS BIGINT) of inf would fail."""
    return f"(CASE WHEN {_finite(col)} THEN {_num(col)} ELSE 0.0 END)"


def chunk_key_sql(table: Table, plan: ProfilePlan) -> str:
    """The chunk key expression (docs/profiles.md): '' / 'YYYY-MM-DD' / '(no timestamp)'."""
    if plan.chunk is None:
        return f"'{ALL_ROWS}'"
    from aidebt_core.timeaxis import timestamp_sql

    ts = timestamp_sql(table, plan.timestamp)
    return (f"CASE WHEN ({ts}) IS NULL THEN '{NO_TIMESTAMP}' ELSE "
            f"strftime(date_trunc('{plan.chunk}', {ts}), '%Y-%m-%d') END")


def profile_kinds(table: Table, schema=None, columns: Sequence[str] | None = None,
                  categorical: Sequence[str] = (), timestamp: str | None = None
                  ) -> list[tuple[str, str]]:
    """(column, kind) of what a profile keeps: by default every column except ids, the
    timestamp, ignored and temporal/nested ones; kinds as the drift analysis decides them."""
    from aidebt_core.schema import infer_schema

    if columns:
        table.require_columns(list(columns))
    return planning.kept_columns(schema or infer_schema(table), table.column_types, table.label,
                                 columns, categorical, timestamp)


def plan_profile(table: Table, kinds: Sequence[tuple[str, str]], *,
                 timestamp: str | None = None, chunk: str | None = None,
                 target: str | None = None, prediction: str | None = None,
                 score: str | None = None, top_k: int = DEFAULT_TOP_K,
                 max_exact: int = DEFAULT_MAX_EXACT) -> ProfilePlan:
    """The plan from the reference `table` (four aggregate queries over its numeric
    columns: summary, exact value counts of the few-valued ones, plan histograms, counts of
    the values in heavy plan bins)."""
    numeric = [n for n, k in kinds if k == NUMERIC]
    summaries = _summaries(table, numeric)
    wanted = [n for n in numeric if planning.wants_value_counts(summaries[n], max_exact)]
    counted = _histograms(table, {n: _num(n) for n in wanted if summaries[n].count},
                          {n: _finite(n) for n in wanted})
    binned = [n for n in numeric if n not in wanted]
    plan_hist = _histograms(table, {n: planning.plan_bin_sql(_guarded(n), summaries[n])
                                    for n in binned}, {n: _finite(n) for n in binned})
    heavy_counts = {n: _heavy_values(table, summaries[n], plan_hist[n]) for n in binned}
    plans: list[ColumnPlan | tuple[str, str]] = []
    for name, kind in kinds:
        if kind == NUMERIC:
            plans.append(planning.numeric_plan(summaries[name], counted.get(name),
                                               plan_hist.get(name), heavy_counts.get(name),
                                               max_exact))
        else:
            plans.append((name, CATEGORICAL))
    plan = planning.make_plan(plans, timestamp=timestamp, chunk=chunk, target=target,
                              prediction=prediction, score=score, top_k=top_k,
                              max_exact=max_exact)
    if chunk is None:
        return plan
    from aidebt_core.timeaxis import time_axis

    return replace(plan, time_resolution=time_axis(table, timestamp).resolution)


def _finite_values(names: Sequence[str]) -> str:
    """`f0, f1, ...`: each column's finite DOUBLE value, NULL otherwise (aggregates skip NULL:
    no FILTER clause, which DuckDB evaluates slowly when a query holds many)."""
    return ", ".join(f"CASE WHEN {_finite(n)} THEN {_num(n)} END AS f{i}"
                     for i, n in enumerate(names))


def _summaries(table: Table, numeric: Sequence[str]) -> dict[str, planning.NumericSummary]:
    if not numeric:
        return {}
    parts = []
    for i in range(len(numeric)):
        parts += [f"count(f{i})", f"min(f{i})", f"max(f{i})", f"approx_count_distinct(f{i})"]
    row = table.execute(f"SELECT {', '.join(parts)} FROM (SELECT {_finite_values(numeric)} "
                        f"FROM {ROWS})").fetchone()
    out = {}
    for i, n in enumerate(numeric):
        count, lo, hi, distinct = row[4 * i: 4 * i + 4]
        out[n] = planning.NumericSummary(n, int(count), None if lo is None else float(lo),
                                         None if hi is None else float(hi), int(distinct or 0))
    _PLANNED_DISTINCT[table] = {n: s.approx_distinct for n, s in out.items()}
    return out


# The approximate distinct counts the plan just read from a reference table: its profile,
# computed next, reads them from here instead of counting again (the same values, so the
# same HyperLogLog result). Used once; forgotten with the table.
_PLANNED_DISTINCT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _histograms(table: Table, exprs: dict[str, str], filters: dict[str, str]
                ) -> dict[str, dict]:
    """{column: {value: count}} of `exprs` over the rows passing each column's filter (one
    GROUP BY per column: each reads one column of a columnar file)."""
    out = {}
    for name, expr in exprs.items():
        rows = table.execute(f"SELECT {expr} AS v, count(*) FROM {ROWS} WHERE {filters[name]} "
                             "GROUP BY 1").fetchall()
        out[name] = {v: int(n) for v, n in rows}
    return out


def _heavy_values(table: Table, summary: planning.NumericSummary, plan_hist: dict) -> dict:
    """The values holding ≥ 1/64 of the column (step 4 of the plan), found through heavy
    plan bins, then their heavy sub-bins, then exact counts there. A heavy sub-bin whose
    min equals its max holds one value, whose count is the sub-bin's: only the others are
    counted value by value."""
    bins = planning.heavy_plan_bins(summary, plan_hist)
    if not bins:
        return {}
    name, n = summary.name, int(summary.count)
    value = _guarded(name)
    in_bins = (f"{_finite(name)} AND {planning.plan_bin_sql(value, summary)} IN "
               f"({', '.join(map(str, bins))})")
    sub = planning.sub_bin_sql(value, summary)
    heavy = f"HAVING count(*) * {POINT_SHARE} >= {n}"
    found, mixed = {}, []
    for key, count, low, high in table.execute(
            f"SELECT {sub} AS k, count(*), min({_num(name)}), max({_num(name)}) FROM {ROWS} "
            f"WHERE {in_bins} GROUP BY 1 {heavy}").fetchall():
        if low == high:
            found[float(low)] = int(count)
        else:
            mixed.append(int(key))
    if mixed:
        where = f"{in_bins} AND {sub} IN ({', '.join(map(str, sorted(mixed)))})"
        found.update((float(v), int(c)) for v, c in table.execute(
            f"SELECT {_num(name)} AS v, count(*) FROM {ROWS} WHERE {where} GROUP BY 1 {heavy}"
        ).fetchall())
    return found


def _exact_sides(table: Table, plan: ProfilePlan) -> set[str]:
    """Exact-planned numeric columns this side can count value by value (≤ max_exact
    distinct finite values, tested first with an approximate count); the others are
    binned on their grid (and `side_rule` decides on the exact count)."""
    exact = [c.name for c in plan.columns if c.kind == NUMERIC and c.exact]
    planned = _PLANNED_DISTINCT.pop(table, {})
    if not exact:
        return set()
    if all(n in planned for n in exact):
        row = [planned[n] for n in exact]
    else:
        parts = [f"approx_count_distinct(f{i})" for i in range(len(exact))]
        row = table.execute(f"SELECT {', '.join(parts)} FROM (SELECT {_finite_values(exact)} "
                            f"FROM {ROWS})").fetchone()
    limit = planning.APPROX_FACTOR * plan.max_exact
    return {n for n, d in zip(exact, row, strict=True) if (d or 0) <= limit}


MISSING_KEY, INF_KEY = -1, -2   # bin keys of NULL/NaN and ±inf in the per-column GROUP BY
X, CELL = "aidebt_x", "aidebt_c"   # names of the value and its grid cell in the sub-queries


def _cell_sql(x: str, grid: Grid) -> str:
    """The cell of a DOUBLE `x`: the number of inner edges e_1..e_{m-1} that are <= x, by a
    binary tree of CASEs whose leaves are constants (NULL for NULL, some cell for NaN/±inf,
    which `_bin_sql` never reads)."""
    edges = grid.edges

    def tree(lo: int, hi: int) -> str:
        if lo == hi:
            return str(lo)
        mid = (lo + hi + 1) // 2
        return (f"CASE WHEN {x} < {double_literal(edges[mid])} THEN {tree(lo, mid - 1)} "
                f"ELSE {tree(mid, hi)} END")

    return tree(0, grid.cells - 1)


def _bin_sql(x: str, cell: str, grid: Grid) -> str:
    """The bin of a DOUBLE `x` on `grid` (the rule of docs/profiles.md, the same integers as
    `model.grid_sql`), given its `cell` from `_cell_sql`; MISSING_KEY for NULL/NaN, INF_KEY
    for ±inf. The fine bin is one expression over the cell's edge and width read from
    constant lists: DuckDB evaluates this ~1.4x faster than `grid_sql`, whose 32 leaves each
    hold that expression (each leaf runs on a small slice of every vector)."""
    fine, first = grid.fine, grid.cells * grid.fine + 2
    edges = f"[{', '.join(double_literal(e) for e in grid.edges)}]"
    widths = f"[{', '.join(double_literal(w) for w in grid.widths)}]"
    points = "".join(f"WHEN {x} = {double_literal(p)} THEN {first + i} "
                     for i, p in enumerate(grid.points))
    return (f"CASE WHEN {x} IS NULL OR isnan({x}) THEN {MISSING_KEY} "
            f"WHEN isinf({x}) THEN {INF_KEY} {points}"
            f"WHEN {x} < {double_literal(grid.edges[0])} THEN 0 "
            f"WHEN {x} > {double_literal(grid.edges[-1])} THEN {first - 1} "
            f"ELSE 1 + {cell} * {fine} + least({fine - 1}, CAST(floor(({x} - "
            f"{edges}[{cell} + 1]) / {widths}[{cell} + 1]) AS BIGINT)) END")


def _binned_counts(table: Table, plan: ColumnPlan, key: str) -> dict:
    """{chunk key: {bin (or MISSING_KEY / INF_KEY): (count, min, max, sum, sum of squares)}}
    in one GROUP BY (the finite bins' min/max/sums make the chunk's, so no other scan reads
    the column)."""
    grid = plan.grid
    cells = (f"SELECT k, {X}, {_cell_sql(X, grid)} AS {CELL} FROM (SELECT {key} AS k, "
             f"{_num(plan.name)} AS {X} FROM {ROWS})")
    rows = table.execute(f"SELECT k, {_bin_sql(X, CELL, grid)} AS b, count(*), min({X}), "
                         f"max({X}), sum({X}), sum({X} * {X}) FROM ({cells}) GROUP BY k, b"
                         ).fetchall()
    out: dict = {}
    for k, b, *stats in rows:
        out.setdefault(str(k), {})[int(b)] = stats
    return out


# Types whose values equal (for GROUP BY) exactly when their text is equal: their text is
# made once per group instead of once per row. Not floats (0.0 = -0.0, two texts).
_TEXT_AFTER_GROUPING = ("BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                        "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "VARCHAR")


def _value_counts(table: Table, plan: ColumnPlan, key: str) -> dict:
    """{chunk key: {value or None: count}}: one GROUP BY, values as text (categorical) or
    DOUBLE (numeric; NULL, NaN and ±inf are groups of their own)."""
    col = quote_ident(plan.name)
    if plan.kind == NUMERIC:
        sql = f"SELECT {key} AS k, {_num(plan.name)} AS v, count(*) FROM {ROWS} GROUP BY ALL"
    elif table.column_types[plan.name].upper() in _TEXT_AFTER_GROUPING:
        sql = (f"SELECT k, CAST(v AS VARCHAR), sum(n) FROM (SELECT {key} AS k, {col} AS v, "
               f"count(*) AS n FROM {ROWS} GROUP BY ALL) GROUP BY ALL")
    else:
        sql = f"SELECT {key} AS k, CAST({col} AS VARCHAR) AS v, count(*) FROM {ROWS} GROUP BY ALL"
    out: dict = {}
    for k, v, n in table.execute(sql).fetchall():
        out.setdefault(str(k), {})[v] = int(n)
    return out


def _top_k(counts: dict, top_k: int) -> tuple[tuple, int]:
    """(kept (value, count) pairs sorted by value, rows folded): the top_k first by count
    descending then value ascending."""
    if len(counts) <= top_k:
        return tuple(sorted(counts.items())), 0
    ranked = sorted(counts.items(), key=lambda t: (-t[1], t[0]))
    kept = ranked[:top_k]
    return tuple(sorted(kept)), sum(n for _, n in ranked[top_k:])


def _numeric_summary(parts: Sequence[tuple]) -> dict:
    """minimum/maximum/total/total_sq of a chunk's finite values from (count, min, max, sum,
    sum of squares) parts (bins or single values); sums added with fsum."""
    parts = [p for p in parts if p[0]]
    if not parts:
        return dict(minimum=None, maximum=None, total=0.0, total_sq=0.0)
    return dict(minimum=float(min(p[1] for p in parts)), maximum=float(max(p[2] for p in parts)),
                total=math.fsum(float(p[3] or 0.0) for p in parts),
                total_sq=math.fsum(float(p[4] or 0.0) for p in parts))


def _column_profile(plan: ColumnPlan, counts: dict, rows: int, counted: bool,
                    top_k: int) -> ColumnProfile:
    """One chunk's column from its GROUP BY rows (`_value_counts` or `_binned_counts`)."""
    if plan.kind == CATEGORICAL:
        missing = counts.pop(None, 0)
        values, other = _top_k({str(k): n for k, n in counts.items()}, top_k)
        return ColumnProfile(plan.name, CATEGORICAL, rows, missing, 0, values, other)
    if counted:
        missing = inf = 0
        values = []
        for v, n in counts.items():
            if v is None or math.isnan(v):
                missing += n
            elif math.isinf(v):
                inf += n
            else:
                values.append((float(v), n))
        summary = _numeric_summary([(n, v, v, v * n, v * v * n) for v, n in values])
        return ColumnProfile(plan.name, NUMERIC, rows, missing, inf,
                             values=tuple(sorted(values)), **summary)
    bins = [0] * plan.grid.bins
    for b, stats in counts.items():
        if b >= 0:
            bins[b] = int(stats[0])
    summary = _numeric_summary([stats for b, stats in counts.items() if b >= 0])
    return ColumnProfile(plan.name, NUMERIC, rows, int(counts.get(MISSING_KEY, (0,))[0]),
                         int(counts.get(INF_KEY, (0,))[0]), bins=tuple(bins), **summary)


def _chunk_rows(counts: dict) -> dict[str, int]:
    """Rows per chunk key from one column's GROUP BY (every row is in one of its groups):
    a group holds a count (`_value_counts`) or (count, min, max, sums) (`_binned_counts`)."""
    return {k: sum(int(n[0]) if isinstance(n, list) else int(n) for n in groups.values())
            for k, groups in counts.items()}


def compute_profile(table: Table, plan: ProfilePlan) -> DatasetProfile:
    """`table`'s profile under `plan`: per column one GROUP BY by chunk (counts of values;
    or of bins, with each bin's min/max/sums, which make the chunk's). Rows per chunk are the
    sum of a column's groups; no other scan is needed."""
    table.require_columns(list(plan.names))
    counted = _exact_sides(table, plan)
    key = chunk_key_sql(table, plan)
    counts = {c.name: (_binned_counts(table, c, key) if c.kind == NUMERIC
                       and c.name not in counted else _value_counts(table, c, key))
              for c in plan.columns}
    if plan.columns:
        rows = _chunk_rows(counts[plan.columns[0].name])
    else:   # a plan for its sections only: the rows per chunk are all it counts itself
        rows = {str(k): int(n) for k, n in table.execute(
            f"SELECT {key} AS k, count(*) FROM {ROWS} GROUP BY ALL").fetchall()}
    performance = _performance(table, plan, key)
    extra = compute_sections(SqlContext(lambda sql: table.execute(sql).fetchall(), ROWS, key,
                                        quote_ident, "duckdb"), plan)
    spans = _time_spans(table, plan, key)
    chunks = []
    for k in sorted(rows):
        cols = tuple(_column_profile(c, dict(counts[c.name].get(k, {})), rows[k],
                                     c.name in counted, plan.top_k) for c in plan.columns)
        chunks.append(ChunkProfile(k, rows[k], cols, performance.get(k), extra.get(k, ()),
                                   *spans.get(k, (None, None))))
    types = table.column_types
    # A side counted value by value must stay within max_exact distinct values in total.
    return side_rule(DatasetProfile(plan, tuple(chunks), table.label,
                                    tuple((n, types[n]) for n in plan.names), "duckdb"))


def _time_spans(table: Table, plan: ProfilePlan, key: str) -> dict[str, tuple[str, str]]:
    """Per dated chunk, its first and last time value as TIME_FORMAT text."""
    if plan.chunk is None:
        return {}
    from aidebt_core.timeaxis import timestamp_sql

    ts, text = timestamp_sql(table, plan.timestamp), "'%Y-%m-%dT%H:%M:%S.%f'"
    return {str(k): (first, last) for k, first, last in table.execute(
        f"SELECT {key}, strftime(min({ts}), {text}), strftime(max({ts}), {text}) FROM {ROWS} "
        "GROUP BY 1").fetchall() if first is not None}


def _performance(table: Table, plan: ProfilePlan, key: str) -> dict[str, PerformanceCounts]:
    """Per chunk key: label × prediction counts and per-label score histograms."""
    if not (plan.target or plan.prediction or plan.score):
        return {}

    def text(col: str | None) -> str:
        return "CAST(NULL AS VARCHAR)" if col is None else f"CAST({quote_ident(col)} AS VARCHAR)"

    confusion: dict[str, list] = {}
    for k, label, pred, n in table.execute(
            f"SELECT {key}, {text(plan.target)}, {text(plan.prediction)}, count(*) FROM {ROWS} "
            "GROUP BY ALL").fetchall():
        confusion.setdefault(str(k), []).append((label, pred, int(n)))
    scores: dict[str, dict] = {}
    missing: dict[str, int] = {}
    if plan.score and plan.score_grid is not None:
        s, grid = _num(plan.score), plan.score_grid
        cells = (f"SELECT k, label, {X}, {_cell_sql(X, grid)} AS {CELL} FROM (SELECT {key} "
                 f"AS k, {text(plan.target)} AS label, {s} AS {X} FROM {ROWS})")
        for k, label, b, n in table.execute(
                f"SELECT k, label, {_bin_sql(X, CELL, grid)} AS b, count(*) FROM ({cells}) "
                "GROUP BY ALL").fetchall():
            if b < 0:   # NULL, NaN or ±inf
                missing[str(k)] = missing.get(str(k), 0) + int(n)
                continue
            bins = scores.setdefault(str(k), {}).setdefault(label, [0] * grid.bins)
            bins[int(b)] += int(n)
    return {k: performance_counts(confusion[k], scores.get(k, {}).items(), missing.get(k, 0))
            for k in confusion}


__all__ = ["chunk_key_sql", "compute_profile", "plan_profile", "profile_kinds"]
