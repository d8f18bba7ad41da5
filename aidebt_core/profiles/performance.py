"""Performance per chunk from profiles: the label × prediction counts and score histograms.

Exact (the same functions as the exact path, on the same counts): accuracy, precision,
recall (Wilson intervals) and F1 (multinomial bootstrap, same seed). From the score histograms
per label: ROC AUC with `bound` = half the share of positive–negative pairs that fall in the
same non-point bin (their order is unknown; the value counts them as ties), never exact.
The label-free estimate (profiles/estimate.py: expected AUC, accuracy, precision, recall,
F1 from scores calibrated on the reference's labelled bins) is exact when each score bin holds
one score, else given with its bound. Log loss, Brier, MAE and RMSE need the rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aidebt_core.errors import OptionError, SchemaError
from aidebt_core.profiles.model import ChunkProfile, DatasetProfile, Grid, label_as_01

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


def confusion_counts(chunk: ChunkProfile) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) over the chunk's labelled rows (label and prediction known)."""
    tp = fp = fn = tn = 0
    for label, pred, n in chunk.performance.confusion:
        y, p = label_as_01(label), label_as_01(pred)
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
    return sum(n for label, _, n in chunk.performance.confusion
               if label_as_01(label) is not None)


def score_histograms(chunk: ChunkProfile, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(positives, negatives) per score bin, in value order."""
    order = grid.order()
    pos = np.zeros(grid.bins)
    neg = np.zeros(grid.bins)
    for label, bins in chunk.performance.score_bins:
        y = label_as_01(label)
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
    """A PerformanceResult from two profiles chunked by period: every metric the roles
    allow (`metric` first), realized per chunk, bands from the reference chunks, the
    label-free estimate from the score histograms (profiles/estimate.py, with its bound)
    and the alerts, as `performance.analysis` builds them on rows."""
    from aidebt_core.chunks import MIN_CHUNK_LABELS, MIN_CHUNK_ROWS
    from aidebt_core.performance.concept import DEFAULT_K
    from aidebt_core.performance.result import PerformanceResult

    plan = reference.plan
    if plan.chunk is None:
        raise SchemaError(f"The profile of {reference.source} is not chunked by period; "
                          "profile it with --timestamp T --chunk month for performance.")
    metric = metric or ("roc_auc" if plan.score_grid is not None else "accuracy")
    k = DEFAULT_K if k is None else k
    min_rows = MIN_CHUNK_ROWS if min_rows is None else min_rows
    min_labels = MIN_CHUNK_LABELS if min_labels is None else min_labels
    metrics = [metric] + [m for m in (*FROM_COUNTS, *FROM_HISTOGRAMS)
                          if m != metric and _available(plan, m)]
    infos, raw = _chunk_infos(reference, current, metric, min_rows, min_labels), {}
    for m in metrics:
        raw[m] = [c for side in (reference, current) for c in chunk_metrics(side, m)
                  if c.key not in ("", "(no timestamp)")]
    series = {m: _series(m, reference, current, infos, raw[m], k) for m in metrics}
    return PerformanceResult(metric=metric, task="binary", chunking=plan.chunk,
                             target=plan.target, score=plan.score, prediction=plan.prediction,
                             timestamp=plan.timestamp, threshold=None, chunks=tuple(infos),
                             series=series, min_rows=min_rows, min_labels=min_labels)


def _available(plan, metric: str) -> bool:
    """Whether the profile's roles allow `metric` (a prediction, a score)."""
    if metric in FROM_COUNTS:
        return plan.prediction is not None
    return plan.score_grid is not None


def _chunk_infos(reference: DatasetProfile, current: DatasetProfile, metric: str,
                 min_rows: int, min_labels: int):
    """The dated chunks of both sides, labelled as the rows path labels them."""
    import pandas as pd

    from aidebt_core.chunks import Chunk, Chunking, period_label, period_offset, side_labels
    from aidebt_core.performance.result import ChunkInfo
    from aidebt_core.profiles.periods import period_chunks

    kind = reference.plan.chunk
    sides = []
    for profile in (reference, current):
        # partial first/last periods from the chunks' first/last times (as drift over time)
        partial = {c.start.strftime("%Y-%m-%d"): c.partial
                   for c in period_chunks(profile, kind, 0, None)}
        sides.append([(Chunk(0, period_label(kind, pd.Timestamp(m.key)), pd.Timestamp(m.key),
                             pd.Timestamp(m.key) + period_offset(kind), m.rows), m.labelled,
                       partial.get(m.key, False))
                      for m in chunk_metrics(profile, metric)
                      if m.key not in ("", "(no timestamp)")])
    labels = side_labels([c[0] for c in sides[0]], [c[0] for c in sides[1]], Chunking(kind))
    infos = []
    for period, chunks, names in zip(("reference", "current"), sides, labels, strict=True):
        for (c, labelled, is_partial), label in zip(chunks, names, strict=True):
            infos.append(ChunkInfo(len(infos), label, c.start, c.end, c.rows, labelled, period,
                                   partial=is_partial, too_small=c.rows < min_rows,
                                   too_few_labels=labelled < min_labels))
    return infos


def _series(metric: str, reference: DatasetProfile, current: DatasetProfile, infos, raw, k):
    """One metric's series as `performance.analysis._series` builds it on rows: the band
    from judged reference chunks, the label-free estimate (profiles/estimate.py) with its
    interval, the gap band, and the realized / estimate / concept-drift alerts."""
    from aidebt_core.performance.analysis import estimate_band, noise_per_root_row, size_note
    from aidebt_core.performance.concept import interval_outside, interval_worse_than_band
    from aidebt_core.performance.realized import METRIC_NAMES, Z_INTERVAL, Estimate
    from aidebt_core.performance.result import ChunkValue, MetricSeries
    from aidebt_core.profiles.estimate import ESTIMABLE_FROM_PROFILES, chunk_estimates

    n_ref = sum(1 for c in infos if c.period == "reference")
    estimates, why = None, "no score"
    if reference.plan.score_grid is not None and metric in ESTIMABLE_FROM_PROFILES:
        try:
            estimates = chunk_estimates(reference, current, metric,
                                        [(c.period, m.key) for c, m in zip(infos, raw,
                                                                           strict=True)])
        except SchemaError as exc:   # the page and JSON say why there is no estimate
            why = str(exc)
    realized = [Estimate(m.value, m.low, m.high) for m in raw]
    judged = [not (c.too_small or c.too_few_labels) for c in infos]
    widths = [(r.high - r.low) / 2 for r in realized[:n_ref]]
    name = METRIC_NAMES[metric]
    band = estimate_band([r.value for r in realized[:n_ref]], widths, judged[:n_ref], k, name)
    est = [e.value for e in estimates] if estimates else [math.nan] * len(raw)
    gaps = ([r.value - e.labelled for r, e in zip(realized, estimates, strict=True)]
            if estimates else [math.nan] * len(raw))
    gap_band = (estimate_band(gaps[:n_ref], widths, judged[:n_ref], k, f"{name} gap")
                if estimates else None)
    unit = noise_per_root_row(realized[:n_ref], infos[:n_ref], judged[:n_ref])
    values = []
    for i, (m, r, info, ok) in enumerate(zip(raw, realized, infos, judged, strict=True)):
        half = Z_INTERVAL * unit / np.sqrt(info.rows) if info.rows else math.nan
        estimate = Estimate(est[i], est[i] - half, est[i] + half)
        est_alert = bool(estimates and not info.too_small
                         and interval_worse_than_band(metric, estimate, band))
        if ok and np.isfinite(r.value):
            alert = interval_worse_than_band(metric, r, band)
        else:   # no (or too few) labels: the estimate speaks for the chunk
            alert = est_alert
        concept = bool(ok and gap_band is not None and interval_outside(
            gaps[i] - (r.value - r.low), gaps[i] + (r.high - r.value), gap_band))
        notes = ["from a profile"]
        if not m.exact and np.isfinite(m.bound):
            notes.append(f"binned scores: ±{m.bound:.2g} (bound)")
        if estimates is None:
            notes.append(f"no label-free estimate ({why})")
        elif not estimates[i].exact:
            notes.append(f"estimate ±{estimates[i].bound:.2g} (bound)")
        if not m.labelled:
            notes.insert(0, "no labels yet")
        values.append(ChunkValue(r.value, r.low, r.high, est[i], gaps[i], bool(alert),
                                 est_alert, concept, size_note(info, "; ".join(notes)),
                                 estimate.low, estimate.high,
                                 0.0 if m.exact else m.bound,
                                 None if estimates is None else
                                 0.0 if estimates[i].exact else estimates[i].bound))
    return MetricSeries(metric, band, gap_band, tuple(values))
