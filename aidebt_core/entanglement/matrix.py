"""The mixed-type association matrix, its clustered order and the groups of redundant features.

`auto` picks per pair: Pearson for numeric–numeric, bias-corrected Cramér's V for
categorical–categorical and the correlation ratio η for numeric–categorical. Asking for
`spearman` changes the numeric pairs, `theils_u` the categorical pairs (then the matrix is
asymmetric: cell (a, b) is U(a | b), how much knowing b tells about a). Every cell records
the measure used; undefined cells are NaN with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

from aidebt_core.entanglement import measures
from aidebt_core.entanglement.encode import Encoded
from aidebt_core.errors import OptionError, SchemaError

METHODS = ("auto", "pearson", "spearman", "cramers_v", "theils_u")
PEARSON, SPEARMAN, CRAMERS_V, THEILS_U, ETA = ("pearson", "spearman", "cramers_v", "theils_u",
                                               "eta")
MEASURE_NAMES = {PEARSON: "Pearson r", SPEARMAN: "Spearman ρ", CRAMERS_V: "Cramér's V (bias-"
                 "corrected)", THEILS_U: "Theil's U", ETA: "correlation ratio η"}
SIGNED = (PEARSON, SPEARMAN)
MIN_ROWS = 3
DEFAULT_GROUP_THRESHOLD = 0.8


@dataclass(frozen=True, eq=False)
class AssociationMatrix:
    """Association between every pair of features, in clustered order.

    `values[i, j]` is the association of columns[i] with columns[j] (signed for Pearson /
    Spearman, in [0, 1] otherwise), `methods[i, j]` the measure, `counts[i, j]` the rows
    where both were present; `undefined` maps a pair (a, b) to why its value is blank.
    """

    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    values: np.ndarray
    methods: np.ndarray
    counts: np.ndarray
    undefined: dict[tuple[str, str], str] = field(default_factory=dict)
    method: str = "auto"
    rows_used: int = 0
    rows_total: int = 0
    notes: tuple[str, ...] = ()

    @property
    def symmetric(self) -> bool:
        return bool(np.allclose(self.values, self.values.T, equal_nan=True))

    def index(self, name: str) -> int:
        try:
            return self.columns.index(name)
        except ValueError:
            raise SchemaError(f"'{name}' is not in the association matrix. Columns are: "
                              f"{', '.join(self.columns)}.") from None

    def value(self, a: str, b: str) -> float:
        return float(self.values[self.index(a), self.index(b)])

    def method_of(self, a: str, b: str) -> str:
        return str(self.methods[self.index(a), self.index(b)])

    @property
    def signed(self) -> bool:
        """Whether every measure in the matrix has a sign (Pearson/Spearman only), so a chart
        needs a diverging scale; any measure on 0..1 (Cramér's V, η, Theil's U) makes it
        unsigned."""
        used = {str(m) for m in self.methods.ravel()} - {"self", "None", ""}
        return bool(used) and used <= set(SIGNED)

    def strength(self) -> np.ndarray:
        """|association|, symmetrised by the larger direction, NaN treated as none."""
        strength = np.abs(np.nan_to_num(self.values, nan=0.0))
        return np.maximum(strength, strength.T)

    def reordered(self, columns: list[str] | tuple[str, ...]) -> AssociationMatrix:
        """The same matrix in another column order (e.g. the reference's, so the current
        matrix can be compared cell by cell); columns not in this matrix are skipped, and
        this matrix's own extra columns are appended."""
        names = [c for c in columns if c in self.columns]
        names += [c for c in self.columns if c not in names]
        idx = [self.columns.index(c) for c in names]
        grid = np.ix_(idx, idx)
        return replace(self, columns=tuple(names), kinds=tuple(self.kinds[k] for k in idx),
                       values=self.values[grid], methods=self.methods[grid],
                       counts=self.counts[grid])

    def to_frame(self) -> pd.DataFrame:
        """The matrix as a square DataFrame (rows/columns in clustered order)."""
        return pd.DataFrame(self.values, index=list(self.columns), columns=list(self.columns))

    def pairs(self) -> pd.DataFrame:
        """One row per pair (both directions when asymmetric), strongest first."""
        rows = []
        asymmetric = not self.symmetric
        p = len(self.columns)
        for i in range(p):
            for j in range(p):
                if i == j or (j < i and not asymmetric):
                    continue
                a, b = self.columns[i], self.columns[j]
                rows.append({"a": a, "b": b, "value": float(self.values[i, j]),
                             "method": str(self.methods[i, j]), "rows": int(self.counts[i, j]),
                             "note": self.undefined.get((a, b), "")})
        frame = pd.DataFrame(rows, columns=["a", "b", "value", "method", "rows", "note"])
        order = frame["value"].abs().fillna(-1).sort_values(ascending=False, kind="stable").index
        return frame.loc[order].reset_index(drop=True)


