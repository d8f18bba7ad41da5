"""A slice: a conjunction of predicates on columns, as codes (for arrays) and as SQL (for tables).

`{"channel": "mobile", "account_age_days": "< 90"}` is the public form (CLI JSON, links to the
drift page); `apply_slice` turns it into bound DuckDB filters on any table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from aidebt_core.data import Table, is_numeric_type, quote_ident
from aidebt_core.errors import SchemaError
from aidebt_core.safeload import DocumentError, parse_document
from aidebt_core.slices.encode import MISSING_LABEL, OTHER_LABEL, Encoding, numeric_condition


@dataclass(frozen=True)
class Predicate:
    column: str
    label: str
    codes: tuple[int, ...]

    def text(self) -> str:
        if self.label == MISSING_LABEL:
            return f"{self.column} is missing"
        if self.label == OTHER_LABEL:
            return f"{self.column} is another value"
        if self.label.startswith("["):
            return f"{self.column} in {self.label}"
        if self.label[:2] in ("< ", ">=", "= "):
            return f"{self.column} {self.label}"
        return f"{self.column} = {self.label}"


@dataclass(frozen=True)
class SliceDef:
    predicates: tuple[Predicate, ...]

    def as_dict(self) -> dict[str, str]:
        return {p.column: p.label for p in self.predicates}

    def describe(self) -> str:
        return " and ".join(p.text() for p in self.predicates) or "all rows"

    @property
    def order(self) -> int:
        return len(self.predicates)

    def mask(self, codes: Mapping[str, np.ndarray], n_codes: Mapping[str, int]) -> np.ndarray:
        """Rows of an encoded data set inside this slice."""
        out = None
        for p in self.predicates:
            lut = np.zeros(n_codes[p.column], dtype=bool)
            lut[list(p.codes)] = True
            hit = lut[codes[p.column]]
            out = hit if out is None else out & hit
        if out is None:
            raise SchemaError("A slice needs at least one predicate.")
        return out

    def link_query(self) -> str:
        """The `slice` query-parameter value for the drift page."""
        return json.dumps(self.as_dict(), separators=(",", ":"))


def slice_from_dict(encodings: tuple[Encoding, ...] | list[Encoding],
                    spec: Mapping[str, str]) -> SliceDef:
    """Resolve `{"col": "label"}` against fitted encodings (labels as produced by them)."""
    by_name = {e.column: e for e in encodings}
    preds = []
    for column, label in spec.items():
        if column not in by_name:
            raise SchemaError(f"Slice column '{column}' is not among the sliced columns "
                              f"({', '.join(by_name)}).")
        enc = by_name[column]
        for text, mask in enc.predicates(ranges=True):
            if text == str(label):
                preds.append(Predicate(column, text, tuple(np.flatnonzero(mask).tolist())))
                break
        else:
            raise SchemaError(f"'{label}' is not a slice of '{column}'. Known: "
                              f"{', '.join(t for t, _ in enc.predicates())[:300]}.")
    return SliceDef(tuple(preds))


def parse_slice(text: str) -> dict[str, str]:
    """Parse the JSON object form of a slice, e.g. from a URL query parameter (so anything:
    deep nesting and huge values are refused by the same limits as user files)."""
    shown = text if len(str(text)) <= 80 else f"{str(text)[:80]}…"
    try:
        value = parse_document(str(text), "the slice", json_only=True)
    except DocumentError as exc:
        raise SchemaError(f"Slice '{shown}' is not a JSON object like "
                          f'{{"channel": "mobile"}} ({exc})') from None
    if not isinstance(value, dict) or not value:
        raise SchemaError(f"Slice '{shown}' must be a non-empty JSON object of column: value.")
    return {str(k): str(v) for k, v in value.items()}


def apply_slice(table: Table, spec: Mapping[str, str]) -> Table:
    """The rows of `table` inside the slice, as a narrower Table (filters pushed to DuckDB).

    Numeric columns take '< x', '>= x', '= x', '[a, b)' or '(missing)'; other columns take a
    value (compared as text) or '(missing)'.
    """
    table.require_columns(list(spec))
    types = table.column_types
    label = ", ".join(f"{k} {v}" for k, v in spec.items())
    out = table
    for column, value in spec.items():
        col = quote_ident(column)
        value = str(value)
        numeric = is_numeric_type(types[column]) and types[column].upper() != "BOOLEAN"
        if value == MISSING_LABEL:
            cond, params = (f"({col} IS NULL OR NOT isfinite(TRY_CAST({col} AS DOUBLE)))"
                            if numeric else f"{col} IS NULL"), {}
        elif value == OTHER_LABEL:
            raise SchemaError(f"'{OTHER_LABEL}' of '{column}' groups rare values and cannot be "
                              "used as a filter; pick a named value.")
        elif numeric:
            cond, params = numeric_condition(column, value)
        else:
            cond, params = f"CAST({col} AS VARCHAR) = $value", {"value": value}
        out = out.where(cond, label=f"{table.label} [{label}]", **params)
    return out


def check_edges(table: Table, edges: Mapping[str, object] | None,
                columns: list[str] | tuple[str, ...]) -> None:
    """Refuse user bin edges for a column that is not sliced on or not numeric (they would
    otherwise be ignored without a word)."""
    types = table.column_types
    for name in edges or {}:
        if name not in types:
            raise SchemaError(f"--edges names '{name}', which is not a column of {table.label}. "
                              f"Columns are: {', '.join(types)}.")
        if name not in columns:
            raise SchemaError(f"--edges names '{name}', which is not among the columns sliced "
                              f"on ({', '.join(columns)}); add it to --columns or --by.")
        if not is_numeric_type(types[name]) or types[name].upper() == "BOOLEAN":
            raise SchemaError(f"--edges names '{name}', which is {types[name]}, not numeric; "
                              "bin edges apply to numeric columns only.")
