"""The drift report: verdict, per-column table and every chart the Drift page shows, as a
self-contained document built from the results alone (it never reads the data).

Per column: the overview bars and, for the drifted columns (else the first compared one, the
page's default detail), both sides' distribution and its drift over time; then the drift and
missing-share heatmaps over time and the multivariate (PCA) chart, when those were computed.
"""

from __future__ import annotations

from aidebt_core.drift.multivariate import MultivariateResult
from aidebt_core.drift.over_time import OverTimeResult
from aidebt_core.drift.result import OK, DriftResult
from aidebt_core.plots.drift import (
    distribution_figure,
    drift_heatmap,
    drift_overview,
    feature_over_time,
    multivariate_figure,
)
from aidebt_core.report import Report

MAX_DETAIL_FIGURES = 8


def drift_report(result: DriftResult, over_time: OverTimeResult | None = None,
                 multivariate: MultivariateResult | None = None) -> Report:
    """Summary, the table, the overview chart, the detail of the drifted columns and, when
    given, drift over time and multivariate drift."""
    reference, current = result.labels
    report = Report("Data drift", f"{reference} vs {current}")
    worst = result.worst
    report.callout(
        f"{len(result.drifted_columns)} of {len(result.columns)} columns drifted "
        f"({result.drifted_share:.0%}); dataset drift: "
        f"{'yes' if result.dataset_drift else 'no'} (when ≥ {result.options.drift_share:.0%}"
        f" of the columns drift). Method: {result.options.method}."
        + (f" Worst: {worst.name} ({worst.method} {worst.statistic:.3g})."
           if worst and worst.statistic is not None else ""))
    if result.missing_changed:
        report.text("Missing share changed in: " + ", ".join(result.missing_changed) + ".")
    report.text(f"Reference: {result.reference_rows:,} rows; current: "
                f"{result.current_rows:,} rows.")
    report.heading("Columns")
    report.table(result.to_frame())
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
