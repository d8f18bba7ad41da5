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
from aidebt_core.errors import OptionError, SchemaError

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
        raise OptionError(f"top_k must be at least 2 (got {top_k}).")
    if max_rows is not None and max_rows < 10:
        raise OptionError(f"max_rows must be at least 10 (got {max_rows}).")
    bad = {k: v for k, v in kinds.items() if v not in (NUMERIC, CATEGORICAL)}
    if bad:
        raise SchemaError(f"Unknown column kind(s) {bad}; use 'numeric' or 'categorical'.")
    table.require_columns(list(kinds))
    total = row_count(table)
    notes: list[str] = []
    constant: set[str] = set()
    categorical, levels = [], []
    for name in (n for n, kind in kinds.items() if kind == CATEGORICAL):
        labels = _levels(table, name, top_k, notes)
        if not labels:
            notes.append(_all_missing(name, table))
            continue
        if len(labels) == 1:
            constant.add(name)
            notes.append(_single_value(name, labels[0], table))
        categorical.append(name)
        levels.append(labels)
    numeric_all = [n for n, kind in kinds.items() if kind == NUMERIC]
    arrays, codes, used = _read(table, numeric_all, categorical, levels, total, max_rows, seed)

    numeric, kept = _usable_numeric(numeric_all, arrays, table, notes, constant)
    del arrays
    # Copy column by column, dropping each source as soon as it is copied, so the peak
    # memory is one copy of the data, not two.
    x = np.empty((used, len(numeric)), dtype=np.float64, order="F")
    for i in range(len(kept)):
        values, missing = kept[i]
        kept[i] = None
        x[:, i] = values
        if missing is not None:
            x[missing, i] = np.nan
        del values, missing
    if used < total:
        notes.append(f"Computed on a uniform random sample of {used:,} of {total:,} rows "
                     f"of {table.label} (Bernoulli sampling, seed {seed}).")
    return Encoded(tuple(numeric), tuple(categorical), x, codes, tuple(levels),
                   frozenset(constant), used, total, tuple(notes))


def _usable_numeric(names, arrays, table: Table, notes: list[str], constant: set[str]):
    """Drop entirely missing numeric columns and mark constant ones (with notes)."""
    numeric, kept = [], []
    for name, (values, missing) in zip(names, arrays, strict=True):
        present = values[~missing] if missing is not None else values
        if present.size == 0:
            notes.append(_all_missing(name, table))
            continue
        lo, hi = float(present.min()), float(present.max())
        if lo == hi:
            constant.add(name)
            notes.append(_single_value(name, f"{lo:g}", table))
        numeric.append(name)
        kept.append((values, missing))
    return numeric, kept


def _all_missing(name: str, table: Table) -> str:
    return (f"'{name}' is entirely missing (or non-finite) in {table.label}; left out of the "
            "matrix.")


def _single_value(name: str, value: str, table: Table) -> str:
    return (f"'{name}' has a single value ({value}) in {table.label}: its association with "
            "anything is undefined and shown as blank.")


def _levels(table: Table, name: str, top_k: int, notes: list[str]) -> tuple[str, ...]:
    """The column's values, most frequent first; beyond `top_k` the rest become OTHER."""
    counts = value_counts(table, name)
    labels = tuple(counts["value"].astype(str))
    if len(labels) <= top_k:
        return labels
    present = int(counts["count"].sum())
    share = counts["count"].iloc[:top_k - 1].sum() / present
    hint = (" It looks like an identifier (almost every value is distinct); consider "
            "setting its role to 'id'.") if len(labels) >= 0.5 * present else ""
    notes.append(f"'{name}' has {len(labels):,} distinct values; the {top_k - 1} most "
                 f"frequent ({share:.0%} of rows) are kept and the rest folded into "
                 f"'{OTHER}'.{hint}")
    return (*labels[:top_k - 1], OTHER)


def _numeric_expr(name: str) -> str:
    value = f"TRY_CAST({quote_ident(name)} AS DOUBLE)"
    return f"CASE WHEN isfinite({value}) THEN {value} END"


def _read(table: Table, numeric: Sequence[str], categorical: Sequence[str],
          levels: Sequence[tuple[str, ...]], total: int, max_rows: int | None, seed: int):
    """One query: numeric values (with their missing masks) and categorical codes."""
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
        # Bernoulli: every row independently, with a seed: uniform and repeatable, and far
        # cheaper than an exact-size reservoir; the rows actually drawn are reported.
        sample = f" USING SAMPLE {100.0 * max_rows / total!r} PERCENT (bernoulli, {int(seed)})"
    if not exprs:
        return [], np.empty((total, 0), dtype=np.int32), total
    result = table.execute(f"SELECT {', '.join(exprs)} FROM {ROWS}{sample}", params).fetchnumpy()
    used = len(next(iter(result.values())))
    arrays = []
    for i in range(len(numeric)):
        column = result.pop(f"n{i}")
        if isinstance(column, np.ma.MaskedArray):
            arrays.append((np.asarray(column.data, dtype=np.float64),
                           np.ma.getmaskarray(column)))
        else:
            arrays.append((np.asarray(column, dtype=np.float64), None))
    codes = np.empty((used, len(categorical)), dtype=np.int32, order="F")
    for i in range(len(categorical)):
        codes[:, i] = result.pop(f"c{i}")
    return arrays, codes, used
