"""Choosing what discovery reports: simplified, non-redundant slices with exact counts and
Benjamini–Hochberg q-values over every slice the search examined."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from aidebt_core.slices import intervals as iv
from aidebt_core.slices.define import Predicate, SliceDef

VACUOUS = 0.95        # a condition keeping >= this share of its parent's rows adds nothing
SUPPORT_LEVEL = 0.05  # a condition must change the error with p <= this (Bonferroni) to stay
SIMPLIFY_TRIES = 6    # pool slices simplified per slice asked for, at most (then stop looking)


@dataclass(frozen=True)
class Found:
    """A scored slice from the search, before metrics and intervals are attached."""

    slice: SliceDef
    score: float
    size: int
    error: float
    p_value: float
    q_value: float


@dataclass(frozen=True)
class Search:
    """What the search found and how much of the lattice it had to compute."""

    found: tuple[Found, ...]
    loss: str
    mean_error: float
    min_size: int
    alpha: float
    tests: int          # slices with at least min_size rows that count in the BH family
    evaluated: int      # slices whose exact counts were computed
    pruned_blocks: int  # feature pairs/triples skipped by the score bound


class Picker:
    """Mixin of the search lattice: turns its pool of scored candidates into the report."""

    def _masks(self, feats, preds, sample: bool = True) -> list[np.ndarray]:
        """Row masks of each predicate, on the row sample (cached) or on all rows (cached when
        there is no sample: then they are the same rows)."""
        out = []
        for fi, pi in zip(feats, preds, strict=True):
            f = self.f[fi]
            if not sample and self.rows is not None:
                out.append(f.masks[pi][f.codes])
                continue
            if (fi, pi) not in self.mask_cache:
                codes = f.codes if self.rows is None else f.codes[self.rows]
                self.mask_cache[(fi, pi)] = f.masks[pi][codes]
            out.append(self.mask_cache[(fi, pi)])
        return out

    def _on_sample(self, key, values: np.ndarray) -> np.ndarray:
        """`values` on the row sample, kept (simplification reads the same columns again)."""
        cache = self.__dict__.setdefault("_sample_cache", {})
        if key not in cache:
            cache[key] = values[self.rows]
        return cache[key]

    def _simplify(self, feats, preds):
        """Drop conditions that add nothing, one at a time: a condition that keeps >= 95% of
        the rows of the slice without it, or whose removed rows do not differ from the slice
        (slice vs the rows the condition removes, p above 0.05 Bonferroni-divided by the number
        of conditions the search could have added, since the condition was picked among them).
        Simpler slices read better and generalise; the conditions of a real weak slice pass.

        Counted on the joint codes of the slice's columns (rows, error sums and squares per
        code cell, one pass over the rows); every slice and parent is then a masked sum of
        that small grid, and dropping a condition sums its axis out.
        """
        feats, preds = list(feats), list(preds)
        if len(feats) < 2:
            return tuple(feats), tuple(preds)
        rows = self.rows
        err = self.err if rows is None else self._on_sample("err", self.err)
        codes = [self.f[fi].codes if rows is None else self._on_sample(fi, self.f[fi].codes)
                 for fi in feats]
        shape = tuple(self.f[fi].k for fi in feats)
        joint = np.ravel_multi_index(codes, shape)
        size = int(np.prod(shape))
        n = np.bincount(joint, minlength=size).astype(np.float64)
        e = np.bincount(joint, weights=err, minlength=size)
        q = e if self.binary else np.bincount(joint, weights=err * err, minlength=size)
        grids = np.stack([n, e, q]).reshape((3, *shape))
        # Per axis the condition's cells and the whole axis: contracting every axis with
        # these gives the slice (all conditions) and each parent (one condition left out).
        sides = [np.stack([self.f[fi].masks[pi], np.ones(k, bool)], axis=1).astype(np.float64)
                 for fi, pi, k in zip(feats, preds, shape, strict=True)]
        while len(feats) > 1:
            sums = grids
            for side in sides:
                sums = np.tensordot(sums, side, axes=([1], [0]))
            conditions = len(feats)
            child = sums[(slice(None),) + (0,) * conditions]
            parents = np.array([sums[(slice(None),) + tuple(int(a == j)
                                                            for a in range(conditions))]
                                for j in range(conditions)])  # (conditions, 3)
            removed = parents - child
            kept = child[0] / np.maximum(parents[:, 0], 1)
            p = self._differ(child[0], child[1], child[2], removed[:, 0], removed[:, 1],
                             removed[:, 2])
            weight = np.where(kept >= VACUOUS, 2.0, np.where(p > self.support, p, -1.0))
            drop = int(np.argmax(weight))  # the first of equal weights, as before
            if weight[drop] < 0:
                break
            del feats[drop], preds[drop], sides[drop]
            grids = grids.sum(axis=drop + 1)
        return tuple(feats), tuple(preds)

    def _differ(self, n1, s1, ss1, n2, s2, ss2) -> np.ndarray:
        """p-values of 'rows a and rows b have the same mean error' from counts, sums and sums
        of squares (an empty side or NaN -> 1)."""
        if self.binary:
            p = iv.two_proportion_p(s1, n1, s2, n2)
        else:
            p = iv.welch_p(n1, s1, ss1, n2, s2, ss2)
        p = np.where((np.asarray(n1) > 0) & (np.asarray(n2) > 0), p, 1.0)
        return np.where(np.isnan(p), 1.0, p)

    def select(self, top_k: int, max_overlap: float, loss: str) -> Search:
        """The best non-redundant slices of the pool, simplified, with exact counts on all rows;
        q-values are Benjamini–Hochberg over every slice the search examined (`tests`), the
        ones not reported counting as p = 1 (conservative)."""
        tests = self.tests
        chosen, masks, seen = [], [], set()
        tries = SIMPLIFY_TRIES * top_k
        for best, raw_feats, raw in self.pool_slices():
            if best <= 0 or tries == 0:
                break
            raw_mask = np.logical_and.reduce(self._masks(raw_feats, raw))
            if any(_inside(raw_mask, m) >= max_overlap for m in masks):
                continue  # mostly a refinement of a slice already chosen
            tries -= 1
            feats, preds = self._simplify(raw_feats, raw)
            if (feats, preds) in seen:
                continue
            seen.add((feats, preds))
            mask = np.logical_and.reduce(self._masks(feats, preds))
            if any(_overlap(mask, m) >= max_overlap for m in masks):
                continue
            masks.append(mask)
            mask = np.logical_and.reduce(self._masks(feats, preds, sample=False))
            size = int(np.count_nonzero(mask))
            e = float(self.weights[0][mask].sum()
                      - (self.weights[1][mask].sum() if self.signed else 0.0))
            q = None if self.sq is None else float(self.sq[mask].sum())
            score = float(self.score(np.float64(size), np.float64(e)))
            if score <= 0:
                continue
            p = float(self.p_values(np.float64(size), np.float64(e), q))
            sdef = SliceDef(tuple(
                Predicate(self.f[fi].column, self.f[fi].labels[pi],
                          tuple(np.flatnonzero(self.f[fi].masks[pi]).tolist()))
                for fi, pi in zip(feats, preds, strict=True)))
            chosen.append(Found(sdef, score, size, e, p, math.nan))
            if len(chosen) == top_k:
                break
        chosen.sort(key=lambda f: -f.score)
        qs = iv.bh_qvalues([f.p_value for f in chosen], max(tests, len(chosen)))
        chosen = [replace(f, q_value=float(q)) for f, q in zip(chosen, qs, strict=True)]
        return Search(tuple(chosen), loss, self.ebar, self.min_size, self.alpha, tests,
                      self.evaluated, self.pruned_blocks)


def _inside(a: np.ndarray, b: np.ndarray) -> float:
    """Share of slice a's rows that lie in slice b."""
    size = np.count_nonzero(a)
    return np.count_nonzero(a & b) / size if size else 1.0


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the smaller slice's rows that lie in the other (1 = one contains the other)."""
    small = min(np.count_nonzero(a), np.count_nonzero(b))
    return np.count_nonzero(a & b) / small if small else 0.0
