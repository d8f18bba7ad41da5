"""Confidence-based performance estimation (CBPE): metrics expected from scores alone.

Isotonic regression of the reference labels on the reference scores gives a calibrated
probability p = P(y=1 | score). If that relation still holds on a later chunk (no concept
drift), each row is a default with probability p, so the confusion matrix, the ROC curve and
every per-row loss have expectations computable without labels:

- E[tp] = Σ_{ŷ=1} p, E[fp] = Σ_{ŷ=1} (1-p), E[fn] = Σ_{ŷ=0} p, E[tn] = Σ_{ŷ=0} (1-p);
  accuracy, precision, recall and F1 are taken from these expected counts;
- the ROC curve sweeps the score threshold: TPR(t) = Σ_{s≥t} p / Σ p and
  FPR(t) = Σ_{s≥t} (1-p) / Σ (1-p) (ties in the score move together); AUC is its area;
- E[log loss] = mean(-(p·log s + (1-p)·log(1-s))), E[Brier] = mean(p(1-s)² + (1-p)s²),
  exact expectations of per-row averages.

A shift in the inputs moves the scores and so the estimate (data drift explains it); a change
of P(y | score) does not, which is why realized − estimated is the concept-drift signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import isotonic_regression

from aidebt_core.errors import OptionError, SchemaError
from aidebt_core.performance.realized import f1_from_counts

ESTIMABLE = ("roc_auc", "accuracy", "precision", "recall", "f1", "log_loss", "brier")
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, eq=False)
class Calibrator:
    """A monotone map score → P(y=1 | score): isotonic regression (pool adjacent violators on
    the distinct scores, weighted by their row counts), linear in between, clipped outside.
    Gives the same map as sklearn's `IsotonicRegression(y_min=0, y_max=1,
    out_of_bounds="clip")`; fitting from per-score sums lets leave-one-chunk-out fits reuse
    one sort of the reference scores."""

    thresholds: np.ndarray
    values: np.ndarray

    @classmethod
    def fit(cls, score: np.ndarray, y: np.ndarray) -> Calibrator:
        distinct, inverse = np.unique(score, return_inverse=True)
        counts = np.bincount(inverse, minlength=distinct.size).astype(np.float64)
        positives = np.bincount(inverse, weights=y, minlength=distinct.size)
        return cls.from_sums(distinct, counts, positives)

    @classmethod
    def from_sums(cls, distinct: np.ndarray, counts: np.ndarray,
                  positives: np.ndarray) -> Calibrator:
        """Fit from sorted distinct scores with their row counts and numbers of positives."""
        keep = counts > 0
        counts, positives = counts[keep], positives[keep]
        total = positives.sum()
        if total <= 0 or total >= counts.sum():
            raise SchemaError("The reference period needs labelled rows of both classes to "
                              "calibrate scores for the label-free estimate.")
        fitted = isotonic_regression(positives / counts, sample_weight=counts, y_min=0.0,
                                     y_max=1.0)
        return cls(distinct[keep], np.asarray(fitted, dtype=np.float64))

    def __call__(self, score: np.ndarray) -> np.ndarray:
        return np.interp(score, self.thresholds, self.values)


def expected_roc_auc(score: np.ndarray, p: np.ndarray) -> float:
    """Area under the expected ROC curve (trapezoids, so tied scores count half as in AUC)."""
    if len(score) == 0:
        return np.nan
    order = np.argsort(-score, kind="mergesort")
    s, q = score[order], p[order]
    # One ROC point per distinct score: rows with equal scores cross the threshold together.
    last_of_run = np.r_[s[1:] != s[:-1], True]
    tp = np.cumsum(q)[last_of_run]
    fp = np.cumsum(1.0 - q)[last_of_run]
    if tp[-1] <= 0 or fp[-1] <= 0:
        return np.nan
    tpr = np.r_[0.0, tp / tp[-1]]
    fpr = np.r_[0.0, fp / fp[-1]]
    return float(np.trapezoid(tpr, fpr))


def expected_metric(metric: str, score: np.ndarray, p: np.ndarray,
                    pred: np.ndarray | None) -> float:
    """The metric expected on rows with scores `score`, calibrated probabilities `p` and
    decisions `pred`, if P(y | score) is as on the reference (NaN when undefined)."""
    if len(score) == 0:
        return np.nan
    if metric == "roc_auc":
        return expected_roc_auc(score, p)
    if metric == "log_loss":
        s = np.clip(score, _EPS, 1 - _EPS)
        return float(np.mean(-(p * np.log(s) + (1 - p) * np.log1p(-s))))
    if metric == "brier":
        return float(np.mean(p * (1 - score) ** 2 + (1 - p) * score**2))
    positive = pred == 1
    tp = float(p[positive].sum())
    fp = float(positive.sum()) - tp
    fn = float(p[~positive].sum())
    tn = float((~positive).sum()) - fn
    if metric == "accuracy":
        return (tp + tn) / len(score)
    if metric == "precision":
        return tp / (tp + fp) if tp + fp > 0 else np.nan
    if metric == "recall":
        return tp / (tp + fn) if tp + fn > 0 else np.nan
    if metric == "f1":
        return float(f1_from_counts(tp, fp, fn))
    raise OptionError(f"metric {metric!r} cannot be estimated from scores")
