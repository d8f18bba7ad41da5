"""Drift results: one `ColumnDrift` per column and the dataset-level `DriftResult`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aidebt_core.drift.options import P_VALUE_METHODS, DriftOptions
from aidebt_core.errors import SchemaError
from aidebt_core.jsonsafe import jsonable

OK, NOT_TESTABLE, TYPE_CHANGED = "ok", "not testable", "type changed"
MAX_LISTED_CATEGORIES = 50


@dataclass(frozen=True)
class ColumnDrift:
    """Every drift figure for one column; `statistic`/`p_value` are those of `method`."""

    name: str
    kind: str
    method: str
    statistic: float | None
    p_value: float | None
    threshold: float
    drifted: bool
    missing_share_reference: float
    missing_share_current: float
    missing_changed: bool
    reference_count: int
    current_count: int
    status: str = OK
    note: str = ""
    dtype_reference: str = ""
    dtype_current: str = ""
    new_categories: tuple[str, ...] = ()
    vanished_categories: tuple[str, ...] = ()
    measures: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def missing_change(self) -> float:
        return self.missing_share_current - self.missing_share_reference

    def to_dict(self) -> dict:
        return jsonable({
            "name": self.name, "kind": self.kind, "method": self.method,
            "statistic": self.statistic, "p_value": self.p_value, "threshold": self.threshold,
            "drifted": self.drifted,
            "missing_share_reference": self.missing_share_reference,
            "missing_share_current": self.missing_share_current,
            "new_categories": list(self.new_categories[:MAX_LISTED_CATEGORIES]),
            "new_categories_count": len(self.new_categories),
            "vanished_categories": list(self.vanished_categories[:MAX_LISTED_CATEGORIES]),
            "missing_changed": self.missing_changed, "status": self.status, "note": self.note,
            "reference_count": self.reference_count, "current_count": self.current_count,
            "dtype_reference": self.dtype_reference, "dtype_current": self.dtype_current,
            "measures": dict(self.measures),
        })


@dataclass(frozen=True)
class DriftResult:
    """Drift of every analysed column and the dataset-level verdict."""

    reference_rows: int
    current_rows: int
    columns: tuple[ColumnDrift, ...]
    options: DriftOptions
    only_in_reference: tuple[str, ...] = ()
    only_in_current: tuple[str, ...] = ()

    @property
    def testable(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.status != NOT_TESTABLE]

    @property
    def drifted_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.drifted]

    @property
    def drifted_share(self) -> float:
        testable = self.testable
        return sum(c.drifted for c in testable) / len(testable) if testable else 0.0

    @property
    def dataset_drift(self) -> bool:
        return bool(self.testable) and self.drifted_share >= self.options.drift_share

    @property
    def missing_changed(self) -> list[str]:
        return [c.name for c in self.columns if c.missing_changed]

    @property
    def worst(self) -> ColumnDrift | None:
        """The drifted column furthest past its threshold (by ratio), else None."""
        def excess(c: ColumnDrift) -> float:
            if c.statistic is None or not np.isfinite(c.statistic):
                return np.inf
            if c.method in P_VALUE_METHODS:
                return c.threshold / max(c.p_value or 0.0, 1e-300)
            return c.statistic / c.threshold if c.threshold else np.inf
        drifted = [c for c in self.columns if c.drifted]
        return max(drifted, key=excess) if drifted else None

    def column(self, name: str) -> ColumnDrift:
        for c in self.columns:
            if c.name == name:
                return c
        raise SchemaError(f"No drift result for column '{name}'.")

    def to_frame(self) -> pd.DataFrame:
        rows = [{"column": c.name, "kind": c.kind, "method": c.method, "statistic": c.statistic,
                 "p_value": c.p_value, "threshold": c.threshold, "drifted": c.drifted,
                 "missing_reference": c.missing_share_reference,
                 "missing_current": c.missing_share_current, "missing_change": c.missing_change,
                 "new_categories": _listed(c.new_categories),
                 "vanished_categories": _listed(c.vanished_categories),
                 "status": c.status, "note": c.note} for c in self.columns]
        return pd.DataFrame(rows, columns=["column", "kind", "method", "statistic", "p_value",
                                           "threshold", "drifted", "missing_reference",
                                           "missing_current", "missing_change",
                                           "new_categories", "vanished_categories", "status",
                                           "note"])

    def to_dict(self) -> dict:
        """The CLI contract's JSON document (extended with notes, measures and summaries)."""
        return jsonable({
            "reference_rows": self.reference_rows, "current_rows": self.current_rows,
            "dataset_drift": self.dataset_drift, "drifted_share": self.drifted_share,
            "drift_share_threshold": self.options.drift_share,
            "method": self.options.method,
            "drifted_columns": self.drifted_columns,
            "missing_changed": self.missing_changed,
            "only_in_reference": list(self.only_in_reference),
            "only_in_current": list(self.only_in_current),
            "columns": [c.to_dict() for c in self.columns],
        })


def _listed(values: tuple[str, ...], limit: int = 10) -> str:
    return ", ".join(values[:limit]) + (f" … (+{len(values) - limit})" if len(values) > limit
                                         else "")


def drift_summary(result: DriftResult) -> dict:
    """A headline for other pages and the audit: share drifted, which, worst, new values."""
    worst = result.worst
    return jsonable({
        "columns_analysed": len(result.columns),
        "drifted_count": len(result.drifted_columns),
        "drifted_share": result.drifted_share,
        "dataset_drift": result.dataset_drift,
        "drifted_columns": result.drifted_columns,
        "worst_column": worst.name if worst else None,
        "worst_statistic": worst.statistic if worst else None,
        "worst_method": worst.method if worst else None,
        "missing_changed": result.missing_changed,
        "new_categories": {c.name: list(c.new_categories[:10]) for c in result.columns
                           if c.new_categories},
    })
