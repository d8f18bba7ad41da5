"""Charts for reproducibility: completeness per run, the field matrix, staleness against
budgets, registry lineage and a two-run metric comparison."""

from __future__ import annotations

import textwrap

import plotly.graph_objects as go

from aidebt_core.plots.theme import (
    ALERT_COLOR,
    CURRENT_COLOR,
    NEUTRAL_COLOR,
    OK_COLOR,
    REFERENCE_COLOR,
    WARNING_COLOR,
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
    return WARNING_COLOR if value >= threshold else ALERT_COLOR  # good enough, not complete


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


LINEAGE_COLUMNS = ("Model", "Version (aliases)", "Run (completeness)", "Data snapshot")
LINEAGE_ROW_PX = 56   # vertical room per node: a two-line label never touches the next one
LINEAGE_WRAP = 24     # characters per label line (a column is ~300 px wide at 1440 px)


def _wrap(text: str, width: int = LINEAGE_WRAP) -> str:
    """At most two lines of `width` characters (the rest as "…"; the full text is on hover)."""
    lines = textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]
    if len(lines) > 2:
        lines = [lines[0], lines[1][: width - 1] + "…"]
    return "<br>".join(lines)


def lineage_layout(lineage: Lineage) -> tuple[list[dict], list[tuple[int, int]]]:
    """Nodes (column, label, colour, x, y) in four columns and the links between them.

    Nodes keep the edges' order in every column (so links rarely cross) and are spread
    evenly over the height of the fullest column, one row each: labels cannot overlap."""
    nodes: dict[tuple[int, str], int] = {}
    info: list[dict] = []

    def node(column: int, label: str, colour: str) -> int:
        key = (column, label)
        if key not in nodes:
            nodes[key] = len(info)
            info.append({"column": column, "label": label, "colour": colour})
        return nodes[key]

    links: dict[tuple[int, int], None] = {}
    for e in lineage.edges:
        model = node(0, e.model, REFERENCE_COLOR)
        alias = f" @{', '.join(e.aliases)}" if e.aliases else ""
        version = node(1, f"{e.model} v{e.version}{alias}",
                       CURRENT_COLOR if e.aliases else NEUTRAL_COLOR)
        completeness = f" ({_pct(e.completeness)})" if e.completeness is not None else ""
        run = node(2, f"run {e.run_name or (e.run_id or '?')[:8]}{completeness}",
                   OK_COLOR if e.completeness == 1.0 else ALERT_COLOR)
        data = node(3, f"{e.dataset}@{e.digest} ({e.context})" if e.digest
                    else "no dataset digest", NEUTRAL_COLOR if e.digest else ALERT_COLOR)
        for pair in ((model, version), (version, run), (run, data)):
            links[pair] = None
    rows = max((sum(1 for n in info if n["column"] == c) for c in range(4)), default=0)
    for column in range(4):
        members = [n for n in info if n["column"] == column]
        step = rows / max(len(members), 1)
        for k, item in enumerate(members):
            item["x"] = float(column)
            item["y"] = (k + 0.5) * step
    return info, list(links)


def lineage_figure(lineage: Lineage) -> go.Figure:
    """Model → version (aliases) → run (completeness) → data digest, as four columns of
    labelled nodes joined by lines; full labels on hover."""
    nodes, links = lineage_layout(lineage)
    rows = max((n["y"] for n in nodes), default=0) + 0.5
    fig = go.Figure()
    xs: list[float | None] = []
    ys: list[float | None] = []
    for a, b in links:
        xs += [nodes[a]["x"], nodes[b]["x"], None]
        ys += [nodes[a]["y"], nodes[b]["y"], None]
    fig.add_scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                    line={"color": "rgba(138,148,166,0.45)", "width": 1.5})
    fig.add_scatter(
        x=[n["x"] for n in nodes], y=[n["y"] for n in nodes], mode="markers",
        customdata=[[LINEAGE_COLUMNS[n["column"]], n["label"]] for n in nodes],
        hovertemplate="%{customdata[0]}: %{customdata[1]}<extra></extra>",
        marker={"size": 14, "color": [n["colour"] for n in nodes],
                "line": {"color": "white", "width": 1}},
        showlegend=False, cliponaxis=False)
    # Labels on a white box, above the links (a link never runs through one); set at once
    # (one add_annotation per node validates the whole layout each time).
    titles = [{"x": column, "y": -0.35, "text": f"<b>{title}</b>", "showarrow": False,
               "xanchor": "left", "yanchor": "bottom", "font": {"size": 12}}
              for column, title in enumerate(LINEAGE_COLUMNS)]
    labels = [{"x": n["x"], "y": n["y"], "text": _wrap(n["label"]), "showarrow": False,
               "xanchor": "left", "xshift": 10, "align": "left", "font": {"size": 12},
               "bgcolor": "rgba(255,255,255,0.92)", "borderpad": 2} for n in nodes]
    fig.update_layout(annotations=titles + labels)
    fig.update_xaxes(visible=False, range=[-0.1, 3.95], fixedrange=True)
    fig.update_yaxes(visible=False, range=[rows, -0.6], fixedrange=True)
    style(fig, "Lineage: model → version → run → data",
          height=int(max(260, 110 + LINEAGE_ROW_PX * max(rows, 1))))
    fig.update_layout(margin={"l": 20, "r": 20})
    return fig


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
