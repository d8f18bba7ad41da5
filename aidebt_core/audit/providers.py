"""Evidence providers: turn one analysis result into what was found, figures and findings.

Each `*_items(context)` runs one analysis through the registry (aidebt_core/analyses.py, the
same `run` as the CLI and the contract suite) and returns measurement key → `Measured`: the
debt items found (the question's rule in `audit/rules.py` turns them into a proposed level)
or, for the MLflow questions, the level read from what the runs logged. A key is left out or
marked `unavailable` when the data cannot answer it; an `AidebtError` means the whole analysis
is not available (the reason is shown to the user).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aidebt_core import analyses
from aidebt_core.audit.rules import is_time_like
from aidebt_core.audit.scoring import Finding
from aidebt_core.errors import AidebtError

MEASURED_LEVEL = 2          # MLflow shows the production run logs it (documented by hand)
CHUNK_ROWS = 10_000         # chunk size when the data have no timestamp
FEATURE_ROLES = ("numeric", "categorical", "boolean")


@dataclass(frozen=True)
class Measured:
    """What one measurement says about one question: `found` lists the debt items it found
    (drifted features, weak slices, ...: the question's rule lowers the level for them),
    `level` is the level a "logged" measurement read from MLflow (unused by "debt" rules),
    `unavailable` says why the measurement could not be made (then nothing is proposed)."""

    level: int | None
    evidence: str
    findings: tuple[Finding, ...] = ()
    found: tuple[str, ...] = ()
    unavailable: str = ""


@dataclass(frozen=True)
class EvidenceContext:
    """What the providers may look at: the opened data selection and the model's MLflow store."""

    data: object | None = None          # aidebt_core.selection.OpenedData
    tracking_uri: str = ""
    model: str = ""                     # registered model / experiment name
    data_error: str = ""                # why no data could be opened, if so
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # shared lookups


def _finding(severity: str, title: str, detail: str = "") -> Finding:
    return Finding(question_id="", severity=severity, title=title, detail=detail)


def _listed(names, limit: int = 6) -> str:
    names = list(names)
    shown = ", ".join(str(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _production(context: EvidenceContext):
    """(runs table, the model's reproducibility record, its run's manifest), read once."""
    if "production" not in context.memo:
        from aidebt_core.runs import model_reproducibility, open_store, read_runs

        if not context.tracking_uri:
            raise AidebtError("no MLflow tracking URI is set")
        if not context.model:
            raise AidebtError("no model is named")
        store = open_store(context.tracking_uri)
        runs = read_runs(store)
        repro = next((r for r in model_reproducibility(store, runs=runs)
                      if r.model == context.model), None)
        if repro is None or repro.run_id is None:
            raise AidebtError(f"MLflow has no registered model '{context.model}' with a run")
        context.memo["production"] = (runs, repro, runs.by_id(repro.run_id))
    return context.memo["production"]


def _data(context: EvidenceContext):
    """The selected data, after checking it is this model's: when MLflow knows the model's
    features, the data must contain them (else the measurement would describe another model)."""
    if context.data is None:
        raise AidebtError(context.data_error or "no reference/current data selected")
    if "data_check" not in context.memo:
        context.memo["data_check"] = ""
        try:
            _, _, manifest = _production(context)
        except (AidebtError, ImportError):
            manifest = None               # the model is not in MLflow: trust the selection
        if manifest is not None and manifest.features:
            columns = set(context.data.schema.names)
            missing = [f for f in manifest.features if f not in columns]
            if missing:
                context.memo["data_check"] = (
                    f"the selected data lack {len(missing)} of {context.model}'s "
                    f"{len(manifest.features)} model features ({_listed(missing, 4)}); pick "
                    "the data this model scores")
    if context.memo["data_check"]:
        raise AidebtError(context.memo["data_check"])
    return context.data


def check_context(context: EvidenceContext) -> None:
    """Raise what the providers would otherwise turn into "measurement not available" notes:
    an MLflow store that cannot be read, a model it does not know, data that are not the
    model's. For the command line, where the user named all three, these are bad input."""
    if context.tracking_uri:
        _production(context)
    if context.data is not None:
        _data(context)


# ------------------------------------------------------------------------------------ drift
def drift_items(context: EvidenceContext) -> dict[str, Measured]:
    """Per-feature drift (D3) and input invariants: missing shares, new categories (D2)."""
    from aidebt_core.drift import drift_summary

    data = _data(context)
    result = analyses.get("drift").run_on(data)   # as `aidebt drift`, the page
    s = drift_summary(result)
    names = [c.name for c in result.columns]
    counted = _countable(data, names)
    drifted = [c for c in s["drifted_columns"] if c in counted]
    left_out = {c: _left_out_reason(data, c) for c in s["drifted_columns"] if c not in counted}
    text = (f"aidebt drift on {result.reference_rows:,} reference vs {result.current_rows:,} "
            f"current rows: {len(drifted)} of {len(counted)} features drifted "
            f"({len(drifted) / max(len(counted), 1):.0%})")
    if drifted:
        text += f": {_listed(drifted)}"
        if s["worst_column"] in drifted:
            text += (f"; worst {s['worst_column']} ({s['worst_method']} "
                     f"{s['worst_statistic']:.3g})")
    if left_out:
        text += "; not counted: " + ", ".join(f"{c} ({r})" for c, r in left_out.items())
    findings = []
    if drifted:
        findings.append(_finding("high" if s["dataset_drift"] else "medium",
                                 f"Data drift in {len(drifted)} feature(s): {_listed(drifted)}",
                                 text))
    missing = [c for c in s["missing_changed"] if c in _countable(data, s["missing_changed"])]
    new = {c: v for c, v in s["new_categories"].items()
           if c in _countable(data, s["new_categories"])}
    inv = (f"aidebt checked {s['columns_analysed']} inputs for missing-share changes and "
           f"unseen categories: {len(missing)} missing-share change(s)"
           + (f" ({_listed(missing)})" if missing else "")
           + f", {len(new)} column(s) with new categories"
           + (" (" + "; ".join(f"{c}: {_listed(v, 3)}" for c, v in new.items()) + ")"
              if new else ""))
    inv_findings = [_finding("high", f"Missing-value share changed in {c}") for c in missing]
    inv_findings += [_finding("medium", f"New categories in {c}: {_listed(v, 3)}")
                     for c, v in new.items()]
    return {"drift": Measured(None, text, tuple(findings), found=tuple(drifted)),
            "drift_invariants": Measured(None, inv, tuple(inv_findings),
                                         found=tuple(dict.fromkeys([*missing, *new])))}


def _left_out_reason(data, column: str) -> str:
    """Why a drifted column is not a drift finding: the time axis, a non-feature role
    (id, target, model output, ...) or a time-like name such as an integer `year`, which moves
    with the time split by construction."""
    if column == getattr(data, "timestamp", None):
        return "time axis"
    names = data.schema.names
    if column in names and data.schema[column].role not in FEATURE_ROLES:
        return f"role {data.schema[column].role}"
    if is_time_like(column):
        return "time-like"
    return ""


def _countable(data, columns) -> set[str]:
    """The columns among `columns` that count as features for a finding."""
    return {c for c in columns if not _left_out_reason(data, c)}


# ------------------------------------------------------------------------------ performance
def performance_items(context: EvidenceContext) -> dict[str, Measured]:
    """Served quality and concept drift (D4), staleness (M9), fresh evaluation data (E5)."""
    from aidebt_core.performance.entry import PerformanceOptions

    data = _data(context)
    schema = data.schema
    target = schema.first("target")
    score, prediction = schema.first("score"), schema.first("prediction")
    if not target:
        raise AidebtError("no column has the role 'target' (labels are needed)")
    if not score and not prediction:
        raise AidebtError("no column has the role 'score' or 'prediction'")
    chunking = "month" if data.timestamp else str(CHUNK_ROWS)
    result = analyses.get("performance").run_on(data, PerformanceOptions(chunk=chunking))
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
    found = (tuple(f"{c} (quality)" for c in alerts["performance"])
             + tuple(f"{c} (concept drift)" for c in alerts["concept_drift"]))
    if not labelled:
        no_labels = "no labels in the current data: realized quality cannot be measured"
        return {key: Measured(None, text, unavailable=no_labels)
                for key in ("performance", "staleness", "fresh_evaluation")}
    out = {"performance": Measured(None, text, tuple(findings), found=found)}
    values = {c.label: v.realized for c, v in zip(result.chunks, series.values, strict=True)}
    if len(labelled) >= 2:
        first, last = labelled[0], labelled[-1]
        decayed = tuple(alerts["performance"])
        out["staleness"] = Measured(
            None,
            f"quality decay measured over {len(labelled)} labelled periods since the reference: "
            f"{name} {values[first.label]:.3f} in {first.label} → {values[last.label]:.3f} in "
            f"{last.label}" + (f"; below the reference band in {_listed(decayed)}"
                               if decayed else "; within the reference band"),
            found=decayed)
    else:
        out["staleness"] = Measured(None, "", unavailable=f"only {len(labelled)} labelled "
                                    "current period(s): decay cannot be measured yet")
    if labelled:
        unlabelled = alerts["unlabelled"]
        fresh = (f"evaluated on fresh labelled data up to {labelled[-1].label} "
                 f"({sum(c.labelled_rows for c in labelled):,} labelled current rows)")
        extra = ()
        if unlabelled:
            fresh += f"; no labels yet for {_listed(unlabelled)}"
            extra = (_finding("low", f"No labels yet for {_listed(unlabelled)}",
                              "quality there is only estimated"),)
        out["fresh_evaluation"] = Measured(None, fresh, extra)
    return out


# ----------------------------------------------------------------------------- entanglement
def entanglement_items(context: EvidenceContext) -> dict[str, Measured]:
    """Entanglement and correlation change (M7), redundant feature groups (D7)."""
    result = analyses.get("entanglement").run_on(_data(context))
    summary = result.summary()
    groups = result.groups
    group_text = "; ".join("{" + ", ".join(g) + "}" for g in groups) or "none"
    text = (f"aidebt entanglement of {summary['features']} features: {len(groups)} redundant "
            f"group(s) ({group_text})")
    findings = []
    changed: tuple[str, ...] = ()
    flagged = result.change.flagged if result.change is not None else None
    if flagged is not None:
        changed = tuple(f"{row.a}–{row.b}" for row in flagged.itertuples(index=False))
        text += f"; {len(flagged)} pair(s) changed association by more than " \
                f"{result.change.threshold:g}"
        for row in flagged.head(5).itertuples(index=False):
            findings.append(_finding(
                "high", f"Association {row.a}–{row.b} changed {row.reference:.2f} → "
                        f"{row.current:.2f}", "an upstream change may have broken a feature"))
    redundancy = [_finding("medium", "Redundant features: " + ", ".join(g)) for g in groups]
    return {"entanglement": Measured(None, text, tuple(findings), found=changed),
            "redundancy": Measured(None, f"{len(groups)} redundant group(s) of "
                                         f"features: {group_text}",
                                   tuple(redundancy),
                                   found=tuple("{" + ", ".join(g) + "}" for g in groups))}


# ----------------------------------------------------------------------------------- slices
def slices_items(context: EvidenceContext) -> dict[str, Measured]:
    """Slice metrics with confidence intervals and significant weak slices (E1)."""
    data = _data(context)
    schema = data.schema
    target = schema.first("target")
    score, prediction = schema.first("score"), schema.first("prediction")
    if not target or not (score or prediction):
        raise AidebtError("slices need a 'target' column and a 'prediction' or 'score' column")
    # Accuracy with a prediction, else ROC AUC; slices on the resolved roles' features (an id,
    # ignored or user-set column is never sliced on), found in current, compared to reference.
    result = analyses.get("slices").run_on(data)
    summary = result.to_dict()["summary"]
    weak = result.weak()
    text = (f"aidebt slices on {result.overall.rows:,} labelled current rows: "
            f"{result.metric_label} {result.overall.metric:.3f} overall; {len(weak)} slice(s) "
            f"significantly worse (BH q < 0.05); {summary['worsened_slices']} worsened since "
            "the reference")
    if weak:
        text += f"; worst: {result.sentence(weak[0])}"
    findings = [_finding("high" if abs(s.metric - result.overall.metric) >= 0.1 else "medium",
                         f"Weak slice: {result.sentence(s)}") for s in weak[:3]]
    findings += [_finding("high" if abs(c.change) >= 0.05 else "medium",
                          f"Slice worsened since the reference: {c.slice.describe()} "
                          f"({result.metric_label} {c.change:+.3f})")
                 for c in result.changes if c.worsened][:3]
    # Debt for the rule: significant AND material (a gap a review would act on); a slice a
    # thousandth below overall is not a weak slice even when a large sample makes it significant.
    # The gap is the slices analysis' own minimum (SlicesOptions.min_gap, default 0.02), which
    # its "significant" already applies to weak slices.
    min_gap = result.min_gap
    material = [w.slice.describe() for w in weak
                if abs(w.metric - result.overall.metric) >= min_gap]
    worsened = [c.slice.describe() for c in result.changes
                if c.worsened and abs(c.change) >= min_gap]
    found = tuple(dict.fromkeys([*material, *worsened]))
    if len(found) < len(weak) + summary["worsened_slices"]:
        text += (f"; counted as debt: {len(found)} slice(s) at least {min_gap:g} below "
                 "overall or the reference")
    return {"slices": Measured(None, text, tuple(findings), found=found)}


# ------------------------------------------------------------------------------------- runs
RUN_FIELDS = {"runs_commit": ("git_commit",), "runs_digest": ("data_digest",),
              "runs_environment": ("environment",), "runs_params": ("params", "seed")}
FIELD_WORDS = {"git_commit": "the git commit", "data_digest": "a training-data digest",
               "environment": "a pinned environment", "params": "hyper-parameters",
               "seed": "a random seed"}


def _field_level(present: bool, coverage: float) -> int:
    """In the production run and every run → 3 (logged automatically); only in the production
    run → 2; missing there but logged by some runs → 1; logged by none → 0."""
    if present:
        return 3 if coverage == 1.0 else MEASURED_LEVEL
    return 1 if coverage > 0 else 0


def runs_items(context: EvidenceContext) -> dict[str, Measured]:
    """Reproducibility manifest of the model's production run (M1, M2, M3, M4, D8)."""
    runs, repro, manifest = _production(context)
    siblings = [m for m in runs.manifests if m.experiment == manifest.experiment]
    who = (f"MLflow: {repro.model} '{repro.alias}' v{repro.version} (run "
           f"{repro.run_name or repro.run_id[:8]})")
    out = {}
    for key, fields in RUN_FIELDS.items():
        parts, levels = [], []
        for name in fields:
            present = bool(repro.present.get(name))
            covered = sum(m.present[name] for m in siblings)
            levels.append(_field_level(present, covered / len(siblings)))
            parts.append(f"{'logs' if present else 'lacks'} {FIELD_WORDS[name]} "
                         f"({covered} of {len(siblings)} runs of '{manifest.experiment}' log it)")
        out[key] = Measured(min(levels), f"{who} " + "; ".join(parts))
    complete = repro.completeness or 0.0
    findings = [_finding("high" if m.run_id == repro.run_id else "medium",
                         f"Run {m.run_name or m.run_id[:8]}: manifest {m.completeness:.0%} "
                         f"complete, missing {', '.join(m.missing)}")
                for m in siblings if m.missing][:5]
    if repro.staleness.stale:
        age = repro.staleness
        detail = (f"trained {age.age_days:.0f} days ago (budget {age.age_budget_days:.0f})"
                  if age.age_days is not None else (age.note or "no version behind the alias"))
        findings.append(_finding("high", f"{repro.model} '{repro.alias}' model is stale: "
                                         f"{detail}"))
    level = MEASURED_LEVEL if complete == 1.0 else (1 if complete >= 0.5 else 0)
    out["runs_manifest"] = Measured(
        level, f"{who} manifest {complete:.0%} complete"
        + (f", missing {', '.join(repro.missing)}" if repro.missing else "")
        + f"; {sum(m.completeness == 1.0 for m in siblings)} of {len(siblings)} runs complete",
        tuple(findings))
    return out
