"""The label-free performance estimate (CBPE, `performance.estimation`) from profiles.

A profile holds, per chunk, the score's histogram per label (`PerformanceCounts.score_bins`,
label None for rows without a label yet) on the plan's score grid, and the label ×
prediction counts. The rows path calibrates P(y=1 | score) by isotonic regression on the
reference's distinct scores and sums the calibrated probabilities; here every score bin
stands for its rows:

* the calibrator is fitted on the reference's labelled bins (counts and positives per bin,
  the bin at its midpoint; leave-one-chunk-out for reference chunks, as on rows);
* ROC AUC: the expected ROC curve swept bin by bin, the rows of one bin counted as ties;
* accuracy, precision, recall, F1: the expected confusion counts when the prediction is a
  threshold of the score: the chunk's positive predictions (from the label × prediction
  counts) are its top-scored rows, so E[tp] sums the top bins' calibrated probabilities (the
  bin the cut falls in, pro rata). That the prediction is such a threshold is checked on the
  labelled rows of every chunk (each label's positive predictions must fit the cut within
  one bin); when it is not, these estimates need the rows and are not given.

Exactness: when the score column has few distinct values (counted value by value in the
profile) and no bin holds two of them, each bin is one score and the estimate equals the
rows path's (`exact`). Otherwise `bound` states the binning's effect: how far the estimate
moves when each bin's rows take any calibrated probability between those of the bins next
to it (`_spread`: the calibrator fitted on single scores steps inside bins), plus, for AUC,
the tie mass of the bins (half the share of positive–negative expected pairs that fall in
one bin, whose order is unknown). It rests on that neighbourhood assumption, so it is a
stated bound checked against the rows on generated data, not a proof.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aidebt_core.errors import SchemaError
from aidebt_core.performance.estimation import Calibrator
from aidebt_core.performance.realized import f1_from_counts
from aidebt_core.profiles.model import ChunkProfile, DatasetProfile, Grid, label_as_01

CONFUSION = ("accuracy", "precision", "recall", "f1")
ESTIMABLE_FROM_PROFILES = ("roc_auc", *CONFUSION)


@dataclass(frozen=True)
class ChunkEstimate:
    """The expected metric on one chunk: on all its rows (`value`) and on its labelled rows
    (`labelled`, for the realized − estimate gap); `bound` NaN when exact."""

    key: str
    value: float
    labelled: float
    exact: bool
    bound: float


@dataclass(frozen=True)
class _Bins:
    """One chunk's score histogram in value order: all rows, labelled rows, positives."""

    rows: np.ndarray
    labelled: np.ndarray
    positives: np.ndarray
    predicted: int            # rows predicted positive (all rows)
    predicted_labelled: int   # labelled rows predicted positive
    predicted_by_label: dict  # label (0/1) -> (rows with it, of them predicted positive)


def _chunk_bins(chunk: ChunkProfile, grid: Grid, order: np.ndarray) -> _Bins:
    perf = chunk.performance
    rows = np.zeros(grid.bins)
    labelled = np.zeros(grid.bins)
    positives = np.zeros(grid.bins)
    for label, bins in perf.score_bins:
        counts = np.asarray(bins, dtype=np.float64)
        rows += counts
        y = label_as_01(label)
        if y is None:
            continue
        if y not in (0.0, 1.0):
            raise SchemaError(f"The label-free estimate needs 0/1 labels; the profile holds "
                              f"label {label!r}.")
        labelled += counts
        if y == 1.0:
            positives += counts
    predicted = predicted_labelled = 0
    by_label = {0.0: [0, 0], 1.0: [0, 0]}
    for label, pred, n in perf.confusion:
        p, y = label_as_01(pred), label_as_01(label)
        if y in by_label:
            by_label[y][0] += n
        if p != 1.0:
            continue
        predicted += n
        if y is not None:
            predicted_labelled += n
            by_label[y][1] += n
    return _Bins(rows[order], labelled[order], positives[order], predicted, predicted_labelled,
                 {k: tuple(v) for k, v in by_label.items()})


