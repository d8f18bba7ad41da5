"""Mergeable profiles: what every analysis needs from a data set, without its rows.

A `ProfilePlan` is computed once from the reference (which columns, their kinds, the numeric
grids, top-k, chunking, roles) and applied to both sides, so the two sides' summaries line up
bin for bin. An engine (DuckDB here, Spark in `aidebt_core.engines`) turns a source and a plan
into a `DatasetProfile`: per chunk, per column, counts only (and four float sums). Two profiles
of disjoint row sets made with the same plan merge into the profile of their union
(`merge`), and `save`/`load` write the versioned `.aidebt` layout (gzip-compressed JSON,
described in docs/profiles.md and `FORMAT`/`VERSION` below). No raw row is ever stored:
categorical values are stored with their counts (as value counts are), numeric values only
when the column has few distinct values.

The exact SQL semantics an engine must reproduce are in docs/profiles.md; `Grid.bin_of`
is the reference implementation of the bin rule (numpy, IEEE float64 as SQL engines).
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from aidebt_core.errors import DataSourceError, SchemaError

FORMAT = "aidebt-profile"
VERSION = 2                     # 2: optional sections (profiles/sections.py)
READABLE_VERSIONS = (1, 2)      # version 1 files have no sections and read unchanged
SUFFIX = ".aidebt"
CATEGORICAL, NUMERIC = "categorical", "numeric"
ALL_ROWS = ""                   # the chunk key of an unchunked profile
NO_TIMESTAMP = "(no timestamp)"  # the chunk key of rows whose timestamp is NULL
OTHER = "(other)"
COARSE_CELLS = 32               # quantile cells of a numeric grid ...
FINE_BINS = 64                  # ... each cut into this many equal-width bins: 2,048 bins
PLAN_BINS = 65_536              # equal-width bins on [min, max] the coarse cells are read from
POINT_SHARE = 64                # a value holding ≥ 1/64 of the reference is a point of its own
DEFAULT_TOP_K = 10_000          # categorical values kept per chunk (as drift's max_categories)
DEFAULT_MAX_EXACT = 2_000       # a numeric column with at most this many distinct values is
#                                 counted value by value (exact statistics)
PERIODS = ("day", "week", "month", "quarter", "year")
TIME_FORMAT = "YYYY-MM-DDTHH:MM:SS.ffffff"   # a chunk's first/last time (fixed width)


# ---------------------------------------------------------------------------- the grid

@dataclass(frozen=True)
class Grid:
    """A fixed numeric grid: `edges` e_0 < ... < e_m (quantile cells of the reference), each
    cell c cut into `fine` bins of width `widths[c]` (stored, never recomputed), and `points`:
    heavy single values of the reference (each ≥ 1/64 of it, e.g. the zeros of a zero-inflated
    column), counted in bins of their own; every point is also an edge.

    Bin index of a finite value v (len(bins) == m * fine + 2 + len(points)):
      m * fine + 2 + i                     if v == points[i]        (a point bin)
      0                                    if v < e_0               (underflow)
      m * fine + 1                         if v > e_m               (overflow)
      1 + c * fine + min(fine - 1, floor((v - e_c) / widths[c]))   otherwise, where
        c = the number of inner edges e_1..e_{m-1} that are <= v   (v == e_m is in cell m-1)
    `order()` lists the bins by value (a point bin right before the cell it starts).
    """

    edges: tuple[float, ...]
    widths: tuple[float, ...]
    fine: int = FINE_BINS
    points: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if len(self.edges) < 2 or len(self.widths) != len(self.edges) - 1 or self.fine < 1:
            raise SchemaError("A profile grid needs ≥ 2 edges and one width per cell.")
        if not set(self.points) <= set(self.edges):
            raise SchemaError("A profile grid's points must be among its edges.")

    @property
    def cells(self) -> int:
        return len(self.edges) - 1

    @property
    def bins(self) -> int:
        """Number of counts a column profile holds on this grid."""
        return self.cells * self.fine + 2 + len(self.points)

    def bin_of(self, values: np.ndarray) -> np.ndarray:
        """The bin index of each finite value (the rule above, in float64 like SQL)."""
        v = np.asarray(values, dtype=np.float64)
        edges = np.asarray(self.edges)
        cell = np.searchsorted(edges[1:-1], v, side="right")
        offset = np.floor((v - edges[cell]) / np.asarray(self.widths)[cell])
        index = 1 + cell * self.fine + np.minimum(self.fine - 1, offset).astype(np.int64)
        index = np.where(v < edges[0], 0, index)
        index = np.where(v > edges[-1], self.cells * self.fine + 1, index)
        for i, p in enumerate(self.points):
            index = np.where(v == p, self.cells * self.fine + 2 + i, index)
        return index.astype(np.int64)

    def order(self) -> np.ndarray:
        """Bin indices in increasing value order."""
        point_at = {self.edges.index(p): self.cells * self.fine + 2 + i
                    for i, p in enumerate(self.points)}
        out = [0]
        for c in range(self.cells):
            if c in point_at:
                out.append(point_at[c])
            out += range(1 + c * self.fine, 1 + (c + 1) * self.fine)
        if self.cells in point_at:       # a point at the last edge (the maximum)
            out.append(point_at[self.cells])
        out.append(self.cells * self.fine + 1)
        return np.array(out, dtype=np.int64)

    def bin_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) of every bin, by bin index; under/overflow go to -inf/+inf, a point
        bin is (p, p)."""
        lows, highs = [-math.inf], [self.edges[0]]
        for c in range(self.cells):
            starts = self.edges[c] + np.arange(self.fine) * self.widths[c]
            ends = np.append(starts[1:], self.edges[c + 1])
            lows += list(starts)
            highs += list(ends)
        lows.append(self.edges[-1])
        highs.append(math.inf)
        lows += list(self.points)
        highs += list(self.points)
        return np.array(lows), np.array(highs)

    def to_dict(self) -> dict:
        return {"edges": list(self.edges), "widths": list(self.widths), "fine": self.fine,
                "points": list(self.points)}

    @classmethod
    def from_dict(cls, data: Mapping) -> Grid:
        return cls(tuple(float(e) for e in data["edges"]),
                   tuple(float(w) for w in data["widths"]), int(data["fine"]),
                   tuple(float(p) for p in data.get("points", ())))


