"""What the entanglement analysis returns: the result and the types it is built from.

Charts and reports import from here only, never from the modules that compute."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from aidebt_core.entanglement.change import CorrelationChange
from aidebt_core.entanglement.matrix import (
    DEFAULT_GROUP_THRESHOLD,
    MEASURE_NAMES,
    AssociationMatrix,
)
from aidebt_core.entanglement.ripple import RippleRisk
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
        return jsonable(out)

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
