"""The "cross" profile section: the sums of products and contingency tables entanglement needs.

Per chunk, over the columns of the `Config` (the entanglement features of the reference):
- numeric pairs: pairwise-complete row count and sums of x, y, x², y², x·y (Pearson exact,
  with the same pairwise-complete semantics as `entanglement.measures.pearson_matrix`);
- complete-case moments: rows where every numeric column is finite, their sums and sums of
  products (multivariate drift reads these, profiles/multivariate.py);
- categorical pairs: contingency counts over the reference's kept levels + one "(other)" code
  (Cramér's V and Theil's U exact);
- categorical × numeric: per level, the numeric column's count, sum and sum of squares (η exact).
Numeric values are shifted by a constant per column (the reference mean, rounded, fixed in the
config) before they are summed: sums of products of raw values like an integer `year` lose
the variance to cancellation, shifted ones do not, and a shift changes no statistic.

Levels are capped as the entanglement encoder caps them (`top_k`: the `top_k - 1` most
frequent values of the reference, by count descending then value, and "(other)"), so a
section's size is bounded by the columns and `top_k`, not the rows. Spearman's ρ needs each
row's rank, which no sum of products gives: it is not in the section (profiles/entanglement.py
refuses it in one line).

SQL: a light count of each numeric column's finite rows (the pairs of complete columns need
only Σxy), then three aggregate queries per side (numeric sums grouped by chunk; per-level
sums with GROUPING SETS; contingency counts with GROUPING SETS), the same on DuckDB and Spark.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

from aidebt_core.profiles.model import double_literal

NAME = "cross"
TOP_K = 50              # as entanglement.encode.DEFAULT_TOP_K (a test keeps them equal)
OTHER = "(other)"
SHIFT_DIGITS = 6        # shifts rounded so DuckDB and Spark, whose means differ in the last
#                         bits, make the same config


def pair_index(i: int, j: int, p: int) -> int:
    """Index of the pair i < j of p columns (row-major upper triangle, no diagonal)."""
    return i * (2 * p - i - 1) // 2 + (j - i - 1)


def triangle_index(i: int, j: int, p: int) -> int:
    """Index of i <= j of p columns (row-major upper triangle with the diagonal)."""
    return i * (2 * p - i + 1) // 2 + (j - i)


def pairs_of(p: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(p) for j in range(i + 1, p)]


def triangle_of(p: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(p) for j in range(i, p)]


@dataclass(frozen=True)
class Config:
    """What the section counts: numeric and categorical columns (the entanglement kinds),
    per categorical column the reference's kept `levels` (code = position; one more code,
    `len(levels)`, is "(other)") and its `distinct` values, per numeric column its `shift`."""

    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    levels: tuple[tuple[str, ...], ...] = ()
    shifts: tuple[float, ...] = ()
    distinct: tuple[int, ...] = ()
    top_k: int = TOP_K
    name: str = NAME

    def folded(self, c: int) -> bool:
        """Whether the reference had values beyond the kept levels of categorical column c."""
        return self.distinct[c] > len(self.levels[c])

    def to_dict(self) -> dict:
        return {"name": self.name, "numeric": list(self.numeric),
                "categorical": list(self.categorical),
                "levels": [list(v) for v in self.levels], "shifts": list(self.shifts),
                "distinct": list(self.distinct), "top_k": self.top_k}

    @classmethod
    def from_dict(cls, data: Mapping) -> Config:
        return cls(tuple(str(c) for c in data["numeric"]),
                   tuple(str(c) for c in data["categorical"]),
                   tuple(tuple(str(v) for v in lv) for lv in data["levels"]),
                   tuple(float(s) for s in data["shifts"]),
                   tuple(int(d) for d in data["distinct"]), int(data.get("top_k", TOP_K)))


Cells = tuple[tuple[int, int, int], ...]   # sparse contingency: (code a, code b, rows)


@dataclass(frozen=True)
class Section:
    """One chunk's cross counts (field meanings in the module docstring and
    /work/coord/INTERFACES.md "HX"). Numeric sums are of x − shift. Per numeric column i:
    `count`, `minimum`, `maximum`, `sums`, `squares`; per numeric pair (`pair_index`):
    `pair_rows`, `pair_sums_a`/`_b`, `pair_squares_a`/`_b`, `pair_products`; complete case:
    `complete_rows`, `complete_sums`, `complete_products` (`triangle_index`); per categorical
    column c: `level_counts[c]` (per code), `group_counts[c]`/`group_sums[c]`/
    `group_squares[c]` (code-major, code × numeric flattened); per categorical pair:
    `tables` (sparse cells)."""

    rows: int = 0
    count: tuple[int, ...] = ()
    minimum: tuple[float | None, ...] = ()
    maximum: tuple[float | None, ...] = ()
    sums: tuple[float, ...] = ()
    squares: tuple[float, ...] = ()
    pair_rows: tuple[int, ...] = ()
    pair_sums_a: tuple[float, ...] = ()
    pair_sums_b: tuple[float, ...] = ()
    pair_squares_a: tuple[float, ...] = ()
    pair_squares_b: tuple[float, ...] = ()
    pair_products: tuple[float, ...] = ()
    complete_rows: int = 0
    complete_sums: tuple[float, ...] = ()
    complete_products: tuple[float, ...] = ()
    level_counts: tuple[tuple[int, ...], ...] = ()
    group_counts: tuple[tuple[int, ...], ...] = ()
    group_sums: tuple[tuple[float, ...], ...] = ()
    group_squares: tuple[tuple[float, ...], ...] = ()
    tables: tuple[Cells, ...] = ()

    def merge(self, other: Section) -> Section:
        """The section of the union of the two chunks' rows (same config on both sides)."""
        def add(a, b):
            return tuple(x + y for x, y in zip(a, b, strict=True))

        def add_nested(a, b):
            return tuple(add(x, y) for x, y in zip(a, b, strict=True))

        def lowest(a, b):
            return tuple(y if x is None else x if y is None else min(x, y)
                         for x, y in zip(a, b, strict=True))

        def highest(a, b):
            return tuple(y if x is None else x if y is None else max(x, y)
                         for x, y in zip(a, b, strict=True))

        out = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "minimum":
                out[f.name] = lowest(a, b)
            elif f.name == "maximum":
                out[f.name] = highest(a, b)
            elif f.name == "tables":
                out[f.name] = tuple(_add_cells(x, y) for x, y in zip(a, b, strict=True))
            elif f.name in ("level_counts", "group_counts", "group_sums", "group_squares"):
                out[f.name] = add_nested(a, b)
            elif isinstance(a, tuple):
                out[f.name] = add(a, b)
            else:
                out[f.name] = a + b
        return Section(**out)

    def to_dict(self) -> dict:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "tables":
                value = [[list(c) for c in cells] for cells in value]
            elif isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> Section:
        def ints(v):
            return tuple(int(x) for x in v)

        def floats(v):
            return tuple(float(x) for x in v)

        def optional(v):
            return tuple(None if x is None else float(x) for x in v)

        return cls(
            int(data["rows"]), ints(data["count"]), optional(data["minimum"]),
            optional(data["maximum"]), floats(data["sums"]), floats(data["squares"]),
            ints(data["pair_rows"]), floats(data["pair_sums_a"]), floats(data["pair_sums_b"]),
            floats(data["pair_squares_a"]), floats(data["pair_squares_b"]),
            floats(data["pair_products"]), int(data["complete_rows"]),
            floats(data["complete_sums"]), floats(data["complete_products"]),
            tuple(ints(v) for v in data["level_counts"]),
            tuple(ints(v) for v in data["group_counts"]),
            tuple(floats(v) for v in data["group_sums"]),
            tuple(floats(v) for v in data["group_squares"]),
            tuple(tuple((int(a), int(b), int(n)) for a, b, n in cells)
                  for cells in data["tables"]))

    def complete_moments(self, config: Config) -> tuple[int, np.ndarray, np.ndarray]:
        """(n, mean, covariance with ddof=1) of the numeric columns over the rows where all
        of them are finite, in the columns' own units (NaN covariance below two rows)."""
        p, n = len(config.numeric), self.complete_rows
        sums = np.asarray(self.complete_sums, dtype=np.float64)
        products = np.zeros((p, p))
        for k, (i, j) in enumerate(triangle_of(p)):
            products[i, j] = products[j, i] = self.complete_products[k]
        shifts = np.asarray(config.shifts, dtype=np.float64)
        if n == 0:
            return 0, np.full(p, np.nan), np.full((p, p), np.nan)
        mean = sums / n
        cov = (products - np.outer(sums, sums) / n) / (n - 1) if n > 1 else \
            np.full((p, p), np.nan)
        return n, mean + shifts, cov


