"""What the entanglement analysis returns: the result and the types it is built from.

Charts and reports import from here only, never from the modules that compute.
`to_dict`/`from_dict` round-trip a result through JSON (the matrices, the change and the
ripple table in full); `fingerprint` hashes its options with the input identity the caller
set (`with_inputs`, see drift/identity.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from aidebt_core.drift.identity import Identity, fingerprint, identity_from
from aidebt_core.entanglement.change import CHANGE_COLUMNS, CorrelationChange
from aidebt_core.entanglement.matrix import (
    DEFAULT_GROUP_THRESHOLD,
    MEASURE_NAMES,
    AssociationMatrix,
)
from aidebt_core.entanglement.ripple import RIPPLE_COLUMNS, RippleRisk
from aidebt_core.jsonsafe import jsonable

__all__ = ["MEASURE_NAMES", "AssociationMatrix", "CorrelationChange", "EntanglementResult",
           "RippleRisk"]


@dataclass(frozen=True, eq=False)
class EntanglementResult:
    """Reference matrix and groups; with a current table also the change; and ripple risk."""

    reference: AssociationMatrix
    groups: list[list[str]]
    ripple: RippleRisk
    current: AssociationMatrix | None = None
    change: CorrelationChange | None = None
    group_threshold: float = DEFAULT_GROUP_THRESHOLD
    messages: tuple[str, ...] = ()
    inputs: Identity = ()   # set by the caller (with_inputs): what the data was read from

    @property
    def fingerprint(self) -> str:
        """Options (columns, measure, thresholds) + the caller's input identity."""
        return fingerprint("entanglement", {
            "columns": list(self.reference.columns), "method": self.reference.method,
            "group_threshold": self.group_threshold,
            "change_threshold": self.change.threshold if self.change is not None else None},
            self.inputs)

    def with_inputs(self, inputs: Identity) -> EntanglementResult:
        return replace(self, inputs=tuple(inputs))

    @property
    def notes(self) -> list[str]:
        notes = list(self.messages) + list(self.reference.notes)
        if self.current is not None:
            notes += [n for n in self.current.notes if n not in notes]
        return notes

    def to_frame(self) -> pd.DataFrame:
        """All pairs of the reference matrix, strongest first."""
        return self.reference.pairs()

    def to_dict(self) -> dict:
        """JSON-safe: the CLI contract's columns/matrix/groups/pairs, plus change and ripple."""
        ref = self.reference
        pairs = ref.pairs()
        out = {
            "columns": list(ref.columns),
            "kinds": list(ref.kinds),
            "matrix": ref.values,
            "methods": ref.methods.tolist(),
            "method": ref.method,
            "groups": self.groups,
            "group_threshold": self.group_threshold,
            "pairs": [{"a": r.a, "b": r.b, "value": r.value, "method": r.method,
                       "rows": r.rows, **({"note": r.note} if r.note else {})}
                      for r in pairs.itertuples(index=False)],
            "rows_used": ref.rows_used,
            "rows_total": ref.rows_total,
            "notes": self.notes,
            "ripple": {"importance_source": self.ripple.source,
                       "features": self.ripple.table.to_dict("records")},
            "summary": self.summary(),
        }
        if self.current is not None and self.change is not None:
            out["current"] = {"columns": list(self.current.columns),
                              "matrix": self.current.values,
                              "rows_used": self.current.rows_used,
                              "rows_total": self.current.rows_total}
            out["change"] = {"threshold": self.change.threshold,
                             "pairs": self.change.flagged.to_dict("records")}
        # What from_dict needs beyond the contract's keys (matrices are not repeated).
        out["state"] = {
            "messages": list(self.messages), "reference": _matrix_extra(ref),
            "current": _matrix_extra(self.current) if self.current is not None else None,
            "change": None if self.change is None else {
                "columns": list(self.change.columns), "difference": self.change.difference,
                "pairs": self.change.pairs.to_dict("records")}}
        out["inputs"] = [list(i) for i in self.inputs]
        out["fingerprint"] = self.fingerprint
        return jsonable(out)

    @classmethod
    def from_dict(cls, data: Mapping) -> EntanglementResult:
        """The result a `to_dict` document describes (NaN figures come back from null)."""
        state = data["state"]
        reference = _matrix(data, data["matrix"], data["methods"], state["reference"])
        current = None
        if state["current"] is not None:
            extra = state["current"]
            current = _matrix(data["current"], data["current"]["matrix"], extra["methods"],
                              extra)
        change = state["change"]
        return cls(
            reference, [list(g) for g in data["groups"]],
            RippleRisk(pd.DataFrame(data["ripple"]["features"], columns=RIPPLE_COLUMNS),
                       data["ripple"]["importance_source"]),
            current,
            None if change is None else CorrelationChange(
                tuple(change["columns"]), _floats(change["difference"]),
                pd.DataFrame(change["pairs"], columns=CHANGE_COLUMNS).astype(
                    {"flagged": bool}), float(data["change"]["threshold"])),
            float(data["group_threshold"]), tuple(state["messages"]),
            identity_from(data.get("inputs")))

    def summary(self) -> dict:
        """A few headline figures (for metrics on the page and the audit's pre-fill)."""
        strength = self.reference.strength()
        for k in range(len(strength)):
            strength[k, k] = 0.0
        top = self.ripple.table.iloc[0] if len(self.ripple.table) else None
        return {
            "features": len(self.reference.columns),
            "redundant_groups": len(self.groups),
            "features_in_groups": sum(len(g) for g in self.groups),
            "max_association": float(strength.max()) if strength.size else None,
            "changed_pairs": (int(self.change.pairs["flagged"].sum())
                              if self.change is not None else None),
            "top_ripple_feature": None if top is None else str(top["feature"]),
        }


def _matrix_extra(matrix: AssociationMatrix) -> dict:
    """A matrix's parts the contract's keys leave out."""
    return {"kinds": list(matrix.kinds), "methods": matrix.methods.tolist(),
            "counts": matrix.counts, "method": matrix.method,
            "undefined": [[a, b, why] for (a, b), why in matrix.undefined.items()],
            "notes": list(matrix.notes)}


def _floats(rows) -> np.ndarray:
    return np.array(rows, dtype=float).reshape(len(rows), len(rows))  # null -> NaN


def _matrix(shown: Mapping, values, methods, extra: Mapping) -> AssociationMatrix:
    """A matrix from its contract keys (`columns`, `rows_used`, `rows_total`), its values and
    methods, and the `extra` parts."""
    p = len(shown["columns"])
    grid = np.empty((p, p), dtype=object)   # as computed: an object array of measure names
    for i, row in enumerate(methods):
        grid[i, :] = row
    return AssociationMatrix(
        tuple(shown["columns"]), tuple(extra["kinds"]), _floats(values), grid,
        np.array(extra["counts"], dtype=np.int64).reshape(p, p),
        {(a, b): why for a, b, why in extra["undefined"]}, extra["method"],
        int(shown["rows_used"]), int(shown["rows_total"]), tuple(extra["notes"]))
