"""What the drift statistics need from the data, read from DuckDB one column at a time.

Each column is read once per side, and that read also yields its missing count: numeric
columns arrive either as (value, count) pairs from a GROUP BY (few distinct values) or as raw
values sorted later off the main thread; categorical columns arrive as value counts from a
GROUP BY, with very high cardinality cut to the most frequent values in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aidebt_core.data import ROWS, Table, is_numeric_type, is_temporal_type, quote_ident
from aidebt_core.drift import stats

OTHER = "(other)"
GROUP_BY_MAX_DISTINCT = 50_000  # below this (approximate) distinct count, count in SQL


def type_family(dtype: str) -> str:
    """numeric / boolean / temporal / text / null: a change of family is a type change."""
    upper = dtype.upper().strip('"')
    if upper == "NULL":
        return "null"  # every value missing (e.g. an all-null Parquet column)
    if upper == "BOOLEAN":
        return "boolean"
    if is_numeric_type(upper):
        return "numeric"
    if is_temporal_type(upper):
        return "temporal"
    return "text"


@dataclass(frozen=True, eq=False)
class NumericColumn:
    """One side of a numeric column: finite values (a Sample) and what was left out."""

    sample: stats.Sample
    nulls: int     # NULL or NaN: missing
    infs: int      # ±inf: present but not testable

    @property
    def missing(self) -> int:
        return self.nulls


def read_numeric(table: Table, column: str, grouped: bool, rows: int) -> tuple:
    """The raw read (on the calling thread): GROUP BY pairs when `grouped`, else the non-NULL
    values and the side's row count `rows`. `numeric_column` finishes it on any thread."""
    col = quote_ident(column)
    value = f"CAST({col} AS DOUBLE)"
    if grouped:
        got = table.execute(f"SELECT {value} AS v, count(*) AS n FROM {ROWS} GROUP BY 1 "
                            "ORDER BY 1 NULLS LAST").fetchnumpy()
        return got["v"], got["n"], None
    got = table.execute(f"SELECT {value} AS v FROM {ROWS} WHERE {col} IS NOT NULL").fetchnumpy()
    return got["v"], None, rows


def numeric_column(raw: tuple) -> NumericColumn:
    """Finite values as a Sample, with the missing (NULL/NaN) and infinite counts."""
    values, counts, excluded = raw
    if counts is None:  # non-NULL values: drop NaN (missing) and ±inf here, in numpy
        data = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(data)
        if finite.all():
            return NumericColumn(stats.Sample(data), int(excluded) - len(data), 0)
        nan = int(np.isnan(data).sum())
        n_inf = len(data) - int(finite.sum()) - nan
        return NumericColumn(stats.Sample(data[finite]), int(excluded) - len(data) + nan, n_inf)
    data = np.ma.getdata(values).astype(np.float64, copy=False)
    null = np.ma.getmaskarray(values)
    nan = ~null & np.isnan(data)
    inf = ~null & np.isinf(data)
    keep = ~(null | nan | inf)
    counts = np.asarray(counts, dtype=np.int64)
    n_null, n_inf = int(counts[null | nan].sum()), int(counts[inf].sum())
    return NumericColumn(stats.Sample(data[keep], counts[keep]), n_null, n_inf)


def approx_distinct(table: Table, column: str) -> int:
    col = quote_ident(column)
    return int(table.execute(f"SELECT approx_count_distinct({col}) FROM {ROWS}").fetchone()[0])


def null_count(table: Table, column: str) -> int:
    col = quote_ident(column)
    return int(table.execute(f"SELECT count(*) - count({col}) FROM {ROWS}").fetchone()[0])


@dataclass(frozen=True)
class TopCounts:
    """The most frequent non-missing values of one side, with the side's totals."""

    counts: dict[str, int]
    distinct: int
    nulls: int


