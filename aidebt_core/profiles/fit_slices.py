"""Slice encodings fitted from a profile, equal to `slices.encode.fit_encodings` on the rows.

Numeric columns: the bins of `fit_encodings` are the reference's quantile cuts (numpy's
linear interpolation between order statistics) moved to the shortest number between the data
values around them. A column counted value by value in the profile gives those order
statistics directly; a binned one gives the bin that holds each needed order statistic, and
one aggregate query reads the exact values of those few bins (at most 3 × (bins − 1) bins
of the ≥ 2,048 of its grid). Categorical columns: the values counted in the reference and
current profiles, the `max_values` most frequent kept (ties by text), as `fit_encodings` does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from aidebt_core.data import is_numeric_type
from aidebt_core.errors import OptionError, SchemaError
from aidebt_core.profiles.model import grid_sql
from aidebt_core.slices.encode import OTHER_LABEL, Encoding, shortest_between


def is_numeric(dtype: str, name: str, categorical: Sequence[str] = ()) -> bool:
    """The rule of `fit_encodings`: numeric types except BOOLEAN, unless forced categorical."""
    return is_numeric_type(dtype) and dtype.upper() != "BOOLEAN" and name not in categorical


def _float(text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def finite_counts(column) -> dict[float, int] | None:
    """A column profile's finite values and counts, or None when it is binned."""
    if column.values is None:
        return None
    out: dict[float, int] = {}
    for value, count in column.values:
        v = _float(value)
        if v is not None:
            out[v] = out.get(v, 0) + int(count)
    return out


def text_counts(column, dtype: str) -> dict[str, int]:
    """A column profile's values as the text `CAST(col AS VARCHAR)` gives (booleans profiled as
    numbers come back as 'true'/'false')."""
    out: dict[str, int] = {}
    for value, count in column.values or ():
        if dtype.upper() == "BOOLEAN" and not isinstance(value, str):
            value = "true" if float(value) == 1.0 else "false"
        elif not isinstance(value, str):
            value = repr(float(value)) if not float(value).is_integer() else str(int(value))
        out[str(value)] = out.get(str(value), 0) + int(count)
    return out


def _linear_cut(lo: float, hi: float, n: int, q: float) -> tuple[float, float]:
    """numpy's linear quantile between the order statistics lo = x[j] and hi = x[j + 1]
    (j = floor((n - 1) q)): the same virtual index, weight and lerp as np.quantile."""
    index = (n - 1) * q
    t = index - math.floor(index)
    diff = hi - lo
    return (hi - diff * (1 - t)) if t >= 0.5 else (lo + diff * t), t


class Ranks:
    """Order statistics of a column from sorted (value, count) pairs."""

    def __init__(self, values: np.ndarray, counts: np.ndarray):
        self.values, self.counts = values, counts
        self.cum = np.cumsum(counts)

    @property
    def n(self) -> int:
        return int(self.cum[-1]) if self.cum.size else 0

    def at(self, rank: int) -> float:
        return float(self.values[np.searchsorted(self.cum, rank, side="right")])


def numeric_edges(ranks: Ranks, bins: int) -> list[float]:
    """`encode._numeric_encoding`'s edges from exact order statistics."""
    distinct = ranks.values
    if distinct.size <= bins:
        return [float(v) for v in distinct[1:]]
    n = ranks.n
    edges = set()
    for i in range(1, bins):
        q = i / bins
        j = math.floor((n - 1) * q)
        lo, hi = ranks.at(j), ranks.at(min(j + 1, n - 1))
        cut, _ = _linear_cut(lo, hi, n, q)
        # searchsorted(x, cut, 'left') = rows below the cut; the edge lies between the
        # largest value below it and the smallest at or above it.
        at = int(np.searchsorted(distinct, cut, side="left"))
        below = int(ranks.cum[at - 1]) if at > 0 else 0
        if 0 < below < n:
            edges.add(shortest_between(float(distinct[at - 1]), float(distinct[at])))
    return sorted(edges)


def needed_ranks(n: int, bins: int) -> set[int]:
    out = set()
    for i in range(1, bins):
        j = math.floor((n - 1) * (i / bins))
        out.update((j, min(j + 1, n - 1)))
    return out


