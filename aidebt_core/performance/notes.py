"""Every alert as a sentence with its direction and size ("2025-10: ROC AUC 0.666, 0.117
below the estimate 0.783 (worse)"), for the page, the report and the CLI summary.

A list of month names says where something happened but not what: a reader cannot tell a
better month from a worse one, or a hair from a cliff. Each note carries the numbers too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aidebt_core.performance.result import PerformanceResult, realized_judged

KINDS = ("concept_drift", "performance", "estimate_only")


@dataclass(frozen=True)
class AlertNote:
    """One alert on one chunk: what was compared with what, and by how much."""

    kind: str           # "concept_drift" | "performance" | "estimate_only"
    chunk: str
    metric: str         # display name, e.g. "ROC AUC"
    value: float        # realized (estimate for "estimate_only")
    compared_to: float  # the estimate (concept drift) or the band edge crossed
    difference: float   # value − compared_to (signed)
    worse: bool         # the difference is in the metric's worse direction
    text: str


def alert_notes(result: PerformanceResult, metric: str | None = None) -> tuple[AlertNote, ...]:
    """Notes for every current chunk's concept-drift, realized and estimate-only alert."""
    metric = metric or result.metric
    series = result.series[metric]
    name, lower_better = series.name, series.lower_is_better
    notes = []
    for chunk, v in zip(result.chunks, series.values, strict=True):
        if chunk.period != "current":
            continue
        judged = realized_judged(chunk, v)
        if v.concept_alert and np.isfinite(v.gap):
            estimate = v.realized - v.gap
            notes.append(_note("concept_drift", chunk.label, name, v.realized, estimate,
                               lower_better, f"{name} {v.realized:.3f}",
                               f"the label-free estimate {estimate:.3f}"))
        if v.alert and judged:
            edge = series.band.upper if lower_better else series.band.lower
            notes.append(_note("performance", chunk.label, name, v.realized, edge, lower_better,
                               f"{name} {v.realized:.3f}",
                               f"the reference band's {'upper' if lower_better else 'lower'} "
                               f"edge {edge:.3f}"))
        if v.estimated_alert and not judged:
            edge = series.band.upper if lower_better else series.band.lower
            why = "no labels yet" if chunk.labelled_rows == 0 else "too few labels"
            notes.append(_note("estimate_only", f"{chunk.label} ({why})", name, v.estimated,
                               edge, lower_better, f"estimated {name} {v.estimated:.3f}",
                               f"the reference band's {'upper' if lower_better else 'lower'} "
                               f"edge {edge:.3f}"))
    return tuple(notes)


def _note(kind: str, chunk: str, name: str, value: float, compared_to: float,
          lower_better: bool, what: str, against: str) -> AlertNote:
    diff = float(value - compared_to)
    worse = diff > 0 if lower_better else diff < 0
    side = "above" if diff > 0 else "below"
    text = (f"{chunk}: {what}, {abs(diff):.3f} {side} {against} "
            f"({'worse' if worse else 'better'})")
    return AlertNote(kind, chunk, name, float(value), float(compared_to), diff, worse, text)


def headline(result: PerformanceResult, metric: str | None = None) -> str:
    """One sentence for the top of the page and report, from the same alerts as the details:
    concept drift first (the estimate cannot see it), then measured drops, then estimate-only
    warnings."""
    metric = metric or result.metric
    name = result.series[metric].name
    notes = alert_notes(result, metric)
    for kind, opening, against in (
            ("concept_drift", "Concept drift in", "the label-free estimate"),
            ("performance", f"{name} outside the reference band in", "the band")):
        found = [n for n in notes if n.kind == kind]
        if found:
            worst = max(found, key=lambda n: abs(n.difference))
            side = "above" if worst.difference > 0 else "below"
            chunks = ", ".join(dict.fromkeys(n.chunk for n in found))
            return (f"{opening} {chunks}: realized {name} up to {abs(worst.difference):.3f} "
                    f"{side} {against} ({'worse' if worst.worse else 'better'}).")
    estimate_only = [n.chunk for n in notes if n.kind == "estimate_only"]
    if estimate_only:
        return (f"No measured alert; the estimated {name} is beyond the reference band in "
                f"{', '.join(estimate_only)}.")
    return f"No alerts: {name} stays within the reference band in every judged current chunk."
