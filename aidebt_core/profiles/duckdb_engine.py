"""Profiles computed in DuckDB SQL: aggregates only, no row reaches Python.

`plan_profile(table, ...)` makes the plan from the reference (three aggregate queries, see
`planning`); `compute_profile(table, plan)` profiles one side in one scan (a `histogram()`
aggregate per column, grouped by chunk), plus one small query for the label × prediction
counts and score histograms, and one for the distinct counts of exact numeric columns.
The semantics are those of docs/profiles.md (shared with the Spark engine).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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
    PerformanceCounts,
    ProfilePlan,
    grid_sql,
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
    return planning.make_plan(plans, timestamp=timestamp, chunk=chunk, target=target,
                              prediction=prediction, score=score, top_k=top_k,
                              max_exact=max_exact)


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
    return out


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


def _grouped(table: Table, key: str, where: str, n: int) -> dict:
    """{key: count} over rows passing `where`, only the keys holding ≥ 1/64 of n rows."""
    rows = table.execute(f"SELECT {key} AS k, count(*) AS c FROM {ROWS} WHERE {where} "
                         f"GROUP BY 1 HAVING count(*) * {POINT_SHARE} >= {int(n)}").fetchall()
    return {k: int(c) for k, c in rows}


def _heavy_values(table: Table, summary: planning.NumericSummary, plan_hist: dict) -> dict:
    """The values holding ≥ 1/64 of the column (step 4 of the plan), found through heavy
    plan bins, then their heavy sub-bins, then exact counts there."""
    bins = planning.heavy_plan_bins(summary, plan_hist)
    if not bins:
        return {}
    name = summary.name
    value = _guarded(name)
    in_bins = (f"{_finite(name)} AND {planning.plan_bin_sql(value, summary)} IN "
               f"({', '.join(map(str, bins))})")
    subs = _grouped(table, planning.sub_bin_sql(value, summary), in_bins, summary.count)
    if not subs:
        return {}
    where = (f"{in_bins} AND {planning.sub_bin_sql(value, summary)} IN "
             f"({', '.join(map(str, sorted(subs)))})")
    return _grouped(table, _num(name), where, summary.count)


def _exact_sides(table: Table, plan: ProfilePlan) -> set[str]:
    """Exact-planned numeric columns this side can count value by value (≤ max_exact
    distinct finite values, tested first with an approximate count); the others are
    binned on their grid (and `side_rule` decides on the exact count)."""
    exact = [c.name for c in plan.columns if c.kind == NUMERIC and c.exact]
    if not exact:
        return set()
    parts = [f"approx_count_distinct(f{i})" for i in range(len(exact))]
    row = table.execute(f"SELECT {', '.join(parts)} FROM (SELECT {_finite_values(exact)} "
                        f"FROM {ROWS})").fetchone()
    limit = planning.APPROX_FACTOR * plan.max_exact
    return {n for n, d in zip(exact, row, strict=True) if (d or 0) <= limit}


MISSING_KEY, INF_KEY = -1, -2   # bin keys of NULL/NaN and ±inf in the per-column GROUP BY


def _column_counts(table: Table, plan: ColumnPlan, counted: bool, key: str) -> dict:
    """{chunk key: {value or bin or None (missing) or INF: count}}: one GROUP BY."""
    col = quote_ident(plan.name)
    if plan.kind == CATEGORICAL:
        value = f"CAST({col} AS VARCHAR)"
    elif counted:
        value = _num(plan.name)   # NULL, NaN and ±inf are groups of their own
    else:
        x = "aidebt_x"
        value = (f"CASE WHEN {x} IS NULL OR isnan({x}) THEN {MISSING_KEY} WHEN isinf({x}) "
                 f"THEN {INF_KEY} ELSE {grid_sql(x, plan.grid)} END")
        rows = table.execute(f"SELECT k, {value}, count(*) FROM (SELECT {key} AS k, "
                             f"{_num(plan.name)} AS {x} FROM {ROWS}) GROUP BY ALL").fetchall()
        return _by_chunk(rows)
    rows = table.execute(f"SELECT {key} AS k, {value} AS v, count(*) FROM {ROWS} "
                         "GROUP BY ALL").fetchall()
    return _by_chunk(rows)


def _by_chunk(rows) -> dict:
    out: dict = {}
    for k, v, n in rows:
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


def _column_profile(plan: ColumnPlan, counts: dict, stats: Sequence, rows: int,
                    counted: bool, top_k: int) -> ColumnProfile:
    if plan.kind == CATEGORICAL:
        missing = counts.pop(None, 0)
        values, other = _top_k({str(k): n for k, n in counts.items()}, top_k)
        return ColumnProfile(plan.name, CATEGORICAL, rows, missing, 0, values, other)
    lo, hi, total, total_sq = stats
    base = dict(name=plan.name, kind=NUMERIC, rows=rows,
                minimum=None if lo is None else float(lo),
                maximum=None if hi is None else float(hi),
                total=float(total or 0.0), total_sq=float(total_sq or 0.0))
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
        return ColumnProfile(**base, missing=missing, inf=inf, values=tuple(sorted(values)))
    bins = [0] * plan.grid.bins
    for b, n in counts.items():
        if b >= 0:
            bins[int(b)] = n
    return ColumnProfile(**base, missing=counts.get(MISSING_KEY, 0),
                         inf=counts.get(INF_KEY, 0), bins=tuple(bins))


def compute_profile(table: Table, plan: ProfilePlan) -> DatasetProfile:
    """`table`'s profile under `plan`: per chunk, one GROUP BY per column (counts of values,
    or of bins) and one aggregate over every numeric column (rows, min, max, sums)."""
    table.require_columns(list(plan.names))
    counted = _exact_sides(table, plan)
    key = chunk_key_sql(table, plan)
    numeric = [c.name for c in plan.columns if c.kind == NUMERIC]
    parts = ["count(*)"]
    for i in range(len(numeric)):
        parts += [f"min(f{i})", f"max(f{i})", f"sum(f{i})", f"sum(f{i} * f{i})"]
    select = ", ".join(filter(None, [f"{key} AS k", _finite_values(numeric)]))
    stats = {str(r[0]): r[1:] for r in table.execute(
        f"SELECT k, {', '.join(parts)} FROM (SELECT {select} FROM {ROWS}) GROUP BY k"
    ).fetchall()}
    counts = {c.name: _column_counts(table, c, c.name in counted, key) for c in plan.columns}
    performance = _performance(table, plan, key)
    extra = compute_sections(SqlContext(lambda sql: table.execute(sql).fetchall(), ROWS, key,
                                        quote_ident, "duckdb"), plan)
    chunks = []
    for k in sorted(stats):
        n, sums = int(stats[k][0]), stats[k][1:]
        cols = []
        for c in plan.columns:
            at = 4 * numeric.index(c.name) if c.kind == NUMERIC else 0
            cols.append(_column_profile(c, dict(counts[c.name].get(k, {})), sums[at: at + 4],
                                        n, c.name in counted, plan.top_k))
        chunks.append(ChunkProfile(k, n, tuple(cols), performance.get(k), extra.get(k, ())))
    types = table.column_types
    # A side counted value by value must stay within max_exact distinct values in total.
    return side_rule(DatasetProfile(plan, tuple(chunks), table.label,
                                    tuple((n, types[n]) for n in plan.names), "duckdb"))


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
        for k, label, b, n in table.execute(
                f"SELECT {key}, {text(plan.target)}, CASE WHEN isfinite({s}) THEN "
                f"{grid_sql(s, grid)} END, count(*) FROM {ROWS} GROUP BY ALL").fetchall():
            if b is None:
                missing[str(k)] = missing.get(str(k), 0) + int(n)
                continue
            bins = scores.setdefault(str(k), {}).setdefault(label, [0] * grid.bins)
            bins[int(b)] += int(n)
    return {k: performance_counts(confusion[k], scores.get(k, {}).items(), missing.get(k, 0))
            for k in confusion}


__all__ = ["chunk_key_sql", "compute_profile", "plan_profile", "profile_kinds"]
