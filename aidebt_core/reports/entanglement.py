"""The entanglement analysis as a self-contained report (CLI --report, page download)."""

from __future__ import annotations

import pandas as pd

from aidebt_core.entanglement.result import MEASURE_NAMES, EntanglementResult
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
        report.table(_readable(result.change.flagged, {
            "a": "feature", "b": "paired with", "method": "measure", "reference": "reference",
            "current": "current", "delta": "change", "p_value": "p (Fisher z)"}))
    report.heading("Ripple risk")
    report.text(f"Importance: {result.ripple.source}. Risk = importance × strongest "
                "association.")
    report.table(_readable(result.ripple.table, {
        "feature": "feature", "importance": "importance",
        "strongest_partner": "strongest partner",
        "strongest_association": "strongest association", "risk": "ripple risk"}))
    return report


def _readable(frame: pd.DataFrame, headers: dict[str, str]) -> pd.DataFrame:
    """The columns in `headers`, renamed, as text: 3 decimals (a change signed), measure
    names spelled out, p-values by the theme, a missing value as "—" (never None/nan/-0.000)."""
    from aidebt_core.plots.theme import format_value

    out = pd.DataFrame(index=frame.index)
    for column, header in headers.items():
        if column not in frame.columns:
            continue
        values = frame[column]
        if column == "method":
            out[header] = values.map(lambda m: MEASURE_NAMES.get(m, m))
        elif column == "p_value":
            out[header] = values.map(lambda v: format_value(v, "pvalue"))
        elif pd.api.types.is_float_dtype(values):
            sign = "+" if column == "delta" else ""
            out[header] = values.map(lambda v, sign=sign: "—" if pd.isna(v) else
                                     _unsigned_zero(f"{v:{sign}.3f}"))
        else:
            out[header] = values.astype(object).where(values.notna(), "—")
    return out.reset_index(drop=True)


def _unsigned_zero(text: str) -> str:
    return text[1:] if text[0] in "+-" and not any(c in "123456789" for c in text) else text
