"""Profiles computed by Apache Spark: Spark SQL aggregations only, no row reaches Python.

The same functions as `aidebt_core.profiles.duckdb_engine`, with a `SparkSource` in place of a
DuckDB `Table`, and the same semantics (docs/profiles.md "Semantics every engine reproduces
exactly"): the bin expressions are the shared `grid_sql` / `plan_bin_sql` text, the plan is
made by the shared `planning` code from the same exact counts (spark_plan.py), so a Spark
profile equals the DuckDB profile of the same rows (sums up to float rounding).

A side's profile is ONE Spark job, one read of the source: every row is unpivoted (`unpivot`)
into one entry per profiled column — (column, tag: value / missing / infinite, text value,
numeric value or bin, the finite value) — plus one for its label × prediction and one for its
score bin, and counted by (chunk, entry) with the sum, sum of squares, min and max of the
finite values. Over those counts (small: bounded by top-k, the grid and max_exact, never by
the row count) Spark then re-bins an exact-planned column whose side has more than max_exact
distinct values (an exact distinct count by `dense_rank`), and cuts each categorical column to
its top-k values per chunk by a window. The rows per chunk, missing and infinite counts and
the sums are read off those counts in Python. Sections (profiles/sections.py) run their own
SQL over the source as a temporary view (`sql_context`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from aidebt_core.engines.spark import SparkSource, spark_column, spark_errors
from aidebt_core.engines.spark_plan import (
    APPROX_RSD,
    SUMMARIES,
    plan_profile,
    require,
    summary_of,
)
from aidebt_core.engines.spark_sql import (
    INF,
    NULL_DOUBLE,
    NULL_TEXT,
    ZERO,
    fetch_rows,
    fetch_table,
    finite_value,
    functions,
    num,
    text,
    unwrap,
    window,
)
from aidebt_core.errors import SchemaError
from aidebt_core.profiles import planning
from aidebt_core.profiles.model import (
    ALL_ROWS,
    CATEGORICAL,
    NO_TIMESTAMP,
    NUMERIC,
    PERIODS,
    ChunkProfile,
    ColumnPlan,
    ColumnProfile,
    DatasetProfile,
    ProfilePlan,
    grid_sql,
    performance_counts,
)
from aidebt_core.schema import Schema

ENGINE = "spark"


def chunk_key_sql(source: SparkSource, plan: ProfilePlan) -> str:
    """The chunk key (docs/profiles.md): '' / 'yyyy-MM-dd' of the period start /
    '(no timestamp)'. Spark sources chunk on a TIMESTAMP or DATE column."""
    source = unwrap(source)
    if plan.chunk is None:
        return f"'{ALL_ROWS}'"
    if plan.chunk not in PERIODS:
        raise SchemaError(f"Unknown chunk period {plan.chunk!r}.")
    kind = source.column_type(plan.timestamp or "")
    if not kind.startswith(("timestamp", "date")):
        raise SchemaError(f"Column {plan.timestamp!r} of {source.label} is {kind}: a Spark "
                          "source is chunked on a TIMESTAMP or DATE column.")
    ts = timestamp_sql(source, plan.timestamp or "")
    return (f"CASE WHEN {ts} IS NULL THEN '{NO_TIMESTAMP}' ELSE "
            f"date_format(date_trunc('{plan.chunk}', {ts}), 'yyyy-MM-dd') END")


def timestamp_sql(source: SparkSource, column: str) -> str:
    """A TIMESTAMP or DATE column as the timestamp chunks are cut from."""
    ts = spark_column(column)
    if unwrap(source).column_type(column) == "date":  # a wall-clock midnight: no time zone
        ts = f"CAST({ts} AS TIMESTAMP_NTZ)"
    return ts


def _time_spans(source: SparkSource, plan: ProfilePlan, key: str) -> dict[str, tuple]:
    """Per dated chunk, its first and last time as fixed-width text (profiles.model
    TIME_FORMAT, as DuckDB writes it): they mark partial first/last periods."""
    if plan.chunk is None:
        return {}
    ts, text = timestamp_sql(source, plan.timestamp or ""), "'yyyy-MM-dd''T''HH:mm:ss.SSSSSS'"
    view = sql_context(source, plan).rows   # the source's temporary view
    frame = source.frame.sparkSession.sql(
        f"SELECT {key}, date_format(min({ts}), {text}), date_format(max({ts}), {text}) "
        f"FROM {view} GROUP BY 1")
    rows = fetch_rows(source, frame, "profile: chunk first/last times")
    return {str(k): (first, last) for k, first, last in rows if first is not None}


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
    source = unwrap(source)
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
    # The plan's summaries of the numeric columns ride along (spark_plan.py job 1): finite
    # count, min and max; the column's own distinct estimate stands for that of its finite
    # values (they differ by NaN and ±inf at most, and the estimate only chooses how the
    # plan's counts are read, never what they are).
    numeric = [n for n, dtype in types.items() if rules.is_numeric_type(dtype)]
    parts += [f"{agg}({finite_value(n)})" for n in numeric for agg in ("count", "min", "max")]
    row = list(fetch_rows(source, source.frame.selectExpr(*parts), "roles and summaries")[0])
    rows, pos, stats = int(row[0]), 1, {}
    for name, dtype in types.items():
        width = 4 if rules.is_numeric_type(dtype) else 2
        stats[name] = row[pos: pos + width] + [None] * (4 - width)
        pos += width
    source.memo[SUMMARIES] = {n: summary_of(n, [*row[pos + 3 * j: pos + 3 * j + 3],
                                                stats[n][0]])
                              for j, n in enumerate(numeric)}
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
    row = fetch_rows(source, source.frame.selectExpr(*parts.values()), "exact distinct")[0]
    return {name: int(value) for name, value in zip(parts, row, strict=True)}


def profile_kinds(source: SparkSource, schema: Schema | None = None,
                  columns: Sequence[str] | None = None, categorical: Sequence[str] = (),
                  timestamp: str | None = None) -> list[tuple[str, str]]:
    """(column, kind) a profile keeps, chosen as duckdb_engine.profile_kinds chooses them."""
    source = unwrap(source)
    types = {name: duckdb_type(kind) for name, kind in source.columns}
    if columns:
        missing = [c for c in columns if c not in types]
        if missing:
            raise SchemaError(f"{source.label} has no column(s) {', '.join(map(repr, missing))}"
                              f" (columns: {', '.join(types)}).")
    return planning.kept_columns(schema or spark_schema(source), types, source.label, columns,
                                 categorical, timestamp)


# ------------------------------------------------------------------------------ profiles

CONFUSION, SCORE, ROWS = -2, -3, -1  # entry ids beside the columns' own (0, 1, ...)
VALUE, MISSING, INFINITE = 0, 1, 2   # an entry's tag


def compute_profile(source: SparkSource, plan: ProfilePlan) -> DatasetProfile:
    """`source`'s profile under `plan`: one Spark job (module docstring), plus the plan's
    sections, if any."""
    source = unwrap(source)
    require(source, list(plan.names))
    key = chunk_key_sql(source, plan)
    counts = _Counts.read(fetch_table(source, _counts_frame(source, plan, key),
                                      "profile: counts"), plan)
    sections = _sections(source, plan)
    spans = _time_spans(source, plan, key)
    chunks = [ChunkProfile(k, counts.rows(k), tuple(counts.column(k, i, c)
                                                    for i, c in enumerate(plan.columns)),
                           counts.performance(k), sections.get(k, ()),
                           *spans.get(k, (None, None)))
              for k in counts.keys()]
    types = dict(source.columns)
    return DatasetProfile(plan, tuple(chunks), source.label,
                          tuple((n, duckdb_type(types[n])) for n in plan.names), ENGINE)


def _entry(i: int, tag: str, text_value: str = NULL_TEXT, prediction: str = NULL_TEXT,
           value: str = NULL_DOUBLE, finite_value: str = NULL_DOUBLE) -> str:
    return (f"named_struct('i', {i}, 't', {tag}, 's', {text_value}, 'p', {prediction}, "
            f"'d', {value}, 'v', {finite_value})")


def _counts_frame(source: SparkSource, plan: ProfilePlan, key: str):
    """The job: rows read once, unpivoted into entries, counted; then the small steps over
    the counts (re-binning, top-k)."""
    # Four projections: the raw readings; each numeric column's tag and its value with
    # NULL/NaN/inf as 0.0 (g, projected once: the grid's binary search reads it many times);
    # the value or bin (d) of each entry; the entries, structs of plain column references.
    # Spark keeps the projections apart because each reads the previous one's non-trivial
    # expressions more than once.
    read, tagged, binned, entries = [f"{key} AS k"], ["k"], ["k"], []
    for i, c in enumerate(plan.columns):
        if c.kind == CATEGORICAL:
            read.append(f"{text(c.name)} AS s{i}")
            tagged.append(f"s{i}")
            binned += [f"s{i}", f"CASE WHEN s{i} IS NULL THEN {MISSING} ELSE {VALUE} END AS t{i}"]
            entries.append(_entry(i, f"t{i}", f"s{i}"))
            continue
        read.append(f"{num(c.name)} AS r{i}")
        tagged += [_tag(f"r{i}", f"t{i}"),
                   f"CASE WHEN {_finite_raw(f'r{i}')} THEN r{i} ELSE {ZERO} END AS g{i}"]
        value = f"g{i}" if c.exact else f"CAST({grid_sql(f'g{i}', c.grid)} AS DOUBLE)"
        binned += [f"t{i}", f"CASE WHEN t{i} = {VALUE} THEN {value} END AS d{i}",
                   f"CASE WHEN t{i} = {VALUE} THEN g{i} END AS v{i}"]
        entries.append(_entry(i, f"t{i}", value=f"d{i}", finite_value=f"v{i}"))
    if plan.target or plan.prediction or plan.score:
        read += [f"{text(plan.target)} AS label", f"{text(plan.prediction)} AS prediction"]
        tagged += ["label", "prediction"]
        binned += ["label", "prediction"]
        entries.append(_entry(CONFUSION, str(VALUE), "label", "prediction"))
        if plan.score and plan.score_grid is not None:
            read.append(f"{num(plan.score)} AS rs")
            tagged += [_tag("rs", "ts"),
                       f"CASE WHEN {_finite_raw('rs')} THEN rs ELSE {ZERO} END AS gs"]
            score_bin = f"CAST({grid_sql('gs', plan.score_grid)} AS DOUBLE)"
            binned += ["ts", f"CASE WHEN ts = {VALUE} THEN {score_bin} END AS ds"]
            entries.append(_entry(SCORE, "ts", "label", value="ds"))
    if not plan.columns:
        entries.append(_entry(ROWS, str(VALUE)))
    F, Window = functions(source), window(source)
    agg = [F.expr(e) for e in ("count(*) AS n", "sum(v) AS sv", "sum(v * v) AS sq",
                               "min(v) AS lo", "max(v) AS hi")]
    # The unpivot is Spark's own (an Expand of one compiled projection per entry), measured
    # 3x faster than a generator over an array of the entries on 1M rows.
    names = [f"e{j}" for j in range(len(entries))]
    counts = (source.frame.selectExpr(*read).selectExpr(*tagged).selectExpr(*binned)
              .selectExpr("k", *[f"{e} AS {n}" for e, n in zip(entries, names, strict=True)])
              .unpivot(["k"], names, "entry", "e").select("k", "e.*")
              .groupBy("k", "i", "t", "s", "p", "d").agg(*agg))
    exact = [i for i, c in enumerate(plan.columns) if c.kind == NUMERIC and c.exact]
    if exact:
        counts = _rebinned(counts, plan, exact, F, Window)
    else:
        counts = counts.withColumn("binned", F.lit(False))
    categorical = [i for i, c in enumerate(plan.columns) if c.kind == CATEGORICAL]
    if categorical:
        # Top-k per (chunk, column) by count descending, then value ascending; the missing
        # entry (t = 1) has a partition of its own.
        cell = Window.partitionBy("k", "i", "t")
        ranked = counts.withColumn("rank", F.row_number().over(
            cell.orderBy(F.col("n").desc(), F.col("s").asc())))
        counts = (ranked
                  .withColumn("folded", F.sum(F.when(F.col("rank") > plan.top_k, F.col("n"))
                                              .otherwise(0)).over(cell))
                  .where(~F.col("i").isin(categorical) | (F.col("rank") <= plan.top_k)))
    else:
        counts = counts.withColumn("folded", F.lit(0))
    return counts.select("k", "i", "t", "s", "p", "d", "binned", "n", "sv", "sq", "lo", "hi",
                         "folded")


def _finite_raw(raw: str) -> str:
    return f"({raw} IS NOT NULL AND NOT isnan({raw}) AND abs({raw}) != {INF})"


def _tag(raw: str, name: str) -> str:
    """missing: NULL or NaN; infinite: ±inf; else a finite value (docs/profiles.md)."""
    return (f"CASE WHEN {raw} IS NULL OR isnan({raw}) THEN {MISSING} "
            f"WHEN abs({raw}) = {INF} THEN {INFINITE} ELSE {VALUE} END AS {name}")


def _rebinned(counts, plan: ProfilePlan, exact: Sequence[int], F, Window):
    """An exact-planned column counted value by value whose side (all chunks) has more than
    max_exact distinct values is counted on its grid instead (docs/profiles.md): the exact
    distinct count is the largest dense rank of the values, the bins come from the values."""
    values = Window.partitionBy("i", "t")
    ranked = (counts.withColumn("rank", F.dense_rank().over(values.orderBy("d")))
              .withColumn("nd", F.max("rank").over(values)))
    over = (f"(i IN ({', '.join(map(str, exact))}) AND t = {VALUE} AND "
            f"nd > {plan.max_exact})")
    bins = " ".join(f"WHEN i = {i} THEN CAST({grid_sql('d', plan.columns[i].grid)} AS DOUBLE)"
                    for i in exact)
    agg = [F.expr(e) for e in ("sum(n) AS n", "sum(sv) AS sv", "sum(sq) AS sq",
                               "min(lo) AS lo", "max(hi) AS hi")]
    return (ranked.selectExpr("k", "i", "t", "s", "p",
                              f"CASE WHEN {over} THEN CASE {bins} END ELSE d END AS d",
                              f"{over} AS binned", "n", "sv", "sq", "lo", "hi")
            .groupBy("k", "i", "t", "s", "p", "d", "binned").agg(*agg))


@dataclass
class _Cell:
    """One (chunk, column)'s counts as the job returned them."""

    missing: int = 0
    inf: int = 0
    other: int = 0
    binned: bool = False
    counts: dict = field(default_factory=dict)  # value or bin -> rows
    minimum: float | None = None
    maximum: float | None = None
    total: float = 0.0
    total_sq: float = 0.0