def _add_cells(a: Cells, b: Cells) -> Cells:
    total: dict[tuple[int, int], int] = {}
    for x, y, n in (*a, *b):
        total[(x, y)] = total.get((x, y), 0) + n
    return tuple(sorted((x, y, n) for (x, y), n in total.items()))


# ------------------------------------------------------------------------------ SQL

def _code_sql(ctx, column: str, levels: Sequence[str]) -> str:
    """The column's level code: -1 when NULL, its position among `levels`, else len(levels)
    (the "(other)" code)."""
    text = ctx.text(column)
    whens = "".join(f"WHEN {text} = {ctx.literal(v)} THEN {i} "
                    for i, v in enumerate(levels))
    return f"CASE WHEN {ctx.quote(column)} IS NULL THEN -1 {whens}ELSE {len(levels)} END"


_ZERO, _ONE = "CAST(0 AS DOUBLE)", "CAST(1 AS DOUBLE)"


def _complete_columns(ctx, config: Config) -> frozenset[int]:
    """The numeric columns finite on every row of this side (one light aggregate): their
    pairs need only Σxy, the rest being the columns' own sums, and when all are, the
    complete case is every row. Spark's planning time grows with the number of aggregates
    (20 numeric columns: 1,471 aggregates took 42 s on 20k rows, 1,140 simpler ones 15 s)."""
    if not config.numeric:
        return frozenset()
    finite = ", ".join(f"count({ctx.finite(c)})" for c in config.numeric)
    rows, *counts = ctx.run(f"SELECT count(*), {finite} FROM {ctx.rows}")[0]
    return frozenset(i for i, n in enumerate(counts) if int(n) == int(rows))


