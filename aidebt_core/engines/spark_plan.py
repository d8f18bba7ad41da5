"""The profile plan of a Spark reference: the aggregates of docs/profiles.md "How the plan is
made", turned into the plan by the shared `planning` code, so Spark and DuckDB make the same
plan from the same exact counts.

Jobs on the reference (each one read of it):
1. the summaries (finite count, min, max, approximate distinct count): taken from the role
   inference's own aggregate when it ran on this source (`spark_schema` leaves them in
   `source.memo`), else one aggregate;
2. one count grouped by (column, value or plan bin) over the numeric columns unpivoted;
3. only for columns with heavy plan bins: the sub-bins of those bins (count, min, max); a
   heavy sub-bin whose min equals its max *is* a heavy value, so the exact values are read
   (4) only in the rare heavy sub-bins holding several values. Reading the values of a heavy
   plan bin directly would group a heavy-tailed column's centre (nearly every row) by value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from aidebt_core.engines.spark import SparkSource, spark_column
from aidebt_core.engines.spark_sql import fetch_rows, finite, finite_value, guarded, num, unwrap
from aidebt_core.errors import SchemaError
from aidebt_core.profiles import planning
from aidebt_core.profiles.model import (
    CATEGORICAL,
    DEFAULT_MAX_EXACT,
    DEFAULT_TOP_K,
    NUMERIC,
    POINT_SHARE,
    ColumnPlan,
    ProfilePlan,
)

APPROX_RSD = 0.05  # HyperLogLog relative error (Spark default; 0.01 costs seconds per column): well
#                   inside planning.APPROX_FACTOR = 4
SUMMARIES = "summaries"  # the key of `source.memo` spark_schema fills


def plan_profile(source: SparkSource, kinds: Sequence[tuple[str, str]], *,
                 timestamp: str | None = None, chunk: str | None = None,
                 target: str | None = None, prediction: str | None = None,
                 score: str | None = None, top_k: int = DEFAULT_TOP_K,
                 max_exact: int = DEFAULT_MAX_EXACT) -> ProfilePlan:
    """The plan from the reference `source` (jobs 1-4 of the module docstring)."""
    source = unwrap(source)
    require(source, [n for n, _ in kinds])
    numeric = [n for n, k in kinds if k == NUMERIC]
    summaries = _summaries(source, numeric)
    wanted = [n for n in numeric if planning.wants_value_counts(summaries[n], max_exact)]
    exprs = {n: finite_value(n) for n in wanted if summaries[n].count}
    for n in numeric:
        if n not in wanted:
            bin_sql = planning.plan_bin_sql(guarded(n), summaries[n])
            exprs[n] = f"(CASE WHEN {finite(n)} THEN CAST({bin_sql} AS DOUBLE) END)"
    counts = _value_counts(source, exprs, what="plan: value counts and plan histograms")
    heavy = _heavy_counts(source, summaries, {n: counts.get(n, {}) for n in numeric
                                              if n not in wanted})
    plans: list[ColumnPlan | tuple[str, str]] = []
    for name, kind in kinds:
        if kind != NUMERIC:
            plans.append((name, CATEGORICAL))
        elif name in wanted:
            plans.append(planning.numeric_plan(summaries[name], counts.get(name, {}),
                                               max_exact=max_exact))
        else:
            histogram = {int(u): n for u, n in counts.get(name, {}).items()}
            plans.append(planning.numeric_plan(summaries[name], None, histogram,
                                               heavy.get(name), max_exact))
    plan = planning.make_plan(plans, timestamp=timestamp, chunk=chunk, target=target,
                              prediction=prediction, score=score, top_k=top_k,
                              max_exact=max_exact)
    if chunk is None or timestamp is None:
        return plan
    return replace(plan, time_resolution=time_resolution(source, timestamp))


def time_resolution(source: SparkSource, column: str) -> str | None:
    """How much time one value stands for, as timeaxis.TimeAxis.resolution says it for
    DuckDB: a DATE column, or timestamps all at midnight, are days; else None."""
    source = unwrap(source)
    if source.column_type(column) == "date":
        return "day"
    ts = spark_column(column)
    row = fetch_rows(source, source.frame.selectExpr(
        f"min(CASE WHEN {ts} = date_trunc('day', {ts}) THEN 1 ELSE 0 END)"),
        "plan: time resolution")[0]
    return "day" if row[0] == 1 else None


def require(source: SparkSource, names: Sequence[str]) -> None:
    missing = [n for n in names if n not in source.column_names]
    if missing:
        raise SchemaError(f"{source.label} has no column(s) {', '.join(map(repr, missing))} "
                          f"(columns: {', '.join(source.column_names)}).")


def summary_parts(name: str) -> list[str]:
    """Job 1's aggregates of one numeric column (also run inside spark_schema's aggregate)."""
    fv = finite_value(name)
    return [f"count({fv})", f"min({fv})", f"max({fv})",
            f"approx_count_distinct({fv}, {APPROX_RSD})"]


def summary_of(name: str, values: Sequence) -> planning.NumericSummary:
    count, lo, hi, distinct = values
    return planning.NumericSummary(name, int(count), None if lo is None else float(lo),
                                   None if hi is None else float(hi), int(distinct or 0))


def _summaries(source: SparkSource, numeric: Sequence[str]
               ) -> dict[str, planning.NumericSummary]:
    known = source.memo.get(SUMMARIES, {})
    out = {n: known[n] for n in numeric if n in known}
    rest = [n for n in numeric if n not in out]
    if rest:
        parts = [p for n in rest for p in summary_parts(n)]
        row = fetch_rows(source, source.frame.selectExpr(*parts), "plan: summaries")[0]
        for i, n in enumerate(rest):
            out[n] = summary_of(n, row[4 * i: 4 * i + 4])
    return out


def _heavy_counts(source: SparkSource, summaries: dict[str, planning.NumericSummary],
                  plan_histograms: dict[str, dict[float, int]]) -> dict[str, dict[float, int]]:
    """Jobs 3 and 4: the heavy values (each ≥ 1/POINT_SHARE of the column's finite values) in
    the heavy plan bins, found through the heavy sub-bins."""
    in_bins: dict[str, str] = {}
    for name, histogram in plan_histograms.items():
        summary = summaries[name]
        bins = planning.heavy_plan_bins(summary, {int(u): n for u, n in histogram.items()})
        if bins:
            in_bins[name] = (f"{finite(name)} AND {planning.plan_bin_sql(guarded(name), summary)}"
                             f" IN ({', '.join(map(str, bins))})")
    if not in_bins:
        return {}
    names = list(in_bins)
    structs = [f"named_struct('i', {i}, 'b', CASE WHEN {in_bins[n]} THEN "
               f"{planning.sub_bin_sql(guarded(n), summaries[n])} END, 'v', {num(n)})"
               for i, n in enumerate(names)]
    heavy = " OR ".join(f"(i = {i} AND n * {POINT_SHARE} >= {summaries[n].count})"
                        for i, n in enumerate(names))
    frame = (unpivoted(source, structs).where("b IS NOT NULL").groupBy("i", "b")
             .agg(*_aggregates(source, "count(*) AS n", "min(v) AS lo", "max(v) AS hi"))
             .where(heavy))
    out: dict[str, dict[float, int]] = {}
    mixed: dict[str, list[int]] = {}
    for i, b, n, lo, hi in fetch_rows(source, frame.select("i", "b", "n", "lo", "hi"),
                                      "plan: heavy sub-bins"):
        name = names[i]
        if lo == hi:  # a sub-bin of one value: that value and its count, exactly
            out.setdefault(name, {})[float(lo)] = int(n)
        else:
            mixed.setdefault(name, []).append(int(b))
    if mixed:
        exprs, keep = {}, []
        for name, subs in mixed.items():
            where = (f"{in_bins[name]} AND {planning.sub_bin_sql(guarded(name), summaries[name])}"
                     f" IN ({', '.join(map(str, sorted(subs)))})")
            exprs[name] = f"(CASE WHEN {where} THEN {num(name)} END)"
            keep.append((len(exprs) - 1, summaries[name].count))
        having = " OR ".join(f"(i = {i} AND count * {POINT_SHARE} >= {n})" for i, n in keep)
        for name, values in _value_counts(source, exprs, having,
                                          "plan: values of mixed heavy sub-bins").items():
            out.setdefault(name, {}).update(values)
    return out


def unpivoted(source: SparkSource, structs: Sequence[str]):
    """The source's rows unpivoted into one row per struct (each struct's fields as columns):
    Spark's unpivot, an Expand of one compiled projection per struct, measured 3x faster
    than inline() of an array of them, a generator evaluated row by row."""
    names = [f"e{j}" for j in range(len(structs))]
    return (source.frame.selectExpr(*[f"{e} AS {n}" for e, n in zip(structs, names, strict=True)])
            .unpivot([], names, "entry", "e").select("e.*"))


def _aggregates(source: SparkSource, *exprs: str) -> list:
    from aidebt_core.engines.spark_sql import functions

    F = functions(source)
    return [F.expr(e) for e in exprs]


def _value_counts(source: SparkSource, exprs: dict[str, str], where: str = "true",
                  what: str = "plan: value counts") -> dict[str, dict[float, int]]:
    """{column: {value: count}} of DOUBLE expressions (NULL = not counted), in one job: the
    columns unpivoted, then one group-by."""
    if not exprs:
        return {}
    names = list(exprs)
    structs = [f"named_struct('i', {i}, 'd', {exprs[n]})" for i, n in enumerate(names)]
    frame = (unpivoted(source, structs).where("d IS NOT NULL").groupBy("i", "d").count()
             .where(where))
    out: dict[str, dict[float, int]] = {n: {} for n in names}
    for i, d, n in fetch_rows(source, frame, what):
        out[names[i]][float(d)] = int(n)
    return out
