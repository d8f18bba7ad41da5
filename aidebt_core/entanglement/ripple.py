"""Ripple risk: which features are both important and entangled, so changing them ripples.

risk = importance (scaled so the most important feature is 1) × strongest |association| with
any other feature. Importance comes from the model run's logged feature importances when the
caller has them, else from a model-agnostic measure: mutual information (scikit-learn's k-NN
estimator) between each feature and the model's score (or, without a score, the target).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aidebt_core.data import Table
from aidebt_core.entanglement.encode import CATEGORICAL, NUMERIC, encode
from aidebt_core.entanglement.matrix import AssociationMatrix
from aidebt_core.errors import SchemaError

MI_MAX_ROWS = 10_000
RIPPLE_COLUMNS = ["feature", "importance", "strongest_partner", "strongest_association",
                  "risk"]


@dataclass(frozen=True)
class Importance:
    """Importance per feature and where it came from (shown next to the ripple table)."""

    values: Mapping[str, float]
    source: str


@dataclass(frozen=True, eq=False)
class RippleRisk:
    table: pd.DataFrame   # RIPPLE_COLUMNS, riskiest first
    source: str

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def mutual_information(table: Table, kinds: Mapping[str, str], against: str,
                       against_kind: str = NUMERIC, max_rows: int = MI_MAX_ROWS,
                       seed: int = 0) -> Importance:
    """MI (nats) of each feature with `against` on a seeded sample of at most `max_rows` rows.

    A numeric `against` (a model score) uses `mutual_info_regression`, a categorical one
    (a label) `mutual_info_classif`; categorical features are treated as discrete. Each
    feature uses the rows where it and `against` are present.
    """
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

    if against in kinds:
        raise SchemaError(f"'{against}' cannot be both a feature and the importance target.")
    data = encode(table, {**kinds, against: against_kind}, max_rows=max_rows, seed=seed)
    if against not in data.columns:
        raise SchemaError(f"'{against}' is entirely missing in {table.label}; cannot measure "
                          "importance against it.")
    if against in data.constant:
        raise SchemaError(f"'{against}' is constant in {table.label}; importance against it "
                          "is undefined.")
    if against_kind == NUMERIC:
        y = data.x[:, data.numeric.index(against)]
    else:
        y = data.codes[:, data.categorical.index(against)]
    y_ok = ~np.isnan(y) if against_kind == NUMERIC else y >= 0
    values = {}
    for name in data.columns:
        if name == against:
            continue
        if name in data.constant:
            values[name] = 0.0
            continue
        if data.kind(name) == NUMERIC:
            x = data.x[:, data.numeric.index(name)]
            ok = y_ok & ~np.isnan(x)
        else:
            x = data.codes[:, data.categorical.index(name)].astype(np.float64)
            ok = y_ok & (x >= 0)
        if ok.sum() < 10:
            values[name] = float("nan")
            continue
        fn = mutual_info_regression if against_kind == NUMERIC else mutual_info_classif
        values[name] = float(fn(x[ok, None], y[ok], discrete_features=[data.kind(name)
                                                                       == CATEGORICAL],
                                random_state=seed)[0])
    return Importance(values, f"mutual information with '{against}' "
                              f"(sample of {data.rows_used:,} rows)")


def ripple_risk(matrix: AssociationMatrix, importance: Importance | None) -> RippleRisk:
    """Rank the matrix's features by scaled importance × strongest association."""
    strength = matrix.strength()
    np.fill_diagonal(strength, -1.0)
    rows = []
    scale = None
    if importance is not None:
        known = [v for c, v in importance.values.items() if c in matrix.columns
                 and np.isfinite(v)]
        scale = max(known) if known and max(known) > 0 else None
    for k, name in enumerate(matrix.columns):
        partner = int(np.argmax(strength[k]))
        assoc = float(strength[k, partner])
        if scale is None:
            imp = float("nan")
        else:
            imp = float(importance.values.get(name, float("nan"))) / scale
        risk = assoc * imp if importance is not None else assoc
        rows.append({"feature": name, "importance": imp,
                     "strongest_partner": matrix.columns[partner] if assoc > 0 else "",
                     "strongest_association": max(assoc, 0.0), "risk": risk})
    frame = pd.DataFrame(rows, columns=RIPPLE_COLUMNS)
    frame = frame.sort_values("risk", ascending=False, na_position="last", kind="stable")
    source = importance.source if importance is not None else (
        "no importance available: ranked by strongest association alone")
    return RippleRisk(frame.reset_index(drop=True), source)