def _numeric_query(ctx, config: Config, complete: frozenset[int]) -> str:
    """Per chunk: rows, per-column and pairwise-complete sums, complete-case moments.
    a_i is x_i − shift_i with 0 where x_i is not finite and m_i its 0/1 presence, so every
    pairwise-complete sum is a plain sum of products (no CASE per aggregate)."""
    p = len(config.numeric)
    inner = [f"{ctx.key} AS k"] + [f"{ctx.finite(c)} AS f{i}"
                                   for i, c in enumerate(config.numeric)]
    middle = ["k"] + [f"f{i}" for i in range(p)]
    middle += [f"coalesce(f{i} - {double_literal(s)}, {_ZERO}) AS a{i}"
               for i, s in enumerate(config.shifts)]
    middle += [f"CASE WHEN f{i} IS NULL THEN {_ZERO} ELSE {_ONE} END AS m{i}" for i in range(p)]
    every = len(complete) == p
    if p and not every:
        all_present = " AND ".join(f"f{i} IS NOT NULL" for i in range(p))
        middle.append(f"CASE WHEN {all_present} THEN {_ONE} ELSE {_ZERO} END AS z")
    aggs = ["count(*)"]
    for i in range(p):
        aggs += [f"count(f{i})", f"min(f{i})", f"max(f{i})", f"sum(a{i})", f"sum(a{i} * a{i})"]
    for i, j in pairs_of(p):
        if i in complete and j in complete:
            aggs.append(f"sum(a{i} * a{j})")
        else:
            aggs += [f"sum(m{i} * m{j})", f"sum(a{i} * m{j})", f"sum(a{j} * m{i})",
                     f"sum(a{i} * a{i} * m{j})", f"sum(a{j} * a{j} * m{i})",
                     f"sum(a{i} * a{j})"]
    if p and not every:
        aggs.append("sum(z)")
        aggs += [f"sum(a{i} * z)" for i in range(p)]
        aggs += [f"sum(a{i} * a{j} * z)" for i, j in triangle_of(p)]
    return (f"SELECT k, {', '.join(aggs)} FROM (SELECT {', '.join(middle)} FROM "
            f"(SELECT {', '.join(inner)} FROM {ctx.rows}) AS cross_r1) AS cross_r2 GROUP BY k")


