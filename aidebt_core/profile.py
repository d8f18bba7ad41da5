"""Per-column summary statistics, computed in DuckDB in one pass per column."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from aidebt_core.data import ROWS, Table, is_numeric_type, quote_ident
from aidebt_core.jsonsafe import jsonable
from aidebt_core.schema import Schema


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    dtype: str
    role: str
    rows: int
    missing: int
    distinct: int
    mean: float | None = None
    std: float | None = None
    minimum: float | None = None
    p25: float | None = None
    median: float | None = None
    p75: float | None = None
    maximum: float | None = None
    non_finite: int = 0
    top_value: str | None = None
    top_count: int | None = None

    @property
    def missing_share(self) -> float:
        return self.missing / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class Profile:
    label: str
    rows: int
    columns: tuple[ColumnProfile, ...]

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame([c.__dict__ for c in self.columns])
        frame.insert(6, "missing_share", [c.missing_share for c in self.columns])
        return frame.rename(columns={"name": "column", "dtype": "type", "minimum": "min",
                                     "maximum": "max"})

    def to_dict(self) -> dict:
        return jsonable({"label": self.label, "rows": self.rows,
                         "columns": self.to_frame().to_dict(orient="records")})


def profile_table(table: Table, schema: Schema) -> Profile:
    """Count, missing, distinct and, for numeric columns, moments and exact quantiles."""
    columns = []
    rows = 0
    for info in schema.columns:
        if info.name not in table.column_types:
            continue
        col = quote_ident(info.name)
        if is_numeric_type(info.dtype):
            value = f"CAST({col} AS DOUBLE)"
            finite = f"CASE WHEN isfinite({value}) THEN {value} END"
            row = table.execute(
                f"SELECT count(*), count(*) - count({col}), count(DISTINCT {col}), "
                f"avg({finite}), stddev_samp({finite}), min({finite}), "
                f"quantile_cont({finite}, [0.25, 0.5, 0.75]), max({finite}), "
                f"count({col}) - count({finite}) FROM {ROWS}").fetchone()
            quartiles = row[6] or [None, None, None]
            columns.append(ColumnProfile(info.name, info.dtype, info.role, row[0], row[1], row[2],
                                         row[3], row[4], row[5], *quartiles, row[7],
                                         non_finite=row[8]))
        else:
            row = table.execute(
                f"SELECT count(*), count(*) - count({col}), count(DISTINCT {col}), "
                f"mode(CAST({col} AS VARCHAR)) FROM {ROWS}").fetchone()
            top_count = None
            if row[3] is not None:
                top_count = table.execute(
                    f"SELECT count(*) FROM {ROWS} WHERE CAST({col} AS VARCHAR) = $v",
                    {"v": row[3]}).fetchone()[0]
            columns.append(ColumnProfile(info.name, info.dtype, info.role, row[0], row[1], row[2],
                                         top_value=row[3], top_count=top_count))
        rows = columns[-1].rows
    return Profile(table.label, rows, tuple(columns))
