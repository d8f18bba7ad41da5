"""Performance over time: chunk reference and current, compute realized metrics where labels
exist, the label-free estimate where a score exists, bands, and alerts.

Only the needed columns (label, score, prediction, chunk index) leave DuckDB, as float64
arrays; validation (label values, score range, missing values) runs as SQL aggregates first
so bad input is refused with a message naming the column before anything is computed.

Small chunks are not judged: below `min_rows` rows a chunk never alerts; below `min_labels`
labels it makes no realized-metric or concept-drift claim (the label-free estimate, which
needs rows, not labels, may still alert). Such chunks also stay out of the bands. A realized
alert needs the chunk's confidence interval to clear the band on the worse side, and a
concept-drift alert needs the gap's interval (the realized interval moved to the gap) to
clear the gap band: a point outside with an interval reaching into the band is noise.
An estimate gets an interval too: the realized metric's noise per 1/√n on the judged
reference chunks, at the chunk's row count (an upper bound: the estimate averages expected
outcomes instead of drawing them, so this errs towards fewer alerts).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from aidebt_core.chunks import (
    CHUNK_COLUMN,
    MIN_CHUNK_LABELS,
    MIN_CHUNK_ROWS,
    Chunking,
    check_min_size,
    plan_chunks,
    side_labels,
)
from aidebt_core.data import ROWS, Table, is_numeric_type, quote_ident
from aidebt_core.errors import OptionError, SchemaError
from aidebt_core.performance.concept import (
    DEFAULT_K,
    Band,
    band_from_reference,
    interval_outside,
    interval_worse_than_band,
)
from aidebt_core.performance.estimation import ESTIMABLE, Calibrator, expected_metric
from aidebt_core.performance.realized import (
    BINARY_METRICS,
    LABEL_METRICS,
    METRIC_NAMES,
    REGRESSION_METRICS,
    SCORE_METRICS,
    Z_INTERVAL,
    Estimate,
    realized_metric,
)
from aidebt_core.performance.result import ChunkInfo, ChunkValue, MetricSeries, PerformanceResult


@dataclass(frozen=True)
class _Chunked:
    """Arrays of one table sorted by chunk, and each chunk's slice bounds."""

    infos: list[ChunkInfo]
    y: np.ndarray
    score: np.ndarray | None
    pred: np.ndarray | None
    bounds: list[tuple[int, int]]


def applicable_metrics(task: str, score: str | None, prediction: str | None) -> list[str]:
    """The metrics the given columns allow (binary: score metrics need a score)."""
    if task == "regression":
        return list(REGRESSION_METRICS)
    return [m for m in BINARY_METRICS if score or m in LABEL_METRICS]


def analyse_performance(reference: Table, current: Table, target: str, *,
                        score: str | None = None, prediction: str | None = None,
                        timestamp: str | None = None, chunking: Chunking | str = "month",
                        metric: str | None = None, threshold: float = 0.5,
                        k: float = DEFAULT_K, min_rows: int = MIN_CHUNK_ROWS,
                        min_labels: int = MIN_CHUNK_LABELS) -> PerformanceResult:
    """Realized and estimated performance per chunk of `reference` then `current`."""
    min_rows = check_min_size(min_rows, "rows")
    min_labels = check_min_size(min_labels, "labels")
    chunking = chunking if isinstance(chunking, Chunking) else Chunking.parse(chunking)
    metric = metric or ("roc_auc" if score else "accuracy")
    if metric not in METRIC_NAMES:
        raise OptionError(f"Unknown metric '{metric}'. Metrics: {', '.join(METRIC_NAMES)}.")
    task = "regression" if metric in REGRESSION_METRICS else "binary"
    if task == "binary" and not score and not prediction:
        raise SchemaError("Binary metrics need a prediction column, a score column, or both.")
    if task == "regression" and not prediction:
        raise SchemaError(f"{METRIC_NAMES[metric]} needs a numeric prediction column.")
    if metric in SCORE_METRICS and not score:
        raise SchemaError(f"{METRIC_NAMES[metric]} needs a score (probability) column.")
    if task == "binary" and not 0 < threshold < 1:
        raise OptionError(f"The decision threshold must lie strictly between 0 and 1, "
                          f"not {threshold}.")
    if chunking.is_period and not timestamp:
        raise SchemaError(f"Chunking by {chunking.kind} needs a timestamp column.")

    ref, cur = (_load(t, period, target, score, prediction, timestamp, chunking, task, threshold,
                      min_rows, min_labels)
                for t, period in ((reference, "reference"), (current, "current")))
    cur = _after(ref, cur, chunking)
    metrics = applicable_metrics(task, score, prediction)
    probs = _probabilities(ref, cur) if task == "binary" and score else None
    series = {m: _series(m, ref, cur, probs, k) for m in metrics}
    return PerformanceResult(
        metric=metric, task=task, chunking=str(chunking), target=target, score=score,
        prediction=prediction, timestamp=timestamp,
        threshold=threshold if task == "binary" and score and not prediction else None,
        chunks=tuple(ref.infos + cur.infos), series=series, min_rows=min_rows,
        min_labels=min_labels)