def _coded(ctx, config: Config, with_numeric: bool) -> str:
    parts = [f"{ctx.key} AS k"]
    parts += [f"{_code_sql(ctx, c, config.levels[i])} AS c{i}"
              for i, c in enumerate(config.categorical)]
    if with_numeric:
        parts += [f"{ctx.finite(c)} - {double_literal(s)} AS a{i}"
                  for i, (c, s) in enumerate(zip(config.numeric, config.shifts, strict=True))]
    return f"(SELECT {', '.join(parts)} FROM {ctx.rows}) AS cross_codes"


def _chunk_group(ctx) -> tuple[str, str]:
    """(what to select as the chunk key, what to add to every grouping set). An unchunked
    key is a constant: selected as such and left out of the sets, since hashing it with
    every set's codes costs as much as the codes themselves (measured: 6.5 -> 3.4 s for
    45 pairs on 1M rows in DuckDB)."""
    key = ctx.key.strip()
    if key.startswith("'") and key.endswith("'") and "'" not in key[1:-1]:
        return key, ""
    return "k", "k, "


def _level_query(ctx, config: Config) -> str:
    """Per chunk and categorical column: rows per code, and the numeric sums per code."""
    m = len(config.categorical)
    codes = ", ".join(f"c{i}" for i in range(m))
    aggs = ["count(*)"]
    for i in range(len(config.numeric)):
        aggs += [f"count(a{i})", f"sum(a{i})", f"sum(a{i} * a{i})"]
    key, grouped = _chunk_group(ctx)
    sets = ", ".join(f"({grouped}c{i})" for i in range(m))
    return (f"SELECT {key}, {codes}, {', '.join(aggs)} FROM {_coded(ctx, config, True)} "
            f"GROUP BY GROUPING SETS ({sets})")


def _table_query(ctx, config: Config) -> str:
    """Per chunk and categorical pair: rows per (code, code)."""
    m = len(config.categorical)
    codes = ", ".join(f"c{i}" for i in range(m))
    key, grouped = _chunk_group(ctx)
    sets = ", ".join(f"({grouped}c{i}, c{j})" for i, j in pairs_of(m))
    return (f"SELECT {key}, {codes}, count(*) FROM {_coded(ctx, config, False)} "
            f"GROUP BY GROUPING SETS ({sets})")


def _f(x) -> float:
    return 0.0 if x is None else float(x)


def _numeric_part(row: Sequence, p: int, complete: frozenset[int]) -> dict:
    """Section fields from one row of `_numeric_query` (after k); the sums the query leaves
    out for complete columns are their own column sums (every row of the chunk has them)."""
    at = 1
    rows = int(row[0])
    out: dict = {"rows": rows}
    per = [row[at + 5 * i: at + 5 * i + 5] for i in range(p)]
    at += 5 * p
    sums, squares = tuple(_f(v[3]) for v in per), tuple(_f(v[4]) for v in per)
    out.update(count=tuple(int(v[0]) for v in per),
               minimum=tuple(None if v[1] is None else float(v[1]) for v in per),
               maximum=tuple(None if v[2] is None else float(v[2]) for v in per),
               sums=sums, squares=squares)
    pairs: list[tuple] = []
    for i, j in pairs_of(p):
        if i in complete and j in complete:
            pairs.append((rows, sums[i], sums[j], squares[i], squares[j], _f(row[at])))
            at += 1
        else:
            n, *rest = row[at: at + 6]
            pairs.append((int(round(_f(n))), *(_f(v) for v in rest)))
            at += 6
    out.update(pair_rows=tuple(v[0] for v in pairs), pair_sums_a=tuple(v[1] for v in pairs),
               pair_sums_b=tuple(v[2] for v in pairs),
               pair_squares_a=tuple(v[3] for v in pairs),
               pair_squares_b=tuple(v[4] for v in pairs),
               pair_products=tuple(v[5] for v in pairs))
    if p and len(complete) == p:   # every row is a complete case
        products = {(i, j): v[5] for (i, j), v in zip(pairs_of(p), pairs, strict=True)}
        out.update(complete_rows=rows, complete_sums=sums, complete_products=tuple(
            squares[i] if i == j else products[(i, j)] for i, j in triangle_of(p)))
    elif p:
        out["complete_rows"] = int(round(_f(row[at])))
        out["complete_sums"] = tuple(_f(v) for v in row[at + 1: at + 1 + p])
        out["complete_products"] = tuple(_f(v) for v in row[at + 1 + p:])
    return out


