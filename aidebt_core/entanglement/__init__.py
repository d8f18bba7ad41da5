"""Feature entanglement (CACE): which features move together, which are redundant, which
relationships changed between reference and current, and which features are risky to touch.

`analyse(reference, current, schema)` is the one entry point the page and the CLI use.
"""

from __future__ import annotations

from collections.abc import Sequence

from aidebt_core.data import Table
from aidebt_core.entanglement import encode as _encode
from aidebt_core.entanglement.change import (
    DEFAULT_CHANGE_THRESHOLD,
    CorrelationChange,
    correlation_change,
)
from aidebt_core.entanglement.encode import (
    CATEGORICAL,
    DEFAULT_MAX_ROWS,
    DEFAULT_TOP_K,
    NUMERIC,
)
from aidebt_core.entanglement.importance import logged_importance
from aidebt_core.entanglement.matrix import (
    DEFAULT_GROUP_THRESHOLD,
    MEASURE_NAMES,
    METHODS,
    AssociationMatrix,
    compute_matrix,
    redundant_groups,
)
from aidebt_core.entanglement.result import EntanglementResult
from aidebt_core.entanglement.ripple import Importance, RippleRisk, mutual_information, ripple_risk
from aidebt_core.errors import SchemaError, TrackingError
from aidebt_core.schema import Schema

__all__ = ["AssociationMatrix", "CorrelationChange", "EntanglementResult", "Importance",
           "MEASURE_NAMES", "METHODS", "RippleRisk", "analyse", "association_matrix",
           "correlation_change", "feature_kinds", "redundant_groups", "ripple_risk"]

_KIND_OF_ROLE = {"numeric": NUMERIC, "categorical": CATEGORICAL, "boolean": CATEGORICAL}


def feature_kinds(schema: Schema, columns: Sequence[str] | None = None,
                  exclude: Sequence[str] = ()) -> dict[str, str]:
    """Feature column -> 'numeric' | 'categorical' from the schema's roles (booleans count as
    categorical). Named `columns` must be features."""
    if columns is None:
        names = [c for c in schema.features if c not in set(exclude)]
    else:
        names = [c for c in columns if c not in set(exclude)]
        for name in names:
            role = schema[name].role
            if role not in _KIND_OF_ROLE:
                raise SchemaError(f"Column '{name}' has role '{role}', not a feature role "
                                  "(numeric, categorical, boolean); change its role or drop it.")
    return {name: _KIND_OF_ROLE[schema[name].role] for name in names}


def association_matrix(table: Table, kinds: dict[str, str], method: str = "auto",
                       top_k: int = DEFAULT_TOP_K, max_rows: int | None = DEFAULT_MAX_ROWS,
                       seed: int = 0) -> AssociationMatrix:
    """The clustered association matrix of `kinds`' columns in `table`."""
    return compute_matrix(_encode.encode(table, kinds, top_k=top_k, max_rows=max_rows, seed=seed),
                          method)


def default_importance(table: Table, schema: Schema, kinds: dict[str, str], seed: int = 0
                       ) -> Importance | None:
    """Mutual information with the model's score, else with the target; None without either."""
    score = schema.first("score")
    if score is not None and not schema[score].all_null:
        return mutual_information(table, kinds, score, NUMERIC, seed=seed)
    target = schema.first("target")
    if target is not None and not schema[target].all_null:
        return mutual_information(table, kinds, target, CATEGORICAL, seed=seed)
    return None


def analyse(reference: Table, current: Table | None, schema: Schema,
            columns: Sequence[str] | None = None, exclude: Sequence[str] = (),
            method: str = "auto", group_threshold: float = DEFAULT_GROUP_THRESHOLD,
            change_threshold: float = DEFAULT_CHANGE_THRESHOLD, top_k: int = DEFAULT_TOP_K,
            max_rows: int | None = DEFAULT_MAX_ROWS, importance: Importance | None = None,
            tracking_uri: str | None = None, seed: int = 0,
            matrices: tuple[AssociationMatrix, AssociationMatrix | None] | None = None,
            rows_readable: bool = True) -> EntanglementResult:
    """Entanglement of the schema's features (or `columns`) on reference (and current) data.

    Importance for the ripple risk: `importance` if given, else the importances the
    production model's run logged in the MLflow store at `tracking_uri`, else mutual
    information with the score (see `default_importance`).
    `matrices` (reference, current) computed elsewhere — from profiles' cross sections, see
    aidebt_core/profiles/entanglement.py `analyse_routed` — replace reading the rows;
    `rows_readable` False says the reference has no rows to measure importance on.
    """
    kinds = feature_kinds(schema, columns, exclude)
    if matrices is None:
        ref = association_matrix(reference, kinds, method, top_k, max_rows, seed)
    else:
        ref = matrices[0]
    groups = redundant_groups(ref, group_threshold)
    cur = change = None
    if current is not None:
        cur = association_matrix(current, kinds, method, top_k, max_rows, seed) \
            if matrices is None else matrices[1]
        change = correlation_change(ref, cur, change_threshold)
    messages = []
    if importance is None and tracking_uri:
        try:
            importance = logged_importance(tracking_uri, list(kinds))
        except TrackingError as exc:
            messages.append(f"Logged feature importances could not be read ({exc}); "
                            "importance falls back to mutual information.")
    if importance is None and rows_readable:
        importance = default_importance(reference, schema, kinds, seed)
    elif importance is None:
        messages.append(f"{reference.label} is read through profiles, which hold no rows to "
                        "measure importance (mutual information) on: ripple risk ranks "
                        "features by their strongest association alone.")
    return EntanglementResult(ref, groups, ripple_risk(ref, importance), cur, change,
                              group_threshold, tuple(messages))
