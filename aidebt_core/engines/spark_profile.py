"""Profiles computed by Apache Spark: Spark SQL aggregations only, no row reaches Python.

The same functions as `aidebt_core.profiles.duckdb_engine`, with a `SparkSource` in place of a
DuckDB `Table`, and the same semantics (docs/profiles.md "Semantics every engine reproduces
exactly"): the bin expressions are the shared `grid_sql` / `plan_bin_sql` text, the plan is
made by the shared `planning` code from the same exact counts, so a Spark profile equals the
DuckDB profile of the same rows (sums up to float rounding).

Spark jobs per side: (A) one aggregate grouped by chunk with a grand-total row (rollup): rows,
missing/inf, min/max/sums per column, and the side's approximate distinct count of the
exact-planned numeric columns; (B) one count grouped by (chunk, column, value-or-bin) over the
columns unpivoted with `inline`, the categorical top-k cut in Spark by a window, so what is
collected is bounded by top-k, the grid and max_exact, never by the row count; (C) two small
group-bys for the label × prediction counts and score histograms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from aidebt_core.engines.spark import SparkSource, spark_column, spark_errors
from aidebt_core.errors import SchemaError
from aidebt_core.profiles import planning
from aidebt_core.profiles.model import (
    ALL_ROWS,
    CATEGORICAL,
    DEFAULT_MAX_EXACT,
    DEFAULT_TOP_K,
    NO_TIMESTAMP,
    NUMERIC,
    PERIODS,
    POINT_SHARE,
    ChunkProfile,
    ColumnPlan,
    ColumnProfile,
    DatasetProfile,
    PerformanceCounts,
    ProfilePlan,
    grid_sql,
    performance_counts,
    to_bins,
)
from aidebt_core.schema import Schema

ENGINE = "spark"
APPROX_RSD = 0.05  # HyperLogLog relative error (Spark default; 0.01 costs seconds per column): well
#                   inside planning.APPROX_FACTOR = 4
_TOTAL = "__aidebt_total"  # grouping flag of the rollup's grand-total row
_KEY = "__aidebt_chunk"  # the chunk key column added for job A (no clash with user columns)


# ------------------------------------------------------------------------------ SQL snippets

def _unwrap(source) -> SparkSource:
    """A SparkSource, or the one a SparkTable (engines/spark_table.py) carries."""
    inner = getattr(source, "source", None)
    return inner if isinstance(inner, SparkSource) else source


def _num(col: str) -> str:
    return f"CAST({spark_column(col)} AS DOUBLE)"


def _finite(col: str) -> str:
    v = _num(col)
    return f"({v} IS NOT NULL AND NOT isnan({v}) AND abs({v}) != CAST('Infinity' AS DOUBLE))"


def _finite_value(col: str) -> str:
    """The DOUBLE value when finite, else NULL (Spark's aggregates skip NULLs)."""
    return f"(CASE WHEN {_finite(col)} THEN {_num(col)} END)"


def _guarded(col: str) -> str:
    """The value with NULL/NaN/inf as 0.0, so a bin's CAST(floor(...) AS BIGINT) never sees
    them (ANSI mode fails on such casts); the caller's CASE drops those rows anyway."""
    return f"(CASE WHEN {_finite(col)} THEN {_num(col)} ELSE CAST(0.0 AS DOUBLE) END)"


def _text(col: str | None) -> str:
    return "CAST(NULL AS STRING)" if col is None else f"CAST({spark_column(col)} AS STRING)"


def chunk_key_sql(source: SparkSource, plan: ProfilePlan) -> str:
    """The chunk key (docs/profiles.md): '' / 'yyyy-MM-dd' of the period start /
    '(no timestamp)'. Spark sources chunk on a TIMESTAMP or DATE column."""
    source = _unwrap(source)
    if plan.chunk is None:
        return f"'{ALL_ROWS}'"
    if plan.chunk not in PERIODS:
        raise SchemaError(f"Unknown chunk period {plan.chunk!r}.")
    kind = source.column_type(plan.timestamp or "")
    if not kind.startswith(("timestamp", "date")):
        raise SchemaError(f"Column {plan.timestamp!r} of {source.label} is {kind}: a Spark "
                          "source is chunked on a TIMESTAMP or DATE column.")
    ts = spark_column(plan.timestamp or "")
    if kind == "date":  # a date as a wall-clock midnight: no session time zone involved
        ts = f"CAST({ts} AS TIMESTAMP_NTZ)"
    return (f"CASE WHEN {ts} IS NULL THEN '{NO_TIMESTAMP}' ELSE "
            f"date_format(date_trunc('{plan.chunk}', {ts}), 'yyyy-MM-dd') END")


def _functions(source: SparkSource):
    """pyspark's functions module for this source's session: Spark Connect has its own."""
    if _is_connect(source):
        from pyspark.sql.connect import functions
    else:
        from pyspark.sql import functions
    return functions


def _window(source: SparkSource):
    if _is_connect(source):
        from pyspark.sql.connect.window import Window
    else:
        from pyspark.sql import Window
    return Window


def _is_connect(source: SparkSource) -> bool:
    return type(source.frame).__module__.startswith("pyspark.sql.connect")


# ------------------------------------------------------------------------------ roles, kinds

_DUCKDB_TYPES = {"boolean": "BOOLEAN", "tinyint": "TINYINT", "smallint": "SMALLINT",
                 "int": "INTEGER", "bigint": "BIGINT", "float": "FLOAT", "double": "DOUBLE",
                 "string": "VARCHAR", "binary": "BLOB", "date": "DATE",
                 "timestamp": "TIMESTAMP WITH TIME ZONE", "timestamp_ntz": "TIMESTAMP",
                 "void": "VARCHAR"}


def duckdb_type(spark_type: str) -> str:
    """A Spark type as the DuckDB type name the role and kind rules (schema.py, drift) read."""
    kind = spark_type.lower()
    if kind in _DUCKDB_TYPES:
        return _DUCKDB_TYPES[kind]
    if kind.startswith("decimal"):
        return kind.upper()
    if kind.startswith(("varchar", "char")):
        return "VARCHAR"
    if kind.startswith("array"):
        return "VARCHAR[]"
    if kind.startswith("struct"):
        return "STRUCT"
    if kind.startswith("map"):
        return "MAP"
    if kind.startswith("interval"):
        return "INTERVAL"
    return kind.upper()


def spark_schema(source: SparkSource) -> Schema:
    """Roles inferred by schema.py's own rules from Spark aggregates: nulls, numeric min/max,
    distinct counts. Distinct counts are estimated (HyperLogLog) and, up to
    schema.EXACT_DISTINCT_MAX_ROWS rows, counted exactly where a role depends on them: a
    small estimate (two values, a prediction's few classes) and id-named columns (nearly
    unique or not). Spark's exact count(DISTINCT) of every column would replicate the rows
    once per column. Text timestamps are not recognised here: give a TIMESTAMP/DATE column."""
    source = _unwrap(source)
    from aidebt_core import schema as rules

    types = {name: duckdb_type(kind) for name, kind in source.columns}
    parts = ["count(*)"]
    for name, dtype in types.items():
        col = spark_column(name)
        nested = rules.is_nested_type(dtype)
        parts += ["0" if nested else f"approx_count_distinct({col}, {APPROX_RSD})",
                  f"count(*) - count({col})"]
        if rules.is_numeric_type(dtype):
            parts += [f"CAST(min({col}) AS DOUBLE)", f"CAST(max({col}) AS DOUBLE)"]
    with spark_errors(source.label):
        row = list(source.frame.selectExpr(*parts).collect()[0])
    rows, pos, stats = int(row[0]), 1, {}
    for name, dtype in types.items():
        width = 4 if rules.is_numeric_type(dtype) else 2
        stats[name] = row[pos: pos + width] + [None] * (4 - width)
        pos += width
    exact = _exact_distinct(source, types, stats, rows) \
        if rows <= rules.EXACT_DISTINCT_MAX_ROWS else {}
    infos = []
    for name, dtype in types.items():
        estimate, nulls, lo, hi = stats[name]
        distinct = min(int(exact.get(name, estimate or 0)), rows - int(nulls))
        role = rules.infer_role(name, dtype, distinct, rows - int(nulls), lo, hi)
        infos.append(rules.ColumnInfo(name, dtype, role, distinct, int(nulls), rows, role,
                                      name in exact, lo, hi))
    return Schema(rules.one_target(rules.pair_targets(tuple(infos))))


SMALL_DISTINCT = 1_000  # estimates up to this are counted exactly (collect_set stays small)


def _exact_distinct(source: SparkSource, types: dict[str, str], stats: dict[str, list],
                    rows: int) -> dict[str, int]:
    """Exact distinct counts of the columns whose role depends on them (see spark_schema)."""
    from aidebt_core import schema as rules

    parts = {}
    for name, dtype in types.items():
        if rules.is_nested_type(dtype):
            continue
        col = spark_column(name)
        if (stats[name][0] or 0) <= SMALL_DISTINCT:
            parts[name] = f"size(collect_set({col}))"
        elif rules._ID.search(name.lower()) and not dtype.startswith(("FLOAT", "DOUBLE")):
            parts[name] = f"count(DISTINCT {col})"
    if not parts:
        return {}
    with spark_errors(source.label):
        row = source.frame.selectExpr(*parts.values()).collect()[0]
    return {name: int(value) for name, value in zip(parts, row, strict=True)}


def profile_kinds(source: SparkSource, schema: Schema | None = None,
                  columns: Sequence[str] | None = None, categorical: Sequence[str] = (),
                  timestamp: str | None = None) -> list[tuple[str, str]]:
    """(column, kind) a profile keeps, chosen as duckdb_engine.profile_kinds chooses them."""
    source = _unwrap(source)
    types = {name: duckdb_type(kind) for name, kind in source.columns}
    if columns:
        missing = [c for c in columns if c not in types]
        if missing:
            raise SchemaError(f"{source.label} has no column(s) {', '.join(map(repr, missing))}"
                              f" (columns: {', '.join(types)}).")
    return planning.kept_columns(schema or spark_schema(source), types, source.label, columns,
                                 categorical, timestamp)


# ------------------------------------------------------------------------------ the plan

def plan_profile(source: SparkSource, kinds: Sequence[tuple[str, str]], *,
                 timestamp: str | None = None, chunk: str | None = None,
                 target: str | None = None, prediction: str | None = None,
                 score: str | None = None, top_k: int = DEFAULT_TOP_K,
                 max_exact: int = DEFAULT_MAX_EXACT) -> ProfilePlan:
    """The plan from the reference `source`: the three aggregates of `planning` (summaries;
    exact value counts of the few-valued columns and plan histograms of the others, in one
    Spark job)."""
    source = _unwrap(source)
    _require(source, [n for n, _ in kinds])
    numeric = [n for n, k in kinds if k == NUMERIC]
    summaries = _summaries(source, numeric)
    wanted = [n for n in numeric if planning.wants_value_counts(summaries[n], max_exact)]
    exprs = {n: _finite_value(n) for n in wanted if summaries[n].count}
    for n in numeric:
        if n not in wanted:
            bin_sql = planning.plan_bin_sql(_guarded(n), summaries[n])
            exprs[n] = f"(CASE WHEN {_finite(n)} THEN CAST({bin_sql} AS DOUBLE) END)"
    counts = _value_counts(source, exprs)
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
    return planning.make_plan(plans, timestamp=timestamp, chunk=chunk, target=target,
                              prediction=prediction, score=score, top_k=top_k,
                              max_exact=max_exact)


def _require(source: SparkSource, names: Sequence[str]) -> None:
    missing = [n for n in names if n not in source.column_names]
    if missing:
        raise SchemaError(f"{source.label} has no column(s) {', '.join(map(repr, missing))} "
                          f"(columns: {', '.join(source.column_names)}).")


def _summaries(source: SparkSource, numeric: Sequence[str]
               ) -> dict[str, planning.NumericSummary]:
    if not numeric:
        return {}
    parts = []
    for n in numeric:
        fv = _finite_value(n)
        parts += [f"count({fv})", f"min({fv})", f"max({fv})",
                  f"approx_count_distinct({fv}, {APPROX_RSD})"]
    with spark_errors(source.label):
        row = source.frame.selectExpr(*parts).collect()[0]
    out = {}
    for i, n in enumerate(numeric):
        count, lo, hi, distinct = row[4 * i: 4 * i + 4]
        out[n] = planning.NumericSummary(n, int(count), None if lo is None else float(lo),
                                         None if hi is None else float(hi), int(distinct or 0))
    return out


def _heavy_counts(source: SparkSource, summaries: dict[str, planning.NumericSummary],
                  plan_histograms: dict[str, dict[float, int]]) -> dict[str, dict[float, int]]:
    """Step 3b: the values of the heavy plan bins that are heavy themselves (each ≥
    1/POINT_SHARE of the column's finite values; the lighter ones are never grid points, so
    they are filtered in Spark instead of collected)."""
    exprs, keep = {}, []
    for name, histogram in plan_histograms.items():
        summary = summaries[name]
        bins = planning.heavy_plan_bins(summary, {int(u): n for u, n in histogram.items()})
        if not bins:
            continue
        in_bins = (f"{planning.plan_bin_sql(_guarded(name), summary)} IN "
                   f"({', '.join(map(str, bins))})")
        exprs[name] = f"(CASE WHEN {_finite(name)} AND {in_bins} THEN {_num(name)} END)"
        keep.append((len(exprs) - 1, summary.count))
    if not exprs:
        return {}
    heavy = " OR ".join(f"(i = {i} AND count * {POINT_SHARE} >= {n})" for i, n in keep)
    return _value_counts(source, exprs, heavy)


def _value_counts(source: SparkSource, exprs: dict[str, str], where: str = "true"
                  ) -> dict[str, dict[float, int]]:
    """{column: {value: count}} of DOUBLE expressions (NULL = not counted), in one job: the
    columns unpivoted (inline of an array of structs), then one group-by."""
    if not exprs:
        return {}
    names = list(exprs)
    structs = ", ".join(f"named_struct('i', {i}, 'd', {exprs[n]})" for i, n in enumerate(names))
    with spark_errors(source.label):
        rows = (source.frame
                .selectExpr(f"inline(filter(array({structs}), e -> e.d IS NOT NULL))")
                .groupBy("i", "d").count().where(where).collect())
    out: dict[str, dict[float, int]] = {n: {} for n in names}
    for i, d, n in rows:
        out[names[i]][float(d)] = int(n)
    return out


# ------------------------------------------------------------------------------ profiles

def compute_profile(source: SparkSource, plan: ProfilePlan) -> DatasetProfile:
    """`source`'s profile under `plan` (jobs A, B, C of the module docstring)."""
    source = _unwrap(source)
    _require(source, list(plan.names))
    key = chunk_key_sql(source, plan)
    scalars, side_distinct = _scalars(source, plan, key)
    limit = planning.APPROX_FACTOR * plan.max_exact
    counted = {n for n, d in side_distinct.items() if d <= limit}
    kept, other = _counts(source, plan, key, counted)
    # A side counted value by value must stay within max_exact distinct values in total.
    too_many = set()
    for c in plan.columns:
        if c.name in counted:
            distinct = set()
            for k in scalars:
                distinct.update(kept.get((k, c.name), {}))
            if len(distinct) > plan.max_exact:
                too_many.add(c.name)
    performance = _performance(source, plan, key)
    chunks = []
    for k in sorted(scalars):
        rows, stats = scalars[k]
        cols = []
        for c in plan.columns:
            prof = _column_profile(c, rows, stats[c.name], kept.get((k, c.name), {}),
                                   other.get((k, c.name), 0), c.name in counted)
            if c.name in too_many:
                prof = to_bins(prof, c.grid)
            cols.append(prof)
        chunks.append(ChunkProfile(k, rows, tuple(cols), performance.get(k)))
    types = dict(source.columns)
    return DatasetProfile(plan, tuple(chunks), source.label,
                          tuple((n, duckdb_type(types[n])) for n in plan.names), ENGINE)


def _scalars(source: SparkSource, plan: ProfilePlan, key: str
             ) -> tuple[dict[str, tuple[int, dict[str, tuple]]], dict[str, int]]:
    """Job A: per chunk (rows, {column: (missing, inf, min, max, sum, sum of squares)}), and
    the side's approximate distinct count of every exact-planned numeric column (the
    rollup's grand-total row)."""
    parts, layout = ["count(*)"], []
    for c in plan.columns:
        col = spark_column(c.name)
        if c.kind == CATEGORICAL:
            parts.append(f"count_if({col} IS NULL)")
            layout.append((c.name, 1))
            continue
        v, fv = _num(c.name), _finite_value(c.name)
        parts += [f"count_if({col} IS NULL OR isnan({v}))",
                  f"count_if(abs({v}) = CAST('Infinity' AS DOUBLE))",
                  f"min({fv})", f"max({fv})", f"sum({fv})", f"sum({fv} * {fv})"]
        width = 6
        if c.exact:
            parts.append(f"approx_count_distinct({fv}, {APPROX_RSD})")
            width = 7
        layout.append((c.name, width))
    F = _functions(source)
    with spark_errors(source.label):
        rows = (source.frame.withColumn(_KEY, F.expr(key)).rollup(_KEY)
                .agg(F.grouping_id().alias(_TOTAL), *[F.expr(p) for p in parts]).collect())
    per_chunk: dict[str, tuple[int, dict[str, tuple]]] = {}
    side_distinct: dict[str, int] = {}
    for row in rows:
        values = list(row[2:])
        total = bool(row[1])
        at = 1
        stats = {}
        for name, width in layout:
            stats[name] = tuple(values[at: at + width])
            at += width
        if total:
            side_distinct = {name: int(s[6] or 0) for name, s in stats.items() if len(s) == 7}
        else:
            per_chunk[str(row[0])] = (int(values[0]), stats)
    return per_chunk, side_distinct


BINNED_PER_JOB = 4  # binned columns per Spark job: their bin expressions, generated as Java,
#                    must fit the JVM's 64 KB method limit (else Spark compiles, fails and
#                    falls back to slower code); categorical and counted columns are cheap


def _column_groups(plan: ProfilePlan, counted: set[str]) -> list[list[int]]:
    """Column indices per job B run: the cheap columns with the first binned ones."""
    binned = [i for i, c in enumerate(plan.columns) if c.kind == NUMERIC and c.name not in counted]
    cheap = [i for i in range(len(plan.columns)) if i not in binned]
    groups = [binned[at: at + BINNED_PER_JOB] for at in range(0, len(binned), BINNED_PER_JOB)]
    if not groups:
        return [cheap]
    groups[0] = sorted(cheap + groups[0])
    return groups


def _counts(source: SparkSource, plan: ProfilePlan, key: str, counted: set[str]
            ) -> tuple[dict[tuple[str, str], dict], dict[tuple[str, str], int]]:
    """Job B: {(chunk, column): {value-or-bin: count}} and the rows folded beyond top-k."""
    kept: dict[tuple[str, str], dict] = {}
    other: dict[tuple[str, str], int] = {}
    for group in _column_groups(plan, counted):
        for k, i, s, d, n, folded in _count_rows(source, plan, key, counted, group):
            cell = (str(k), plan.columns[i].name)
            value = s if plan.columns[i].kind == CATEGORICAL else float(d)
            kept.setdefault(cell, {})[value] = int(n)
            if folded:
                other[cell] = int(folded)
    return kept, other


def _count_rows(source: SparkSource, plan: ProfilePlan, key: str, counted: set[str],
                group: Sequence[int]) -> list:
    """One job B run over the columns `group` (indices into plan.columns): rows of (chunk,
    column index, text value, numeric value or bin, count, rows folded beyond top-k)."""
    # Each column's value is projected once (v{i}, f{i}: finite), and the bin expressions read
    # those projections: written inline, the value's CASE would be repeated in every branch of
    # the grid's binary search.
    projected, structs = [f"{key} AS k"], []
    for i in group:
        c = plan.columns[i]
        if c.kind == CATEGORICAL:
            projected.append(f"{_text(c.name)} AS s{i}")
            s, d = f"s{i}", "CAST(NULL AS DOUBLE)"
        else:
            projected += [f"{_finite(c.name)} AS f{i}", f"{_guarded(c.name)} AS v{i}"]
            s = "CAST(NULL AS STRING)"
            value = f"v{i}" if c.name in counted else f"CAST({grid_sql(f'v{i}', c.grid)} AS DOUBLE)"
            d = f"(CASE WHEN f{i} THEN {value} END)"
        structs.append(f"named_struct('i', {i}, 's', {s}, 'd', {d})")
    categorical = [i for i in group if plan.columns[i].kind == CATEGORICAL]
    F, Window = _functions(source), _window(source)
    with spark_errors(source.label):
        counts = (source.frame.selectExpr(*projected)
                  .selectExpr("k", f"inline(array({', '.join(structs)}))")
                  .where("s IS NOT NULL OR d IS NOT NULL")
                  .groupBy("k", "i", "s", "d").count())
        # Top-k per (chunk, categorical column) by count descending, then value ascending.
        window = Window.partitionBy("k", "i").orderBy(F.col("count").desc(), F.col("s").asc())
        ranked = (counts
                  .withColumn("rank", F.row_number().over(window))
                  .withColumn("folded", F.sum(F.when(F.col("rank") > plan.top_k, F.col("count"))
                                              .otherwise(0)).over(Window.partitionBy("k", "i")))
                  .where(~F.col("i").isin(categorical) | (F.col("rank") <= plan.top_k)))
        return ranked.select("k", "i", "s", "d", "count", "folded").collect()


def _column_profile(plan: ColumnPlan, rows: int, stats: tuple, counts: dict, other: int,
                    counted: bool) -> ColumnProfile:
    if plan.kind == CATEGORICAL:
        return ColumnProfile(plan.name, CATEGORICAL, rows, int(stats[0]), 0,
                             tuple(sorted(counts.items())), other)
    missing, inf, lo, hi, total, total_sq = stats[:6]
    base = ColumnProfile(plan.name, NUMERIC, rows, int(missing), int(inf),
                         minimum=None if lo is None else float(lo),
                         maximum=None if hi is None else float(hi),
                         total=float(total or 0.0), total_sq=float(total_sq or 0.0))
    if counted:
        return replace(base, values=tuple(sorted(counts.items())))
    bins = [0] * plan.grid.bins
    for b, n in counts.items():
        bins[int(b)] = int(n)
    return replace(base, bins=tuple(bins))


def _performance(source: SparkSource, plan: ProfilePlan, key: str
                 ) -> dict[str, PerformanceCounts]:
    """Job C: per chunk, label × prediction counts and per-label score histograms."""
    if not (plan.target or plan.prediction or plan.score):
        return {}
    label, pred = _text(plan.target), _text(plan.prediction)
    with spark_errors(source.label):
        confusion_rows = (source.frame.selectExpr(f"{key} AS k", f"{label} AS l", f"{pred} AS p")
                          .groupBy("k", "l", "p").count().collect())
        score_rows = []
        if plan.score and plan.score_grid is not None:
            s = plan.score
            bin_sql = grid_sql("v", plan.score_grid)  # v projected once (see _counts)
            score_rows = (source.frame
                          .selectExpr(f"{key} AS k", f"{label} AS l", f"{_finite(s)} AS f",
                                      f"{_guarded(s)} AS v")
                          .selectExpr("k", "l", f"CASE WHEN f THEN {bin_sql} END AS b")
                          .groupBy("k", "l", "b").count().collect())
    confusion: dict[str, list] = {}
    for k, la, pr, n in confusion_rows:
        confusion.setdefault(str(k), []).append((la, pr, int(n)))
    scores: dict[str, dict] = {}
    missing: dict[str, int] = {}
    grid = plan.score_grid
    for k, la, b, n in score_rows:
        if b is None:
            missing[str(k)] = missing.get(str(k), 0) + int(n)
            continue
        bins = scores.setdefault(str(k), {}).setdefault(la, [0] * grid.bins)
        bins[int(b)] += int(n)
    return {k: performance_counts(confusion[k], scores.get(k, {}).items(), missing.get(k, 0))
            for k in confusion}


__all__ = ["chunk_key_sql", "compute_profile", "duckdb_type", "plan_profile", "profile_kinds",
           "spark_schema"]
