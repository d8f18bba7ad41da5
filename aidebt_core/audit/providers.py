"""Evidence providers: turn one analysis result into suggested levels, figures and findings.

Each `*_items(context)` calls the public core function of one analysis and returns
measurement key → `Measured`. A key is left out when the data cannot answer it; an
`AidebtError` means the whole analysis is not available (the reason is shown to the user).
"""

from __future__ import annotations

from dataclasses import dataclass

from aidebt_core.audit.scoring import Finding
from aidebt_core.errors import AidebtError

MEASURED_LEVEL = 2          # run and documented in the review meeting (MTS: ½ point)
CHUNK_ROWS = 10_000         # chunk size when the data have no timestamp


@dataclass(frozen=True)
class Measured:
    """What one measurement says about one question."""

    level: int
    evidence: str
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class EvidenceContext:
    """What the providers may look at: the opened data selection and the model's MLflow store."""

    data: object | None = None          # aidebt_core.selection.OpenedData
    tracking_uri: str = ""
    model: str = ""                     # registered model / experiment name


def _finding(severity: str, title: str, detail: str = "") -> Finding:
    return Finding(question_id="", severity=severity, title=title, detail=detail)


def _listed(names, limit: int = 6) -> str:
    names = list(names)
    shown = ", ".join(str(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _data(context: EvidenceContext):
    if context.data is None:
        raise AidebtError("no reference/current data selected")
    return context.data


# ------------------------------------------------------------------------------------ drift
def drift_items(context: EvidenceContext) -> dict[str, Measured]:
    """Per-feature drift (D3) and input invariants: missing shares, new categories (D2)."""
    from aidebt_core.drift import analyse_drift, drift_summary

    data = _data(context)
    result = analyse_drift(data.reference, data.current, data.schema)
    s = drift_summary(result)
    drifted = s["drifted_columns"]
    text = (f"aidebt drift on {result.reference_rows:,} reference vs {result.current_rows:,} "
            f"current rows: {len(drifted)} of {s['columns_analysed']} features drifted "
            f"({s['drifted_share']:.0%})")
    if drifted:
        text += f": {_listed(drifted)}"
        if s["worst_column"]:
            text += (f"; worst {s['worst_column']} ({s['worst_method']} "
                     f"{s['worst_statistic']:.3g})")
    findings = []
    if drifted:
        findings.append(_finding("high" if s["dataset_drift"] else "medium",
                                 f"Data drift in {len(drifted)} feature(s): {_listed(drifted)}",
                                 text))
    missing, new = s["missing_changed"], s["new_categories"]
    inv = (f"aidebt checked {s['columns_analysed']} inputs for missing-share changes and "
           f"unseen categories: {len(missing)} missing-share change(s)"
           + (f" ({_listed(missing)})" if missing else "")
           + f", {len(new)} column(s) with new categories"
           + (" (" + "; ".join(f"{c}: {_listed(v, 3)}" for c, v in new.items()) + ")"
              if new else ""))
    inv_findings = [_finding("high", f"Missing-value share changed in {c}") for c in missing]
    inv_findings += [_finding("medium", f"New categories in {c}: {_listed(v, 3)}")
                     for c, v in new.items()]
    return {"drift": Measured(MEASURED_LEVEL, text, tuple(findings)),
            "drift_invariants": Measured(MEASURED_LEVEL, inv, tuple(inv_findings))}


# ------------------------------------------------------------------------------ performance
def performance_items(context: EvidenceContext) -> dict[str, Measured]:
    """Served quality and concept drift (D4), staleness (M9), fresh evaluation data (E5)."""
    from aidebt_core.performance import analyse_performance

    data = _data(context)
    schema = data.schema
    target = schema.first("target")
    score, prediction = schema.first("score"), schema.first("prediction")
    if not target:
        raise AidebtError("no column has the role 'target' (labels are needed)")
    if not score and not prediction:
        raise AidebtError("no column has the role 'score' or 'prediction'")
    chunking = "month" if data.timestamp else str(CHUNK_ROWS)
    result = analyse_performance(data.reference, data.current, target, score=score,
                                 prediction=prediction, timestamp=data.timestamp,
                                 chunking=chunking)
    series = result.series[result.metric]
    alerts = result.alerts()
    current = [c for c in result.chunks if c.period == "current"]
    labelled = [c for c in current if c.labelled_rows > 0]
    name = series.name
    band = f"reference band {series.band.lower:.3f}–{series.band.upper:.3f}"
    text = (f"aidebt performance: {name} per {result.chunking} on {len(labelled)} labelled of "
            f"{len(current)} current chunks; {band}")
    findings = []
    if alerts["performance"]:
        text += f"; outside the band: {_listed(alerts['performance'])}"
        findings.append(_finding("high", f"{name} outside the reference band in "
                                         f"{_listed(alerts['performance'])}"))
    if alerts["concept_drift"]:
        text += f"; concept-drift alerts: {_listed(alerts['concept_drift'])}"
        findings.append(_finding("high", "Concept drift: realized quality departs from the "
                                         f"label-free estimate in "
                                         f"{_listed(alerts['concept_drift'])}"))
    if not alerts["performance"] and not alerts["concept_drift"]:
        text += "; no alerts"
    out = {"performance": Measured(MEASURED_LEVEL if labelled else 1, text, tuple(findings))}
    values = {c.label: v.realized for c, v in zip(result.chunks, series.values, strict=True)}
    if len(labelled) >= 2:
        first, last = labelled[0], labelled[-1]
        out["staleness"] = Measured(
            MEASURED_LEVEL,
            f"quality decay measured over {len(labelled)} labelled periods since the reference: "
            f"{name} {values[first.label]:.3f} in {first.label} → {values[last.label]:.3f} in "
            f"{last.label}")
    elif current:
        out["staleness"] = Measured(1, f"only {len(labelled)} labelled current period(s): "
                                       "decay cannot be measured yet")
    if labelled:
        unlabelled = alerts["unlabelled"]
        fresh = (f"evaluated on fresh labelled data up to {labelled[-1].label} "
                 f"({sum(c.labelled_rows for c in labelled):,} labelled current rows)")
        extra = ()
        if unlabelled:
            fresh += f"; no labels yet for {_listed(unlabelled)}"
            extra = (_finding("low", f"No labels yet for {_listed(unlabelled)}",
                              "quality there is only estimated"),)
        out["fresh_evaluation"] = Measured(MEASURED_LEVEL, fresh, extra)
    return out


# ----------------------------------------------------------------------------- entanglement
def entanglement_items(context: EvidenceContext) -> dict[str, Measured]:
    """Entanglement and correlation change (M7), redundant feature groups (D7)."""
    from aidebt_core.entanglement import analyse

    data = _data(context)
    result = analyse(data.reference, data.current, data.schema)
    summary = result.summary()
    groups = result.groups
    group_text = "; ".join("{" + ", ".join(g) + "}" for g in groups) or "none"
    text = (f"aidebt entanglement of {summary['features']} features: {len(groups)} redundant "
            f"group(s) ({group_text})")
    findings = []
    flagged = result.change.flagged if result.change is not None else None
    if flagged is not None:
        text += f"; {len(flagged)} pair(s) changed association by more than " \
                f"{result.change.threshold:g}"
        for row in flagged.head(5).itertuples(index=False):
            findings.append(_finding(
                "high", f"Association {row.a}–{row.b} changed {row.reference:.2f} → "
                        f"{row.current:.2f}", "an upstream change may have broken a feature"))
    redundancy = [_finding("medium", "Redundant features: " + ", ".join(g)) for g in groups]
    return {"entanglement": Measured(MEASURED_LEVEL, text, tuple(findings)),
            "redundancy": Measured(MEASURED_LEVEL, f"{len(groups)} redundant group(s) of "
                                                   f"features: {group_text}",
                                   tuple(redundancy))}


# ----------------------------------------------------------------------------------- slices
def slices_items(context: EvidenceContext) -> dict[str, Measured]:
    """Slice metrics with confidence intervals and significant weak slices (E1)."""
    raise AidebtError("the slices analysis has no public entry point yet")


# ------------------------------------------------------------------------------------- runs
def runs_items(context: EvidenceContext) -> dict[str, Measured]:
    """Reproducibility manifests of the model's MLflow runs (M1, M2, M3, M4, D8)."""
    raise AidebtError("the runs analysis has no public entry point yet")
