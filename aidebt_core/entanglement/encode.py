"""Read feature columns from DuckDB into arrays the measures use, with notes on what was done.

Numeric columns arrive as float64 with NaN for missing or non-finite values; categorical
columns as integer codes (−1 missing) of their `top_k` most frequent values, the rest folded
into one "(other)" level. Above `max_rows` rows a seeded uniform reservoir sample is read,
and the sample size is recorded. Columns that are entirely missing are left out; constant
columns are kept and marked, because their association is undefined rather than zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from aidebt_core.data import ROWS, Table, quote_ident, row_count, value_counts
from aidebt_core.errors import SchemaError

OTHER = "(other)"
NUMERIC, CATEGORICAL = "numeric", "categorical"
DEFAULT_TOP_K = 50
DEFAULT_MAX_ROWS = 250_000


@dataclass(frozen=True, eq=False)
class Encoded:
    """Feature columns as arrays, plus what the reader had to decide about them."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    x: np.ndarray                      # rows × numeric columns, float64, NaN = missing
    codes: np.ndarray                  # rows × categorical columns, int32, −1 = missing
    levels: tuple[tuple[str, ...], ...]  # per categorical column, code -> label
    constant: frozenset[str]
    rows_used: int
    rows_total: int
    notes: tuple[str, ...]

    @property
    def sampled(self) -> bool:
        return self.rows_used < self.rows_total

    @property
    def columns(self) -> tuple[str, ...]:
        return self.numeric + self.categorical

    def kind(self, name: str) -> str:
        return NUMERIC if name in self.numeric else CATEGORICAL


def encode(table: Table, kinds: Mapping[str, str], top_k: int = DEFAULT_TOP_K,
           max_rows: int | None = DEFAULT_MAX_ROWS, seed: int = 0) -> Encoded:
    """Read `kinds` (column -> 'numeric' | 'categorical') from `table` as arrays."""
    if top_k < 2:
        raise SchemaError(f"top_k must be at least 2 (got {top_k}).")
    if max_rows is not None and max_rows < 10:
        raise SchemaError(f"max_rows must be at least 10 (got {max_rows}).")
    bad = {k: v for k, v in kinds.items() if v not in (NUMERIC, CATEGORICAL)}
    if bad:
        raise SchemaError(f"Unknown column kind(s) {bad}; use 'numeric' or 'categorical'.")
    table.require_columns(list(kinds))
    total = row_count(table)
    facts = _column_facts(table, kinds)
    notes: list[str] = []
    numeric: list[str] = []
    categorical: list[str] = []
    constant: set[str] = set()
    for name, kind in kinds.items():
        present, lo, hi = facts[name]
        if present == 0:
            notes.append(f"'{name}' is entirely missing (or non-finite) in {table.label}; "
                         "left out of the matrix.")
            continue
        if lo == hi:
            constant.add(name)
            notes.append(f"'{name}' has a single value ({lo}) in {table.label}: its association "
                         "with anything is undefined and shown as blank.")
        (numeric if kind == NUMERIC else categorical).append(name)

    levels = []
    for name in categorical:
        counts = value_counts(table, name)
        labels = tuple(counts["value"].astype(str))
        if len(labels) > top_k:
            present = int(counts["count"].sum())
            kept = labels[:top_k - 1]
            share = counts["count"].iloc[:top_k - 1].sum() / present
            hint = (" It looks like an identifier (almost every value is distinct); consider "
                    "setting its role to 'id'.") if len(labels) >= 0.5 * present else ""
            notes.append(f"'{name}' has {len(labels):,} distinct values; the {top_k - 1} most "
                         f"frequent ({share:.0%} of rows) are kept and the rest folded into "
                         f"'{OTHER}'.{hint}")
            labels = (*kept, OTHER)
        levels.append(labels)

    x, codes, used = _read(table, numeric, categorical, levels, total, max_rows, seed)
    if used < total:
        notes.append(f"Computed on a uniform random sample of {used:,} of {total:,} rows "
                     f"of {table.label} (seed {seed}).")
    return Encoded(tuple(numeric), tuple(categorical), x, codes, tuple(levels),
                   frozenset(constant), used, total, tuple(notes))


def _column_facts(table: Table, kinds: Mapping[str, str]) -> dict[str, tuple[int, str, str]]:
    """Per column: present (finite, non-null) count, min and max — in one aggregate pass."""
    parts = []
    for name, kind in kinds.items():
        expr = _numeric_expr(name) if kind == NUMERIC else f"CAST({quote_ident(name)} AS VARCHAR)"
        parts += [f"count({expr})", f"CAST(min({expr}) AS VARCHAR)",
                  f"CAST(max({expr}) AS VARCHAR)"]
    if not parts:
        return {}
    row = table.execute(f"SELECT {', '.join(parts)} FROM {ROWS}").fetchone()
    return {name: (int(row[3 * i]), row[3 * i + 1], row[3 * i + 2])
            for i, name in enumerate(kinds)}


def _numeric_expr(name: str) -> str:
    value = f"TRY_CAST({quote_ident(name)} AS DOUBLE)"
    return f"CASE WHEN isfinite({value}) THEN {value} END"


def _read(table: Table, numeric: Sequence[str], categorical: Sequence[str],
          levels: Sequence[tuple[str, ...]], total: int, max_rows: int | None, seed: int
          ) -> tuple[np.ndarray, np.ndarray, int]:
    exprs, params = [], {}
    for i, name in enumerate(numeric):
        exprs.append(f"{_numeric_expr(name)} AS n{i}")
    for i, (name, labels) in enumerate(zip(categorical, levels, strict=True)):
        col = quote_ident(name)
        params[f"levels{i}"] = list(labels)
        # list_position is 1-based and NULL when absent: absent values are the folded rest.
        other = labels.index(OTHER) + 1 if OTHER in labels else 0
        exprs.append(f"CASE WHEN {col} IS NULL THEN -1 ELSE coalesce(list_position("
                     f"$levels{i}, CAST({col} AS VARCHAR)), {other}) - 1 END::INTEGER AS c{i}")
    sample = ""
    if max_rows is not None and total > max_rows:
        sample = f" USING SAMPLE reservoir({int(max_rows)} ROWS) REPEATABLE ({int(seed)})"
    result = table.execute(f"SELECT {', '.join(exprs)} FROM {ROWS}{sample}", params).fetchnumpy()
    used = len(next(iter(result.values()))) if result else 0
    x = np.empty((used, len(numeric)), dtype=np.float64)
    for i in range(len(numeric)):
        x[:, i] = np.ma.filled(np.ma.asarray(result[f"n{i}"], dtype=np.float64), np.nan)
    codes = np.empty((used, len(categorical)), dtype=np.int32)
    for i in range(len(categorical)):
        codes[:, i] = np.asarray(result[f"c{i}"], dtype=np.int32)
    return x, codes, used
