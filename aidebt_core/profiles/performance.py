"""Performance per chunk from profiles: the label × prediction counts and score histograms.

Exact (the same functions as the exact path, on the same counts): accuracy, precision,
recall (Wilson intervals) and F1 (multinomial bootstrap, same seed). From the score histograms
per label: ROC AUC with `bound` = half the share of positive–negative pairs that fall in the
same non-point bin (their order is unknown; the value counts them as ties), never exact.
The label-free estimate (expected accuracy / AUC from scores calibrated on the reference's
labelled bins) is approximate too. Log loss, Brier, MAE and RMSE need the rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aidebt_core.errors import OptionError, SchemaError
from aidebt_core.profiles.model import ChunkProfile, DatasetProfile, Grid

FROM_COUNTS = ("accuracy", "precision", "recall", "f1")
FROM_HISTOGRAMS = ("roc_auc",)


@dataclass(frozen=True)
class ChunkMetric:
    """One metric on one chunk from its profile; `bound` for the non-exact ones."""

    key: str
    rows: int
    labelled: int
    value: float
    low: float
    high: float
    exact: bool
    bound: float | None = None


def _as_01(text: str | None) -> float | None:
    """A label/prediction as 0/1 (text as the engine cast it: '1', '1.0', 'true')."""
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


def confusion_counts(chunk: ChunkProfile) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) over the chunk's labelled rows (label and prediction known)."""
    tp = fp = fn = tn = 0
    for label, pred, n in chunk.performance.confusion:
        y, p = _as_01(label), _as_01(pred)
        if y is None or p is None:
            continue
        if y not in (0.0, 1.0) or p not in (0.0, 1.0):
            raise SchemaError(f"Binary metrics need 0/1 labels and predictions; the profile "
                              f"holds label {label!r} / prediction {pred!r}.")
        if y == 1 and p == 1:
            tp += n
        elif y == 0 and p == 1:
            fp += n
        elif y == 1 and p == 0:
            fn += n
        else:
            tn += n
    return tp, fp, fn, tn


def _labelled(chunk: ChunkProfile) -> int:
    return sum(n for label, _, n in chunk.performance.confusion if _as_01(label) is not None)


