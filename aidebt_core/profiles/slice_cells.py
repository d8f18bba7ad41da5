"""The "slices" profile section: per chunk, the labelled rows' counts in every non-empty joint
cell of the encoded slice columns, for each combination of up to `max_order` columns.

A cell is one code per column of a combination (codes as `slices.encode` makes them: numeric
bins 0..len(edges), then missing; categorical values, other, missing). Per cell it holds what
slice discovery and the breakdown read instead of rows:

- `n` labelled rows (target, prediction and score, those the config names, all known),
  `correct` (prediction = target), `y1` (target = positive), `p1` (prediction = positive) and
  `tp` (both): so accuracy, error rate, precision, recall, F1, the positive rate and the
  misclassification error the search ranks by are exact (fp = p1 − tp, fn = y1 − tp,
  tn = n − tp − fp − fn);
- with a score, the sums the calibration objective needs: Σ score, Σ max(r, 0),
  Σ max(−r, 0) and Σ r² of the residual r = y1 − score, and the chunk's largest |r|.
ROC AUC of a slice needs the order of its rows' scores: it cannot come from cell counts.

Cells are keyed by one integer: `combo * pad**max_order + cell`, where `combo` numbers the
column combinations of order 1..max_order in `combinations` order and `cell` is the codes
written in base `pad` (the largest code count). Only non-empty cells are stored, so a chunk
holds at most sum over combinations of min(prod of code counts, labelled rows) cells; for 20
columns of 11 codes at order 3 that is at most 220 + 22,990 + 1,517,340 cells (measured in
docs/profiles.md). A config whose cells could pass MAX_CELLS (2,000,000) a chunk is counted at
a lower order (`bounded_order`). Counted with one GROUP BY GROUPING SETS per batch of
combinations, in SQL that DuckDB and Spark SQL both run.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from aidebt_core.slices.encode import Encoding

NAME = "slices"
INT_FIELDS = ("n", "correct", "y1", "p1", "tp")
SUM_FIELDS = ("score", "r_pos", "r_neg", "r_sq")
# Grouping sets per query: DuckDB hashes each set apart (16 measured best at 10k rows);
# Spark expands each row once per set but pays ~1-3 s a job, so it takes more at once.
MATERIALIZE_ROWS = 2_000_000   # DuckDB keeps the codes of at most this many rows (~80 MB)
MAX_CELLS = 2_000_000  # cells a chunk may need at most (~90 MB in memory): order lowered beyond
SETS_PER_QUERY = {"duckdb": 16, "spark": 64}


def encoding_from_dict(data) -> Encoding:
    return Encoding(str(data["column"]), str(data["kind"]),
                    tuple(float(e) for e in data.get("edges", ())),
                    tuple(str(v) for v in data.get("values", ())),
                    bool(data.get("integer", False)), int(data.get("folded", 0)))


def _encoding_dict(enc: Encoding) -> dict:
    return {**enc.to_dict(), "integer": enc.integer}


@dataclass(frozen=True)
class Config:
    """What to count: the encodings (fitted on the reference), the largest combination, the
    output columns, the positive class (None: multiclass, only `correct` is meaningful) and
    whether target and prediction are compared as numbers (both numeric or boolean)."""

    encodings: tuple[Encoding, ...]
    max_order: int
    target: str
    prediction: str | None = None
    score: str | None = None
    positive: str | None = None
    numeric_labels: bool = True
    bins: int = 10
    max_values: int = 20
    name: str = NAME

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(e.column for e in self.encodings)

    @property
    def pad(self) -> int:
        return max((e.n_codes for e in self.encodings), default=1)

    @property
    def span(self) -> int:
        """Keys per combination: pad ** max_order."""
        return self.pad ** self.max_order

    @cached_property
    def combos(self) -> tuple[tuple[int, ...], ...]:
        k = len(self.encodings)
        return tuple(c for o in range(1, min(self.max_order, k) + 1)
                     for c in itertools.combinations(range(k), o))

    @cached_property
    def combo_ids(self) -> dict[tuple[int, ...], int]:
        return {c: i for i, c in enumerate(self.combos)}

    def to_dict(self) -> dict:
        return {"name": self.name, "encodings": [_encoding_dict(e) for e in self.encodings],
                "max_order": self.max_order, "target": self.target,
                "prediction": self.prediction, "score": self.score, "positive": self.positive,
                "numeric_labels": self.numeric_labels, "bins": self.bins,
                "max_values": self.max_values}

    @classmethod
    def from_dict(cls, data) -> Config:
        def opt(key):
            return None if data.get(key) is None else str(data[key])

        return cls(tuple(encoding_from_dict(e) for e in data["encodings"]),
                   int(data["max_order"]), str(data["target"]), opt("prediction"),
                   opt("score"), opt("positive"), bool(data.get("numeric_labels", True)),
                   int(data.get("bins", 10)), int(data.get("max_values", 20)))


@dataclass(frozen=True, eq=False)
class Section:
    """Sparse cells of one chunk: `key` (sorted, unique), `ints` (cells, 5) = INT_FIELDS,
    `sums` (cells, 4) = SUM_FIELDS (0 columns without a score), `r_max` the largest |r|."""

    key: np.ndarray
    ints: np.ndarray
    sums: np.ndarray
    r_max: float = 0.0

    def __eq__(self, other) -> bool:
        return (isinstance(other, Section) and np.array_equal(self.key, other.key)
                and np.array_equal(self.ints, other.ints)
                and np.array_equal(self.sums, other.sums) and self.r_max == other.r_max)

    __hash__ = None

    @property
    def cells(self) -> int:
        return int(self.key.size)

    def merge(self, other: Section) -> Section:
        """The cells of the union of both chunks' rows: counts and sums add per key."""
        key = np.concatenate([self.key, other.key])
        merged, inverse = np.unique(key, return_inverse=True)
        ints = np.zeros((merged.size, len(INT_FIELDS)), np.int64)
        np.add.at(ints, inverse, np.concatenate([self.ints, other.ints]))
        width = max(self.sums.shape[1], other.sums.shape[1])
        sums = np.zeros((merged.size, width), np.float64)
        if width:
            np.add.at(sums, inverse, np.concatenate([_widen(self.sums, width),
                                                     _widen(other.sums, width)]))
        return Section(merged, ints, sums, max(self.r_max, other.r_max))

    def to_dict(self) -> dict:
        """Columns as base64 of little-endian int64 / float64 arrays (a million cells as
        JSON numbers would cost ~0.5 GB of Python objects to write; doubles round-trip)."""
        out = {"cells": self.cells, "r_max": self.r_max, "key": _pack(self.key, "<i8")}
        for i, f in enumerate(INT_FIELDS):
            out[f] = _pack(self.ints[:, i], "<i8")
        for i, f in enumerate(SUM_FIELDS[:self.sums.shape[1]]):
            out[f] = _pack(self.sums[:, i], "<f8")
        return out

    @classmethod
    def from_dict(cls, data) -> Section:
        n = int(data["cells"])
        key = _unpack(data["key"], "<i8", n)
        ints = np.stack([_unpack(data[f], "<i8", n) for f in INT_FIELDS], axis=1)
        present = [f for f in SUM_FIELDS if f in data]
        sums = (np.stack([_unpack(data[f], "<f8", n) for f in present], axis=1) if present
                else np.zeros((n, 0), np.float64))
        if key.size > 1 and not bool(np.all(key[1:] > key[:-1])):
            raise ValueError("slice cells out of order")
        return cls(key, np.ascontiguousarray(ints.reshape(n, len(INT_FIELDS))),
                   np.ascontiguousarray(sums), float(data.get("r_max", 0.0)))


