"""An HTML/Markdown report of a performance analysis (for `--report` and the page download)."""

from __future__ import annotations

import pandas as pd

from aidebt_core.performance.notes import alert_notes, headline
from aidebt_core.performance.result import PerformanceResult
from aidebt_core.plots.performance import gap_figure, performance_figure
from aidebt_core.report import Report
from aidebt_core.reports.tables import MISSING, fixed, readable_table

EXPLANATION = (
    "The estimate uses only the model's scores, calibrated on the reference period: it moves "
    "when the inputs drift (data drift explains estimated drops). Realized quality needs "
    "labels. When realized quality leaves the estimate beyond the variation seen on the "
    "reference chunks, the relation between inputs and target has changed: concept drift.")


def performance_report(result: PerformanceResult, metric: str | None = None) -> Report:
    metric = metric or result.metric
    series = result.series[metric]
    alerts = result.alerts(metric)
    has_estimate = series.gap_band is not None
    report = Report("Performance & concept drift",
                    f"target {result.target}, score {result.score or '—'}, prediction "
                    f"{result.prediction or '—'}, chunks by {result.chunking}")
    report.text(headline(result, metric))
    if has_estimate:
        report.callout(EXPLANATION)
    report.heading(f"{series.name} over time")
    notes = alert_notes(result, metric)
    if notes:
        report.text("Alerts: " + "; ".join(n.text for n in notes) + ".")
    report.text("Chunks without labels"
                + (" (estimate only)" if has_estimate else "")
                + f": {', '.join(alerts['unlabelled']) or 'none'}. Too small to judge (under "
                f"{result.min_rows:,} rows, no alerts): {', '.join(alerts['too_small']) or 'none'}"
                f". Too few labels for a realized or concept-drift claim (under "
                f"{result.min_labels:,}): {', '.join(alerts['too_few_labels']) or 'none'}.")
    report.figure(performance_figure(result, metric))
    if has_estimate:
        report.figure(gap_figure(result, metric))
    report.text(band_text(result, metric))
    report.table(chunk_table(result, metric))
    return report


def _span(low, high) -> str:
    """"0.762–0.786" (3 decimals), or "—" when either end is missing."""
    low_text, high_text = fixed(3)(low), fixed(3)(high)
    return MISSING if MISSING in (low_text, high_text) else f"{low_text}–{high_text}"


def band_text(result: PerformanceResult, metric: str | None = None) -> str:
    """The reference bands every chunk is judged against (the same for every row, so said once
    above the table instead of repeated in two columns of it)."""
    series = result.series[metric or result.metric]
    text = (f"Reference band for {series.name}: {_span(series.band.lower, series.band.upper)} "
            "(a chunk outside it on the worse side alerts)")
    if series.gap_band is not None:
        text += (f"; band for realized − estimate: "
                 f"{_span(series.gap_band.lower, series.gap_band.upper)} (outside it: "
                 "concept drift)")
    return text + "."


def chunk_table(result: PerformanceResult, metric: str | None = None) -> pd.DataFrame:
    """One row per chunk as a reader sees it: human headers, 3 decimals, each interval as one
    "low–high" cell, yes/no flags, "—" where there is no value; the estimate's columns only
    when there is a score. Every cell is text."""
    metric = metric or result.metric
    name = result.series[metric].name
    frame = result.to_frame(metric)
    has_estimate = result.series[metric].gap_band is not None
    notes = [note if not partial or "partial" in note else
             "partial period" + (f"; {note}" if note else "")
             for note, partial in zip(frame["note"], frame["partial"], strict=True)]
    table = pd.DataFrame({
        "chunk": frame["chunk"], "period": frame["period"], "rows": frame["rows"],
        "labelled_rows": frame["labelled_rows"], "realized": frame["realized"],
        "realized_ci": [_span(lo, hi) for lo, hi in zip(frame["ci_low"], frame["ci_high"],
                                                         strict=True)],
        "estimated": frame["estimated"],
        "estimated_ci": [_span(lo, hi) for lo, hi in zip(frame["estimated_low"],
                                                          frame["estimated_high"], strict=True)],
        "gap": frame["gap"], "alert": frame["alert"], "estimated_alert": frame["estimated_alert"],
        "concept_alert": frame["concept_alert"], "note": notes})
    estimate_columns = ["estimated", "estimated_ci", "gap", "estimated_alert", "concept_alert"]
    return readable_table(
        table, hide=() if has_estimate else estimate_columns,
        formats={"realized": 3, "estimated": 3, "gap": fixed(3, signed=True),
                 "rows": "count", "labelled_rows": "count"},
        labels={"chunk": "Chunk", "period": "Period", "rows": "Rows",
                "labelled_rows": "Labelled rows", "realized": f"{name} (realized)",
                "realized_ci": "95% CI", "estimated": f"{name} (estimated)",
                "estimated_ci": "Estimate 95% CI", "gap": "Realized − estimate",
                "alert": "Outside band", "estimated_alert": "Estimate outside band",
                "concept_alert": "Concept drift", "note": "Note"})
