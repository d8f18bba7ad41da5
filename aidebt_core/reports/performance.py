"""An HTML/Markdown report of a performance analysis (for `--report` and the page download)."""

from __future__ import annotations

from aidebt_core.performance.notes import alert_notes, headline
from aidebt_core.performance.result import PerformanceResult
from aidebt_core.plots.performance import gap_figure, performance_figure
from aidebt_core.report import Report

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
    frame = result.to_frame(metric).drop(columns=["start", "end"])
    if not has_estimate:
        frame = frame.drop(columns=["estimated", "estimated_low", "estimated_high", "gap",
                                    "gap_lower", "gap_upper", "estimated_alert",
                                    "concept_alert"])
    report.table(frame.round(4))
    return report