def top_counts(table: Table, column: str, limit: int) -> TopCounts:
    """The `limit` most frequent non-missing values (as text) with their counts, the number of
    distinct values and of NULLs: one GROUP BY in DuckDB (and a second, counting with window
    functions, when the column has more than `limit` + 1 values)."""
    col = quote_ident(column)
    groups = f"SELECT CAST({col} AS VARCHAR) AS v, count(*) AS n FROM {ROWS} GROUP BY 1"
    # Usually every value fits: then the groups themselves give the distinct and NULL counts
    # (the window functions below cost ~40 % more per column).
    rows = table.execute(f"SELECT v, n FROM ({groups}) ORDER BY v IS NULL, n DESC, v "
                         "LIMIT $limit", {"limit": int(limit) + 2}).fetchall()
    if len(rows) < limit + 2:  # all groups, NULL (last) included
        counts = {v: int(n) for v, n in rows if v is not None}
        nulls = next((int(n) for v, n in rows if v is None), 0)
        return TopCounts(dict(list(counts.items())[:limit]), len(counts), nulls)
    rows = table.execute(
        "SELECT v, n, count(v) OVER () AS k, max(CASE WHEN v IS NULL THEN n END) OVER () "
        f"FROM ({groups}) ORDER BY v IS NULL, n DESC, v LIMIT $limit",
        {"limit": int(limit) + 1}).fetchall()
    counts = {v: int(n) for v, n, _, _ in rows if v is not None}
    if len(counts) > limit:
        counts = dict(list(counts.items())[:limit])
    return TopCounts(counts, int(rows[0][2]), int(rows[0][3] or 0))


def counts_of(table: Table, column: str, values: Sequence[str]) -> dict[str, int]:
    """Counts of the given values only (a bound list), to align two sides' top values."""
    if not values:
        return {}
    col = quote_ident(column)
    rows = table.execute(f"SELECT CAST({col} AS VARCHAR) AS v, count(*) FROM {ROWS} "
                         f"WHERE CAST({col} AS VARCHAR) IN (SELECT unnest($values)) GROUP BY 1",
                         {"values": list(values)}).fetchall()
    return {v: int(n) for v, n in rows}


@dataclass(frozen=True)
class AlignedCounts:
    """Both sides' counts over the same categories (the last may be OTHER when folded)."""

    categories: list[str]
    reference: np.ndarray
    current: np.ndarray
    new: list[str]          # in current, absent from reference (most frequent first)
    vanished: list[str]     # in reference, absent from current
    folded: bool            # True when rare values were folded into OTHER
    reference_nulls: int
    current_nulls: int


def aligned_counts(reference: Table, current: Table, column: str,
                   max_categories: int) -> AlignedCounts:
    """Both sides' counts over the union of their values. Beyond `max_categories` distinct
    values on a side, each side's most frequent `max_categories` are kept (then counted on
    both sides) and the rest is folded into OTHER; new/vanished are then among those kept."""
    ref_top = top_counts(reference, column, max_categories)
    cur_top = top_counts(current, column, max_categories)
    ref, cur = ref_top.counts, cur_top.counts
    keys = sorted(set(ref) | set(cur))
    folded = max(ref_top.distinct, cur_top.distinct) > max_categories
    if folded:
        ref = ref | counts_of(reference, column, [k for k in keys if k not in ref])
        cur = cur | counts_of(current, column, [k for k in keys if k not in cur])
    r = np.array([ref.get(k, 0) for k in keys], dtype=np.int64)
    c = np.array([cur.get(k, 0) for k in keys], dtype=np.int64)
    new = sorted((k for k in keys if not ref.get(k) and cur.get(k)), key=lambda k: -cur[k])
    vanished = sorted((k for k in keys if not cur.get(k) and ref.get(k)), key=lambda k: -ref[k])
    if folded:
        n_ref = row_total(reference) - ref_top.nulls
        n_cur = row_total(current) - cur_top.nulls
        keys = [*keys, OTHER]
        r = np.append(r, max(n_ref - int(r.sum()), 0))
        c = np.append(c, max(n_cur - int(c.sum()), 0))
    return AlignedCounts(keys, r, c, new, vanished, folded, ref_top.nulls, cur_top.nulls)


def row_total(table: Table) -> int:
    return int(table.execute(f"SELECT count(*) FROM {ROWS}").fetchone()[0])