# ------------------------------------------------------------------------- loading & checks

def _after(ref: _Chunked, cur: _Chunked, chunking: Chunking) -> _Chunked:
    """Number current chunks after the reference ones and keep every label unique: row chunks
    continue the row count; a period both sides share (a mid-period split) gets a suffix."""
    n_ref = len(ref.infos)
    _, labels = side_labels(ref.infos, cur.infos, chunking)
    infos = [replace(c, index=c.index + n_ref, label=label)
             for c, label in zip(cur.infos, labels, strict=True)]
    return replace(cur, infos=infos)


def _load(table: Table, period: str, target: str, score: str | None, prediction: str | None,
          timestamp: str | None, chunking: Chunking, task: str, threshold: float,
          min_rows: int, min_labels: int) -> _Chunked:
    needed = [c for c in (target, score, prediction) if c]
    table.require_columns(needed)
    _check_columns(table, target, score, prediction, task)
    plan = plan_chunks(table, chunking, timestamp, min_rows=min_rows)
    periods = [period] * len(plan.chunks)
    cols = [f"CAST({quote_ident(target)} AS DOUBLE) AS y"]
    if score:
        cols.append(f"CAST({quote_ident(score)} AS DOUBLE) AS s")
    if prediction:
        cols.append(f"CAST({quote_ident(prediction)} AS DOUBLE) AS p")
    data = table.execute(f"SELECT {CHUNK_COLUMN} AS c, {', '.join(cols)} FROM "
                         f"({plan.sub_query()})").fetchnumpy()
    chunk = np.asarray(data["c"], dtype=np.int64)
    order = np.argsort(chunk, kind="stable")
    edges = np.searchsorted(chunk[order], np.arange(len(plan.chunks) + 1))
    y = _as_float(data["y"])[order]
    s = _as_float(data["s"])[order] if score else None
    if prediction:
        p = _as_float(data["p"])[order]
    elif task == "binary":
        p = (s >= threshold).astype(np.float64)
    else:
        p = None
    bounds = [(int(edges[i]), int(edges[i + 1])) for i in range(len(plan.chunks))]
    infos = []
    for c, per, (a, b) in zip(plan.chunks, periods, bounds, strict=True):
        labelled = int(np.count_nonzero(~np.isnan(y[a:b])))
        infos.append(ChunkInfo(c.index, c.label, c.start, c.end, c.rows, labelled, per,
                               c.partial, c.too_small, labelled < min_labels))
    return _Chunked(infos, y, s, p, bounds)


def _as_float(values) -> np.ndarray:
    """DuckDB NULLs arrive as a masked array; they become NaN."""
    if np.ma.isMaskedArray(values):
        return values.astype(np.float64).filled(np.nan)
    return np.asarray(values, dtype=np.float64)


