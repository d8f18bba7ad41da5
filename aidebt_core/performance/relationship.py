"""How a feature's relation to the target changed: target rate per feature bin, reference vs
current (labelled rows only), computed with one GROUP BY per side in DuckDB.

Numeric features are cut at the reference deciles (so each reference bin holds about a tenth
of the rows; current values beyond the reference range fall into the end bins); categorical
features use their most frequent reference values plus "(other)". Missing values get their
own bin. `shift` = Σ_b w_b · |Δrate_b − Δrate|, where w_b is bin b's current share, Δrate_b
the change of the target rate in bin b and Δrate the change of the overall rate (over the
bins both sides have): how much the *shape* of the relation changed. A level change of the
target rate that other features' drift explains moves every bin alike and cancels; rows
moving between bins (data drift of this feature) leave it near 0; a changed feature → target
relation raises it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from aidebt_core.data import ROWS, Table, is_numeric_type, quantiles, quote_ident
from aidebt_core.errors import SchemaError

MISSING, OTHER = "(missing)", "(other)"
DEFAULT_BINS = 10
TOP_CATEGORIES = 12


@dataclass(frozen=True)
class Relationship:
    """Target rate by bin of one feature, reference vs current."""

    feature: str
    kind: str   # "numeric" | "categorical"
    bins: tuple[str, ...]
    reference_rows: np.ndarray
    reference_rate: np.ndarray
    current_rows: np.ndarray
    current_rate: np.ndarray

    @property
    def shift(self) -> float:
        ok = (self.reference_rows > 0) & (self.current_rows > 0)
        if not ok.any():
            return np.nan
        ref_n, cur_n = self.reference_rows[ok], self.current_rows[ok]
        ref_r, cur_r = self.reference_rate[ok], self.current_rate[ok]
        level = (cur_n @ cur_r) / cur_n.sum() - (ref_n @ ref_r) / ref_n.sum()
        return float(cur_n @ np.abs(cur_r - ref_r - level) / cur_n.sum())

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"bin": list(self.bins), "reference_rows": self.reference_rows,
                             "reference_rate": self.reference_rate,
                             "current_rows": self.current_rows,
                             "current_rate": self.current_rate})

    def to_dict(self) -> dict:
        from aidebt_core.jsonsafe import jsonable

        return jsonable({"feature": self.feature, "kind": self.kind, "shift": self.shift,
                         "bins": self.to_frame().to_dict(orient="records")})


def feature_relationship(reference: Table, current: Table, feature: str, target: str,
                         bins: int = DEFAULT_BINS) -> Relationship:
    """Target rate per bin of `feature` in the labelled rows of `reference` and `current`."""
    for table in (reference, current):
        table.require_columns([feature, target])
    kind = reference.column_types[feature]
    y = f"CAST({quote_ident(target)} AS DOUBLE)"
    labelled = reference.where(f"{y} IS NOT NULL")
    if not is_numeric_type(reference.column_types[target]) and \
            reference.column_types[target].upper() != "BOOLEAN":
        raise SchemaError(f"The label column '{target}' must hold numbers (0/1).")
    if is_numeric_type(kind) and _distinct(reference, feature) > bins:
        inner, labels = _numeric_bins(labelled, feature, bins)
        col = f"CAST({quote_ident(feature)} AS DOUBLE)"
        key = (f"CASE WHEN {col} IS NULL OR NOT isfinite({col}) THEN -1 ELSE "
               f"len(list_filter($inner, lambda e: e <= {col})) END")
        params = {"inner": inner}
        kind_name = "numeric"
        to_label = {i: lab for i, lab in enumerate(labels)} | {-1: MISSING}
    else:
        top = labelled.df(f"SELECT CAST({quote_ident(feature)} AS VARCHAR) AS v, count(*) AS n "
                          f"FROM {ROWS} WHERE {quote_ident(feature)} IS NOT NULL "
                          f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP_CATEGORIES}")["v"].tolist()
        col = f"CAST({quote_ident(feature)} AS VARCHAR)"
        key = (f"CASE WHEN {col} IS NULL THEN '{MISSING}' WHEN list_contains($top, {col}) "
               f"THEN {col} ELSE '{OTHER}' END")
        params = {"top": top}
        kind_name = "categorical"
        to_label = None
    sides = []
    for table in (reference, current):
        rows = table.execute(f"SELECT {key} AS b, count(*), avg({y}) FROM {ROWS} "
                             f"WHERE {y} IS NOT NULL GROUP BY 1", params).fetchall()
        sides.append({(to_label[b] if to_label else b): (n, r) for b, n, r in rows})
    if not sides[0]:
        raise SchemaError(f"The reference has no labelled rows ('{target}' is empty).")
    order = (list(to_label[i] for i in sorted(k for k in to_label if k >= 0)) + [MISSING]
             if to_label else [*top, OTHER, MISSING])
    order = [b for b in order if b in sides[0] or b in sides[1]]
    ref_n, ref_r, cur_n, cur_r = ([], [], [], [])
    for b in order:
        n, r = sides[0].get(b, (0, np.nan))
        ref_n.append(n), ref_r.append(r)
        n, r = sides[1].get(b, (0, np.nan))
        cur_n.append(n), cur_r.append(r)
    return Relationship(feature, kind_name, tuple(order), np.array(ref_n, dtype=np.int64),
                        np.array(ref_r, dtype=np.float64), np.array(cur_n, dtype=np.int64),
                        np.array(cur_r, dtype=np.float64))


def rank_relationships(reference: Table, current: Table, features: list[str], target: str,
                       bins: int = DEFAULT_BINS) -> list[Relationship]:
    """Every feature's relationship, the largest `shift` first."""
    found = [feature_relationship(reference, current, f, target, bins) for f in features]
    return sorted(found, key=lambda r: -np.nan_to_num(r.shift, nan=-1.0))


def _distinct(table: Table, column: str) -> int:
    return int(table.execute(f"SELECT count(DISTINCT {quote_ident(column)}) FROM {ROWS}"
                             ).fetchone()[0])


def _numeric_bins(table: Table, feature: str, bins: int) -> tuple[list[float], list[str]]:
    probs = [i / bins for i in range(1, bins)]
    inner = sorted(set(quantiles(table, feature, probs)))
    edges = [-np.inf, *inner, np.inf]
    labels = [_interval(lo, hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return [float(e) for e in inner], labels


def _interval(lo: float, hi: float) -> str:
    if np.isinf(lo):
        return f"< {hi:.4g}"
    if np.isinf(hi):
        return f"≥ {lo:.4g}"
    return f"[{lo:.4g}, {hi:.4g})"
