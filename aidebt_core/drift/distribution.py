"""Reference vs current distribution of one column, summarised in DuckDB for plotting.

Numeric: shares in common bins spanning both sides' 0.5–99.5 % quantiles (values outside go
to the end bins). Categorical: shares of the most frequent
values (by both sides together), the rest summed into "(other)".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from aidebt_core.data import ROWS, Table, histogram, quantiles, quote_ident
from aidebt_core.drift.collect import OTHER
from aidebt_core.errors import SchemaError


@dataclass(frozen=True, eq=False)
class Distribution:
    column: str
    kind: str
    labels: tuple[str, ...]        # categorical: values; numeric: bin labels
    edges: np.ndarray | None       # numeric: bin edges
    reference: np.ndarray          # shares (sum to 1 over non-missing values)
    current: np.ndarray
    reference_count: int
    current_count: int

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"bin" if self.kind == "numeric" else "value": self.labels,
                             "reference_share": self.reference,
                             "current_share": self.current})


def column_distribution(reference: Table, current: Table, column: str, kind: str,
                        bins: int = 40, top: int = 20) -> Distribution:
    """Both sides' distribution of `column` on a common footing (bins or categories)."""
    if kind == "numeric":
        return _numeric(reference, current, column, bins)
    return _categorical(reference, current, column, top)


def _numeric(reference: Table, current: Table, column: str, bins: int) -> Distribution:
    spans = []
    for table in (reference, current):
        try:
            spans.append(quantiles(table, column, [0.005, 0.995]))
        except SchemaError:
            continue  # a side without finite values: bins come from the other side
    if not spans:
        raise SchemaError(f"Column '{column}' has no finite values on either side.")
    lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    ref, cur = (histogram(t, column, edges) if _has_values(t, column)
                else np.zeros(bins, dtype=np.int64) for t in (reference, current))
    labels = tuple(f"{a:.4g}–{b:.4g}" for a, b in zip(edges[:-1], edges[1:], strict=True))
    return Distribution(column, "numeric", labels, edges, _shares(ref), _shares(cur),
                        int(ref.sum()), int(cur.sum()))


def _has_values(table: Table, column: str) -> bool:
    col = quote_ident(column)
    return bool(table.execute(f"SELECT count(*) FROM {ROWS} WHERE "
                              f"isfinite(CAST({col} AS DOUBLE))").fetchone()[0])


def _categorical(reference: Table, current: Table, column: str, top: int) -> Distribution:
    col = quote_ident(column)
    counts = []
    for table in (reference, current):
        frame = table.df(f"SELECT CAST({col} AS VARCHAR) AS v, count(*) AS n FROM {ROWS} "
                         f"WHERE {col} IS NOT NULL GROUP BY 1")
        counts.append(frame.set_index("v")["n"])
    both = pd.concat(counts, axis=1, keys=["ref", "cur"]).fillna(0)
    shares = both / both.sum().replace(0, 1)
    order = shares.sum(axis=1).sort_values(ascending=False, kind="stable")
    keep = list(order.index[:top])
    table = both.loc[keep]
    if len(order) > top:
        table.loc[OTHER] = both.drop(index=keep).sum()
    return Distribution(column, "categorical", tuple(table.index), None,
                        _shares(table["ref"].to_numpy()), _shares(table["cur"].to_numpy()),
                        int(both["ref"].sum()), int(both["cur"].sum()))


def _shares(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    return counts / total if total else counts
