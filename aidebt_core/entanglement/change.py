"""Correlation change: the same association matrix on reference and current, and the difference.

A pair is flagged when its association moved by more than `threshold` (default 0.25, the
usual reference point, e.g. Evidently's correlation-change test). Where a test exists —
Pearson and Spearman, via Fisher's z — a two-sided p-value is given; Cramér's V, η and
Theil's U have no standard two-sample test and get none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from aidebt_core.entanglement.matrix import PEARSON, SPEARMAN, AssociationMatrix
from aidebt_core.entanglement.measures import fisher_z_pvalue
from aidebt_core.errors import OptionError, SchemaError

DEFAULT_CHANGE_THRESHOLD = 0.25
CHANGE_COLUMNS = ["a", "b", "method", "reference", "current", "delta", "p_value", "flagged",
                  "reference_rows", "current_rows"]


@dataclass(frozen=True, eq=False)
class CorrelationChange:
    """Per pair: reference and current association, their difference, test and flag."""

    columns: tuple[str, ...]
    difference: np.ndarray          # current − reference, in `columns` order
    pairs: pd.DataFrame             # CHANGE_COLUMNS, largest |delta| first
    threshold: float

    @property
    def flagged(self) -> pd.DataFrame:
        return self.pairs[self.pairs["flagged"]].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        return self.pairs.copy()


def correlation_change(reference: AssociationMatrix, current: AssociationMatrix,
                       threshold: float = DEFAULT_CHANGE_THRESHOLD) -> CorrelationChange:
    """Compare two matrices on their common columns (in the reference's clustered order)."""
    if not 0 < threshold <= 2:
        raise OptionError(f"The change threshold must be in (0, 2] (got {threshold}).")
    common = [c for c in reference.columns if c in current.columns]
    if len(common) < 2:
        raise SchemaError("Reference and current share fewer than two usable feature columns; "
                          "nothing to compare.")
    ri = [reference.index(c) for c in common]
    ci = [current.index(c) for c in common]
    ref = reference.values[np.ix_(ri, ri)]
    cur = current.values[np.ix_(ci, ci)]
    difference = cur - ref
    np.fill_diagonal(difference, np.nan)  # a column with itself has nothing to compare
    asymmetric = not (reference.symmetric and current.symmetric)
    rows = []
    for i, a in enumerate(common):
        for j, b in enumerate(common):
            if i == j or (j < i and not asymmetric):
                continue
            method = reference.methods[ri[i], ri[j]]
            n_ref = int(reference.counts[ri[i], ri[j]])
            n_cur = int(current.counts[ci[i], ci[j]])
            p_value = float("nan")
            if method in (PEARSON, SPEARMAN):
                p_value = fisher_z_pvalue(ref[i, j], n_ref, cur[i, j], n_cur,
                                          spearman=method == SPEARMAN)
            delta = difference[i, j]
            rows.append({"a": a, "b": b, "method": method, "reference": ref[i, j],
                         "current": cur[i, j], "delta": delta, "p_value": p_value,
                         "flagged": bool(np.isfinite(delta) and abs(delta) > threshold),
                         "reference_rows": n_ref, "current_rows": n_cur})
    pairs = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    order = pairs["delta"].abs().fillna(-1).sort_values(ascending=False, kind="stable").index
    return CorrelationChange(tuple(common), difference, pairs.loc[order].reset_index(drop=True),
                             threshold)
