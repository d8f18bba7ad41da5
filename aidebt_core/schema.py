"""Column roles (numeric, categorical, timestamp, id, target, prediction, score, …).

Roles are inferred once from DuckDB types, names and one aggregate pass, then the user can
override any of them; every analysis reads roles from the same `Schema`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import pandas as pd

from aidebt_core.data import ROWS, Table, is_numeric_type, is_temporal_type, quote_ident
from aidebt_core.errors import SchemaError

ROLES = ("numeric", "categorical", "boolean", "timestamp", "id", "target", "prediction", "score",
         "ignore")
FEATURE_ROLES = ("numeric", "categorical", "boolean")
TARGET_NAMES = {"target", "label", "y", "class", "outcome", "defaulted", "churned", "is_fraud",
                "fraud", "converted", "clicked"}
_PREDICTION = re.compile(r"^(pred|predicted|prediction|yhat|y_pred)(_|$)|_(pred|prediction)$")
_SCORE = re.compile(r"(^|_)(score|proba|probability|prob)($|_)")
_ID = re.compile(r"(^|_)(id|uuid|key)$")


@dataclass(frozen=True)
class ColumnInfo:
    """One column: its storage type, inferred role and the facts the role came from."""

    name: str
    dtype: str
    role: str
    distinct: int
    nulls: int
    rows: int
    inferred_role: str

    @property
    def null_share(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    @property
    def all_null(self) -> bool:
        return self.rows > 0 and self.nulls == self.rows


@dataclass(frozen=True)
class Schema:
    """Columns with roles; `with_roles` applies a user's overrides."""

    columns: tuple[ColumnInfo, ...]

    def __getitem__(self, name: str) -> ColumnInfo:
        for col in self.columns:
            if col.name == name:
                return col
        raise SchemaError(f"No column '{name}'. Columns are: {', '.join(self.names)}.")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def with_role(self, *roles: str) -> list[str]:
        return [c.name for c in self.columns if c.role in roles]

    @property
    def features(self) -> list[str]:
        return self.with_role(*FEATURE_ROLES)

    def first(self, role: str) -> str | None:
        names = self.with_role(role)
        return names[0] if names else None

    def with_roles(self, overrides: Mapping[str, str]) -> Schema:
        """A copy with some roles set by the user (unknown columns or roles are refused)."""
        for name, role in overrides.items():
            if role not in ROLES:
                raise SchemaError(f"Unknown role '{role}' for column '{name}'. "
                                  f"Roles: {', '.join(ROLES)}.")
            self[name]  # raises for unknown columns
        return Schema(tuple(replace(c, role=overrides.get(c.name, c.role)) for c in self.columns))

    def overrides(self) -> dict[str, str]:
        """The roles that differ from what was inferred (what a user changed)."""
        return {c.name: c.role for c in self.columns if c.role != c.inferred_role}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "column": [c.name for c in self.columns],
            "type": [c.dtype for c in self.columns],
            "role": [c.role for c in self.columns],
            "distinct": [c.distinct for c in self.columns],
            "missing_share": [c.null_share for c in self.columns],
        })

    def to_dict(self) -> dict:
        return {"columns": [{"name": c.name, "type": c.dtype, "role": c.role,
                             "distinct": c.distinct, "missing_share": c.null_share}
                            for c in self.columns]}


def infer_schema(table: Table) -> Schema:
    """Infer every column's role in one aggregate pass over the table."""
    types = table.column_types
    parts = ["count(*)"]
    for name in types:
        col = quote_ident(name)
        parts += [f"approx_count_distinct({col})", f"count(*) - count({col})"]
        if is_numeric_type(types[name]):
            parts += [f"min({col})::DOUBLE", f"max({col})::DOUBLE"]
    row = table.execute(f"SELECT {', '.join(parts)} FROM {ROWS}").fetchone()
    rows, pos, infos = int(row[0]), 1, []
    for name, dtype in types.items():
        distinct, nulls = int(row[pos]), int(row[pos + 1])
        pos += 2
        lo = hi = None
        if is_numeric_type(dtype):
            lo, hi = row[pos], row[pos + 1]
            pos += 2
        role = _infer_role(name, dtype, distinct, rows - nulls, lo, hi)
        infos.append(ColumnInfo(name, dtype, role, distinct, nulls, rows, role))
    return Schema(tuple(infos))


def _infer_role(name: str, dtype: str, distinct: int, non_null: int,
                lo: float | None, hi: float | None) -> str:
    lower = name.lower()
    numeric = is_numeric_type(dtype)
    binary = distinct <= 2
    if lower in TARGET_NAMES and (binary or numeric or dtype.upper() == "BOOLEAN"):
        return "target"
    if _PREDICTION.search(lower):
        return "prediction"
    if numeric and _SCORE.search(lower) and lo is not None and 0 <= lo and hi <= 1:
        return "score"
    if is_temporal_type(dtype):
        return "timestamp"
    # approx_count_distinct can overshoot slightly; near-unique named ids are ids.
    if _ID.search(lower) and non_null and distinct >= 0.95 * non_null and not _is_float(dtype):
        return "id"
    if dtype.upper() == "BOOLEAN" or (numeric and binary and lo in (0, 1) and hi in (0, 1)):
        return "boolean"
    if numeric:
        return "numeric"
    return "categorical"


def _is_float(dtype: str) -> bool:
    return dtype.upper().startswith(("FLOAT", "DOUBLE", "REAL", "DECIMAL"))