def binned_ranks(ctx, name: str, column, grid, bins: int) -> tuple[Ranks, bool]:
    """Exact order statistics around the quantile cuts of a binned column: the profile's
    bins locate them, one query reads the values of those bins (and of the bin before each,
    for the value just below a cut). Also whether every finite value is a whole number."""
    order = grid.order()
    counts = np.asarray(column.bins, dtype=np.int64)[order]
    cum = np.cumsum(counts)
    n = int(cum[-1]) if cum.size else 0
    wanted = set()
    for rank in needed_ranks(n, bins):
        pos = int(np.searchsorted(cum, rank, side="right"))
        wanted.add(pos)
        prev = pos - 1
        while prev >= 0 and counts[prev] == 0:
            prev -= 1
        if prev >= 0:
            wanted.add(prev)
    v = ctx.finite(name)
    picked = ", ".join(str(int(order[p])) for p in sorted(wanted))
    rows = ctx.run(f"SELECT b, x, count(*) FROM (SELECT {grid_sql(v, grid)} AS b, {v} AS x "
                   f"FROM {ctx.rows} WHERE {v} IS NOT NULL) AS t WHERE b IN ({picked}) "
                   "GROUP BY b, x")
    whole = ctx.run(f"SELECT min(CASE WHEN {v} = floor({v}) THEN 1 ELSE 0 END) "
                    f"FROM {ctx.rows} WHERE {v} IS NOT NULL")[0][0]
    # Ranks over the picked bins' values, the other bins standing in as single blocks of
    # their counts (their values are never an order statistic that is read).
    position = {int(order[p]): p for p in range(order.size)}
    found: dict[int, dict[float, int]] = {}
    for b, x, c in rows:
        found.setdefault(position[int(b)], {})[float(x)] = int(c)
    values, weights = [], []
    for p in range(order.size):
        if p in found:
            for x in sorted(found[p]):
                values.append(x)
                weights.append(found[p][x])
        elif counts[p]:
            values.append(math.nan)       # not read: a stand-in block
            weights.append(int(counts[p]))
    # Unread bins are NaN blocks: binned_edges reads only the values next to the cuts.
    return Ranks(np.array(values), np.array(weights, dtype=np.int64)), whole in (1, None)


def binned_edges(ranks: Ranks, bins: int) -> list[float]:
    values, cum, n = ranks.values, ranks.cum, ranks.n
    edges = set()
    for i in range(1, bins):
        q = i / bins
        j = math.floor((n - 1) * q)
        lo, hi = ranks.at(j), ranks.at(min(j + 1, n - 1))
        cut, _ = _linear_cut(lo, hi, n, q)
        # the first value at or above the cut, counted among the read values
        at = int(np.searchsorted(cum, j, side="right"))
        while at < values.size and not values[at] >= cut:
            at += 1
        if 0 < at < values.size and not math.isnan(values[at - 1]):
            edges.add(shortest_between(float(values[at - 1]), float(values[at])))
    return sorted(edges)


def fit(profiles: Sequence, columns: Sequence[str], types: Mapping[str, str], *, ctx=None,
        bins: int = 10, max_values: int = 20,
        user_edges: Mapping[str, Sequence[float]] | None = None,
        categorical: Sequence[str] = ()) -> tuple[list[Encoding], list[str]]:
    """Encodings of `columns` from whole-side column profiles: numeric bins from
    `profiles[0]` (the reference), categorical values counted over all of them (reference
    and current). `ctx` (the reference's SqlContext) reads the values of binned columns."""
    if bins < 2:
        raise OptionError(f"Use at least 2 bins for numeric columns (got {bins}).")
    if max_values < 1:
        raise OptionError(f"Keep at least 1 value per categorical column (got {max_values}).")
    user_edges = dict(user_edges or {})
    reference = profiles[0]
    encodings, notes = [], []
    for name in columns:
        col = _column(reference, name)
        if is_numeric(types[name], name, categorical):
            enc = _numeric(ctx, name, col, reference, bins, user_edges.get(name))
            if enc is None:
                notes.append(f"'{name}' has no finite values; it is sliced as missing only.")
                enc = Encoding(name, "numeric")
            encodings.append(enc)
            continue
        counts: dict[str, int] = {}
        cut = False
        for profile in profiles:
            c = _column(profile, name)
            cut = cut or bool(c.other)
            for value, count in text_counts(c, types[name]).items():
                counts[value] = counts.get(value, 0) + count
        ranked = sorted(counts, key=lambda v: (-counts[v], v))
        kept = ranked[:max_values]
        folded = max(len(counts) - max_values, 0)
        if folded:
            many = f"{'over ' if cut else ''}{len(counts):,}"
            notes.append(f"'{name}' has {many} distinct values; the {max_values} most "
                         f"frequent are kept and the other {folded:,} are grouped as "
                         f"'{OTHER_LABEL}'.")
        encodings.append(Encoding(name, "categorical", values=tuple(kept), folded=folded))
    return encodings, notes


def _column(profile, name: str):
    try:
        return profile.column(name)
    except Exception:
        raise SchemaError(f"The profile has no column {name!r} to slice on.") from None


def _numeric(ctx, name, col, reference, bins, given) -> Encoding | None:
    counts = finite_counts(col)
    if counts is not None:
        values = np.array(sorted(counts), dtype=np.float64)
        ranks = Ranks(values, np.array([counts[v] for v in values], dtype=np.int64))
        integer = bool(values.size) and bool(np.all(values == np.round(values)))
    else:
        if ctx is None:
            raise SchemaError(f"'{name}' is binned in the profile; its slice bins need the "
                              "rows (profile it with --for slices).")
        grid = reference.plan.column(name).grid
        ranks, integer = binned_ranks(ctx, name, col, grid, bins)
        integer = integer and ranks.n > 0
    if given is not None:
        edges = sorted({float(e) for e in given})
        if not edges or not all(math.isfinite(e) for e in edges):
            raise SchemaError(f"Bin edges for '{name}' must be finite numbers.")
        return Encoding(name, "numeric", edges=tuple(edges), integer=integer)
    if not ranks.n:
        return None
    if counts is not None:
        edges = numeric_edges(ranks, bins)
    else:
        edges = binned_edges(ranks, bins)
    return Encoding(name, "numeric", edges=tuple(edges), integer=integer)