def compute(ctx, plan, config: Config) -> dict[str, Section]:
    """Per chunk key, the section of `ctx.rows` (a light count of each numeric column's
    finite rows, then three aggregate queries; see the module docstring). `plan` is unused:
    the config holds everything the section needs."""
    p, m = len(config.numeric), len(config.categorical)
    complete = _complete_columns(ctx, config)
    base = {str(r[0]): _numeric_part(r[1:], p, complete)
            for r in ctx.run(_numeric_query(ctx, config, complete))}
    sizes = [len(lv) + 1 for lv in config.levels]
    levels = {k: [[0] * s for s in sizes] for k in base}
    g_counts = {k: [[0] * (s * p) for s in sizes] for k in base}
    g_sums = {k: [[0.0] * (s * p) for s in sizes] for k in base}
    g_squares = {k: [[0.0] * (s * p) for s in sizes] for k in base}
    cells: dict[str, list[dict]] = {k: [{} for _ in pairs_of(m)] for k in base}
    if m:
        for row in ctx.run(_level_query(ctx, config)):
            k, codes, values = str(row[0]), row[1:1 + m], row[1 + m:]
            c = next(i for i, v in enumerate(codes) if v is not None)
            code = int(codes[c])
            if code < 0 or k not in levels:
                continue   # rows where the categorical column is missing
            levels[k][c][code] = int(values[0])
            for i in range(p):
                n, s, q = values[1 + 3 * i: 4 + 3 * i]
                g_counts[k][c][code * p + i] = int(n)
                g_sums[k][c][code * p + i] = _f(s)
                g_squares[k][c][code * p + i] = _f(q)
    if m > 1:
        for row in ctx.run(_table_query(ctx, config)):
            k, codes, n = str(row[0]), row[1:1 + m], int(row[1 + m])
            a, b = (i for i, v in enumerate(codes) if v is not None)
            if int(codes[a]) < 0 or int(codes[b]) < 0 or k not in cells:
                continue
            cells[k][pair_index(a, b, m)][(int(codes[a]), int(codes[b]))] = n
    out = {}
    for k, numeric in base.items():
        out[k] = Section(
            **numeric, level_counts=tuple(tuple(v) for v in levels[k]),
            group_counts=tuple(tuple(v) for v in g_counts[k]),
            group_sums=tuple(tuple(v) for v in g_sums[k]),
            group_squares=tuple(tuple(v) for v in g_squares[k]),
            tables=tuple(tuple(sorted((a, b, n) for (a, b), n in t.items()))
                         for t in cells[k]))
    return out


# ------------------------------------------------------------------------------ config

def _levels_query(ctx, categorical: Sequence[str], top_k: int) -> str:
    """Per categorical column: its top_k values by (count desc, value), with the column's
    distinct count and present rows (window functions, so only top_k rows per column
    come back whatever the column's cardinality)."""
    counts = " UNION ALL ".join(
        f"SELECT {i} AS c, v, count(*) AS n FROM (SELECT {ctx.text(col)} AS v FROM "
        f"{ctx.rows} WHERE {ctx.quote(col)} IS NOT NULL) AS cross_v{i} GROUP BY v"
        for i, col in enumerate(categorical))
    return (f"SELECT c, v, n, d, t FROM (SELECT c, v, n, row_number() OVER (PARTITION BY c "
            f"ORDER BY n DESC, v) AS r, count(*) OVER (PARTITION BY c) AS d, sum(n) OVER "
            f"(PARTITION BY c) AS t FROM ({counts}) AS cross_counts) AS cross_ranked "
            f"WHERE r <= {int(top_k)}")


def _shift(mean) -> float:
    if mean is None or not math.isfinite(float(mean)):
        return 0.0
    return float(f"{float(mean):.{SHIFT_DIGITS}g}")


