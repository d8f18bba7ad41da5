"""What the drift statistics need from the data, computed in DuckDB one column at a time.

Missing shares and distinct counts come from one aggregate pass per side; numeric columns
are fetched sorted (one column, finite values only); categorical columns arrive as value
counts from a GROUP BY, with very high cardinality folded into top-k + "(other)" in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aidebt_core.data import ROWS, Table, is_numeric_type, is_temporal_type, quote_ident

OTHER = "(other)"


@dataclass(frozen=True)
class SideProfile:
    """Per-column facts about one side: rows, nulls, NaN, ±inf and approximate distinct."""

    rows: int
    nulls: dict[str, int]
    nans: dict[str, int]
    infs: dict[str, int]
    distinct: dict[str, int]

    def missing(self, column: str) -> int:
        return self.nulls[column] + self.nans.get(column, 0)

    def missing_share(self, column: str) -> float:
        return self.missing(column) / self.rows if self.rows else float("nan")


def type_family(dtype: str) -> str:
    """numeric / boolean / temporal / text: a change of family between sides is a type change."""
    upper = dtype.upper()
    if upper == "BOOLEAN":
        return "boolean"
    if is_numeric_type(upper):
        return "numeric"
    if is_temporal_type(upper):
        return "temporal"
    return "text"


def _is_floating(dtype: str) -> bool:
    return dtype.upper().startswith(("FLOAT", "DOUBLE", "REAL"))


def profile(table: Table, columns: Sequence[str]) -> SideProfile:
    """One aggregate pass: row count and, per column, nulls, NaN, ±inf, approximate distinct."""
    types = table.column_types
    parts = ["count(*)"]
    for name in columns:
        col = quote_ident(name)
        parts += [f"count(*) - count({col})", f"approx_count_distinct({col})"]
        if _is_floating(types[name]):
            parts += [f"count(*) FILTER (WHERE isnan({col}))",
                      f"count(*) FILTER (WHERE isinf({col}))"]
    row = table.execute(f"SELECT {', '.join(parts)} FROM {ROWS}").fetchone()
    nulls, nans, infs, distinct = {}, {}, {}, {}
    pos = 1
    for name in columns:
        nulls[name], distinct[name] = int(row[pos]), int(row[pos + 1])
        pos += 2
        if _is_floating(types[name]):
            nans[name], infs[name] = int(row[pos]), int(row[pos + 1])
            pos += 2
    return SideProfile(int(row[0]), nulls, nans, infs, distinct)


def sorted_values(table: Table, column: str) -> np.ndarray:
    """Finite values of a numeric column as sorted float64 (only this column is read)."""
    col = quote_ident(column)
    cur = table.execute(f"SELECT v FROM (SELECT CAST({col} AS DOUBLE) AS v FROM {ROWS}) "
                        "WHERE isfinite(v)")
    values = np.asarray(cur.fetchnumpy()["v"], dtype=np.float64)
    values.sort()
    return values


def category_counts(table: Table, column: str) -> dict[str, int]:
    """Non-missing value -> count, values as text (booleans become 'true'/'false')."""
    col = quote_ident(column)
    rows = table.execute(f"SELECT CAST({col} AS VARCHAR) AS v, count(*) FROM {ROWS} "
                         f"WHERE {col} IS NOT NULL GROUP BY 1").fetchall()
    return {v: int(n) for v, n in rows}


def top_counts(table: Table, column: str, k: int) -> dict[str, int]:
    """The `k` most frequent values with their counts (ties broken by value), in SQL."""
    col = quote_ident(column)
    rows = table.execute(f"SELECT CAST({col} AS VARCHAR) AS v, count(*) AS n FROM {ROWS} "
                         f"WHERE {col} IS NOT NULL GROUP BY 1 ORDER BY n DESC, v LIMIT $k",
                         {"k": int(k)}).fetchall()
    return {v: int(n) for v, n in rows}


def counts_of(table: Table, column: str, values: Sequence[str]) -> dict[str, int]:
    """Counts of the given values only (a bound list), for aligning two sides' top-k."""
    col = quote_ident(column)
    rows = table.execute(f"SELECT CAST({col} AS VARCHAR) AS v, count(*) FROM {ROWS} "
                         f"WHERE CAST({col} AS VARCHAR) IN (SELECT unnest($values)) GROUP BY 1",
                         {"values": list(values)}).fetchall()
    return {v: int(n) for v, n in rows}


@dataclass(frozen=True)
class AlignedCounts:
    """Both sides' counts over the same categories (last one may be OTHER when folded)."""

    categories: list[str]
    reference: np.ndarray
    current: np.ndarray
    new: list[str]          # in current, absent from reference (most frequent first)
    vanished: list[str]     # in reference, absent from current
    folded: bool            # True when rare values were folded into OTHER


def aligned_counts(reference: Table, current: Table, column: str, n_ref: int, n_cur: int,
                   high_cardinality: bool, top_k: int) -> AlignedCounts:
    """Count table for the chi-square/JS/PSI; top-k + OTHER when cardinality is very high.

    `n_ref`/`n_cur` are the non-missing counts, so OTHER = non-missing minus the kept values.
    With folding, new/vanished categories are those seen among either side's top-k.
    """
    if high_cardinality:
        ref_top, cur_top = top_counts(reference, column, top_k), top_counts(current, column, top_k)
        keys = sorted(set(ref_top) | set(cur_top))
        ref = ref_top | counts_of(reference, column, [k for k in keys if k not in ref_top])
        cur = cur_top | counts_of(current, column, [k for k in keys if k not in cur_top])
    else:
        ref, cur = category_counts(reference, column), category_counts(current, column)
        keys = sorted(set(ref) | set(cur))
    r = np.array([ref.get(k, 0) for k in keys], dtype=np.int64)
    c = np.array([cur.get(k, 0) for k in keys], dtype=np.int64)
    new = sorted((k for k in keys if k not in ref and cur.get(k, 0) > 0), key=lambda k: -cur[k])
    vanished = sorted((k for k in keys if k not in cur and ref.get(k, 0) > 0),
                      key=lambda k: -ref[k])
    folded = False
    rest_r, rest_c = n_ref - int(r.sum()), n_cur - int(c.sum())
    if rest_r > 0 or rest_c > 0:
        keys = [*keys, OTHER]
        r, c = np.append(r, rest_r), np.append(c, rest_c)
        folded = True
    return AlignedCounts(keys, r, c, new, vanished, folded)
