"""Reference vs current distribution of one column, binned for plotting.

Numeric: shares in common bins spanning both sides' 0.5–99.5 % quantiles (values outside go
to the end bins). Categorical: shares of the most frequent
values (by both sides together), the rest summed into "(other)".

`from_samples` / `from_counts` bin what the per-column drift pass has already read (so a
drift result carries its charts' data); `column_distribution` asks DuckDB for the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from aidebt_core.data import ROWS, Table, histogram, quantiles, quote_ident
from aidebt_core.drift.collect import OTHER
from aidebt_core.drift.stats import overflow_scale
from aidebt_core.errors import SchemaError
from aidebt_core.jsonsafe import jsonable

if TYPE_CHECKING:  # pandas only where frames are built: the CLI's drift never imports it
    import pandas as pd

BINS, TOP = 40, 20
SPAN = (0.005, 0.995)   # numeric bins span both sides' 0.5–99.5 % quantiles


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
        import pandas as pd

        return pd.DataFrame({"bin" if self.kind == "numeric" else "value": self.labels,
                             "reference_share": self.reference,
                             "current_share": self.current})

    def to_dict(self) -> dict:
        return jsonable({"column": self.column, "kind": self.kind, "labels": list(self.labels),
                         "edges": self.edges, "reference": self.reference,
                         "current": self.current, "reference_count": self.reference_count,
                         "current_count": self.current_count})

    @classmethod
    def from_dict(cls, data: Mapping) -> Distribution:
        edges = data.get("edges")
        return cls(str(data["column"]), str(data["kind"]), tuple(data["labels"]),
                   None if edges is None else np.asarray(edges, dtype=float),
                   np.asarray(data["reference"], dtype=float),
                   np.asarray(data["current"], dtype=float),
                   int(data["reference_count"]), int(data["current_count"]))


def from_samples(column: str, reference, current, bins: int = BINS) -> Distribution | None:
    """A numeric column's distribution from both sides' finite values (`stats.Sample`s,
    sorted): the same bins and counts as `column_distribution` gets from DuckDB."""
    sides = [s for s in (reference, current) if s.n]
    if not sides:
        return None
    spans = [s.quantile(np.asarray(SPAN)) for s in sides]
    lo, hi = float(min(s[0] for s in spans)), float(max(s[1] for s in spans))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    # Spans near ±1e308 overflow hi - lo: cut the bins on values scaled by a power of two.
    scale = overflow_scale(np.array([lo, hi]))
    edges = np.linspace(lo * scale, hi * scale, bins + 1) / scale

    def counts(sample) -> np.ndarray:  # bins [e_i, e_i+1), the end bins open (as histogram)
        if not sample.n:
            return np.zeros(bins, dtype=np.int64)
        return np.diff(np.concatenate([[0], sample.count_below(edges[1:-1]), [sample.n]]))

    ref, cur = counts(reference), counts(current)
    return Distribution(column, "numeric", _bin_labels(edges), edges, _shares(ref),
                        _shares(cur), int(ref.sum()), int(cur.sum()))


def from_counts(column: str, categories: Sequence[str], reference: np.ndarray,
                current: np.ndarray, top: int = TOP) -> Distribution:
    """A categorical column's distribution from both sides' counts over the same categories
    (an existing OTHER bucket stays in OTHER)."""
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    names = list(categories)
    other = np.array([n == OTHER for n in names])
    score = _shares(ref) + _shares(cur)
    ranked = [i for i in np.argsort(-score, kind="stable") if not other[i]]
    keep, rest = ranked[:top], ranked[top:]
    labels, r, c = [names[i] for i in keep], list(ref[keep]), list(cur[keep])
    if len(rest) or other.any():
        spill = np.concatenate([np.asarray(rest, dtype=int), np.flatnonzero(other)])
        labels.append(OTHER)
        r.append(ref[spill].sum())
        c.append(cur[spill].sum())
    return Distribution(column, "categorical", tuple(labels), None, _shares(np.array(r)),
                        _shares(np.array(c)), int(ref.sum()), int(cur.sum()))


def _bin_labels(edges: np.ndarray) -> tuple[str, ...]:
    return tuple(f"{a:.4g}–{b:.4g}" for a, b in zip(edges[:-1], edges[1:], strict=True))


def column_distribution(reference: Table, current: Table, column: str, kind: str,
                        bins: int = BINS, top: int = TOP) -> Distribution:
    """Both sides' distribution of `column` on a common footing (bins or categories)."""
    if kind == "numeric":
        return _numeric(reference, current, column, bins)
    return _categorical(reference, current, column, top)


def _numeric(reference: Table, current: Table, column: str, bins: int) -> Distribution:
    spans = []
    for table in (reference, current):
        try:
            spans.append(quantiles(table, column, list(SPAN)))
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
    return Distribution(column, "numeric", _bin_labels(edges), edges, _shares(ref), _shares(cur),
                        int(ref.sum()), int(cur.sum()))


def _has_values(table: Table, column: str) -> bool:
    col = quote_ident(column)
    return bool(table.execute(f"SELECT count(*) FROM {ROWS} WHERE "
                              f"isfinite(CAST({col} AS DOUBLE))").fetchone()[0])


def _categorical(reference: Table, current: Table, column: str, top: int) -> Distribution:
    import pandas as pd

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
