"""The reproducibility report (HTML/Markdown): runs, gaps with their fixes, deployed models'
staleness and lineage. Used by `aidebt runs --report` and the page's download button."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from aidebt_core.report import Report
from aidebt_core.runs.lineage import lineage, model_reproducibility
from aidebt_core.runs.manifest import FIELD_BY_NAME
from aidebt_core.runs.reader import RunsTable
from aidebt_core.runs.registry import Registry
from aidebt_core.runs.staleness import staleness


def reproducibility_report(table: RunsTable, registry: Registry, *, alias: str = "production",
                           now: datetime | None = None, age_budget_days: float = 180,
                           data_budget_days: float = 365) -> Report:
    from aidebt_core.plots.runs import completeness_figure, lineage_figure, staleness_figure

    summary = table.summary()
    report = Report("Reproducibility", f"MLflow store {table.uri}")
    mean = summary["mean_completeness"]
    report.callout(f"{summary['runs']} runs; {summary['complete']} with a complete manifest; "
                   f"mean completeness {mean:.0%}." if mean is not None else "No runs.")
    if table.manifests:
        report.heading("Runs").figure(completeness_figure(table))
        report.table(table.to_frame()[["experiment", "run_name", "status", "completeness",
                                       "missing"]])
        counts = {FIELD_BY_NAME[k].label: v for k, v in summary["missing_counts"].items() if v}
        if counts:
            report.heading("Gaps and how to fix them")
            report.table(pd.DataFrame(
                [{"field": label, "runs missing it": n,
                  "fix": next(f.fix for f in FIELD_BY_NAME.values() if f.label == label)}
                 for label, n in sorted(counts.items(), key=lambda kv: -kv[1])]))
    models = model_reproducibility(None, alias=alias, now=now, runs=table, registry=registry,
                                   age_budget_days=age_budget_days,
                                   data_budget_days=data_budget_days)
    stale = staleness(registry, table, alias=alias, now=now, age_budget_days=age_budget_days,
                      data_budget_days=data_budget_days)
    if stale.unknown_alias:
        report.callout(f"No registered model has the alias '{alias}' (aliases in use: "
                       f"{', '.join(stale.aliases_in_use) or 'none'}): no model is judged.")
    if models:
        report.heading(f"Registered models ({alias})")
        report.text(f"Ages are judged as of {stale.now:%Y-%m-%d}"
                    + (" (today)." if stale.basis == "today" else "."))
        report.table(pd.DataFrame([{
            "model": m.model, "version": m.version, "run": m.run_name,
            "completeness": m.completeness, "missing": ", ".join(m.missing),
            "age (days)": m.staleness.age_days, "newer runs": len(m.staleness.newer_runs),
            "stale": m.staleness.stale} for m in models]))
        report.figure(staleness_figure(stale))
        report.figure(lineage_figure(lineage(registry, table)))
    return report