def double_literal(x: float) -> str:
    """A float64 constant both DuckDB and Spark SQL read as the same double."""
    return f"CAST('{float(x)!r}' AS DOUBLE)"


def grid_sql(value: str, grid: Grid) -> str:
    """The SQL expression (DuckDB and Spark SQL alike) of `value`'s bin on `grid`, for a
    finite DOUBLE `value` (the caller filters NULL/NaN/inf). The cell is found by a binary
    search of nested CASEs (log2 of the cells deep), the fine bin by one floor."""
    edges, widths, fine = grid.edges, grid.widths, grid.fine

    def cell(lo: int, hi: int) -> str:   # the cell among lo..hi (inclusive) holding value
        if lo == hi:
            offset = (f"least({fine - 1}, CAST(floor(({value} - {double_literal(edges[lo])}) / "
                      f"{double_literal(widths[lo])}) AS BIGINT))")
            return f"({1 + lo * fine} + {offset})"
        mid = (lo + hi + 1) // 2
        return (f"CASE WHEN {value} < {double_literal(edges[mid])} THEN {cell(lo, mid - 1)} "
                f"ELSE {cell(mid, hi)} END")

    first = grid.cells * fine + 2
    points = "".join(f"WHEN {value} = {double_literal(p)} THEN {first + i} "
                     for i, p in enumerate(grid.points))
    return (f"CASE {points}WHEN {value} < {double_literal(edges[0])} THEN 0 "
            f"WHEN {value} > {double_literal(edges[-1])} THEN {grid.cells * fine + 1} "
            f"ELSE {cell(0, grid.cells - 1)} END")