@dataclass
class _Counts:
    """The job's result arranged by chunk: cells per column, label × prediction counts,
    score bins."""

    plan: ProfilePlan
    cells: dict = field(default_factory=dict)        # (chunk, column index) -> _Cell
    confusion: dict = field(default_factory=dict)    # chunk -> [(label, prediction, n)]
    scores: dict = field(default_factory=dict)       # chunk -> {label: [bin counts]}
    score_missing: dict = field(default_factory=dict)

    @classmethod
    def read(cls, table, plan: ProfilePlan) -> _Counts:
        out = cls(plan)
        columns = [table.column(name).to_pylist() for name in table.column_names]
        for k, i, t, s, p, d, binned, n, sv, sq, lo, hi, folded in zip(*columns, strict=True):
            out._add(str(k), i, t, s, p, d, binned, n, sv, sq, lo, hi, folded)
        return out

    def _add(self, k, i, t, s, p, d, binned, n, sv, sq, lo, hi, folded) -> None:
        if i == CONFUSION:
            self.confusion.setdefault(k, []).append((s, p, n))
            return
        if i == SCORE:
            if t != VALUE:
                self.score_missing[k] = self.score_missing.get(k, 0) + n
                return
            bins = self.scores.setdefault(k, {}).setdefault(s, [0] * self.plan.score_grid.bins)
            bins[int(d)] += n
            return
        cell = self.cells.setdefault((k, i), _Cell())
        if t == MISSING:
            cell.missing += n
        elif t == INFINITE:
            cell.inf += n
        elif i == ROWS:
            cell.counts[None] = n
        elif self.plan.columns[i].kind == CATEGORICAL:
            cell.counts[s] = n
            cell.other = folded
        else:
            cell.counts[float(d)] = cell.counts.get(float(d), 0) + n
            cell.binned = cell.binned or bool(binned)
            cell.minimum = lo if cell.minimum is None else min(cell.minimum, lo)
            cell.maximum = hi if cell.maximum is None else max(cell.maximum, hi)
            cell.total += sv
            cell.total_sq += sq

    def keys(self) -> list[str]:
        return sorted({k for k, _ in self.cells} | set(self.confusion))

    def rows(self, k: str) -> int:
        """Every row has an entry for every column (and its label × prediction)."""
        if self.plan.columns or (k, ROWS) in self.cells:
            cell = self.cells.get((k, 0 if self.plan.columns else ROWS), _Cell())
            return cell.missing + cell.inf + cell.other + sum(cell.counts.values())
        return sum(n for _, _, n in self.confusion.get(k, ()))

    def column(self, k: str, i: int, plan: ColumnPlan) -> ColumnProfile:
        cell = self.cells.get((k, i), _Cell())
        rows = self.rows(k)
        if plan.kind == CATEGORICAL:
            return ColumnProfile(plan.name, CATEGORICAL, rows, cell.missing, 0,
                                 tuple(sorted(cell.counts.items())), cell.other)
        base = ColumnProfile(plan.name, NUMERIC, rows, cell.missing, cell.inf,
                             minimum=None if cell.minimum is None else float(cell.minimum),
                             maximum=None if cell.maximum is None else float(cell.maximum),
                             total=float(cell.total), total_sq=float(cell.total_sq))
        if plan.exact and not cell.binned:
            return replace(base, values=tuple(sorted(cell.counts.items())))
        bins = [0] * plan.grid.bins
        for b, n in cell.counts.items():
            bins[int(b)] = n
        return replace(base, bins=tuple(bins))

    def performance(self, k: str):
        if k not in self.confusion:
            return None
        return performance_counts(self.confusion[k], self.scores.get(k, {}).items(),
                                  self.score_missing.get(k, 0))


