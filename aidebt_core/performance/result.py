"""Result objects of the performance analysis: per-chunk values, bands, alerts.

`PerformanceResult.to_dict`/`from_dict` round-trip it through JSON; `fingerprint` hashes its
options with the input identity the caller set (`with_inputs`, see drift/identity.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from aidebt_core.drift.identity import Identity, fingerprint, identity_from
from aidebt_core.jsonsafe import jsonable
from aidebt_core.performance.concept import Band
from aidebt_core.performance.realized import LOWER_IS_BETTER, METRIC_NAMES


@dataclass(frozen=True)
class ChunkValue:
    """One metric on one chunk. NaN where undefined; `note` says why."""

    realized: float
    ci_low: float
    ci_high: float
    estimated: float
    gap: float              # realized − estimate on the same (labelled) rows
    alert: bool             # realized interval (or, without enough labels, the estimate)
                            # beyond the band on the worse side; never on a too-small chunk
    estimated_alert: bool   # the estimate alone is worse than the band
    concept_alert: bool     # the gap is outside the reference gaps' band
    note: str
    estimated_low: float = np.nan    # the estimate's interval (see analysis.py)
    estimated_high: float = np.nan
    # From profiles only (profiles/performance.py): the realized value's and the estimate's
    # bound, 0.0 when exact; None on rows, where both are exact (no JSON keys then).
    realized_bound: float | None = None
    estimated_bound: float | None = None

    def exactness(self) -> dict:
        """JSON `realized_exact`/`realized_bound`, `estimated_exact`/`estimated_bound` (only
        from profiles: a binned value is never called exact)."""
        out = {}
        for name, bound in (("realized", self.realized_bound),
                            ("estimated", self.estimated_bound)):
            if bound is not None:
                out[f"{name}_exact"] = bound == 0.0
                out[f"{name}_bound"] = bound
        return out


@dataclass(frozen=True)
class ChunkInfo:
    index: int
    label: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    rows: int
    labelled_rows: int
    period: str             # "reference" | "current"
    partial: bool = False   # the data does not cover the whole period
    too_small: bool = False  # fewer rows than the minimum: shown, never alerts
    too_few_labels: bool = False  # fewer labels than the minimum: no realized/concept claim


@dataclass(frozen=True)
class MetricSeries:
    """One metric over all chunks, with its performance band and concept-drift band."""

    metric: str
    band: Band
    gap_band: Band | None   # None when there is no estimate (no score, or regression)
    values: tuple[ChunkValue, ...]

    @property
    def name(self) -> str:
        return METRIC_NAMES[self.metric]

    @property
    def lower_is_better(self) -> bool:
        return self.metric in LOWER_IS_BETTER


@dataclass(frozen=True)
class PerformanceResult:
    """Performance over time for every applicable metric; `metric` is the primary one."""

    metric: str
    task: str               # "binary" | "regression"
    chunking: str
    target: str
    score: str | None
    prediction: str | None
    timestamp: str | None
    threshold: float | None  # decision threshold used when predictions come from the score
    chunks: tuple[ChunkInfo, ...]
    series: dict[str, MetricSeries]
    min_rows: int = 0
    min_labels: int = 0
    inputs: Identity = ()   # set by the caller (with_inputs): what the data was read from

    @property
    def fingerprint(self) -> str:
        """Options (columns, chunking, metric, thresholds) + the caller's input identity."""
        return fingerprint("performance", {
            "metric": self.metric, "chunking": self.chunking, "target": self.target,
            "score": self.score, "prediction": self.prediction, "timestamp": self.timestamp,
            "threshold": self.threshold, "min_rows": self.min_rows,
            "min_labels": self.min_labels, "k": self.series[self.metric].band.k}, self.inputs)

    def with_inputs(self, inputs: Identity) -> PerformanceResult:
        return replace(self, inputs=tuple(inputs))

    @property
    def metrics(self) -> list[str]:
        return list(self.series)

    def to_frame(self, metric: str | None = None) -> pd.DataFrame:
        """One row per chunk for `metric` (default: the primary metric)."""
        s = self.series[metric or self.metric]
        rows = []
        for c, v in zip(self.chunks, s.values, strict=True):
            rows.append({
                "chunk": c.label, "start": c.start, "end": c.end, "period": c.period,
                "rows": c.rows, "labelled_rows": c.labelled_rows, "partial": c.partial,
                "too_small": c.too_small, "too_few_labels": c.too_few_labels,
                "realized": v.realized, "ci_low": v.ci_low, "ci_high": v.ci_high,
                "estimated": v.estimated, "estimated_low": v.estimated_low,
                "estimated_high": v.estimated_high,
                "lower": s.band.lower, "upper": s.band.upper, "gap": v.gap,
                "gap_lower": s.gap_band.lower if s.gap_band else np.nan,
                "gap_upper": s.gap_band.upper if s.gap_band else np.nan,
                "alert": v.alert, "estimated_alert": v.estimated_alert,
                "concept_alert": v.concept_alert, "note": v.note})
        return pd.DataFrame(rows)

    def alerts(self, metric: str | None = None) -> dict:
        """Labels of current chunks with each kind of alert, for summaries and the audit."""
        s = self.series[metric or self.metric]
        pairs = [(c, v) for c, v in zip(self.chunks, s.values, strict=True)
                 if c.period == "current"]
        # A realized-metric alert needs labels the chunk can be judged on; a chunk without
        # them alerts on its estimate alone, listed apart so no unlabelled month is ever
        # called "worse than the band" as if it had been measured.
        return {
            "performance": [c.label for c, v in pairs if v.alert and realized_judged(c, v)],
            "estimate_only": [c.label for c, v in pairs
                              if v.estimated_alert and not realized_judged(c, v)],
            "estimated": [c.label for c, v in pairs if v.estimated_alert],
            "concept_drift": [c.label for c, v in pairs if v.concept_alert],
            "unlabelled": [c.label for c, _ in pairs if c.labelled_rows == 0],
            "too_small": [c.label for c, _ in pairs if c.too_small],
            "too_few_labels": [c.label for c, _ in pairs
                               if c.too_few_labels and c.labelled_rows > 0 and not c.too_small],
        }

    @property
    def any_alert(self) -> bool:
        found = self.alerts()
        return bool(found["performance"] or found["concept_drift"] or found["estimate_only"])

    def to_dict(self) -> dict:
        """The CLI contract's JSON (`metric`, `chunks`), plus every metric and an alert summary."""
        def chunk_rows(metric: str) -> list[dict]:
            s = self.series[metric]
            return [{"label": c.label, "start": c.start, "end": c.end, "rows": c.rows,
                     "labelled_rows": c.labelled_rows, "period": c.period,
                     "partial": c.partial, "too_small": c.too_small,
                     "too_few_labels": c.too_few_labels,
                     "realized": v.realized, "ci_low": v.ci_low, "ci_high": v.ci_high,
                     "estimated": v.estimated, "estimated_low": v.estimated_low,
                     "estimated_high": v.estimated_high,
                     "lower": s.band.lower, "upper": s.band.upper,
                     "gap": v.gap, "alert": v.alert, "estimated_alert": v.estimated_alert,
                     "concept_drift_alert": v.concept_alert, "note": v.note,
                     **v.exactness()}
                    for c, v in zip(self.chunks, s.values, strict=True)]

        payload = {
            "metric": self.metric, "task": self.task, "chunking": self.chunking,
            "target": self.target, "score": self.score, "prediction": self.prediction,
            "timestamp": self.timestamp, "decision_threshold": self.threshold,
            "min_chunk_rows": self.min_rows, "min_chunk_labels": self.min_labels,
            "chunks": chunk_rows(self.metric),
            "alerts": self.alerts(),
            "any_alert": self.any_alert,
            "metrics": {m: {"name": s.name, "lower_is_better": s.lower_is_better,
                            "lower": s.band.lower, "upper": s.band.upper,
                            "gap_lower": s.gap_band.lower if s.gap_band else None,
                            "gap_upper": s.gap_band.upper if s.gap_band else None,
                            "alerts": self.alerts(m), "chunks": chunk_rows(m)}
                        for m, s in self.series.items()},
            # What from_dict needs beyond the contract's keys: each band's parts.
            "bands": {m: {"band": _band_parts(s.band), "gap_band": _band_parts(s.gap_band)}
                      for m, s in self.series.items()},
            "inputs": [list(i) for i in self.inputs],
            "fingerprint": self.fingerprint,
        }
        return jsonable(payload)

    @classmethod
    def from_dict(cls, data: Mapping) -> PerformanceResult:
        """The result a `to_dict` document describes (NaN figures come back from null)."""
        rows = data["chunks"]
        chunks = tuple(ChunkInfo(
            i, r["label"], _time(r["start"]), _time(r["end"]), int(r["rows"]),
            int(r["labelled_rows"]), r["period"], bool(r["partial"]), bool(r["too_small"]),
            bool(r["too_few_labels"])) for i, r in enumerate(rows))
        series = {}
        for metric, info in data["metrics"].items():
            bands = data["bands"][metric]
            values = tuple(ChunkValue(
                _num(r["realized"]), _num(r["ci_low"]), _num(r["ci_high"]),
                _num(r["estimated"]), _num(r["gap"]), bool(r["alert"]),
                bool(r["estimated_alert"]), bool(r["concept_drift_alert"]), r["note"],
                _num(r["estimated_low"]), _num(r["estimated_high"]),
                _bound(r, "realized"), _bound(r, "estimated")) for r in info["chunks"])
            series[metric] = MetricSeries(metric, _band(bands["band"]),
                                          _band(bands["gap_band"]), values)
        return cls(data["metric"], data["task"], data["chunking"], data["target"],
                   data["score"], data["prediction"], data["timestamp"],
                   data["decision_threshold"], chunks, series,
                   int(data["min_chunk_rows"]), int(data["min_chunk_labels"]),
                   identity_from(data.get("inputs")))


def realized_judged(chunk: ChunkInfo, value: ChunkValue) -> bool:
    """The chunk has enough rows and labels for a claim about its realized value."""
    return (not chunk.too_small and not chunk.too_few_labels and chunk.labelled_rows > 0
            and bool(np.isfinite(value.realized)))


def _band_parts(band: Band | None) -> list[float] | None:
    return None if band is None else [band.centre, band.sigma, band.k]


def _band(parts) -> Band | None:
    return None if parts is None else Band(*(_num(p) for p in parts))


def _bound(row: Mapping, name: str) -> float | None:
    if f"{name}_exact" not in row:
        return None
    return np.nan if row[f"{name}_bound"] is None else float(row[f"{name}_bound"])


def _num(value) -> float:
    return np.nan if value is None else float(value)


def _time(value) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value)
