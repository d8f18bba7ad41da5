"""The drift report: verdict, per-column table and figures, as a self-contained document."""

from __future__ import annotations

from aidebt_core.data import Table
from aidebt_core.drift.distribution import column_distribution
from aidebt_core.drift.result import DriftResult
from aidebt_core.report import Report

MAX_DETAIL_FIGURES = 8


def drift_report(result: DriftResult, reference: Table, current: Table) -> Report:
    """Summary, the table, the overview chart and the distributions of the drifted columns."""
    from aidebt_core.plots.drift import distribution_figure, drift_overview

    report = Report("Data drift", f"{reference.label} vs {current.label}")
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
    drifted = [c for c in result.columns if c.drifted and c.status == "ok"]
    if drifted:
        report.heading("Distributions of the drifted columns")
        for col in drifted[:MAX_DETAIL_FIGURES]:
            dist = column_distribution(reference, current, col.name, col.kind)
            report.figure(distribution_figure(dist),
                          caption=f"{col.method} = {col.statistic:.3g} "
                                  f"(threshold {col.threshold:.3g})")
    return report
