"""The entanglement analysis as a self-contained report (CLI --report, page download)."""

from __future__ import annotations

from aidebt_core.entanglement import EntanglementResult
from aidebt_core.report import Report


def entanglement_report(result: EntanglementResult, title: str = "Feature entanglement"
                        ) -> Report:
    from aidebt_core.plots.entanglement import association_heatmap, difference_heatmap

    ref = result.reference
    report = Report(title, subtitle=f"{len(ref.columns)} features, {ref.rows_used:,} of "
                    f"{ref.rows_total:,} reference rows")
    for note in result.notes:
        report.callout(note)
    report.heading("Association matrix (reference)")
    report.figure(association_heatmap(ref))
    report.heading(f"Redundant groups (every pair ≥ {result.group_threshold:g})")
    report.text("; ".join(", ".join(g) for g in result.groups) or "None.")
    if result.change is not None:
        report.heading(f"Correlation change (|Δ| > {result.change.threshold:g})")
        report.figure(difference_heatmap(result.change))
        report.table(result.change.flagged)
    report.heading("Ripple risk")
    report.text(f"Importance: {result.ripple.source}. Risk = importance × strongest "
                "association.")
    report.table(result.ripple.table)
    return report