def make_config(ctx, kinds: Sequence[tuple[str, str]], top_k: int = TOP_K) -> Config:
    """The config from the reference `ctx.rows`: (column, 'numeric' | 'categorical') in the
    analysis' order; the kept levels as the entanglement encoder keeps them (all values up
    to `top_k`, else the `top_k - 1` most frequent and "(other)"); shifts = rounded means."""
    from aidebt_core.errors import OptionError

    if top_k < 2:
        raise OptionError(f"top_k must be at least 2 (got {top_k}).")
    numeric = tuple(n for n, k in kinds if k == "numeric")
    categorical = tuple(n for n, k in kinds if k == "categorical")
    shifts: tuple[float, ...] = ()
    if numeric:
        row = ctx.run("SELECT " + ", ".join(f"avg({ctx.finite(c)})" for c in numeric)
                      + f" FROM {ctx.rows}")[0]
        shifts = tuple(_shift(v) for v in row)
    found: dict[int, list] = {i: [] for i in range(len(categorical))}
    distinct = [0] * len(categorical)
    if categorical:
        for c, v, n, d, _ in ctx.run(_levels_query(ctx, categorical, top_k)):
            found[int(c)].append((-int(n), str(v)))
            distinct[int(c)] = int(d)
    levels = []
    for i in range(len(categorical)):
        ranked = [v for _, v in sorted(found[i])]
        levels.append(tuple(ranked if distinct[i] <= top_k else ranked[:top_k - 1]))
    return Config(numeric, categorical, tuple(levels), shifts, tuple(distinct), int(top_k))


def duckdb_context(table, plan=None):
    """The SqlContext the DuckDB engine hands sections (unchunked without a plan)."""
    from aidebt_core.data import ROWS, quote_ident
    from aidebt_core.profiles.sections import SqlContext

    if plan is None or plan.chunk is None:
        key = "''"
    else:
        from aidebt_core.profiles.duckdb_engine import chunk_key_sql

        key = chunk_key_sql(table, plan)
    return SqlContext(lambda sql: table.execute(sql).fetchall(), ROWS, key, quote_ident,
                      "duckdb")


def sql_context(table, plan=None):
    """The SqlContext over `table` on its own engine: DuckDB, or Spark through the Spark
    engine's `sql_context` (None when that engine does not offer one)."""
    if getattr(table, "engine", "") != "spark":
        return duckdb_context(table, plan)
    profiler = table.profiler()
    # HX and HL asked HK for this function under two names: either one serves.
    make = getattr(profiler, "sql_context", None) or getattr(profiler, "section_context", None)
    if make is None:
        return None
    from aidebt_core.profiles.model import ProfilePlan

    return make(table, plan if plan is not None else ProfilePlan(()))


def with_section(table, profile, inputs, args=None):
    """`aidebt profile --for entanglement` (commands/profile.py FOR_SECTIONS): `profile` (of
    `table`) with the cross section added — its config (every entanglement feature of the
    inputs' schema among the profiled columns, levels and shifts from `table`, replacing a
    config a `--like` plan brought) in the plan, each chunk's counts (grouped by the plan's
    chunk key) in the chunk. The SQL runs on the table's own engine; `args` is unused."""
    from dataclasses import replace

    from aidebt_core.entanglement import feature_kinds
    from aidebt_core.errors import AidebtError

    plan = profile.plan
    ctx = sql_context(table, plan)
    if ctx is None:
        raise AidebtError(f"{table.label}: this Spark engine offers no SQL context for "
                          "profile sections; --for entanglement cannot run on it yet.")
    kinds = [(n, k) for n, k in feature_kinds(inputs.schema).items() if n in plan.names]
    config = make_config(ctx, kinds)
    counted = compute(ctx, plan, config)
    lost = [c.key for c in profile.chunks if c.key not in counted]
    if lost:
        raise AidebtError(f"{table.label}: the cross counts found no rows in chunk(s) "
                          f"{', '.join(lost)} that the profile holds; profile it again.")
    chunks = tuple(replace(c, sections=tuple(sorted(
        [(n, s) for n, s in c.sections if n != NAME] + [(NAME, counted[c.key])],
        key=lambda t: t[0]))) for c in profile.chunks)
    sections = tuple(sorted([c for c in plan.sections if c.name != NAME] + [config],
                            key=lambda c: c.name))
    return replace(profile, plan=replace(plan, sections=sections), chunks=chunks)


__all__ = ["NAME", "OTHER", "TOP_K", "Config", "Section", "compute",
           "duckdb_context", "make_config", "pair_index", "pairs_of", "sql_context",
           "triangle_index", "triangle_of", "with_section"]
