"""Weak-slice discovery: SliceLine-style level-wise search over conjunctions of up to three
predicates, on whole arrays (no Python loop per candidate slice).

Score of a slice S (Sagadeeva & Boehm 2021), with n rows, mean row error ē, |S| rows and error
sum e_S:  sc = α·((e_S/|S|)/ē − 1) − (1 − α)·(n/|S| − 1).

How it is computed:
- Every predicate is an interval of one column's integer codes (a category, a bin, or a run of
  bins: "< 90" is bins 0..3), so the rows of a conjunction are a box in the joint code space of
  its columns. `group_counts` counts rows and error sums per joint code cell for many column
  combinations at once (one `np.bincount` over stacked, offset codes); `box_sums` turns those
  cells into every predicate combination of each block at once (cumulate along each axis,
  difference at the intervals' ends).
- Level 3 is counted only in column triples where some cell's three parent pairs can all still
  beat the current top scores (the SliceLine bound), judged on whole arrays of pair cells.
- Above SCREEN_ROWS rows the lattice is searched on a fixed sample of rows; the column
  combinations holding the sample's best slices are then counted again on all rows, so reported
  sizes, scores and p-values are exact.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aidebt_core.errors import OptionError, SchemaError
from aidebt_core.slices import intervals as iv
from aidebt_core.slices.metrics import SliceData, metric_spec, row_loss
from aidebt_core.slices.pick import SUPPORT_LEVEL, Found, Picker, Search

__all__ = ["OBJECTIVES", "Found", "GroupCounts", "Search", "box_sums", "default_min_size",
           "group_counts", "search"]

SCREEN_ROWS = 100_000      # above this many rows the lattice is screened on a row sample
SCREEN_MARGIN = 0.9        # the screen keeps slices down to 90% of the (scaled) minimum size
SCREEN_POOL = 4            # the screen keeps this many times the pool, to be re-counted exactly
BATCH_ENTRIES = 4_000_000  # codes counted per bincount (32 MB of int64)
BATCH_CELLS = 1_500_000    # predicate cells scored per batch of column combinations
PER_BLOCK = 2              # pool cells kept per column combination and batch


@dataclass(frozen=True)
class GroupCounts:
    """Rows and summed weights per joint code cell, for each column combination.

    `size[b]` and each `sums[i][b]` are arrays of shape (pad,) * order indexed by the codes of
    the columns `combos[b]` (codes beyond a column's own count are empty)."""

    combos: np.ndarray           # (blocks, order) column indices
    pad: int
    size: np.ndarray             # (blocks, pad, ..., pad) int64
    sums: tuple[np.ndarray, ...]


def group_counts(codes: Sequence[np.ndarray], combos, pad: int,
                 weights: Sequence[np.ndarray] = (), binary: np.ndarray | None = None
                 ) -> GroupCounts:
    """Counts per joint code cell of each combination of columns (`codes[i]`: column i's codes,
    0 <= code < pad, one per row). `weights` are summed per cell (float); `binary`, a 0/1 int
    array, is counted in the same pass as the sizes (exact integer sums).

    Kept apart from the search so counts computed elsewhere (e.g. from profiles) can feed it.
    """
    combos = np.asarray(combos, dtype=np.int64)
    combos = combos.reshape(len(combos), -1)
    blocks, order = combos.shape
    cells = pad ** order
    n = int(codes[0].size) if len(codes) else 0
    width = 2 if binary is not None else 1
    size = np.zeros((blocks, cells), np.int64)
    sums = [np.zeros((blocks, cells), np.int64 if binary is not None else np.float64)
            for _ in range(1 if binary is not None else len(weights))]
    per = max(1, BATCH_ENTRIES // max(n, 1))
    prefixes: dict[tuple[int, ...], np.ndarray] = {}
    for start in range(0, blocks, per):
        chunk = combos[start:start + per]
        stacked = np.empty((len(chunk), n), np.int64)
        for i, combo in enumerate(chunk):
            row = stacked[i]
            head = tuple(int(c) for c in combo[:-1])
            if head:
                if head not in prefixes:
                    prefixes.clear()  # combinations come sorted: one prefix at a time
                    joint = np.zeros(n, np.int64)
                    for c in head:
                        joint *= pad
                        joint += codes[c]
                    prefixes[head] = joint
                np.multiply(prefixes[head], pad, out=row)
                row += codes[int(combo[-1])]
            else:
                row[:] = codes[int(combo[-1])]
            if binary is not None:
                row *= 2
                row += binary
            row += i * cells * width
        flat = stacked.ravel()
        stop = start + len(chunk)
        if binary is not None:
            both = np.bincount(flat, minlength=len(chunk) * cells * 2).reshape(-1, cells, 2)
            size[start:stop] = both.sum(axis=2)
            sums[0][start:stop] = both[:, :, 1]
        else:
            size[start:stop] = np.bincount(flat, minlength=len(chunk) * cells).reshape(-1, cells)
            for out, w in zip(sums, weights, strict=True):
                out[start:stop] = np.bincount(flat, weights=np.tile(w, len(chunk)),
                                              minlength=len(chunk) * cells).reshape(-1, cells)
    shape = (blocks,) + (pad,) * order
    return GroupCounts(combos, pad, size.reshape(shape), tuple(s.reshape(shape) for s in sums))


def box_sums(cells: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sums over every predicate combination of each block: `cells` (blocks, pad, ..., pad),
    `lo`/`hi` (blocks, order, width) the predicates' code intervals [lo, hi) per axis ->
    (blocks, width, ..., width). Separable: cumulate along one axis, take the difference at
    the intervals' ends, move that axis last, repeat (after `order` steps the axes are back in
    their order)."""
    blocks, order = lo.shape[0], lo.shape[1]
    rows = np.arange(blocks)[:, None]
    out = cells
    for axis in range(order):
        shape = list(out.shape)
        shape[1] += 1
        cum = np.zeros(shape, dtype=out.dtype)
        np.cumsum(out, axis=1, out=cum[:, 1:])
        out = np.moveaxis(cum[rows, hi[:, axis]] - cum[rows, lo[:, axis]], 1, -1)
    return np.ascontiguousarray(out)


class SliceFeature:
    """A column's codes and its predicates as code intervals [lo, hi)."""

    def __init__(self, data: SliceData, column: str, ranges: bool):
        enc = data.encoding(column)
        self.column, self.k = column, enc.n_codes
        self.codes = data.codes[column]
        preds = enc.predicates(ranges=ranges)
        self.labels = [label for label, _ in preds]
        self.masks = [m for _, m in preds]
        self.lo, self.hi = [], []
        for _, mask in preds:
            idx = np.flatnonzero(mask)
            if idx.size == 0 or idx[-1] - idx[0] + 1 != idx.size:
                raise SchemaError(f"A predicate on '{column}' is not a run of codes.")
            self.lo.append(int(idx[0]))
            self.hi.append(int(idx[-1]) + 1)


def default_min_size(n: int) -> int:
    """At least 1% of the rows (and at least 30) so a slice's metric is worth reading."""
    return max(30, math.ceil(0.01 * n))


OBJECTIVES = ("error", "calibration")


def search(data: SliceData, metric: str, features: Sequence[str] | None = None,
           max_order: int = 3, min_size: int | None = None, top_k: int = 10,
           alpha: float = 0.95, ranges: bool = True, max_overlap: float = 0.5,
           objective: str = "error") -> Search:
    """Top-k non-redundant weak slices of `data` by SliceLine score (order <= max_order).

    objective "error": rank by the metric's row-wise error (misclassification, Brier, absolute or
    squared error). "calibration": rank by the gap between the observed positive rate and the
    mean score, |sum(y - score)| / |S|, in units of the mean absolute residual; this finds where
    the model is confidently wrong rather than where outcomes are merely uncertain.
    """
    if not 1 <= max_order <= 3:
        raise OptionError(f"max order must be 1, 2 or 3 (got {max_order}).")
    if not 0 < alpha <= 1:
        raise OptionError(f"alpha must be in (0, 1] (got {alpha}).")
    if top_k < 1:
        raise OptionError("Ask for at least one slice (top-k >= 1).")
    if objective not in OBJECTIVES:
        raise OptionError(f"Unknown objective '{objective}': use {' or '.join(OBJECTIVES)}.")
    if objective == "calibration":
        if data.score is None or not data.binary:
            raise SchemaError("The calibration objective needs a score column and a two-class "
                              "target.")
        loss = "calibration_gap"
        err = data.y.astype(np.float64) - data.score
    else:
        loss = metric_spec(metric).loss
        if loss == "brier" and data.score is None:
            raise SchemaError("Discovery for this metric needs a score column.")
        err = row_loss(data, loss)
    n = data.n
    min_size = default_min_size(n) if min_size is None else int(min_size)
    if min_size < 1:
        raise OptionError("The minimum slice size must be at least 1 row.")
    names = list(features) if features is not None else [e.column for e in data.encodings]
    if not names:
        raise SchemaError("Pick at least one column to search slices on.")
    lattice = Lattice(data, names, err, objective == "calibration", min_size, alpha, ranges,
                       max(100, 20 * top_k))
    if lattice.ebar == 0:
        return Search((), loss, 0.0, min_size, alpha, 0, 0, 0)
    lattice.run(max_order)
    return lattice.select(top_k, max_overlap, loss)


class Lattice(Picker):
    """Level-wise search. Per predicate combination: size `s` and the error statistics `u`
    (the error sum; for a signed gap its positive and negative parts), whose signed sum is `e`."""

    def __init__(self, data, names, err, signed, min_size, alpha, ranges, pool_size):
        self.data, self.n, self.signed = data, data.n, signed
        # The 0/1 fast path counts unsigned errors; a signed gap that happens to be all 0/1
        # (a score of exactly 0 everywhere) still needs its positive and negative parts.
        self.binary = not signed and bool(np.all((err == 0) | (err == 1)))
        self.err = err
        self.err01 = err.astype(np.int64) if self.binary else None
        # A fixed sample of rows: the screen of large data sets, redundancy checks and
        # simplification (exact counts for the slices finally chosen are taken on all rows).
        # (numpy.random is imported only then: ~10 ms of start-up a small table does not need)
        self.rows = (np.sort(np.random.default_rng(0).choice(self.n, SCREEN_ROWS, replace=False))
                     if self.n > SCREEN_ROWS else None)
        self.weights = [np.maximum(err, 0), np.maximum(-err, 0)] if signed else [err]
        self.sq = None if self.binary else err * err
        self.ebar = float(np.abs(err).mean()) if err.size else 0.0
        self.emax = float(np.abs(err).max()) if err.size else 0.0
        self.offset = 0.0 if signed else 1.0
        self.etot, self.qtot = float(err.sum()), float((err * err).sum())
        self.min_size, self.alpha, self.pool_size = min_size, alpha, pool_size
        self.f = [SliceFeature(data, c, ranges) for c in names]
        self.support = SUPPORT_LEVEL / max(1, sum(len(f.labels) for f in self.f))
        self.pad = max(f.k for f in self.f)
        self.width = max(len(f.labels) for f in self.f)
        self.lo = np.zeros((len(self.f), self.width), np.int64)  # padding: empty [0, 0)
        self.hi = np.zeros((len(self.f), self.width), np.int64)
        for i, f in enumerate(self.f):
            self.lo[i, :len(f.lo)], self.hi[i, :len(f.hi)] = f.lo, f.hi
        self.mask_cache: dict[tuple[int, int], np.ndarray] = {}
        self.tests = 0          # slices with at least min_size rows (the BH family)
        self.evaluated = 0      # predicate combinations whose counts were computed
        self.pruned_blocks = 0  # column triples skipped by the bound
        self.threshold = 0.0
        self._reset_pool()

    # ---- scoring
    def _raw(self, s, e):
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.alpha * ((e / s) / self.ebar - self.offset)
                    - (1 - self.alpha) * (self.n / s - 1))

    def score(self, s, e):
        return np.where(s >= self.min_size, self._raw(s, np.abs(e)), -np.inf)

    def bound(self, s_ub, e_ub):
        """Best score any slice with size <= s_ub and |error sum| <= e_ub could reach."""
        m = max(self.emax, 1e-300)
        s_ub = np.asarray(s_ub, dtype=np.float64)
        best = np.full(np.shape(s_ub), -np.inf)
        with np.errstate(invalid="ignore", divide="ignore"):
            for s in (np.full(np.shape(s_ub), float(self.min_size)),
                      np.clip(e_ub / m, self.min_size, np.maximum(s_ub, self.min_size)), s_ub):
                best = np.fmax(best, self._raw(s, np.minimum(e_ub, s * m)))
        return np.where(s_ub >= self.min_size, best, -np.inf)

    # ---- counting
    def _codes(self, rows):
        return [f.codes if rows is None else f.codes[rows] for f in self.f]

    def stats(self, combos: np.ndarray, rows=None, codes=None):
        """Sizes and error statistics of every predicate combination of each block:
        s (blocks, width, ..., width) and a list u of the same shape."""
        codes = self._codes(rows) if codes is None else codes
        pick = (lambda x: x) if rows is None else (lambda x: x[rows])
        if self.binary:
            gc = group_counts(codes, combos, self.pad, binary=pick(self.err01))
        else:
            gc = group_counts(codes, combos, self.pad, weights=[pick(w) for w in self.weights])
        lo, hi = self.lo[combos], self.hi[combos]
        s = box_sums(gc.size, lo, hi)
        u = [box_sums(x, lo, hi) for x in gc.sums]
        self.evaluated += s.size
        return s, u

    def _signed(self, u):
        return u[0] - u[1] if self.signed else u[0]

    # ---- the pool of best cells
    def _reset_pool(self):
        self.pool_score = np.empty(0)
        self.pool_level = np.empty(0, np.int64)
        self.pool_block = np.empty(0, np.int64)
        self.pool_cell = np.empty(0, np.int64)

    def _linear_hits(self, s, e):
        """Cells whose score beats the threshold, as a linear test on (s, |e|) (no division):
        α|e|/ē > (T + α·offset − (1 − α))·s + (1 − α)·n, and s >= min_size."""
        a = self.alpha / self.ebar
        b = self.threshold + self.alpha * self.offset - (1 - self.alpha)
        return (s >= self.min_size) & (a * np.abs(e) > b * s + (1 - self.alpha) * self.n)

    def record(self, level: int, blocks: np.ndarray, s, e) -> None:
        """Count the tests of these blocks and add their cells that beat the threshold."""
        self.tests += int(np.count_nonzero(s >= self.min_size))
        hit = self._linear_hits(s, e)
        flat = np.flatnonzero(hit.reshape(len(blocks), -1).ravel())
        if not flat.size:
            return
        per = hit[0].size
        sc = self.score(s.reshape(-1)[flat].astype(np.float64),
                        e.reshape(-1)[flat].astype(np.float64))
        self._add(sc, np.full(flat.size, level), blocks[flat // per], flat % per)

    def _add(self, sc, level, block, cell):
        # At most PER_BLOCK cells per column combination (each block is added once), so the
        # pool is not all neighbouring bins of one slice and the report can hold different
        # slices.
        key = block * 4 + level
        order = np.lexsort((-sc, key))
        key = key[order]
        first = np.r_[True, key[1:] != key[:-1]]
        start = np.maximum.accumulate(np.where(first, np.arange(key.size), 0))
        keep = order[np.arange(key.size) - start < PER_BLOCK]
        sc, level, block, cell = sc[keep], level[keep], block[keep], cell[keep]
        self.pool_score = np.concatenate([self.pool_score, sc])
        self.pool_level = np.concatenate([self.pool_level, level])
        self.pool_block = np.concatenate([self.pool_block, block])
        self.pool_cell = np.concatenate([self.pool_cell, cell])
        if self.pool_score.size >= self.pool_size:
            cut = self.pool_score.size - self.pool_size
            self.threshold = max(self.threshold,
                                 float(np.partition(self.pool_score, cut)[cut]))
            if self.pool_score.size > 2 * self.pool_size:
                keep = self.pool_score >= self.threshold
                self.pool_score, self.pool_level = self.pool_score[keep], self.pool_level[keep]
                self.pool_block, self.pool_cell = self.pool_block[keep], self.pool_cell[keep]

    # ---- levels
    def run(self, max_order: int) -> None:
        if self.rows is None:
            self._search(max_order, None)
            return
        # Screen on the row sample (a slightly lower minimum size, a larger pool), then count
        # the combinations holding its best slices on all rows.
        min_size, pool = self.min_size, self.pool_size
        n = self.n
        self.n = self.rows.size
        self.min_size = max(1, math.floor(SCREEN_MARGIN * min_size * self.rows.size / n))
        self.pool_size = SCREEN_POOL * pool
        self._search(max_order, self.rows)
        # The best-scoring column combinations of the screen (at most an eighth of the pool
        # size of them, 2.5 per slice asked for), counted again on all rows.
        order = np.argsort(-self.pool_score, kind="stable")
        key = self.pool_block[order] * 4 + self.pool_level[order]
        _, first = np.unique(key, return_index=True)
        keep = order[np.sort(first)[:max(1, pool // 8)]]
        levels, blocks = self.pool_level[keep], self.pool_block[keep]
        self.n, self.min_size, self.pool_size = n, min_size, pool
        self._reset_pool()
        self.threshold = 0.0
        for level in sorted(set(levels.tolist())):
            ids = np.unique(blocks[levels == level])
            combos = self.combos[level][ids]
            for part in self._batches(combos):
                s, u = self.stats(combos[part])
                self._record_exact(level, ids[part], s, self._signed(u))

    def _record_exact(self, level, ids, s, e):
        tests = self.tests
        self.record(level, ids, s, e)
        self.tests = tests  # the family was counted by the screen

    def _batches(self, combos: np.ndarray):
        per = max(1, BATCH_CELLS // self.width ** combos.shape[1])
        return [slice(i, i + per) for i in range(0, len(combos), per)]

    def _search(self, max_order: int, rows) -> None:
        codes = self._codes(rows)
        k = len(self.f)
        self.combos = {1: np.arange(k).reshape(-1, 1)}
        s1, u1 = self.stats(self.combos[1], rows, codes)
        self.record(1, np.arange(k), s1, self._signed(u1))
        if max_order < 2 or k < 2:
            return
        pairs = np.array(list(itertools.combinations(range(k), 2)), np.int64)
        self.combos[2] = pairs
        s2, u2 = [], []
        for part in self._batches(pairs):
            s, u = self.stats(pairs[part], rows, codes)
            self.record(2, np.arange(len(pairs))[part], s, self._signed(u))
            s2.append(s)
            u2.append(u)
        s2 = np.concatenate(s2)
        u2 = [np.concatenate([u[i] for u in u2]) for i in range(len(u2[0]))]
        if max_order < 3 or k < 3:
            return
        self._level3(k, pairs, s2, u2, rows, codes)

    def _level3(self, k, pairs, s2, u2, rows, codes) -> None:
        triples = np.array(list(itertools.combinations(range(k), 3)), np.int64)
        self.combos[3] = triples
        index = np.full((k, k), -1, np.int64)
        index[pairs[:, 0], pairs[:, 1]] = np.arange(len(pairs))
        ab, ac, bc = (index[triples[:, i], triples[:, j]] for i, j in ((0, 1), (0, 2), (1, 2)))
        valid2 = s2 >= self.min_size
        e_ub = u2[0] if len(u2) == 1 else np.maximum(u2[0], u2[1])
        bound2 = np.where(valid2, self.bound(s2, e_ub), -np.inf)

        # Blocks whose parents promise the most first, and a small first batch, so the
        # threshold rises before most blocks are judged.
        promise = bound2.reshape(len(pairs), -1).max(axis=1)
        order = np.argsort(-np.minimum(np.minimum(promise[ab], promise[ac]), promise[bc]),
                           kind="stable")
        parts = self._batches(triples)
        first = min(8, len(triples))
        parts = [slice(0, first)] + [slice(p.start + first, p.stop + first) for p in parts]
        counter = _TripleCounter(self, rows, codes)
        for part in parts:
            ids = order[part]
            if not ids.size:
                continue
            # A triple cell is counted when its three parent pair cells can all still beat
            # the threshold. Cells not counted are tests when all their parents are large
            # enough (an upper bound on the family: conservative q-values); every allowed
            # cell is such a cell, so the difference of the two counts is what is skipped.
            allowed2 = bound2 > self.threshold
            n_allowed = _triangles(allowed2, ab[ids], ac[ids], bc[ids])
            self.tests += int((_triangles(valid2, ab[ids], ac[ids], bc[ids]) - n_allowed).sum())
            live = n_allowed > 0
            self.pruned_blocks += int(np.count_nonzero(~live))
            ids = ids[live]
            if not ids.size:
                continue
            # Sorted combinations let the counter reuse each pair prefix.
            ids = ids[np.lexsort(triples[ids].T[::-1])]
            block, cell, s, u = counter.cell_stats(triples[ids], allowed2[ab[ids]],
                                                   allowed2[ac[ids]], allowed2[bc[ids]])
            self.evaluated += block.size
            e = self._signed(u)
            self.tests += int(np.count_nonzero(s >= self.min_size))
            hit = np.flatnonzero(self._linear_hits(s, e))
            if hit.size:
                sc = self.score(s[hit].astype(np.float64), e[hit].astype(np.float64))
                self._add(sc, np.full(hit.size, 3), ids[block[hit]], cell[hit])

    def pool_slices(self):
        """The pool's cells, best first, as (score, column indices, predicate indices)."""
        order = np.argsort(-self.pool_score, kind="stable")
        for pos in order:
            level = int(self.pool_level[pos])
            feats = tuple(int(c) for c in self.combos[level][self.pool_block[pos]])
            preds = tuple(int(p) for p in np.unravel_index(int(self.pool_cell[pos]),
                                                            (self.width,) * level))
            yield float(self.pool_score[pos]), feats, preds

    def p_values(self, s, e, q):
        if self.binary:
            return iv.two_proportion_p(e, s, self.etot - e, self.n - s)
        return iv.welch_p(s, e, q, self.n - s, self.etot - e, self.qtot - q)


def _triangles(pair_cells: np.ndarray, ab, ac, bc) -> np.ndarray:
    """Per column triple (a, b, c), the cells (i, j, k) whose three parent pair cells all hold:
    pair_cells[ab][i, j] & pair_cells[ac][i, k] & pair_cells[bc][j, k], counted with one
    matrix product per triple instead of a grid of every cell (exact: float64 sums of 0/1)."""
    m = pair_cells.astype(np.float64)
    paths = np.matmul(m[ac], m[bc].transpose(0, 2, 1))  # (i, j) -> how many k
    return np.einsum("nij,nij->n", m[ab], paths).astype(np.int64)


class _TripleCounter:
    """Sizes and error statistics of chosen predicate combinations of column triples.

    Rows are counted per joint code cell (one `np.bincount` per pair prefix (a, b) over all its
    third columns), cumulated into tables with a zero border, and the boxes of the allowed
    cells are taken one axis at a time: a difference of table rows for each used predicate of
    a, then for each used (a, b) predicate pair, then one difference of two look-ups per cell.
    With a 0/1 error the size and the error count share one int64 (size << 32 | errors), so
    every step handles one table (exact: both stay below 2**31 in every partial box sum)."""

    def __init__(self, lattice: Lattice, rows, codes):
        self.lat = lattice
        self.side = lattice.pad + 1
        self.cells = self.side ** 3
        self.packed = lattice.binary
        pick = (lambda x: x) if rows is None else (lambda x: x[rows])
        self.n = int(codes[0].size)
        self.width = 2 if self.packed else 1
        self.codes = codes
        # A row's index in its block: ((code a + 1) * side + code b + 1) * side + code c + 1
        # (the tables' border is code 0), times 2 plus the error bit when packed. The third
        # column's part per column, plus its own block of the bincount (column c at c * cells);
        # int32 (at most columns * cells * 2) to keep a wide table's copy small.
        self.tail = np.stack([c.astype(np.int32) + 1 for c in codes]) * np.int32(self.width)
        if self.packed:
            self.tail += pick(lattice.err01).astype(np.int32)
            self.weights = []
        else:
            self.weights = [pick(w) for w in lattice.weights]
        self.tail += (np.arange(len(codes), dtype=np.int32)
                      * np.int32(self.cells * self.width))[:, None]
        self.per = max(1, BATCH_ENTRIES // max(self.n, 1))  # third columns per bincount

    def _tables(self, combos: np.ndarray) -> list[np.ndarray]:
        """Cumulative tables (blocks * side, side * side): entry [b * side + x, y * side + z]
        sums the rows of block b with codes < x, < y, < z."""
        blocks, cells, width = len(combos), self.cells, self.width
        # Sizes (packed with 0/1 error counts), then one float table per error weight.
        tables = [np.empty((blocks, cells), np.int64)]
        tables += [np.empty((blocks, cells), np.float64) for _ in self.weights]
        start = 0
        while start < blocks:
            a, b = combos[start, 0], combos[start, 1]
            stop = start + 1
            while (stop < blocks and stop - start < self.per and combos[stop, 0] == a
                   and combos[stop, 1] == b):
                stop += 1
            third = combos[start:stop, 2]
            span = int(third[-1] - third[0]) + 1
            # Index of (c, code a, code b, code c[, error]), counted from the first c's block.
            head = (self.codes[a].astype(np.int64) + 1) * self.side
            head += self.codes[b]
            head += 1
            head *= self.side * width
            head -= int(third[0]) * (cells * width)
            idx = (self.tail[third] + head).ravel()
            counts = np.bincount(idx, minlength=span * cells * width)
            pos = third - third[0]
            if self.packed:
                both = counts.reshape(span, cells, 2)[pos]
                tables[0][start:stop] = ((both[:, :, 0] + both[:, :, 1]) << 32) | both[:, :, 1]
            else:
                tables[0][start:stop] = counts.reshape(span, cells)[pos]
                for out, w in zip(tables[1:], self.weights, strict=True):
                    out[start:stop] = np.bincount(
                        idx, weights=np.tile(w, len(third)),
                        minlength=span * cells).reshape(span, cells)[pos]
            start = stop
        side = self.side
        for tab in tables:
            cube = tab.reshape(blocks, side, side, side)
            for axis in (1, 2, 3):
                np.cumsum(cube, axis=axis, out=cube)
        return [tab.reshape(blocks * side, side * side) for tab in tables]

    def cell_stats(self, combos, m_ab, m_ac, m_bc):
        """(block, cell, s, u) for every cell (i, j, k) of each block with m_ab[i, j],
        m_ac[i, k] and m_bc[j, k] (the (blocks, width, width) parent masks), in the order of
        np.nonzero over the blocks' (width, width, width) grids; `cell` is the flat index of
        (i, j, k) in that grid."""
        lat, side = self.lat, self.side
        blocks, w = m_ab.shape[0], m_ab.shape[1]
        tables = self._tables(combos)
        lo = [lat.lo[combos[:, axis]].ravel() for axis in range(3)]  # (blocks * width,)
        hi = [lat.hi[combos[:, axis]].ravel() for axis in range(3)]
        # (block, i, j) with at least one k, and their third-axis masks.
        reach = np.matmul(m_ac.astype(np.float64), m_bc.astype(np.float64).transpose(0, 2, 1))
        rij = np.flatnonzero(m_ab & (reach > 0))       # (b * w + i) * w + j
        bi = rij // w                                  # b * w + i
        blk = bi // w
        bj = blk * w + (rij - bi * w)                  # b * w + j
        # First axis: for each used (block, i), its box along a as a (side, side) table.
        first = np.r_[True, bi[1:] != bi[:-1]]         # rij is sorted, so bi is too
        used_i = bi[first]
        base = (used_i // w) * side
        slab = [t[base + hi[0][used_i]] - t[base + lo[0][used_i]] for t in tables]
        where_i = np.cumsum(first) - 1
        # Second axis: for each used (block, i, j), its box along a and b as a side vector.
        row = where_i * side
        line = [s.reshape(-1, side)[row + hi[1][bj]] - s.reshape(-1, side)[row + lo[1][bj]]
                for s in slab]
        # Third axis: every allowed k of each (block, i, j).
        mask = m_ac.reshape(blocks * w, w)[bi] & m_bc.reshape(blocks * w, w)[bj]
        flat = np.flatnonzero(mask)
        r = flat // w
        k = flat - r * w
        bk = blk[r] * w + k
        start = r * side
        at_hi, at_lo = start + hi[2][bk], start + lo[2][bk]
        totals = [x.ravel()[at_hi] - x.ravel()[at_lo] for x in line]
        cell = (rij - blk * (w * w))[r] * w + k
        block = blk[r]
        if self.packed:
            packed = totals[0]
            return block, cell, packed >> 32, [packed & 0xFFFFFFFF]
        return block, cell, totals[0], totals[1:]
