"""Data behind a pair drill-down: a small sample (scatter / box) or the full crosstab.

Numeric–numeric and numeric–categorical pairs get a seeded sample of at most `rows` rows per
period; categorical–categorical pairs get the exact counts per period (top levels kept).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from aidebt_core.data import Table
from aidebt_core.entanglement.encode import CATEGORICAL, NUMERIC, encode
from aidebt_core.entanglement.measures import contingency
from aidebt_core.errors import SchemaError

DRILL_ROWS = 3_000
DRILL_LEVELS = 12


@dataclass(frozen=True, eq=False)
class PairView:
    """`frame` has columns period, a, b (sample) or period, a, b, count (crosstab)."""

    a: str
    b: str
    kind_a: str
    kind_b: str
    frame: pd.DataFrame

    @property
    def shape(self) -> str:
        """'scatter', 'box' (a numeric, b categorical) or 'crosstab'."""
        if self.kind_a == NUMERIC and self.kind_b == NUMERIC:
            return "scatter"
        if CATEGORICAL == self.kind_a == self.kind_b:
            return "crosstab"
        return "box"


def pair_view(periods: dict[str, Table], a: str, b: str, kinds: dict[str, str],
              rows: int = DRILL_ROWS, seed: int = 0) -> PairView:
    """The pair (a, b) in each named period, ready for `plots.entanglement.pair_figure`."""
    if a == b:
        raise SchemaError("Pick two different columns to compare.")
    for name in (a, b):
        if name not in kinds:
            raise SchemaError(f"'{name}' is not one of the analysed features.")
    # Put the numeric side first so a box plot always has the categories on the x axis.
    if kinds[a] == CATEGORICAL and kinds[b] == NUMERIC:
        a, b = b, a
    ka, kb = kinds[a], kinds[b]
    crosstab = ka == kb == CATEGORICAL
    frames = []
    for period, table in periods.items():
        data = encode(table, {a: ka, b: kb}, top_k=DRILL_LEVELS,
                      max_rows=None if crosstab else rows, seed=seed)
        if a not in data.columns or b not in data.columns:
            raise SchemaError(f"'{a}' or '{b}' is entirely missing in {table.label}.")
        if crosstab:
            table_ab = contingency(data.codes[:, 0], data.codes[:, 1], len(data.levels[0]),
                                   len(data.levels[1]))
            ia, ib = np.nonzero(table_ab >= 0)
            frames.append(pd.DataFrame({
                "period": period, a: np.asarray(data.levels[0], dtype=object)[ia],
                b: np.asarray(data.levels[1], dtype=object)[ib], "count": table_ab[ia, ib]}))
        else:
            frames.append(pd.DataFrame({"period": period, a: _column(data, a),
                                        b: _column(data, b)}).dropna())
    return PairView(a, b, ka, kb, pd.concat(frames, ignore_index=True))


def _column(data, name: str) -> np.ndarray:
    if data.kind(name) == NUMERIC:
        return data.x[:, data.numeric.index(name)]
    k = data.categorical.index(name)
    codes = data.codes[:, k]
    labels = np.asarray(data.levels[k], dtype=object)
    return np.where(codes >= 0, labels[np.maximum(codes, 0)], None)