TARGET_BINS = COARSE_CELLS * FINE_BINS   # fine bins a grid aims at, whatever its cells


def grid_from_edges(edges: Iterable[float], fine: int | None = None,
                    points: Iterable[float] = ()) -> Grid:
    """A grid on these cell edges (the points added; sorted, de-duplicated here); widths =
    (e_c+1 - e_c) / fine. Without `fine`, cells are cut so the grid has ≥ TARGET_BINS bins
    (tied quantiles leave fewer, wider cells)."""
    points = sorted({float(p) for p in points if math.isfinite(p)})
    unique = sorted({float(e) for e in edges if math.isfinite(e)} | set(points))
    if len(unique) == 1:
        unique.append(unique[0] + 1.0)  # a constant column: one cell of width 1
    cells = len(unique) - 1
    fine = fine or -(-TARGET_BINS // cells)
    widths = [(b - a) / fine for a, b in zip(unique[:-1], unique[1:], strict=True)]
    if not all(math.isfinite(w) and w > 0 for w in widths):
        raise SchemaError("A profile grid's cells must have a finite, positive width.")
    return Grid(tuple(unique), tuple(widths), fine, tuple(points))


def plan_bin_width(low: float, high: float) -> float:
    """The width of the PLAN_BINS equal-width bins on [low, high] (1.0 when low == high)."""
    return (high - low) / PLAN_BINS if high > low else 1.0


def heavy(count: int, n: int) -> bool:
    """A value (or plan bin) holding at least 1/POINT_SHARE of the n finite values."""
    return count > 0 and count * POINT_SHARE >= n


def grid_from_plan_histogram(low: float, high: float, counts: Mapping[int, int],
                             points: Iterable[float] = (), cells: int = COARSE_CELLS) -> Grid:
    """The reference grid from its equal-width plan histogram (exact counts, computed by the
    engine as u = min(PLAN_BINS - 1, floor((v - low) / plan_bin_width(low, high))) over
    finite v): the coarse edge i (0 < i < cells) is the left edge low + u * width of the first
    plan bin u at which the cumulative count reaches ceil(i * n / cells); `points` (heavy
    values) become edges too. Identical on every engine because the counts are exact and this
    function is shared."""
    width = plan_bin_width(low, high)
    keys = sorted(int(k) for k in counts)
    cum = np.cumsum([int(counts[k]) for k in keys])
    n = int(cum[-1]) if len(cum) else 0
    edges = [low]
    for i in range(1, cells):
        target = -(-i * n // cells)  # ceil(i * n / cells) in integers
        u = keys[int(np.searchsorted(cum, target, side="left"))]
        edges.append(low + u * width)
    edges.append(high)
    return grid_from_edges(edges, points=points)


# ---------------------------------------------------------------------------- the plan

@dataclass(frozen=True)
class ColumnPlan:
    """How one column is profiled: `kind` categorical (value counts, top-k per chunk) or
    numeric; a numeric column is `exact` (value counts) or binned on `grid`; exact numeric
    columns carry a grid too, used when the other side has too many distinct values."""

    name: str
    kind: str
    exact: bool = False
    grid: Grid | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "exact": self.exact,
                "grid": self.grid.to_dict() if self.grid else None}

    @classmethod
    def from_dict(cls, data: Mapping) -> ColumnPlan:
        grid = Grid.from_dict(data["grid"]) if data.get("grid") else None
        kind = str(data["kind"])
        if kind not in (CATEGORICAL, NUMERIC):
            raise SchemaError(f"Unknown column kind {kind!r} in a profile plan.")
        return cls(str(data["name"]), kind, bool(data["exact"]), grid)


@dataclass(frozen=True)
class ProfilePlan:
    """What to profile, fixed once from the reference and applied to every side."""

    columns: tuple[ColumnPlan, ...]
    timestamp: str | None = None
    chunk: str | None = None            # one of PERIODS, or None (one chunk: ALL_ROWS)
    target: str | None = None
    prediction: str | None = None
    score: str | None = None
    score_grid: Grid | None = None      # for the score histograms per label
    top_k: int = DEFAULT_TOP_K
    max_exact: int = DEFAULT_MAX_EXACT
    sections: tuple = ()                # section configs (profiles/sections.py), by name
    time_resolution: str | None = None  # the span one time value stands for (a year column's
    #                                     2019 is all of 2019): TimeAxis.resolution

    def column(self, name: str) -> ColumnPlan:
        for c in self.columns:
            if c.name == name:
                return c
        raise SchemaError(f"Column {name!r} is not in the profile (profiled columns: "
                          f"{', '.join(c.name for c in self.columns)}).")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def to_dict(self) -> dict:
        return {"columns": [c.to_dict() for c in self.columns], "timestamp": self.timestamp,
                "chunk": self.chunk, "target": self.target, "prediction": self.prediction,
                "score": self.score,
                "score_grid": self.score_grid.to_dict() if self.score_grid else None,
                "top_k": self.top_k, "max_exact": self.max_exact,
                "sections": [c.to_dict() for c in self.sections],
                "time_resolution": self.time_resolution}

    def section(self, name: str):
        """The config of section `name`, or None when the plan does not count it."""
        return next((c for c in self.sections if c.name == name), None)

    @classmethod
    def from_dict(cls, data: Mapping) -> ProfilePlan:
        from aidebt_core.profiles.sections import config_from_dict

        return cls(tuple(ColumnPlan.from_dict(c) for c in data["columns"]),
                   data.get("timestamp"), data.get("chunk"), data.get("target"),
                   data.get("prediction"), data.get("score"),
                   Grid.from_dict(data["score_grid"]) if data.get("score_grid") else None,
                   int(data.get("top_k", DEFAULT_TOP_K)),
                   int(data.get("max_exact", DEFAULT_MAX_EXACT)),
                   tuple(sorted((config_from_dict(c) for c in data.get("sections", ())),
                                key=lambda c: c.name)),
                   _opt_str(data.get("time_resolution")))


# ---------------------------------------------------------------------------- profiles

@dataclass(frozen=True)
class ColumnProfile:
    """One column in one chunk. `rows` = every row; `missing` = NULL (numeric: also NaN);
    `inf` = ±inf (numeric only). The other rows are summarised by exactly one of:
    `values` ((value, count) pairs, sorted by value; categorical values are text) plus `other`
    (rows folded beyond top-k), or `bins` (counts on the plan's grid). `minimum`, `maximum`,
    `total`, `total_sq` are over the finite values of a numeric column (None when none)."""

    name: str
    kind: str
    rows: int
    missing: int = 0
    inf: int = 0
    values: tuple[tuple[str | float, int], ...] | None = None
    other: int = 0
    bins: tuple[int, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    total: float = 0.0
    total_sq: float = 0.0

    @property
    def present(self) -> int:
        """Rows with a usable (non-missing, finite) value."""
        return self.rows - self.missing - self.inf

    @property
    def exact(self) -> bool:
        """True when the counts are value by value with nothing folded."""
        return self.values is not None and self.other == 0

    def value_counts(self) -> dict:
        return dict(self.values or ())

    def to_dict(self) -> dict:
        out = {"name": self.name, "kind": self.kind, "rows": self.rows,
               "missing": self.missing, "inf": self.inf}
        if self.values is not None:
            out["values"] = [[v, n] for v, n in self.values]
            out["other"] = self.other
        if self.bins is not None:
            out["bins"] = list(self.bins)
        if self.kind == NUMERIC:
            out.update(minimum=self.minimum, maximum=self.maximum, total=self.total,
                       total_sq=self.total_sq)
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> ColumnProfile:
        kind = str(data["kind"])
        cast = str if kind == CATEGORICAL else float
        values = data.get("values")
        bins = data.get("bins")
        return cls(str(data["name"]), kind, int(data["rows"]), int(data["missing"]),
                   int(data["inf"]),
                   None if values is None else tuple((cast(v), int(n)) for v, n in values),
                   int(data.get("other", 0)),
                   None if bins is None else tuple(int(b) for b in bins),
                   _opt_float(data.get("minimum")), _opt_float(data.get("maximum")),
                   float(data.get("total", 0.0)), float(data.get("total_sq", 0.0)))


@dataclass(frozen=True)
class PerformanceCounts:
    """Per chunk: label × prediction counts and, per label, counts of the score on the plan's
    score grid. Labels/predictions are text (CAST AS VARCHAR); a NULL label is None (rows
    without a label yet still count, for the label-free estimate)."""

    confusion: tuple[tuple[str | None, str | None, int], ...] = ()
    score_bins: tuple[tuple[str | None, tuple[int, ...]], ...] = ()
    score_missing: int = 0        # rows whose score is NULL/NaN/inf (in no histogram)

    def to_dict(self) -> dict:
        return {"confusion": [list(t) for t in self.confusion],
                "score_bins": [[label, list(b)] for label, b in self.score_bins],
                "score_missing": self.score_missing}

    @classmethod
    def from_dict(cls, data: Mapping) -> PerformanceCounts:
        return cls(tuple((_opt_str(a), _opt_str(b), int(n)) for a, b, n in data["confusion"]),
                   tuple((_opt_str(label), tuple(int(x) for x in b))
                         for label, b in data["score_bins"]), int(data["score_missing"]))


@dataclass(frozen=True)
class ChunkProfile:
    """Every column's profile over one chunk (`key`: ALL_ROWS, NO_TIMESTAMP, or the chunk's
    start as 'YYYY-MM-DD')."""

    key: str
    rows: int
    columns: tuple[ColumnProfile, ...]
    performance: PerformanceCounts | None = None
    sections: tuple = ()    # ((name, Section), ...) sorted by name: profiles/sections.py
    # The chunk's first and last time values (TIME_FORMAT text; None without chunking), so
    # a first or last period the data covers only in part can be marked partial.
    first: str | None = None
    last: str | None = None

    def column(self, name: str) -> ColumnProfile:
        for c in self.columns:
            if c.name == name:
                return c
        raise SchemaError(f"Column {name!r} is not in the profile.")

    def section(self, name: str):
        """This chunk's section `name` (profiles/sections.py), or None when not counted."""
        return next((s for n, s in self.sections if n == name), None)

    def to_dict(self) -> dict:
        out = {"key": self.key, "rows": self.rows,
               "columns": [c.to_dict() for c in self.columns],
               "performance": self.performance.to_dict() if self.performance else None}
        if self.sections:
            out["sections"] = {name: s.to_dict() for name, s in self.sections}
        if self.first is not None:
            out["first"], out["last"] = self.first, self.last
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> ChunkProfile:
        from aidebt_core.profiles.sections import section_from_dict
        perf = data.get("performance")
        sections = tuple(sorted((str(name), section_from_dict(name, s))
                                for name, s in (data.get("sections") or {}).items()))
        return cls(str(data["key"]), int(data["rows"]),
                   tuple(ColumnProfile.from_dict(c) for c in data["columns"]),
                   PerformanceCounts.from_dict(perf) if perf else None, sections,
                   _opt_str(data.get("first")), _opt_str(data.get("last")))


@dataclass(frozen=True)
class DatasetProfile:
    """A source's profile: the plan it was made with and one ChunkProfile per chunk (sorted
    by key). `source` names what was profiled (for messages and pages)."""

    plan: ProfilePlan
    chunks: tuple[ChunkProfile, ...]
    source: str = ""
    column_types: tuple[tuple[str, str], ...] = ()   # (name, engine type) of the source
    engine: str = "duckdb"

    @property
    def rows(self) -> int:
        return sum(c.rows for c in self.chunks)

    def overall(self) -> ChunkProfile:
        """All chunks merged into one (key ALL_ROWS)."""
        if len(self.chunks) == 1:
            return replace(self.chunks[0], key=ALL_ROWS)
        merged = self.chunks[0]
        for chunk in self.chunks[1:]:
            merged = merge_chunks(merged, chunk, self.plan)
        return replace(merged, key=ALL_ROWS)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "engine": self.engine,
                "source": self.source, "column_types": [list(t) for t in self.column_types],
                "plan": self.plan.to_dict(), "chunks": [c.to_dict() for c in self.chunks]}

    @classmethod
    def from_dict(cls, data: Mapping) -> DatasetProfile:
        return cls(ProfilePlan.from_dict(data["plan"]),
                   tuple(ChunkProfile.from_dict(c) for c in data["chunks"]),
                   str(data.get("source", "")),
                   tuple((str(a), str(b)) for a, b in data.get("column_types", ())),
                   str(data.get("engine", "")))


def _opt_float(x) -> float | None:
    return None if x is None else float(x)


def _opt_str(x) -> str | None:
    return None if x is None else str(x)


# ---------------------------------------------------------------------------- merge

def _add_pairs(a: Iterable[tuple], b: Iterable[tuple]) -> tuple:
    total: dict = {}
    for v, n in (*a, *b):
        total[v] = total.get(v, 0) + int(n)
    return tuple(sorted(total.items(), key=lambda t: (t[0] is None, t[0])))


def _add_bins(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if len(a) != len(b):
        raise SchemaError("Cannot merge histograms made on different grids.")
    return tuple(int(x) + int(y) for x, y in zip(a, b, strict=True))


def _min(a, b):
    return b if a is None else a if b is None else min(a, b)


def _max(a, b):
    return b if a is None else a if b is None else max(a, b)


def merge_columns(a: ColumnProfile, b: ColumnProfile, plan: ColumnPlan | None = None
                  ) -> ColumnProfile:
    """One column's profile of the union of two disjoint row sets. Value counts are summed
    over the union of values (a folded OTHER sums too); histograms bin by bin. A side counted
    value by value next to a binned one is binned on the plan's grid first (exact: the grid
    rule is a function of the value)."""
    if a.name != b.name or a.kind != b.kind:
        raise SchemaError(f"Cannot merge profiles of {a.name!r} ({a.kind}) and "
                          f"{b.name!r} ({b.kind}).")
    if (a.bins is None) != (b.bins is None):
        if plan is None or plan.grid is None:
            raise SchemaError(f"Column {a.name!r}: one side is binned, the other is not, and "
                              "the plan has no grid.")
        a, b = to_bins(a, plan.grid), to_bins(b, plan.grid)
    values = None if a.values is None else _add_pairs(a.values, b.values or ())
    bins = None if a.bins is None else _add_bins(a.bins, b.bins)
    return ColumnProfile(a.name, a.kind, a.rows + b.rows, a.missing + b.missing, a.inf + b.inf,
                         values, a.other + b.other, bins, _min(a.minimum, b.minimum),
                         _max(a.maximum, b.maximum), a.total + b.total,
                         a.total_sq + b.total_sq)


def to_bins(column: ColumnProfile, grid: Grid) -> ColumnProfile:
    """A numeric column counted value by value, re-counted on `grid` (no-op when binned)."""
    if column.bins is not None:
        return column
    counts = np.zeros(grid.bins, dtype=np.int64)
    if column.values:
        vals = np.array([v for v, _ in column.values], dtype=np.float64)
        np.add.at(counts, grid.bin_of(vals), np.array([n for _, n in column.values]))
    return replace(column, values=None, other=0, bins=tuple(int(c) for c in counts))


def _merge_performance(a: PerformanceCounts | None, b: PerformanceCounts | None
                       ) -> PerformanceCounts | None:
    if a is None or b is None:
        return a or b
    confusion: dict = {}
    for la, pr, n in (*a.confusion, *b.confusion):
        confusion[(la, pr)] = confusion.get((la, pr), 0) + n
    hist: dict = {}
    for label, bins in (*a.score_bins, *b.score_bins):
        hist[label] = bins if label not in hist else _add_bins(hist[label], bins)
    return performance_counts(((la, pr, n) for (la, pr), n in confusion.items()),
                              hist.items(), a.score_missing + b.score_missing)


def _none_last(x: str | None) -> tuple[bool, str]:
    return (x is None, x or "")


def label_as_01(text: str | None) -> float | None:
    """A label/prediction as 0/1 from the text the engine cast it to ('1', '1.0', 'true'):
    None when missing, NaN when not a number."""
    if text is None:
        return None
    low = text.strip().lower()
    if low in ("true", "false"):
        return 1.0 if low == "true" else 0.0
    try:
        value = float(low)
    except ValueError:
        return math.nan
    return value if not math.isnan(value) else None


def performance_counts(confusion: Iterable[tuple], score_bins: Iterable[tuple],
                       score_missing: int) -> PerformanceCounts:
    """PerformanceCounts in canonical order (labels, then predictions; None last)."""
    return PerformanceCounts(
        tuple(sorted(((la, pr, int(n)) for la, pr, n in confusion),
                     key=lambda t: (_none_last(t[0]), _none_last(t[1])))),
        tuple(sorted(((la, tuple(int(x) for x in b)) for la, b in score_bins),
                     key=lambda t: _none_last(t[0]))),
        int(score_missing))


def merge_chunks(a: ChunkProfile, b: ChunkProfile, plan: ProfilePlan) -> ChunkProfile:
    names = [c.name for c in a.columns]
    if names != [c.name for c in b.columns]:
        raise SchemaError("Cannot merge chunk profiles of different columns.")
    plans = {c.name: c for c in plan.columns}
    cols = tuple(merge_columns(x, y, plans.get(x.name))
                 for x, y in zip(a.columns, b.columns, strict=True))
    sections = ()
    if a.sections and b.sections:
        from aidebt_core.profiles.sections import merge_sections
        sections = merge_sections(a.sections, b.sections)
    # TIME_FORMAT text is fixed-width, so text order is time order.
    first = _min(a.first, b.first) if a.first is not None and b.first is not None else None
    last = _max(a.last, b.last) if a.last is not None and b.last is not None else None
    return ChunkProfile(a.key, a.rows + b.rows, cols,
                        _merge_performance(a.performance, b.performance), sections,
                        first, last)


def merge(a: DatasetProfile, b: DatasetProfile) -> DatasetProfile:
    """The profile of the union of two disjoint row sets profiled with the same plan: chunks
    with the same key merge, the others are kept (sorted by key)."""
    if a.plan != b.plan:
        raise SchemaError(f"Profiles of {a.source or 'one source'} and "
                          f"{b.source or 'another'} were made with different plans (columns, "
                          "grids or chunking); profile one with the other's plan "
                          "(aidebt profile --like) to combine them.")
    by_key = {c.key: c for c in a.chunks}
    for chunk in b.chunks:
        by_key[chunk.key] = (merge_chunks(by_key[chunk.key], chunk, a.plan)
                             if chunk.key in by_key else chunk)
    chunks = tuple(by_key[k] for k in sorted(by_key))
    source = a.source if a.source == b.source else f"{a.source} + {b.source}"
    return side_rule(replace(a, chunks=chunks, source=source))


def side_rule(profile: DatasetProfile) -> DatasetProfile:
    """Apply the per-side rule for exact numeric columns (docs/profiles.md): counted value by
    value only if the whole side has at most `max_exact` distinct finite values and no chunk
    is binned; otherwise binned on the grid in every chunk. A merge of two sides within the
    limit can pass it, so merge applies the rule again."""
    plan = profile.plan
    binned = set()
    for c in plan.columns:
        if c.kind != NUMERIC or not c.exact:
            continue
        distinct: set = set()
        for chunk in profile.chunks:
            col = chunk.column(c.name)
            if col.bins is not None:
                binned.add(c.name)
                break
            distinct.update(v for v, _ in col.values or ())
        if len(distinct) > plan.max_exact:
            binned.add(c.name)
    if not binned:
        return profile
    grids = {c.name: c.grid for c in plan.columns}
    chunks = tuple(replace(chunk, columns=tuple(to_bins(col, grids[col.name])
                                                if col.name in binned else col
                                                for col in chunk.columns))
                   for chunk in profile.chunks)
    return replace(profile, chunks=chunks)


# ---------------------------------------------------------------------------- save / load

def save(profile: DatasetProfile, path: str | Path) -> Path:
    """Write `profile` as a `.aidebt` file (gzip-compressed JSON, FORMAT/VERSION inside)."""
    path = Path(path)
    text = json.dumps(profile.to_dict(), separators=(",", ":"), allow_nan=False)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as fh:
        fh.write(text)
    return path


MAX_PROFILE_BYTES = 512 * 1024 * 1024   # decompressed size refused beyond this


def load(path: str | Path) -> DatasetProfile:
    """Read a `.aidebt` file; a corrupt file or another format version is a DataSourceError
    naming the file."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read(MAX_PROFILE_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise DataSourceError(f"{path.name} is not a readable aidebt profile (corrupt or not "
                              f"gzip-compressed JSON: {exc}).") from None
    if len(raw) > MAX_PROFILE_BYTES:
        raise DataSourceError(f"{path.name} is larger than {MAX_PROFILE_BYTES >> 20} MB "
                              "decompressed; refused.")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise DataSourceError(f"{path.name} is not a valid aidebt profile (bad JSON: "
                              f"{exc}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DataSourceError(f"{path.name} is not an aidebt profile (no '{FORMAT}' marker).")
    if data.get("version") not in READABLE_VERSIONS:
        raise DataSourceError(f"{path.name} is an aidebt profile of format version "
                              f"{data.get('version')!r}; this aidebt reads versions "
                              f"{', '.join(map(str, READABLE_VERSIONS))}. "
                              "Profile the source again with this version.")
    try:
        return DatasetProfile.from_dict(data)
    except DataSourceError as exc:   # e.g. an unknown section name
        raise DataSourceError(f"{path.name}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataSourceError(f"{path.name} is a damaged aidebt profile ({type(exc).__name__}: "
                              f"{exc}).") from None


def is_profile_path(spec: str) -> bool:
    """True when a data argument names a saved profile (by its `.aidebt` suffix)."""
    return str(spec).strip().lower().endswith(SUFFIX)


__all__ = ["ALL_ROWS", "CATEGORICAL", "POINT_SHARE", "ChunkProfile", "ColumnPlan", "ColumnProfile",
           "DatasetProfile", "FORMAT", "Grid", "NO_TIMESTAMP", "NUMERIC", "OTHER", "PLAN_BINS",
           "PerformanceCounts", "ProfilePlan", "SUFFIX", "VERSION", "double_literal",
           "grid_from_edges", "grid_from_plan_histogram", "grid_sql", "heavy", "is_profile_path",
           "label_as_01",
           "load",
           "merge", "merge_chunks", "merge_columns", "performance_counts", "plan_bin_width",
           "save", "side_rule", "to_bins"]
