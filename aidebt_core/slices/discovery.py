"""Weak-slice discovery: SliceLine-style search over conjunctions of up to three predicates.

Score of a slice S (Sagadeeva & Boehm 2021), with n rows, mean row error ē, |S| rows and error
sum e_S:  sc = α·((e_S/|S|)/ē − 1) − (1 − α)·(n/|S| − 1).  Everything is computed from
aggregated counts: integer codes are combined and counted with `np.bincount`, then predicate
statistics come from small matrix products (a numeric "< 90" predicate is a sum of bins), so no
one-hot matrix is ever built. A level is searched only where an upper bound on the score of its
slices (from the sizes and error sums of their parents) can beat the current top scores.
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from aidebt_core.errors import OptionError, SchemaError
from aidebt_core.slices import intervals as iv
from aidebt_core.slices.metrics import SliceData, metric_spec, row_loss
from aidebt_core.slices.pick import SUPPORT_LEVEL, Found, Picker, Search

__all__ = ["OBJECTIVES", "Found", "Search", "default_min_size", "search"]

_LETTERS = "abc"
SAMPLE_ROWS = 200_000
PREFIX_CACHE = 24  # combined pair codes kept for reuse by triples (4 bytes per row each)


class _Feature:
    def __init__(self, data: SliceData, column: str, ranges: bool):
        enc = data.encoding(column)
        self.column, self.k = column, enc.n_codes
        self.codes = data.codes[column]
        preds = enc.predicates(ranges=ranges)
        self.labels = [label for label, _ in preds]
        self.masks = [m for _, m in preds]
        # Predicate-by-code 0/1 matrix: predicate statistics = P @ per-code statistics.
        self.P = np.array(self.masks, dtype=np.float64).reshape(-1, self.k)


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
    lattice = _Lattice(data, names, err, objective == "calibration", min_size, alpha, ranges,
                       max(100, 20 * top_k))
    if lattice.ebar == 0:
        return Search((), loss, 0.0, min_size, alpha, 0, 0, 0)
    lattice.run(max_order)
    return lattice.select(top_k, max_overlap, loss)


class _Lattice(Picker):
    """Level-wise search. Per predicate combination it keeps sizes `s`, signed error sums `e`,
    and the bound statistics `u` (error sums; for a signed gap, positive and negative parts)."""

    def __init__(self, data, names, err, signed, min_size, alpha, ranges, pool_size):
        self.data, self.n, self.signed = data, data.n, signed
        # The 0/1 fast path counts unsigned errors; a signed gap that happens to be all 0/1
        # (a score of exactly 0 everywhere) still needs its positive and negative parts.
        self.binary = not signed and bool(np.all((err == 0) | (err == 1)))
        self.err = err
        self.err01 = err.astype(np.int32) if self.binary else None
        # Redundancy checks and simplification look at a fixed sample of rows (exact counts
        # for the slices finally chosen are taken on all rows).
        rng = np.random.default_rng(0)
        self.rows = (np.sort(rng.choice(self.n, SAMPLE_ROWS, replace=False))
                     if self.n > SAMPLE_ROWS else None)
        self.weights = [np.maximum(err, 0), np.maximum(-err, 0)] if signed else [err]
        self.sq = None if self.binary else err * err
        self.ebar = float(np.abs(err).mean())
        self.emax = float(np.abs(err).max()) if err.size else 0.0
        self.offset = 0.0 if signed else 1.0
        self.etot, self.qtot = float(err.sum()), float((err * err).sum())
        self.min_size, self.alpha, self.pool_size = min_size, alpha, pool_size
        self.f = [_Feature(data, c, ranges) for c in names]
        self.support = SUPPORT_LEVEL / max(1, sum(f.P.shape[0] for f in self.f))
        self.pool: list[tuple] = []     # (scores, sizes, errors, p, feature-tuple, pred-index)
        self.p_all: list[np.ndarray] = []
        self.pruned_tests = 0
        self.evaluated = 0
        self.pruned_blocks = 0
        self.threshold = 0.0
        self.stats: dict[tuple[int, ...], tuple[np.ndarray, list[np.ndarray]]] = {}
        self.paths: dict[tuple, list] = {}  # einsum contraction order per shape
        self.prefixes: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()
        self.code_errs: dict[int, np.ndarray] = {}
        self.mask_cache: dict[tuple[int, int], np.ndarray] = {}

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
        best = np.full(np.shape(s_ub), -np.inf)
        with np.errstate(invalid="ignore", divide="ignore"):
            for s in (np.full(np.shape(s_ub), float(self.min_size)),
                      np.clip(e_ub / m, self.min_size, np.maximum(s_ub, self.min_size)), s_ub):
                best = np.fmax(best, self._raw(s, np.minimum(e_ub, s * m)))
        return np.where(s_ub >= self.min_size, best, -np.inf)

    # ---- counting
    def counts(self, feats: tuple[int, ...]):
        """Exact sizes, bound sums, signed error sums and squared sums per predicate combination."""
        fs = [self.f[i] for i in feats]
        prefix = self._prefix(feats[:-1])  # combined code of all but the last feature
        last = fs[-1]
        shape = tuple(f.k for f in fs)
        total = int(np.prod(shape))
        x, y = "xyz"[:len(fs)], _LETTERS[:len(fs)]
        expr = ",".join(f"{x[i]}{y[i]}" for i in range(len(fs))) + f",{y}->{x}"
        mats = [f.P for f in fs]

        key = (expr, *(m.shape for m in mats))
        if key not in self.paths:
            self.paths[key] = np.einsum_path(expr, *mats, np.empty(shape), optimize="greedy")[0]
        path = self.paths[key]

        def project(t):
            return np.einsum(expr, *mats, t.reshape(shape).astype(np.float64), optimize=path)

        if self.binary:
            # One unweighted count of (cell, error 0/1) pairs gives both sizes and error sums:
            # pair code = prefix * 2k + (2 * last code + error).
            code_err = self._code_err(feats[-1])
            pair = code_err if prefix is None else prefix * (2 * last.k) + code_err
            both = np.bincount(pair, minlength=2 * total).reshape(total, 2)
            s, u = project(both.sum(axis=1)), [project(both[:, 1])]
        else:
            code = last.codes if prefix is None else prefix * last.k + last.codes
            s = project(np.bincount(code, minlength=total))
            u = [project(np.bincount(code, weights=w, minlength=total)) for w in self.weights]
        e = u[0] - u[1] if self.signed else u[0]
        q = None if self.binary else project(np.bincount(code, weights=self.sq,
                                                         minlength=total))
        self.evaluated += s.size
        return s, u, e, q

    def _prefix(self, feats: tuple[int, ...]) -> np.ndarray | None:
        """Combined int32 code of `feats` (cached for pairs, which many triples share)."""
        if not feats:
            return None
        if feats in self.prefixes:
            self.prefixes.move_to_end(feats)
            return self.prefixes[feats]
        code = self.f[feats[0]].codes.astype(np.int32)
        for i in feats[1:]:
            code = code * self.f[i].k + self.f[i].codes
        self.prefixes[feats] = code
        if len(self.prefixes) > PREFIX_CACHE:
            self.prefixes.popitem(last=False)
        return code

    def _code_err(self, i: int) -> np.ndarray:
        if i not in self.code_errs:
            self.code_errs[i] = self.f[i].codes.astype(np.int32) * 2 + self.err01
        return self.code_errs[i]

    def p_values(self, s, e, q):
        if self.binary:
            return iv.two_proportion_p(e, s, self.etot - e, self.n - s)
        return iv.welch_p(s, e, q, self.n - s, self.etot - e, self.qtot - q)

    def record(self, feats, s, e, q):
        valid = s >= self.min_size
        sc = self.score(s, e)
        p = self.p_values(s[valid], e[valid], None if q is None else q[valid])
        self.p_all.append(p.astype(np.float32))
        keep = np.flatnonzero((sc > self.threshold).ravel())
        if keep.size > self.pool_size:
            keep = keep[np.argpartition(-sc.ravel()[keep], self.pool_size)[:self.pool_size]]
        if keep.size:
            idx = np.unravel_index(keep, s.shape)
            pv = self.p_values(s.ravel()[keep], e.ravel()[keep],
                               None if q is None else q.ravel()[keep])
            self.pool.append((sc.ravel()[keep], s.ravel()[keep], e.ravel()[keep], pv, feats,
                              np.stack(idx, axis=1)))
        self._trim()

    def _trim(self):
        scores = np.concatenate([b[0] for b in self.pool]) if self.pool else np.empty(0)
        if scores.size >= self.pool_size:
            cut = np.partition(scores, scores.size - self.pool_size)[scores.size - self.pool_size]
            self.threshold = max(self.threshold, float(cut))
            if len(self.pool) > 64:
                self.pool = [tuple(x[b[0] >= cut] if isinstance(x, np.ndarray) else x
                                   for x in b) for b in self.pool]
                self.pool = [b for b in self.pool if b[0].size]

    # ---- levels
    def run(self, max_order: int) -> None:
        for i in range(len(self.f)):
            s, u, e, q = self.counts((i,))
            self.stats[(i,)] = (s, u)
            self.record((i,), s, e, q)
        if max_order >= 2:
            self._level(2)
        if max_order >= 3:
            self._level(3)

    def _parent_bounds(self, combo):
        """Upper bounds for a combination from its parents: a child has at most the smallest
        parent's rows and (per part) error sum; |signed sum| <= the larger part."""
        s_ub, u_ub = None, None
        for drop in range(len(combo)):
            parent = combo[:drop] + combo[drop + 1:]
            ps, pu = self.stats[parent]
            shape = [self.f[i].P.shape[0] if j != drop else 1 for j, i in enumerate(combo)]
            ps, pu = ps.reshape(shape), [u.reshape(shape) for u in pu]
            s_ub = ps if s_ub is None else np.minimum(s_ub, ps)
            u_ub = pu if u_ub is None else [np.minimum(a, b) for a, b in zip(u_ub, pu,
                                                                             strict=True)]
        e_ub = u_ub[0] if len(u_ub) == 1 else np.maximum(u_ub[0], u_ub[1])
        return s_ub, u_ub, e_ub

    def _level(self, order: int) -> None:
        combos = list(itertools.combinations(range(len(self.f)), order))
        best = []
        for combo in combos:
            s_ub, _, e_ub = self._parent_bounds(combo)
            best.append(float(self.bound(s_ub, e_ub).max()) if s_ub.size else -np.inf)
        for j in np.argsort(best, kind="stable")[::-1]:
            combo = combos[j]
            if best[j] <= self.threshold:
                s_ub, u_ub, _ = self._parent_bounds(combo)
                self.pruned_blocks += 1
                self.pruned_tests += int((s_ub >= self.min_size).sum())
                if order < 3:
                    self.stats[combo] = (s_ub, u_ub)
                continue
            s, u, e, q = self.counts(combo)
            if order < 3:
                self.stats[combo] = (s, u)
            self.record(combo, s, e, q)
