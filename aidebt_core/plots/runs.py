"""Charts for reproducibility: completeness per run, the field matrix, staleness against
budgets, registry lineage and a two-run metric comparison."""

from __future__ import annotations

import plotly.graph_objects as go

from aidebt_core.plots.theme import (
    ALERT_COLOR,
    CURRENT_COLOR,
    NEUTRAL_COLOR,
    OK_COLOR,
    REFERENCE_COLOR,
    style,
)
from aidebt_core.runs.diff import RunDiff
from aidebt_core.runs.lineage import Lineage
from aidebt_core.runs.manifest import FIELDS
from aidebt_core.runs.reader import RunsTable
from aidebt_core.runs.staleness import StalenessReport

ROW_HEIGHT = 28
SHORT_LABELS = {"git_commit": "commit", "data_digest": "data digest", "features": "features",
                "params": "params", "seed": "seed", "metrics": "metrics", "model": "model",
                "environment": "environment"}


def _pct(value: float) -> str:
    return f"{value:.1%}".replace(".0%", "%")


def _colour(value: float, threshold: float) -> str:
    if value >= 1.0:
        return OK_COLOR
    return CURRENT_COLOR if value >= threshold else ALERT_COLOR


def completeness_figure(table: RunsTable, threshold: float = 0.75) -> go.Figure:
    """One bar per run (newest on top), coloured complete / partial / below `threshold`."""
    manifests = list(reversed(table.manifests))
    labels = [m.label for m in manifests]
    values = [m.completeness for m in manifests]
    fig = go.Figure(go.Bar(
        x=values, y=labels, orientation="h",
        marker_color=[_colour(v, threshold) for v in values],
        text=[_pct(v) + (f" · missing {', '.join(m.missing)}" if m.missing else "")
              for v, m in zip(values, manifests, strict=True)],
        textposition="inside", insidetextanchor="start",
        hovertemplate="%{y}<br>completeness %{x:.0%}<extra></extra>"))
    fig.add_vline(x=threshold, line_dash="dot", line_color=NEUTRAL_COLOR,
                  annotation_text=f"threshold {threshold:.0%}", annotation_position="top")
    fig.update_xaxes(range=[0, 1.0], tickformat=".0%", title="manifest completeness")
    fig.update_yaxes(title=None, automargin=True)
    return style(fig, "Manifest completeness per run",
                 height=max(260, 90 + ROW_HEIGHT * len(manifests)))