_views = itertools.count()


def sql_context(source: SparkSource, plan: ProfilePlan):
    """The SqlContext (profiles/sections.py) over `source` on Spark: its rows as a temporary
    view (a name for the lazy DataFrame, no data held; one per source, kept for the
    session), backtick quoting, `spark.sql(...)` collected as `run`."""
    from aidebt_core.profiles.sections import SqlContext

    source = unwrap(source)
    session = source.frame.sparkSession
    key = chunk_key_sql(source, plan) if plan is not None else "''"
    view = source.memo.get("view")
    if view is None:
        view = f"aidebt_rows_{next(_views)}"
        with spark_errors(source.label):
            source.frame.createOrReplaceTempView(view)
        source.memo["view"] = view

    def run(sql: str) -> list[tuple]:
        # columnar (Arrow), not a Row object per result row: a section's cells can be many
        table = fetch_table(source, session.sql(sql), "section")
        return list(zip(*(c.to_pylist() for c in table.columns), strict=True))

    return SqlContext(run, spark_column(view), key, spark_column, ENGINE)


def _sections(source: SparkSource, plan: ProfilePlan) -> dict[str, tuple]:
    """The plan's sections per chunk: {chunk key: ((name, Section), ...)}."""
    if not plan.sections:
        return {}
    from aidebt_core.profiles.sections import compute_sections

    return compute_sections(sql_context(source, plan), plan)


__all__ = ["chunk_key_sql", "compute_profile", "duckdb_type", "plan_profile", "profile_kinds",
           "spark_schema", "sql_context"]
