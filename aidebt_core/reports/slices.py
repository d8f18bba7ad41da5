"""HTML/Markdown report of a slice analysis (for `aidebt slices --report` and the page)."""

from __future__ import annotations

from aidebt_core.plots.slices import dumbbell_figure, forest_figure
from aidebt_core.report import Report
from aidebt_core.slices.analysis import SliceResult
from aidebt_core.slices.breakdown import frame


def changes_frame(changes):
    import pandas as pd

    cols = ["slice", "reference_size", "reference", "reference_low", "reference_high",
            "current_size", "current", "current_low", "current_high", "change", "p_value",
            "q_value", "worsened"]
    return pd.DataFrame([c.row() for c in changes], columns=cols)


def slices_report(result: SliceResult, title: str = "Slice analysis") -> Report:
    label = result.metric_label
    report = Report(title, f"{label} per slice, {result.overall.rows:,} labelled current rows")
    ref = (f" (reference {result.reference_overall.metric:.3f})"
           if result.reference_overall else "")
    report.text(f"Overall {label}: {result.overall.metric:.3f} "
                f"[{result.overall.ci_low:.3f}, {result.overall.ci_high:.3f}]{ref}.")
    for note in result.notes:
        report.callout(note)
    report.heading("Weak slices found")
    weak = result.weak()
    report.text(result.verdict())
    if weak:
        report.text("; ".join(result.sentence(s) for s in weak) + ".")
    if result.found:
        search = result.search
        report.text(f"Ranked by {search.get('objective')} (SliceLine score, α = "
                    f"{search.get('alpha')}, minimum {search.get('min_size'):,} rows, up to "
                    f"{search.get('max_order')} conditions), significant slices "
                    f"({result.rule}) first; "
                    f"q-values of the {result.shown_label} are Benjamini–Hochberg over "
                    f"{search.get('tests'):,} slices examined.")
        report.figure(forest_figure(result.found, result.shown_overall, result.shown_label,
                                    result.higher_is_better, level=result.alpha_fdr,
                                    rule=result.rule))
        report.table(frame(result.found, calibration=result.calibration))
    if result.changes:
        report.heading("Reference vs current")
        report.figure(dumbbell_figure(result.changes, label))
        report.table(changes_frame(result.changes))
    if result.breakdown:
        report.heading(f"Breakdown by {', '.join(result.by)}")
        report.figure(forest_figure(result.breakdown, result.overall.metric, label,
                                    result.higher_is_better, level=result.alpha_fdr,
                                    rule=result.rule))
        report.table(frame(result.breakdown))
    return report
