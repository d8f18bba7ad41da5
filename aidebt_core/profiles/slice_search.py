"""Slice discovery on the cell counts of the "slices" profile section.

The search is the one of `slices.discovery` (its lattice, scores, pool, level-3 bound and
q-value family); only where it counts changes: the joint cells come from the section instead
of a bincount over rows, and the checks that need the rows of two slices at once (is one
mostly inside the other?) read the cells of the columns they share. When the two slices hold
more than `max_order` distinct columns between them, their common rows are bounded above by
the rows of their most selective `max_order` of those conditions — exact for the slices of
up to `max_order` columns together, conservative (the later slice is dropped as redundant a
little more readily) beyond. The exact path screens a row sample above
`discovery.SCREEN_ROWS` rows; cells count every row, so the sizes are always exact.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import replace
from types import SimpleNamespace

import numpy as np

from aidebt_core.profiles.slice_cells import INT_FIELDS, SUM_FIELDS
from aidebt_core.slices import intervals as iv
from aidebt_core.slices.define import Predicate, SliceDef
from aidebt_core.slices.discovery import Lattice, SliceFeature, box_sums
from aidebt_core.slices.pick import SIMPLIFY_TRIES, SUPPORT_LEVEL, VACUOUS, Found, Search


class Cells:
    """The merged section of one side, readable per column combination.

    `sums(cols, pad)` -> dict of dense arrays of shape (pad,) * len(cols) (axes in the order
    of `cols`, config column indices): n, correct, y1, p1, tp, errors (n − correct) and,
    with a score, score, r_pos, r_neg, r_sq.
    """

    def __init__(self, section, config):
        self.section, self.config = section, config
        self.index = {e.column: i for i, e in enumerate(config.encodings)}
        self.with_score = section.sums.shape[1] > 0
        self._cache: dict = {}
        first = self.sums((0,), config.pad) if config.encodings else None
        self.totals = {k: float(v.sum()) for k, v in first.items()} if first else {}
        self.n = int(self.totals.get("n", 0))

    def sums(self, cols, pad: int) -> dict[str, np.ndarray]:
        """Every field (kept for the next call: the report's checks reread few regions)."""
        cols = tuple(int(c) for c in cols)
        if (cols, pad) not in self._cache:
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[(cols, pad)] = self.fields(cols, pad)
        return self._cache[(cols, pad)]

    def fields(self, cols, pad: int, names: Sequence[str] | None = None
               ) -> dict[str, np.ndarray]:
        """The named fields (all when None) of the columns `cols`, not kept."""
        cols = tuple(int(c) for c in cols)
        config, sec = self.config, self.section
        order = tuple(sorted(cols))
        if len(set(cols)) != len(cols) or len(cols) > config.max_order:
            raise ValueError(f"no cells for columns {cols}")
        cid = config.combo_ids[order]
        span = config.span
        lo, hi = np.searchsorted(sec.key, [cid * span, (cid + 1) * span])
        cell = sec.key[lo:hi] - cid * span
        digits = [None] * len(order)
        for j in range(len(order) - 1, -1, -1):
            digits[j] = cell % config.pad
            cell = cell // config.pad
        axes = [digits[order.index(c)] for c in cols]
        flat = np.ravel_multi_index(tuple(axes), (pad,) * len(cols)) if cols else cell
        out = {}
        want = set(names) if names is not None else None
        if want is not None and "errors" in want:
            want |= {"n", "correct"}
        for i, f in enumerate(INT_FIELDS):
            if want is None or f in want:
                out[f] = _scatter(flat, sec.ints[lo:hi, i], pad, len(cols), np.int64)
        if "correct" in out:
            out["errors"] = out["n"] - out["correct"]
        if self.with_score:
            for i, f in enumerate(SUM_FIELDS):
                if want is None or f in want:
                    out[f] = _scatter(flat, sec.sums[lo:hi, i], pad, len(cols), np.float64)
        return out


def _scatter(flat, values, pad, order, dtype) -> np.ndarray:
    out = np.zeros(pad ** order, dtype)
    out[flat] = values
    return out.reshape((pad,) * order)


class CellLattice(Lattice):
    """`discovery.Lattice` counting from cells (see the module docstring)."""

    def __init__(self, cells: Cells, names, signed: bool, min_size: int, alpha: float,
                 ranges: bool, pool_size: int):
        self.cells, self.data, self.n, self.signed = cells, None, cells.n, signed
        t = cells.totals
        self.binary = not signed
        self.err = self.err01 = self.sq = None
        self.rows = None
        self.weights = ()
        if signed:
            self.etot, self.qtot = t["r_pos"] - t["r_neg"], t["r_sq"]
            self.ebar = (t["r_pos"] + t["r_neg"]) / self.n if self.n else 0.0
            self.emax = float(cells.section.r_max)
            self.offset = 0.0
        else:
            self.etot = self.qtot = t["errors"]
            self.ebar = t["errors"] / self.n if self.n else 0.0
            self.emax = 1.0 if t["errors"] else 0.0
            self.offset = 1.0
        self.min_size, self.alpha, self.pool_size = min_size, alpha, pool_size
        encs = {e.column: e for e in cells.config.encodings}
        shim = SimpleNamespace(encoding=lambda c: encs[c],
                               codes={c: np.zeros(0, np.int16) for c in names})
        self.f = [SliceFeature(shim, c, ranges) for c in names]
        self.col = np.array([cells.index[c] for c in names], np.int64)
        self.support = SUPPORT_LEVEL / max(1, sum(len(f.labels) for f in self.f))
        self.pad = max(f.k for f in self.f)
        self.width = max(len(f.labels) for f in self.f)
        self.lo = np.zeros((len(self.f), self.width), np.int64)
        self.hi = np.zeros((len(self.f), self.width), np.int64)
        for i, f in enumerate(self.f):
            self.lo[i, :len(f.lo)], self.hi[i, :len(f.hi)] = f.lo, f.hi
        self.mask_cache = {}
        self.tests = self.evaluated = self.pruned_blocks = 0
        self.bounded = 0          # redundancy checks decided on an upper bound
        self.threshold = 0.0
        self._reset_pool()

    # ---- counting from cells
    def _stat_fields(self):
        return ("r_pos", "r_neg") if self.signed else ("errors",)

    def _dense(self, combos: np.ndarray):
        size, stats = [], [[] for _ in self._stat_fields()]
        names = ("n", *self._stat_fields())
        for combo in combos:
            d = self.cells.fields(self.col[combo], self.pad, names)
            size.append(d["n"])
            for out, f in zip(stats, self._stat_fields(), strict=True):
                out.append(d[f])
        return np.stack(size), [np.stack(s) for s in stats]

    def stats(self, combos: np.ndarray, rows=None, codes=None):
        size, sums = self._dense(combos)
        lo, hi = self.lo[combos], self.hi[combos]
        s = box_sums(size, lo, hi)
        u = [box_sums(x, lo, hi) for x in sums]
        self.evaluated += s.size
        return s, u

    def cell_stats(self, combos: np.ndarray, allowed: np.ndarray, rows=None, codes=None):
        """As `Lattice.cell_stats`: the allowed predicate combinations only."""
        size, sums = self._dense(combos)
        order = combos.shape[1]
        block, *axes = np.nonzero(allowed)
        cell = np.ravel_multi_index(tuple(axes), allowed.shape[1:])
        side = self.pad + 1
        ends = []
        for j, pred in enumerate(axes):
            column = combos[block, j]
            ends.append((self.lo[column, pred], self.hi[column, pred]))
        tables = []
        for cells in (size, *sums):
            cum = np.zeros((len(combos),) + (side,) * order, dtype=cells.dtype)
            inner = cells
            for axis in range(1, order + 1):
                inner = np.cumsum(inner, axis=axis)
            cum[(slice(None),) + (slice(1, None),) * order] = inner
            tables.append(cum.reshape(-1))
        base = block * side ** order
        totals = [np.zeros(block.size, dtype=tab.dtype) for tab in tables]
        for corner in itertools.product((0, 1), repeat=order):
            flat = base.copy()
            for j, high in enumerate(corner):
                flat += ends[j][high] * side ** (order - 1 - j)
            sign = 1 if (order - sum(corner)) % 2 == 0 else -1
            for total, tab in zip(totals, tables, strict=True):
                if sign > 0:
                    total += tab[flat]
                else:
                    total -= tab[flat]
        self.evaluated += block.size
        return block, cell, totals[0], totals[1:]

    def _level3(self, k, pairs, s2, u2, *_rows_codes) -> None:
        """Level 3 as `Lattice._level3` does it (same order of blocks, same bound, same
        tests), counting the allowed cells with `cell_stats` on the section's cells."""
        triples = np.array(list(itertools.combinations(range(k), 3)), np.int64)
        self.combos[3] = triples
        index = np.full((k, k), -1, np.int64)
        index[pairs[:, 0], pairs[:, 1]] = np.arange(len(pairs))
        ab, ac, bc = (index[triples[:, i], triples[:, j]] for i, j in ((0, 1), (0, 2), (1, 2)))
        valid2 = s2 >= self.min_size
        e_ub = u2[0] if len(u2) == 1 else np.maximum(u2[0], u2[1])
        bound2 = np.where(valid2, self.bound(s2, e_ub), -np.inf)

        def grid(cells, ids):
            return (cells[ab[ids]][:, :, :, None] & cells[ac[ids]][:, :, None, :]
                    & cells[bc[ids]][:, None, :, :])

        promise = bound2.reshape(len(pairs), -1).max(axis=1)
        order = np.argsort(-np.minimum(np.minimum(promise[ab], promise[ac]), promise[bc]),
                           kind="stable")
        parts = self._batches(triples)
        first = min(8, len(triples))
        parts = [slice(0, first)] + [slice(p.start + first, p.stop + first) for p in parts]
        for part in parts:
            ids = order[part]
            if not ids.size:
                continue
            allowed = grid(bound2 > self.threshold, ids)
            self.tests += int(np.count_nonzero(grid(valid2, ids) & ~allowed))
            live = allowed.reshape(len(ids), -1).any(axis=1)
            self.pruned_blocks += int(np.count_nonzero(~live))
            ids, allowed = ids[live], allowed[live]
            if not ids.size:
                continue
            sort = np.lexsort(triples[ids].T[::-1])
            ids, allowed = ids[sort], allowed[sort]
            block, cell, s, u = self.cell_stats(triples[ids], allowed)
            e = self._signed(u)
            self.tests += int(np.count_nonzero(s >= self.min_size))
            hit = np.flatnonzero(self._linear_hits(s, e))
            if hit.size:
                sc = self.score(s[hit].astype(np.float64), e[hit].astype(np.float64))
                self._add(sc, np.full(hit.size, 3), ids[block[hit]], cell[hit])

    # ---- a slice as a box of code intervals
    def region(self, feats, preds) -> dict[int, tuple[int, int]]:
        """{config column index: (lo, hi)} of a slice's conditions."""
        return {int(self.col[f]): (int(self.f[f].lo[p]), int(self.f[f].hi[p]))
                for f, p in zip(feats, preds, strict=True)}

    def box(self, region: dict[int, tuple[int, int]]) -> dict[str, float]:
        """Rows and sums inside a region of at most max_order columns."""
        cols = tuple(sorted(region))
        d = self.cells.sums(cols, self.pad)
        box = tuple(slice(*region[c]) for c in cols)
        return {k: float(v[box].sum()) for k, v in d.items()}

    def common(self, a: dict, b: dict) -> int:
        """Rows in both regions (an upper bound beyond max_order columns)."""
        both = dict(a)
        for c, (lo, hi) in b.items():
            if c in both:
                lo, hi = max(lo, both[c][0]), min(hi, both[c][1])
                if lo >= hi:
                    return 0
            both[c] = (lo, hi)
        k = self.cells.config.max_order
        if len(both) <= k:
            return int(self.box(both)["n"])
        self.bounded += 1
        return int(min(self.box({c: both[c] for c in sub})["n"]
                       for sub in itertools.combinations(sorted(both), k)))

    def _err(self, d: dict) -> tuple[float, float]:
        """(error sum, sum of squared errors) of a box's sums."""
        if self.signed:
            return d["r_pos"] - d["r_neg"], d["r_sq"]
        return d["errors"], d["errors"]

    def _simplify(self, feats, preds):
        """`Picker._simplify` on counts: drop conditions that keep >= 95% of their parent's
        rows or whose removed rows do not differ from the slice."""
        feats, preds = list(feats), list(preds)
        while len(feats) > 1:
            region = self.region(feats, preds)
            child = self.box(region)
            e_child, q_child = self._err(child)
            parents = [self.box({c: r for c, r in region.items() if c != int(self.col[f])})
                       for f in feats]
            n_parent = np.array([p["n"] for p in parents])
            removed = [{k: p[k] - child[k] for k in child} for p in parents]
            errs = [self._err(r) for r in removed]
            kept = child["n"] / np.maximum(n_parent, 1)
            p = self._differ(child["n"], e_child, q_child,
                             np.array([r["n"] for r in removed], dtype=float),
                             np.array([e for e, _ in errs]), np.array([q for _, q in errs]))
            weight = np.where(kept >= VACUOUS, 2.0, np.where(p > self.support, p, -1.0))
            drop = int(np.argmax(weight))
            if weight[drop] < 0:
                break
            del feats[drop], preds[drop]
        return tuple(feats), tuple(preds)

    def select(self, top_k: int, max_overlap: float, loss: str) -> Search:
        """`Picker.select` on counts (see the module docstring for the redundancy check)."""
        tests = self.tests
        chosen, regions, seen = [], [], set()
        tries = SIMPLIFY_TRIES * top_k
        for best, raw_feats, raw in self.pool_slices():
            if best <= 0 or tries == 0:
                break
            raw_region = self.region(raw_feats, raw)
            raw_n = self.box(raw_region)["n"]
            if any(_share(self.common(raw_region, m), raw_n, 1.0) >= max_overlap
                   for m, _ in regions):
                continue
            tries -= 1
            feats, preds = self._simplify(raw_feats, raw)
            if (feats, preds) in seen:
                continue
            seen.add((feats, preds))
            region = self.region(feats, preds)
            d = self.box(region)
            if any(_share(self.common(region, m), min(d["n"], n), 0.0) >= max_overlap
                   for m, n in regions):
                continue
            regions.append((region, d["n"]))
            size = int(d["n"])
            e, q = self._err(d)
            score = float(self.score(np.float64(size), np.float64(e)))
            if score <= 0:
                continue
            p = float(self.p_values(np.float64(size), np.float64(e),
                                    None if not self.signed else np.float64(q)))
            sdef = SliceDef(tuple(
                Predicate(self.f[fi].column, self.f[fi].labels[pi],
                          tuple(np.flatnonzero(self.f[fi].masks[pi]).tolist()))
                for fi, pi in zip(feats, preds, strict=True)))
            chosen.append(Found(sdef, score, size, float(e), p, math.nan))
            if len(chosen) == top_k:
                break
        chosen.sort(key=lambda f: -f.score)
        qs = iv.bh_qvalues([f.p_value for f in chosen], max(tests, len(chosen)))
        chosen = [replace(f, q_value=float(q)) for f, q in zip(chosen, qs, strict=True)]
        return Search(tuple(chosen), loss, self.ebar, self.min_size, self.alpha, tests,
                      self.evaluated, self.pruned_blocks)


def _share(common: int, size: float, empty: float) -> float:
    return common / size if size else empty


def search_cells(cells: Cells, names, objective: str, max_order: int, min_size: int,
                 top_k: int, alpha: float, loss: str, ranges: bool = True,
                 max_overlap: float = 0.5) -> tuple[Search, int]:
    """`discovery.search` on cells: (the Search, redundancy checks decided on a bound)."""
    lattice = CellLattice(cells, list(names), objective == "calibration", min_size, alpha,
                          ranges, max(100, 20 * top_k))
    if lattice.ebar == 0:
        return Search((), loss, 0.0, min_size, alpha, 0, 0, 0), 0
    lattice.run(max_order)
    return lattice.select(top_k, max_overlap, loss), lattice.bounded