def _check_columns(table: Table, target: str, score: str | None, prediction: str | None,
                   task: str) -> None:
    types = table.column_types
    for col, role in ((target, "label"), (score, "score"), (prediction, "prediction")):
        if col and not (is_numeric_type(types[col]) or types[col].upper() == "BOOLEAN"):
            raise SchemaError(f"The {role} column '{col}' of {table.label} is {types[col]}; "
                              f"it must hold numbers{' (0/1)' if task == 'binary' else ''}.")
    y = f"CAST({quote_ident(target)} AS DOUBLE)"
    # NULL and NaN labels both mean "not known yet"; infinities are errors.
    checks = [f"count(*) FILTER (WHERE isinf({y}))"]
    if task == "binary":
        other = f"{y} NOT IN (0, 1) AND NOT isnan({y})"
        checks.append(f"count(*) FILTER (WHERE {other})")
        checks.append(f"list(DISTINCT {y}) FILTER (WHERE {other})[1:5]")
    for col in (score, prediction):
        if col:
            checks.append(f"count(*) - count({quote_ident(col)})")
    if score:
        s = f"CAST({quote_ident(score)} AS DOUBLE)"
        checks.append(f"count(*) FILTER (WHERE {s} < 0 OR {s} > 1 OR isnan({s}))")
        checks.append(f"min({s}), max({s})")
    if prediction and task == "binary":
        checks.append(f"count(*) FILTER (WHERE CAST({quote_ident(prediction)} AS DOUBLE) "
                      "NOT IN (0, 1))")
    row = list(table.execute(f"SELECT {', '.join(checks)} FROM {ROWS}").fetchone())
    if row.pop(0):
        raise SchemaError(f"The label column '{target}' of {table.label} holds infinite values.")
    if task == "binary":
        bad, examples = row.pop(0), row.pop(0)
        if bad:
            raise SchemaError(f"The label column '{target}' of {table.label} is not binary: "
                              f"{bad} value(s) other than 0/1 (e.g. {examples}). Binary metrics "
                              "need 0/1 labels; use MAE/RMSE for a numeric target.")
    for col, role in ((score, "score"), (prediction, "prediction")):
        if col:
            missing = row.pop(0)
            if missing:
                raise SchemaError(f"The {role} column '{col}' of {table.label} has {missing} "
                                  "missing value(s); every row needs one.")
    if score:
        bad, lo, hi = row.pop(0), row.pop(0), row.pop(0)
        if bad:
            raise SchemaError(f"The score column '{score}' of {table.label} must hold "
                              f"probabilities in [0, 1]; {bad} value(s) are outside "
                              f"(range {lo} … {hi}).")
    if prediction and task == "binary" and row.pop(0):
        raise SchemaError(f"The prediction column '{prediction}' of {table.label} must hold 0/1 "
                          "decisions for binary metrics.")


# ------------------------------------------------------------------------------- computing

def _probabilities(ref: _Chunked, cur: _Chunked) -> list[np.ndarray]:
    """Calibrated P(y=1 | score) for every chunk's rows, reference chunks then current ones.

    Current chunks use one calibrator fitted on all labelled reference rows; each reference
    chunk uses one fitted without that chunk (leave-one-chunk-out), so reference gaps show
    honest variation. The distinct reference scores are sorted once and every fit starts
    from per-chunk sums over them."""
    labelled = ~np.isnan(ref.y)
    distinct, inverse = np.unique(ref.score[labelled], return_inverse=True)
    chunk_of = np.repeat(np.arange(len(ref.bounds)), [b - a for a, b in ref.bounds])[labelled]
    y = ref.y[labelled]
    counts = [np.bincount(inverse[chunk_of == i], minlength=distinct.size).astype(np.float64)
              for i in range(len(ref.bounds))]
    positives = [np.bincount(inverse[chunk_of == i], weights=y[chunk_of == i],
                             minlength=distinct.size) for i in range(len(ref.bounds))]
    all_counts, all_positives = np.sum(counts, axis=0), np.sum(positives, axis=0)
    full = Calibrator.from_sums(distinct, all_counts, all_positives)
    probs = []
    for i, (a, b) in enumerate(ref.bounds):
        try:
            cal = Calibrator.from_sums(distinct, all_counts - counts[i],
                                       all_positives - positives[i])
        except SchemaError:   # the other chunks hold one class only: fall back to all rows
            cal = full
        probs.append(cal(ref.score[a:b]))
    probs += [full(cur.score[a:b]) for a, b in cur.bounds]
    return probs