def _pack(values: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode("ascii")


def _unpack(text, dtype: str, n: int) -> np.ndarray:
    raw = base64.b64decode(str(text), validate=True)
    if len(raw) != 8 * n:
        raise ValueError("slice cells of the wrong length")
    return np.frombuffer(raw, dtype=dtype).astype(np.int64 if "i" in dtype else np.float64)


def _widen(sums: np.ndarray, width: int) -> np.ndarray:
    if sums.shape[1] == width:
        return sums
    return np.zeros((sums.shape[0], width), np.float64)


def empty(with_score: bool) -> Section:
    return Section(np.zeros(0, np.int64), np.zeros((0, len(INT_FIELDS)), np.int64),
                   np.zeros((0, len(SUM_FIELDS) if with_score else 0), np.float64), 0.0)


# ------------------------------------------------------------------------------ SQL

def double(value: float) -> str:
    """A double constant as docs/profiles.md writes them (same double in both engines)."""
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def code_sql(ctx, enc: Encoding, alias: str) -> str:
    """The column's code over the inner query's value `alias` (a finite double or NULL for a
    numeric column, text for a categorical one) — the rule of `Encoding.code_sql`."""
    if enc.kind == "numeric":
        bins = " + ".join(f"(CASE WHEN {alias} >= {double(e)} THEN 1 ELSE 0 END)"
                          for e in enc.edges) or "0"
        return f"(CASE WHEN {alias} IS NULL THEN {enc.missing_code} ELSE {bins} END)"
    whens = " ".join(f"WHEN {alias} = {ctx.literal(v)} THEN {i}"
                     for i, v in enumerate(enc.values))
    return f"(CASE WHEN {alias} IS NULL THEN {enc.missing_code} {whens} ELSE {enc.other_code} END)"


def _label(ctx, config: Config, column: str) -> str:
    return ctx.num(column) if config.numeric_labels else ctx.text(column)


def _positive(ctx, config: Config) -> str:
    if config.numeric_labels:
        return double(float(config.positive))
    return ctx.literal(config.positive)


def inner_sql(ctx, config: Config) -> str:
    """One row per labelled row: chunk key, codes c0.., and the per-row indicators/sums."""
    values = []
    for i, enc in enumerate(config.encodings):
        value = ctx.finite(enc.column) if enc.kind == "numeric" else ctx.text(enc.column)
        values.append(f"{value} AS v{i}")
    t = _label(ctx, config, config.target)
    p = _label(ctx, config, config.prediction) if config.prediction else None
    pos = _positive(ctx, config) if config.positive is not None else None
    one = "1 ELSE 0 END"
    ind = [f"(CASE WHEN {t} = {p} THEN {one}) AS correct" if p else "0 AS correct",
           f"(CASE WHEN {t} = {pos} THEN {one}) AS y1" if pos else "0 AS y1",
           f"(CASE WHEN {p} = {pos} THEN {one}) AS p1" if p and pos else "0 AS p1",
           f"(CASE WHEN {t} = {pos} AND {p} = {pos} THEN {one}) AS tp" if p and pos
           else "0 AS tp"]
    if config.score:
        ind.append(f"{ctx.num(config.score)} AS s")
    known = " AND ".join(f"{ctx.quote(c)} IS NOT NULL"
                         for c in (config.target, config.prediction, config.score) if c)
    first = (f"SELECT {ctx.key} AS k, {', '.join(values + ind)} FROM {ctx.rows} "
             f"WHERE {known}")
    codes = [f"{code_sql(ctx, e, f'v{i}')} AS c{i}" for i, e in enumerate(config.encodings)]
    extra = ", s, (y1 - s) AS r" if config.score else ""
    return f"SELECT k, {', '.join(codes)}, correct, y1, p1, tp{extra} FROM ({first}) AS f"


def aggregates(config: Config) -> list[str]:
    # BIGINT: DuckDB's sum of integers is a HUGEINT, slow to hand over row by row
    out = ["count(*)", *(f"CAST(sum({f}) AS BIGINT)" for f in INT_FIELDS[1:])]
    if config.score:
        out += ["sum(s)", "sum(CASE WHEN r > 0 THEN r ELSE 0.0 END)",
                "sum(CASE WHEN r < 0 THEN -r ELSE 0.0 END)", "sum(r * r)", "max(abs(r))"]
    return out


_tables = itertools.count()


def compute(ctx, plan, config: Config) -> dict[str, Section]:
    """Per chunk key: the non-empty cells of every combination of up to max_order columns.

    DuckDB first stores the rows' codes in a temporary table when there are at most
    MATERIALIZE_ROWS rows (the code expressions are evaluated once, not once per query; above
    that the table would cost more memory than the profile is meant to use); otherwise, and
    on Spark, each query reads them from a sub-query."""
    if not config.encodings:
        return {}
    inner = inner_sql(ctx, config)
    per = SETS_PER_QUERY.get(ctx.engine, 16)
    if ctx.engine == "duckdb":
        rows = int(ctx.run(f"SELECT count(*) FROM {ctx.rows}")[0][0])
        # Above ~100k rows one GROUP BY per combination beats grouping sets in DuckDB
        # (0.11 vs 0.16 s per combination at 1M rows); below, the query overhead dominates.
        per = per if rows <= 100_000 else 1
        if rows <= MATERIALIZE_ROWS:
            name = f"aidebt_slice_codes_{next(_tables)}"
            ctx.run(f"CREATE OR REPLACE TEMP TABLE {name} AS {inner}")
            try:
                return _count(ctx, config, name, per)
            finally:
                ctx.run(f"DROP TABLE IF EXISTS {name}")
    return _count(ctx, config, f"({inner}) AS g", per)


def _count(ctx, config: Config, source: str, per: int) -> dict[str, Section]:
    codes = [f"c{i}" for i in range(len(config.encodings))]
    aggs = aggregates(config)
    keys, chunk_keys, values = [], [], []
    combos = config.combos
    for start in range(0, len(combos), per):
        batch = combos[start:start + per]
        sets = ", ".join("(k, " + ", ".join(codes[i] for i in c) + ")" for c in batch)
        used = sorted({i for c in batch for i in c})
        select = ", ".join(["k", *(codes[i] for i in used), *aggs])
        rows = ctx.run(f"SELECT {select} FROM {source} GROUP BY GROUPING SETS ({sets})")
        if not rows:
            continue
        width = len(used)
        # NULL codes are the columns a grouping set leaves out: NaN here.
        cells = np.array([r[1:1 + width] for r in rows], dtype=np.float64).reshape(-1, width)
        keys.append(_keys(config, used, cells))
        chunk_keys += [str(r[0]) for r in rows]
        values.append(np.array([r[1 + width:] for r in rows], dtype=np.float64))
    if not keys:
        return {}
    key, value = np.concatenate(keys), np.concatenate(values)
    chunk = np.array(chunk_keys, dtype=object)
    out = {}
    for k in sorted(set(chunk_keys)):
        at = np.flatnonzero(chunk == k)
        order = at[np.argsort(key[at], kind="stable")]
        out[k] = _section(key[order], value[order], bool(config.score))
    return out


def _keys(config: Config, used: list[int], cells: np.ndarray) -> np.ndarray:
    """Each result row's cell key from its codes (NaN = column not in the grouping set)."""
    present = ~np.isnan(cells)
    bits = present.astype(np.int64) @ (1 << np.arange(len(used), dtype=np.int64))
    combo = np.empty(len(cells), np.int64)
    for b in np.unique(bits):
        cols = tuple(used[j] for j in range(len(used)) if (int(b) >> j) & 1)
        combo[bits == b] = config.combo_ids[cols]
    cell = np.zeros(len(cells), np.int64)
    for j in range(len(used)):
        cell = np.where(present[:, j], cell * config.pad + np.nan_to_num(cells[:, j]).astype(
            np.int64), cell)
    return combo * config.span + cell


def _section(key: np.ndarray, value: np.ndarray, with_score: bool) -> Section:
    ints = np.rint(value[:, :len(INT_FIELDS)]).astype(np.int64)   # counts < 2**53: exact
    if with_score:
        sums = np.ascontiguousarray(value[:, 5:9])
        r_max = float(np.nanmax(value[:, 9])) if len(value) else 0.0
    else:
        sums, r_max = np.zeros((len(key), 0), np.float64), 0.0
    return Section(key, np.ascontiguousarray(ints), sums, r_max)


def cell_bound(config: Config, rows: int | None = None) -> int:
    """The most cells a chunk of `rows` labelled rows (any number: None) can hold."""
    counts = [e.n_codes for e in config.encodings]
    return sum(min(int(np.prod([counts[i] for i in c])), rows or 1 << 62)
               for c in config.combos)


def bounded_order(config: Config) -> int:
    """The largest order <= config.max_order whose cells stay within MAX_CELLS a chunk."""
    order = config.max_order
    while order > 1 and cell_bound(replace(config, max_order=order)) > MAX_CELLS:
        order -= 1
    return order


__all__ = ["NAME", "Config", "Section", "cell_bound", "compute", "empty"]