def compute_matrix(data: Encoded, method: str = "auto") -> AssociationMatrix:
    """Every pairwise association of the encoded columns, in clustered order."""
    if method not in METHODS:
        raise OptionError(f"Unknown method '{method}'. Methods: {', '.join(METHODS)}.")
    columns = list(data.columns)
    if len(columns) < 2:
        left = f" (only '{columns[0]}' is usable)" if columns else ""
        raise SchemaError(f"Entanglement needs at least two feature columns with data{left}. "
                          "Add columns or check the roles.")
    p, nn = len(columns), len(data.numeric)
    values = np.full((p, p), np.nan)
    methods = np.full((p, p), "", dtype=object)
    counts = np.zeros((p, p), dtype=np.int64)

    if nn:
        numeric_method = SPEARMAN if method == SPEARMAN else PEARSON
        fn = measures.spearman_matrix if numeric_method == SPEARMAN else measures.pearson_matrix
        r, n = fn(data.x)
        values[:nn, :nn], counts[:nn, :nn], methods[:nn, :nn] = r, n, numeric_method
    cat_method = THEILS_U if method == THEILS_U else CRAMERS_V
    nc = len(data.categorical)
    if nn and nc:
        eta, n = measures.correlation_ratios(data.x, data.codes, [len(v) for v in data.levels])
        values[:nn, nn:], counts[:nn, nn:], methods[:nn, nn:] = eta, n, ETA
        values[nn:, :nn], counts[nn:, :nn], methods[nn:, :nn] = eta.T, n.T, ETA
    for ci, cj, table in measures.contingency_tables(data.codes, [len(v) for v in data.levels]):
        i, j = nn + ci, nn + cj
        counts[i, j] = counts[j, i] = table.sum()
        methods[i, j] = methods[j, i] = cat_method
        if cat_method == THEILS_U:
            values[i, j], values[j, i] = measures.theils_u(table), measures.theils_u(table.T)
        else:
            values[i, j] = values[j, i] = measures.cramers_v(table)

    return assemble_matrix(columns, [data.kind(c) for c in columns], values, methods, counts,
                           data.constant, method, data.rows_used, data.rows_total, data.notes)


def assemble_matrix(columns: list[str], kinds: list[str], values: np.ndarray,
                    methods: np.ndarray, counts: np.ndarray, constant: frozenset[str],
                    method: str, rows_used: int, rows_total: int, notes: tuple[str, ...]
                    ) -> AssociationMatrix:
    """The matrix from its filled blocks (numeric columns first, as `compute_matrix` fills
    them): reasons for blank cells, the diagonal, clustered order. Shared with the matrix
    read from profiles (profiles/entanglement.py), so both give the same result."""
    undefined = _explain_undefined(columns, values, counts, constant)
    for k, name in enumerate(columns):
        methods[k, k] = "self"
        values[k, k] = np.nan if name in constant else 1.0
    order = cluster_order(values)
    return AssociationMatrix(
        columns=tuple(columns[k] for k in order), kinds=tuple(kinds[k] for k in order),
        values=values[np.ix_(order, order)], methods=methods[np.ix_(order, order)],
        counts=counts[np.ix_(order, order)], undefined=undefined, method=method,
        rows_used=rows_used, rows_total=rows_total, notes=tuple(notes))


def _explain_undefined(columns, values, counts, constant: frozenset[str]
                       ) -> dict[tuple[str, str], str]:
    reasons = {}
    for i, a in enumerate(columns):
        for j, b in enumerate(columns):
            if i == j:
                continue
            if a in constant or b in constant:
                constant_name = a if a in constant else b
                reasons[(a, b)] = f"undefined: '{constant_name}' is constant"
                values[i, j] = np.nan
            elif counts[i, j] < MIN_ROWS:
                reasons[(a, b)] = f"undefined: only {counts[i, j]} row(s) have both values"
                values[i, j] = np.nan
            elif not np.isfinite(values[i, j]):
                reasons[(a, b)] = "undefined: no variation on the rows where both are present"
    return reasons


def _distance(values: np.ndarray) -> np.ndarray:
    strength = np.abs(np.nan_to_num(values, nan=0.0))
    strength = np.clip(np.maximum(strength, strength.T), 0.0, 1.0)
    distance = 1.0 - strength
    np.fill_diagonal(distance, 0.0)
    return distance


def cluster_order(values: np.ndarray) -> list[int]:
    """Leaf order of average-linkage clustering on 1 − |association| (entangled blocks adjacent)."""
    p = values.shape[0]
    if p < 3:
        return list(range(p))
    link = hierarchy.linkage(squareform(_distance(values), checks=False), method="average",
                             optimal_ordering=True)
    return [int(k) for k in hierarchy.leaves_list(link)]


def redundant_groups(matrix: AssociationMatrix, threshold: float = DEFAULT_GROUP_THRESHOLD
                     ) -> list[list[str]]:
    """Groups in which every pair is associated at |value| ≥ threshold (complete linkage).

    For an asymmetric matrix the stronger direction counts. Largest groups first.
    """
    if not 0 < threshold <= 1:
        raise OptionError(f"The redundancy threshold must be in (0, 1] (got {threshold}).")
    p = len(matrix.columns)
    if p < 2:
        return []
    link = hierarchy.linkage(squareform(_distance(matrix.values), checks=False),
                             method="complete")
    labels = hierarchy.fcluster(link, t=1.0 - threshold + 1e-9, criterion="distance")
    groups = []
    for label in np.unique(labels):
        members = [matrix.columns[k] for k in np.flatnonzero(labels == label)]
        if len(members) > 1:
            groups.append(members)
    strength = matrix.strength()
    def weakest(members):
        idx = [matrix.index(m) for m in members]
        return float(strength[np.ix_(idx, idx)].min())
    return sorted(groups, key=lambda g: (-len(g), -weakest(g), g))