def _series(metric: str, ref: _Chunked, cur: _Chunked, probs: list[np.ndarray] | None,
            k: float) -> MetricSeries:
    estimable = probs is not None and metric in ESTIMABLE
    raw = []   # (realized Estimate, estimated all rows, estimated on labelled rows, note)
    chunk_no = 0
    for part in (ref, cur):
        for a, b in part.bounds:
            y = part.y[a:b]
            s = part.score[a:b] if part.score is not None else None
            p = part.pred[a:b] if part.pred is not None else None
            labelled = ~np.isnan(y)
            everything = bool(labelled.all())
            y_l = y if everything else y[labelled]
            s_l = s if s is None or everything else s[labelled]
            p_l = p if p is None or everything else p[labelled]
            real = realized_metric(metric, y_l, s_l, p_l)
            note = _note(metric, y_l, p_l, labelled)
            est = est_l = np.nan
            if estimable:
                prob = probs[chunk_no]
                est = expected_metric(metric, s, prob, p)
                est_l = est if everything else expected_metric(metric, s_l, prob[labelled], p_l)
            raw.append((real, est, est_l, note))
            chunk_no += 1
    n_ref = len(ref.bounds)
    infos = ref.infos + cur.infos
    labels_ok = [not (c.too_small or c.too_few_labels) for c in infos]
    ref_raw = raw[:n_ref]
    widths = [(r.high - r.low) / 2 for r, *_ in ref_raw]
    band = estimate_band([r.value for r, *_ in ref_raw], widths, labels_ok[:n_ref], k,
                 METRIC_NAMES[metric])
    gaps = [r.value - el for r, _, el, _ in raw]
    gap_band = None
    if estimable:
        gap_band = estimate_band(gaps[:n_ref], widths, labels_ok[:n_ref], k,
                         f"{METRIC_NAMES[metric]} gap")
    unit = noise_per_root_row([r for r, *_ in ref_raw], infos[:n_ref], labels_ok[:n_ref])
    values = []
    for (real, est, _, note), gap, info, judged in zip(raw, gaps, infos, labels_ok,
                                                       strict=True):
        rows_ok = not info.too_small
        half = Z_INTERVAL * unit / np.sqrt(info.rows) if info.rows else np.nan
        estimate = Estimate(est, est - half, est + half)
        est_alert = rows_ok and interval_worse_than_band(metric, estimate, band)
        if judged and np.isfinite(real.value):
            alert = interval_worse_than_band(metric, real, band)
        else:   # no (or too few) labels: the estimate speaks for the chunk
            alert = est_alert
        concept = bool(judged and gap_band is not None and interval_outside(
            gap - (real.value - real.low), gap + (real.high - real.value), gap_band))
        values.append(ChunkValue(
            realized=real.value, ci_low=real.low, ci_high=real.high, estimated=est, gap=gap,
            alert=bool(alert), estimated_alert=bool(est_alert), concept_alert=concept,
            note=size_note(info, note), estimated_low=estimate.low,
            estimated_high=estimate.high))
    return MetricSeries(metric, band, gap_band, tuple(values))


def noise_per_root_row(reference: list[Estimate], infos: list[ChunkInfo],
                        judged: list[bool]) -> float:
    """A chunk value's standard error times √(labelled rows), the median over the judged
    reference chunks (NaN when none has an interval)."""
    units = [(r.high - r.low) / 2 / Z_INTERVAL * np.sqrt(c.labelled_rows)
             for r, c, ok in zip(reference, infos, judged, strict=True)
             if ok and c.labelled_rows and np.isfinite(r.high - r.low)]
    return float(np.median(units)) if units else np.nan


def estimate_band(values: list[float], half_widths: list[float], judged: list[bool], k: float,
          what: str) -> Band:
    """The band from judged reference chunks; from all of them if fewer than two are judged
    (a short reference of small chunks is still usable, if wide)."""
    kept = [v if ok else np.nan for v, ok in zip(values, judged, strict=True)]
    if np.isfinite(kept).sum() >= 2:
        return band_from_reference(kept, half_widths, k, what)
    return band_from_reference(values, half_widths, k, what)


def size_note(info: ChunkInfo, note: str) -> str:
    """Say why a chunk is not judged, before any other note."""
    if info.too_small:
        return f"too small to judge ({info.rows:,} rows)" + (f"; {note}" if note else "")
    if info.too_few_labels and info.labelled_rows > 0:
        return (f"too few labels to judge realized quality ({info.labelled_rows:,})"
                + (f"; {note}" if note else ""))
    return note


def _note(metric: str, y: np.ndarray, pred: np.ndarray | None, labelled: np.ndarray) -> str:
    """Why a chunk's value is missing or partial ('' when it is complete)."""
    if len(y) == 0:
        return "no labels yet"
    has_pos, has_neg = bool((y == 1).any()), bool((y == 0).any())
    if metric == "roc_auc" and not (has_pos and has_neg):
        return f"undefined: all labels are {1 if has_pos else 0}"
    predicted_pos = pred is not None and bool((pred == 1).any())
    if metric == "precision" and not predicted_pos:
        return "undefined: no positive predictions"
    if (metric == "recall" and not has_pos) or (metric == "f1" and not has_pos
                                                 and not predicted_pos):
        return "undefined: no positive labels"
    return "" if labelled.all() else f"{int((~labelled).sum())} rows without labels"