def fields_figure(table: RunsTable) -> go.Figure:
    """Runs × manifest fields: present (green), missing (red), not required (grey)."""
    manifests = list(reversed(table.manifests))
    z, text = [], []
    for m in manifests:
        row, row_text = [], []
        for spec in FIELDS:
            if spec.name not in m.required:
                row.append(0.5)
                row_text.append("not required" + (" ✓" if m.present[spec.name] else " ✗"))
            else:
                row.append(1.0 if m.present[spec.name] else 0.0)
                row_text.append("✓" if m.present[spec.name] else "✗")
        z.append(row)
        text.append(row_text)
    scale = [[0.0, ALERT_COLOR], [0.49, ALERT_COLOR], [0.5, "#d9dde4"], [0.51, "#d9dde4"],
             [0.52, OK_COLOR], [1.0, OK_COLOR]]
    fig = go.Figure(go.Heatmap(
        z=z, x=[SHORT_LABELS.get(s.name, s.name) for s in FIELDS], y=[m.label for m in manifests],
        text=text, texttemplate="%{text}", textfont={"size": 14, "color": "white"},
        colorscale=scale, zmin=0, zmax=1, showscale=False, xgap=3, ygap=3,
        hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>"))
    fig.update_xaxes(tickangle=-30)
    fig.update_yaxes(automargin=True)
    return style(fig, "Manifest fields per run",
                 height=max(260, 150 + ROW_HEIGHT * len(manifests)))


def staleness_figure(report: StalenessReport) -> go.Figure:
    """Days since training and since the training data ended, per model, with the budgets."""
    models = list(report.models)
    names = [f"{m.model} v{m.version}" if m.version else m.model for m in models]

    def label(days: float | None, over: bool) -> str:
        return "" if days is None else f"{days:.0f} d" + (" · over budget" if over else "")

    fig = go.Figure()
    fig.add_bar(y=names, x=[m.age_days for m in models], orientation="h",
                name="model age (since training)", marker_color=REFERENCE_COLOR,
                text=[label(m.age_days, m.over_age_budget) for m in models],
                textposition="inside", insidetextanchor="end",
                hovertemplate="%{y}: trained %{x:.0f} days ago<extra></extra>")
    fig.add_bar(y=names, x=[m.data_age_days for m in models], orientation="h",
                name="training-data age", marker_color=NEUTRAL_COLOR,
                text=[label(m.data_age_days, m.over_data_budget) for m in models],
                textposition="inside", insidetextanchor="end",
                hovertemplate="%{y}: data ended %{x:.0f} days ago<extra></extra>")
    if models:
        for budget, colour, dash, what in (
                (models[0].age_budget_days, ALERT_COLOR, "dash", "model age budget"),
                (models[0].data_budget_days, ALERT_COLOR, "dot", "data age budget")):
            fig.add_vline(x=budget, line_dash=dash, line_color=colour, line_width=2)
            fig.add_scatter(x=[None], y=[None], mode="lines", name=f"{what} ({budget:.0f} d)",
                            line={"color": colour, "dash": dash, "width": 2})
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_xaxes(title="days", rangemode="tozero")
    fig.update_yaxes(automargin=True, autorange="reversed")
    return style(fig, "Staleness of the deployed versions",
                 height=max(280, 140 + 2 * ROW_HEIGHT * len(models)))


def lineage_figure(lineage: Lineage) -> go.Figure:
    """Sankey: registered model → version (aliases) → run (completeness) → data digest."""
    nodes: dict[str, int] = {}
    colours: list[str] = []

    def node(label: str, colour: str) -> int:
        if label not in nodes:
            nodes[label] = len(nodes)
            colours.append(colour)
        return nodes[label]

    links: dict[tuple[int, int], int] = {}
    for e in lineage.edges:
        model = node(e.model, REFERENCE_COLOR)
        alias = f" @{', '.join(e.aliases)}" if e.aliases else ""
        version = node(f"{e.model} v{e.version}{alias}", CURRENT_COLOR if e.aliases
                       else NEUTRAL_COLOR)
        completeness = f" ({_pct(e.completeness)})" if e.completeness is not None else ""
        run = node(f"run {e.run_name or (e.run_id or '?')[:8]}{completeness}",
                   OK_COLOR if e.completeness == 1.0 else ALERT_COLOR)
        data = node(f"{e.dataset}@{e.digest} ({e.context})" if e.digest
                    else "no dataset digest", NEUTRAL_COLOR if e.digest else ALERT_COLOR)
        for pair in ((model, version), (version, run), (run, data)):
            links[pair] = 1
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": list(nodes), "color": colours, "pad": 14, "thickness": 14},
        link={"source": [s for s, _ in links], "target": [t for _, t in links],
              "value": list(links.values()), "color": "rgba(138,148,166,0.25)"}))
    return style(fig, "Lineage: model → version → run → data",
                 height=max(320, 60 + 34 * len(lineage.edges)))


def metrics_diff_figure(diff: RunDiff) -> go.Figure:
    """The two runs' metrics side by side (metrics present in either run)."""
    rows = [r for r in diff.rows if r.section == "metrics"]
    keys = [r.key for r in rows]
    fig = go.Figure()
    fig.add_bar(x=keys, y=[r.a for r in rows], name=diff.a, marker_color=REFERENCE_COLOR)
    fig.add_bar(x=keys, y=[r.b for r in rows], name=diff.b, marker_color=CURRENT_COLOR)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="value")
    return style(fig, "Metrics", height=340)


def importance_figure(importances: dict[str, float], title: str = "Logged feature importances",
                      top: int = 20) -> go.Figure:
    """Horizontal bars of the largest (by magnitude) logged importances."""
    items = list(importances.items())[:top][::-1]
    fig = go.Figure(go.Bar(x=[v for _, v in items], y=[k for k, _ in items], orientation="h",
                           marker_color=[REFERENCE_COLOR if v >= 0 else ALERT_COLOR
                                         for _, v in items],
                           hovertemplate="%{y}: %{x:.4g}<extra></extra>"))
    fig.update_xaxes(title="importance")
    fig.update_yaxes(automargin=True)
    return style(fig, title, height=max(260, 90 + 24 * len(items)))
