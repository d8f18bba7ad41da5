"""The drift report: verdict, per-column table and every chart the Drift page shows, as a
self-contained document built from the results alone (it never reads the data).

Per column: the overview bars and, for the drifted columns (else the first compared one, the
page's default detail), both sides' distribution and its drift over time; then the drift and
missing-share heatmaps over time and the multivariate (PCA) chart, when those were computed.
"""

from __future__ import annotations

import math

import pandas as pd

from aidebt_core.drift.multivariate import MultivariateResult
from aidebt_core.drift.over_time import OverTimeResult
from aidebt_core.drift.result import OK, DriftResult
from aidebt_core.drift.summary import current_since, dataset_verdict, drift_headline
from aidebt_core.plots.drift import (
    distribution_figure,
    drift_heatmap,
    drift_overview,
    feature_over_time,
    multivariate_figure,
)
from aidebt_core.report import Report
from aidebt_core.reports.tables import fixed

MAX_DETAIL_FIGURES = 8


def drift_report(result: DriftResult, over_time: OverTimeResult | None = None,
                 multivariate: MultivariateResult | None = None) -> Report:
    """Summary, the table, the overview chart, the detail of the drifted columns and, when
    given, drift over time and multivariate drift."""
    reference, current = result.labels
    report = Report("Data drift", f"{reference} vs {current}")
    worst = result.worst
    report.callout(
        drift_headline(result, current_since(over_time), "columns") + ". "
        + dataset_verdict(result) + f" Method: {result.options.method}."
        + (f" Worst: {worst.name} ({worst.method} {worst.statistic:.3g}, threshold "
           f"{worst.threshold:.3g})." if worst and worst.statistic is not None else ""))
    if result.missing_changed:
        report.text("Missing share changed in: " + ", ".join(result.missing_changed) + ".")
    report.text(f"Reference: {result.reference_rows:,} rows; current: "
                f"{result.current_rows:,} rows.")
    report.heading("Columns")
    report.table(column_table(result))
    notes = [f"{c.name}: {c.note}" for c in result.columns if c.note]
    if notes:
        report.text("Notes: " + "; ".join(notes) + ".")
    report.figure(drift_overview(result))
    _details(report, result, over_time)
    if over_time is not None:
        report.heading("Drift over time")
        report.text(_over_time_caption(over_time))
        report.figure(drift_heatmap(over_time))
        report.figure(drift_heatmap(over_time, missing=True))
    if multivariate is not None:
        report.heading("Multivariate drift")
        report.text("A PCA fitted on the reference rebuilds every row; when relations between "
                    "columns change, rows are rebuilt worse even if each column alone looks "
                    f"unchanged. First alert: {multivariate.first_alert() or 'none'}.")
        report.figure(multivariate_figure(multivariate))
    return report


def column_table(result: DriftResult) -> pd.DataFrame:
    """The per-column table as people read it: human headers, values as fixed text, a p-value
    only for the tests that decide by it, long lists cut, so it wraps within the page."""
    rows = []
    for c in result.columns:
        rows.append({
            "Column": c.name, "Kind": c.kind, "Method": c.method,
            "Statistic": fixed(3)(c.statistic),
            "p-value": f"{c.p_value:.3g}" if c.method_info.by_p_value and c.p_value is not None
            else "—",
            "Threshold": fixed(3)(c.threshold),   # the statistic's decimals: comparable
            "Drifted": "yes" if c.drifted else "no",
            "Missing Δ (pp)": f"{_no_minus_zero(100 * c.missing_change):+.1f}"
            if math.isfinite(c.missing_change) else "—",
            "New values": _cut(c.new_categories, c.new_categories_count),
            "Vanished values": _cut(c.vanished_categories, c.vanished_categories_count),
        })
    frame = pd.DataFrame(rows)
    if not any(c.method_info.by_p_value for c in result.columns):
        frame = frame.drop(columns=["p-value"])
    return frame


def _no_minus_zero(x: float) -> float:
    return round(x, 1) + 0.0


def _cut(values: tuple[str, ...], count: int | None, limit: int = 60) -> str:
    """At most `limit` characters of a list, with how many there are in all."""
    text = ", ".join(values)
    if not text:
        return "—"
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(", ", 1)[0] + f", … ({count or len(values)} in all)"


def _details(report: Report, result: DriftResult, over_time: OverTimeResult | None) -> None:
    compared = [c for c in result.columns if c.status == OK]
    drifted = [c for c in compared if c.drifted]
    shown = drifted[:MAX_DETAIL_FIGURES] or compared[:1]
    if not shown:
        return
    report.heading("Distributions of the drifted columns" if drifted else
                   "Distribution of a column (none drifted)")
    for col in shown:
        dist = result.distribution(col.name)
        if dist is not None:
            report.figure(distribution_figure(dist),
                          caption=f"{col.method} = {col.statistic:.3g} "
                                  f"(threshold {col.threshold:.3g})")
        if over_time is not None and col.name in over_time.columns:
            report.figure(feature_over_time(over_time, col.name))


def _over_time_caption(trend: OverTimeResult) -> str:
    small = [c.label for c in trend.chunks if c.too_small]
    text = ("Each chunk is compared with the whole reference (a reference chunk with the rest "
            "of it); a dot marks a chunk past its threshold." if
            trend.threshold_source != "default" else
            "Fewer than two reference chunks: default thresholds are used.")
    if small:
        text += (f" Too small to judge (under {trend.min_rows:,} rows; they never alert): "
                 f"{', '.join(small)}.")
    return text