def score_histograms(chunk: ChunkProfile, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(positives, negatives) per score bin, in value order."""
    order = grid.order()
    pos = np.zeros(grid.bins)
    neg = np.zeros(grid.bins)
    for label, bins in chunk.performance.score_bins:
        y = _as_01(label)
        if y == 1:
            pos += np.asarray(bins, float)
        elif y == 0:
            neg += np.asarray(bins, float)
    return pos[order], neg[order]


def binned_auc(pos: np.ndarray, neg: np.ndarray, spread: np.ndarray
               ) -> tuple[float, float, float]:
    """(AUC counting same-bin pairs as ties, bound, Hanley–McNeil half-width)."""
    m, n = pos.sum(), neg.sum()
    if m == 0 or n == 0:
        return math.nan, math.nan, math.nan
    below = np.cumsum(neg) - neg          # negatives in lower bins
    auc = float(np.sum(pos * (below + 0.5 * neg)) / (m * n))
    bound = float(0.5 * np.sum((pos * neg)[spread]) / (m * n))
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (m - 1) * (q1 - auc * auc) + (n - 1) * (q2 - auc * auc)) / (m * n)
    return auc, bound, float(1.959963984540054 * math.sqrt(max(var, 0.0)))


def _from_confusion(metric: str, tp: int, fp: int, fn: int, tn: int):
    """The exact path's own interval functions on the counts (identical results)."""
    from aidebt_core.performance.realized import f1_interval, wilson

    if metric == "accuracy":
        return wilson(tp + tn, tp + fp + fn + tn)
    if metric == "precision":
        return wilson(tp, tp + fp)
    if metric == "recall":
        return wilson(tp, tp + fn)
    return f1_interval(tp, fp, fn, tn)


def chunk_metrics(profile: DatasetProfile, metric: str) -> tuple[ChunkMetric, ...]:
    """`metric` on every chunk of `profile`."""
    plan = profile.plan
    if metric not in FROM_COUNTS + FROM_HISTOGRAMS:
        raise OptionError(f"{metric} cannot be computed from a profile (it needs the rows); "
                          f"from profiles: {', '.join(FROM_COUNTS + FROM_HISTOGRAMS)}.")
    if plan.target is None:
        raise SchemaError(f"The profile of {profile.source} has no target (labels) column.")
    if metric in FROM_COUNTS and plan.prediction is None:
        raise SchemaError(f"{metric} needs a prediction column; the profile of "
                          f"{profile.source} has none.")
    if metric in FROM_HISTOGRAMS and plan.score_grid is None:
        raise SchemaError(f"{metric} needs a score column; the profile of {profile.source} "
                          "has none.")
    out = []
    for chunk in profile.chunks:
        if chunk.performance is None:
            raise SchemaError(f"The profile of {profile.source} holds no performance counts.")
        labelled = _labelled(chunk)
        if metric in FROM_COUNTS:
            est = _from_confusion(metric, *confusion_counts(chunk))
            out.append(ChunkMetric(chunk.key, chunk.rows, labelled, est.value, est.low,
                                   est.high, True))
            continue
        grid = plan.score_grid
        lows, highs = grid.bin_bounds()
        spread = (lows != highs)[grid.order()]
        auc, bound, half = binned_auc(*score_histograms(chunk, grid), spread)
        out.append(ChunkMetric(chunk.key, chunk.rows, labelled, auc, max(0.0, auc - half),
                               min(1.0, auc + half), False, bound))
    return tuple(out)


def performance_from_profiles(reference: DatasetProfile, current: DatasetProfile, *,
                              metric: str | None = None, k: float | None = None,
                              min_rows: int | None = None, min_labels: int | None = None):
    """A PerformanceResult (realized per chunk, bands from the reference chunks, alerts)
    from two profiles chunked by period. No label-free estimate: it needs the rows' scores
    calibrated one by one (the chunks say so in their note)."""
    import pandas as pd

    from aidebt_core.chunks import MIN_CHUNK_LABELS, MIN_CHUNK_ROWS
    from aidebt_core.performance.concept import (
        DEFAULT_K,
        band_from_reference,
        interval_worse_than_band,
    )
    from aidebt_core.performance.realized import Estimate
    from aidebt_core.performance.result import (
        ChunkInfo,
        ChunkValue,
        MetricSeries,
        PerformanceResult,
    )

    plan = reference.plan
    if plan.chunk is None:
        raise SchemaError(f"The profile of {reference.source} is not chunked by period; "
                          "profile it with --timestamp T --chunk month for performance.")
    metric = metric or ("roc_auc" if plan.score_grid is not None else "accuracy")
    k = DEFAULT_K if k is None else k
    min_rows = MIN_CHUNK_ROWS if min_rows is None else min_rows
    min_labels = MIN_CHUNK_LABELS if min_labels is None else min_labels
    infos, raw = [], []
    offset = pd.DateOffset(**{"day": {"days": 1}, "week": {"weeks": 1},
                              "month": {"months": 1}, "quarter": {"months": 3},
                              "year": {"years": 1}}[plan.chunk])
    for period, profile in (("reference", reference), ("current", current)):
        for m in chunk_metrics(profile, metric):
            if m.key in ("", "(no timestamp)"):
                continue
            start = pd.Timestamp(m.key)
            infos.append(ChunkInfo(len(infos), m.key[:7] if plan.chunk == "month" else m.key,
                                   start, start + offset, m.rows, m.labelled, period,
                                   too_small=m.rows < min_rows,
                                   too_few_labels=m.labelled < min_labels))
            raw.append(m)
    n_ref = sum(1 for c in infos if c.period == "reference")
    judged = [not (c.too_small or c.too_few_labels) for c in infos]
    values = [m.value for m in raw]
    halves = [(m.high - m.low) / 2 for m in raw]
    kept = [v if ok else math.nan for v, ok in zip(values[:n_ref], judged, strict=False)]
    band = band_from_reference(kept if np.isfinite(kept).sum() >= 2 else values[:n_ref],
                               halves[:n_ref], k, metric)
    chunk_values = []
    for m, ok in zip(raw, judged, strict=True):
        alert = bool(ok and np.isfinite(m.value)
                     and interval_worse_than_band(metric, Estimate(m.value, m.low, m.high),
                                                  band))
        note = "from a profile: no label-free estimate"
        if not m.exact:
            note += f"; binned scores: ±{m.bound:.2g} (bound)"
        chunk_values.append(ChunkValue(m.value, m.low, m.high, math.nan, math.nan, alert,
                                       False, False, note))
    series = {metric: MetricSeries(metric, band, None, tuple(chunk_values))}
    return PerformanceResult(metric=metric, task="binary", chunking=plan.chunk,
                             target=plan.target, score=plan.score, prediction=plan.prediction,
                             timestamp=plan.timestamp, threshold=None, chunks=tuple(infos),
                             series=series, min_rows=min_rows, min_labels=min_labels)