def _representatives(grid: Grid, reference: DatasetProfile, current: DatasetProfile,
                     order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(low, mid, high) score of every bin in value order, and whether each non-empty bin
    holds a single known score (then all three are that score: the estimate is exact)."""
    lows, highs = grid.bin_bounds()
    lows, highs = lows[order], highs[order]
    score = reference.plan.score
    names = reference.plan.names
    values: set[float] = set()
    counted = score in names
    for profile in (reference, current):
        if not counted:
            break
        for chunk in profile.chunks:
            col = chunk.column(score)
            if col.values is None:
                counted = False
                break
            values.update(float(v) for v, _ in col.values)
    finite = np.isfinite(lows) & np.isfinite(highs)
    lo = np.where(finite, lows, np.where(np.isfinite(highs), highs, lows))
    hi = np.where(finite, highs, lo)
    mid = (lo + hi) / 2
    if counted and values:
        known = np.array(sorted(values))
        position = np.argsort(order)   # bin index -> place in value order
        at = position[grid.bin_of(known)]
        if len(np.unique(at)) == len(known):   # one score per bin: the bins are the scores
            mid, lo, hi = mid.copy(), lo.copy(), hi.copy()
            mid[at] = lo[at] = hi[at] = known
            return lo, mid, hi, True
    return lo, mid, hi, False


def _expected_auc(rows: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """(expected AUC with the rows of a bin as ties, the tie mass bound)."""
    pos, neg = rows * p, rows * (1.0 - p)
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos <= 0 or total_neg <= 0:
        return math.nan, math.nan
    below = np.cumsum(neg) - neg
    auc = float(np.sum(pos * (below + 0.5 * neg)) / (total_pos * total_neg))
    return auc, float(0.5 * np.sum(pos * neg) / (total_pos * total_neg))


def _top_rows(rows: np.ndarray, k: float) -> np.ndarray:
    """How many of each bin's rows are among the k top-scored ones (the cut bin pro rata)."""
    above = np.cumsum(rows[::-1])[::-1] - rows       # rows in higher bins
    return np.clip(k - above, 0.0, rows)


def _expected(metric: str, rows: np.ndarray, p: np.ndarray, predicted: float,
              p_rest: np.ndarray | None = None) -> float:
    """The expected metric; `p_rest` (default `p`) is the probability of the rows not
    predicted positive (the confusion metrics grow with the one, fall with the other)."""
    n = float(rows.sum())
    if n <= 0:
        return math.nan
    if metric == "roc_auc":
        return _expected_auc(rows, p)[0]
    top = _top_rows(rows, predicted)
    tp = float(np.sum(top * p))
    fp = predicted - tp
    fn = float(np.sum((rows - top) * (p if p_rest is None else p_rest)))
    tn = n - predicted - fn
    if metric == "accuracy":
        return (tp + tn) / n
    if metric == "precision":
        return tp / (tp + fp) if tp + fp > 0 else math.nan
    if metric == "recall":
        return tp / (tp + fn) if tp + fn > 0 else math.nan
    return float(f1_from_counts(tp, fp, fn))


def prediction_is_a_threshold(chunks: Sequence[_Bins]) -> bool:
    """Whether, in every chunk, each label's positive predictions are that label's
    top-scored rows at one common cut (within the bin the cut falls in)."""
    for b in chunks:
        cum_all = np.cumsum(b.rows[::-1])
        k = b.predicted
        if k == 0:
            continue
        cut = int(np.searchsorted(cum_all, k, side="left"))
        for y, (_, predicted) in b.predicted_by_label.items():
            mass = b.positives if y == 1.0 else b.labelled - b.positives
            top = np.cumsum(mass[::-1])
            above = float(top[cut - 1]) if cut else 0.0
            within = float(mass[::-1][cut]) if cut < len(mass) else 0.0
            if not above - 1e-9 <= predicted <= above + within + 1e-9:
                return False
    return True


def chunk_estimates(reference: DatasetProfile, current: DatasetProfile, metric: str,
                    keys: Sequence[tuple[str, str]]) -> list[ChunkEstimate]:
    """The estimate of `metric` on every (side, key) of `keys` ("reference"/"current")."""
    plan = reference.plan
    if metric not in ESTIMABLE_FROM_PROFILES:
        raise SchemaError(f"No label-free estimate of {metric} from profiles (it needs each "
                          "row's score).")
    grid = plan.score_grid
    if grid is None or plan.target is None:
        raise SchemaError("The label-free estimate needs a profile made with --score and "
                          "--target.")
    order = grid.order()
    sides = {"reference": reference, "current": current}
    bins = {(side, c.key): _chunk_bins(c, grid, order)
            for side, profile in sides.items() for c in profile.chunks if c.performance}
    ref_keys = [k for side, k in keys if side == "reference"]
    if metric in CONFUSION:
        if plan.prediction is None:
            raise SchemaError(f"The estimate of {metric} needs a prediction column.")
        if not prediction_is_a_threshold(list(bins.values())):
            raise SchemaError(f"The estimate of {metric} from profiles assumes the prediction "
                              "is a threshold of the score, which the labelled rows "
                              "contradict; it needs each row's score and prediction.")
    lo, mid, hi, exact = _representatives(grid, reference, current, order)
    counts = {k: bins[("reference", k)].labelled for k in ref_keys}
    positives = {k: bins[("reference", k)].positives for k in ref_keys}
    all_counts = np.sum(list(counts.values()), axis=0)
    all_positives = np.sum(list(positives.values()), axis=0)
    full = Calibrator.from_sums(mid, all_counts, all_positives)
    out = []
    for side, key in keys:
        b = bins[(side, key)]
        cal = full
        if side == "reference":   # leave this chunk out of its own calibration
            try:
                cal = Calibrator.from_sums(mid, all_counts - counts[key],
                                           all_positives - positives[key])
            except SchemaError:
                cal = full
        p = cal(mid)
        value = _expected(metric, b.rows, p, b.predicted)
        labelled = _expected(metric, b.labelled, p, b.predicted_labelled)
        if exact:
            out.append(ChunkEstimate(key, value, labelled, True, math.nan))
            continue
        spread = max(_spread(metric, rows, cal, mid, k, v) for rows, k, v in (
            (b.rows, b.predicted, value), (b.labelled, b.predicted_labelled, labelled)))
        out.append(ChunkEstimate(key, value, labelled, False,
                                 spread if np.isfinite(value) else math.nan))
    return out


def _spread(metric: str, rows: np.ndarray, cal: Calibrator, mid: np.ndarray, k: float,
            value: float) -> float:
    """How far the estimate can move with the binning: each bin's rows may hold calibrated
    probabilities anywhere between those of its neighbouring bins (a calibrator fitted on
    single scores places its steps inside bins); the confusion metrics grow with the
    predicted-positive rows' probabilities and fall with the others', so their extremes are
    the two opposite corners; AUC takes the corners of calibrations made steeper or flatter
    at every decile of the chunk, plus the tie mass of its bins."""
    if not np.isfinite(value) or rows.sum() <= 0:
        return 0.0
    below = cal(np.r_[mid[:1], mid[:-1]])
    above = cal(np.r_[mid[1:], mid[-1:]])
    if metric != "roc_auc":
        corners = (_expected(metric, rows, above, k, below),
                   _expected(metric, rows, below, k, above))
        return max((abs(c - value) for c in corners if np.isfinite(c)), default=0.0)
    share = np.cumsum(rows) / rows.sum()
    corners = [_expected_auc(rows, below)[0], _expected_auc(rows, above)[0]]
    for q in np.arange(1, 10) / 10:
        high = share > q
        corners.append(_expected_auc(rows, np.where(high, above, below))[0])
        corners.append(_expected_auc(rows, np.where(high, below, above))[0])
    ties = _expected_auc(rows, cal(mid))[1]
    return max((abs(c - value) for c in corners if np.isfinite(c)), default=0.0) + (
        ties if np.isfinite(ties) else 0.0)


__all__ = ["CONFUSION", "ChunkEstimate", "ESTIMABLE_FROM_PROFILES", "chunk_estimates",
           "prediction_is_a_threshold"]
