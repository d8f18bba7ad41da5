"""Realized metrics of one chunk with confidence intervals, from exact formulas in numpy.

The values equal scikit-learn's (`roc_auc_score`, `accuracy_score`, `precision_score`,
`recall_score`, `f1_score`, `log_loss`, `brier_score_loss`, `mean_absolute_error`,
`root_mean_squared_error`); they are computed here because one sort per chunk serves the AUC
and its DeLong interval, which keeps a million rows well inside a second. A metric that is
undefined on a chunk (AUC with one class, precision with no predicted positive) is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from aidebt_core.errors import OptionError

BINARY_METRICS = ("roc_auc", "accuracy", "precision", "recall", "f1", "log_loss", "brier")
REGRESSION_METRICS = ("mae", "rmse")
SCORE_METRICS = ("roc_auc", "log_loss", "brier")          # need a probability score
LABEL_METRICS = ("accuracy", "precision", "recall", "f1")  # need a 0/1 prediction
LOWER_IS_BETTER = ("log_loss", "brier", "mae", "rmse")
METRIC_NAMES = {"roc_auc": "ROC AUC", "accuracy": "Accuracy", "precision": "Precision",
                "recall": "Recall", "f1": "F1", "log_loss": "Log loss", "brier": "Brier score",
                "mae": "MAE", "rmse": "RMSE"}
CONFIDENCE = 0.95
BOOTSTRAP_DRAWS = 2000
Z_INTERVAL = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)
_EPS = float(np.finfo(np.float64).eps)   # scikit-learn's log_loss clips at float64 eps


@dataclass(frozen=True)
class Estimate:
    """A metric value with a two-sided `CONFIDENCE` interval (NaN when undefined)."""

    value: float
    low: float
    high: float

    @classmethod
    def undefined(cls) -> Estimate:
        return cls(np.nan, np.nan, np.nan)


def midranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their average rank (as `scipy.stats.rankdata`)."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    # Start of each run of equal values, and the average rank of the run.
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    run_id = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    ends = np.r_[first[1:], len(values)]
    avg = (first + 1 + ends) / 2.0
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = avg[run_id]
    return ranks


def roc_auc(y: np.ndarray, score: np.ndarray) -> Estimate:
    """Mann–Whitney AUC with a DeLong (2008 fast algorithm) normal-approximation interval."""
    pos = y == 1
    m, n = int(pos.sum()), int((~pos).sum())
    if m == 0 or n == 0:
        return Estimate.undefined()
    ranks_all = midranks(score)
    x, z = score[pos], score[~pos]
    r_pos, r_neg = ranks_all[pos], ranks_all[~pos]
    auc = (r_pos.sum() - m * (m + 1) / 2) / (m * n)
    # DeLong placements: V10 for positives, V01 for negatives.
    v10 = (r_pos - midranks(x)) / n
    v01 = 1.0 - (r_neg - midranks(z)) / m
    var = (v10.var(ddof=1) if m > 1 else 0.0) / m + (v01.var(ddof=1) if n > 1 else 0.0) / n
    half = Z_INTERVAL * np.sqrt(var)
    return Estimate(float(auc), float(max(0.0, auc - half)), float(min(1.0, auc + half)))


def wilson(successes: float, trials: float) -> Estimate:
    """A proportion with its Wilson score interval (NaN when there are no trials)."""
    if trials <= 0:
        return Estimate.undefined()
    p = successes / trials
    denom = 1 + Z_INTERVAL**2 / trials
    centre = (p + Z_INTERVAL**2 / (2 * trials)) / denom
    half = Z_INTERVAL * np.sqrt(p * (1 - p) / trials + Z_INTERVAL**2 / (4 * trials**2)) / denom
    return Estimate(float(p), float(centre - half), float(centre + half))


def mean_interval(values: np.ndarray) -> Estimate:
    """A mean with a normal interval mean ± z·sd/√n (the chunk sizes here are large)."""
    n = len(values)
    if n == 0:
        return Estimate.undefined()
    mean = float(values.mean())
    half = Z_INTERVAL * float(values.std(ddof=1)) / np.sqrt(n) if n > 1 else 0.0
    return Estimate(mean, mean - half, mean + half)


def confusion(y: np.ndarray, pred: np.ndarray) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of 0/1 arrays."""
    yb, pb = y == 1, pred == 1
    tp = int(np.count_nonzero(yb & pb))
    fp = int(np.count_nonzero(~yb & pb))
    fn = int(np.count_nonzero(yb & ~pb))
    return tp, fp, fn, len(y) - tp - fp - fn


def f1_from_counts(tp, fp, fn):
    """F1 = 2tp / (2tp + fp + fn), NaN where the denominator is 0 (no positives at all)."""
    tp, fp, fn = (np.asarray(v, dtype=np.float64) for v in (tp, fp, fn))
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), np.nan)


def f1_interval(tp: int, fp: int, fn: int, tn: int, seed: int = 0) -> Estimate:
    """F1 with a percentile bootstrap interval. Resampling rows with replacement is the same
    as drawing the four confusion-matrix cells from a multinomial, so it costs O(draws)."""
    n = tp + fp + fn + tn
    value = float(f1_from_counts(tp, fp, fn))
    if n == 0 or np.isnan(value):
        return Estimate.undefined()
    cells = np.random.default_rng(seed).multinomial(
        n, np.array([tp, fp, fn, tn], dtype=np.float64) / n, size=BOOTSTRAP_DRAWS)
    draws = f1_from_counts(cells[:, 0], cells[:, 1], cells[:, 2])
    draws = draws[~np.isnan(draws)]
    alpha = (1 - CONFIDENCE) / 2
    low, high = np.quantile(draws, [alpha, 1 - alpha])
    return Estimate(value, float(low), float(high))


def realized_metric(metric: str, y: np.ndarray, score: np.ndarray | None,
                    pred: np.ndarray | None) -> Estimate:
    """One realized metric of one chunk: `y` labels (0/1, or numbers for mae/rmse)."""
    if len(y) == 0:
        return Estimate.undefined()
    if metric == "roc_auc":
        return roc_auc(y, score)
    if metric == "log_loss":
        s = np.clip(score, _EPS, 1 - _EPS)
        return mean_interval(-(y * np.log(s) + (1 - y) * np.log1p(-s)))
    if metric == "brier":
        return mean_interval((score - y) ** 2)
    if metric == "mae":
        return mean_interval(np.abs(pred - y))
    if metric == "rmse":
        mse = mean_interval((pred - y) ** 2)
        return Estimate(float(np.sqrt(mse.value)), float(np.sqrt(max(mse.low, 0.0))),
                        float(np.sqrt(mse.high)))
    tp, fp, fn, tn = confusion(y, pred)
    if metric == "accuracy":
        return wilson(tp + tn, len(y))
    if metric == "precision":
        return wilson(tp, tp + fp)
    if metric == "recall":
        return wilson(tp, tp + fn)
    if metric == "f1":
        return f1_interval(tp, fp, fn, tn)
    raise OptionError(f"unknown metric {metric!r}")
