"""Entanglement charts: clustered association heatmap, difference heatmap, pair drill-downs."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from aidebt_core.entanglement.drilldown import PairView
from aidebt_core.entanglement.result import MEASURE_NAMES, AssociationMatrix, CorrelationChange
from aidebt_core.plots.theme import (
    CURRENT_COLOR,
    DIVERGING_SCALE,
    NEUTRAL_COLOR,
    REFERENCE_COLOR,
    style,
)

_PERIOD_COLORS = {"reference": REFERENCE_COLOR, "current": CURRENT_COLOR}


def _size(p: int) -> tuple[int, int, bool]:
    """Height in px, tick font size, and whether cell values fit as text."""
    cell = 34 if p <= 15 else 24 if p <= 30 else 18
    font = 12 if p <= 20 else 11 if p <= 35 else 9
    return max(420, 160 + cell * p), font, p <= 15


def _names(methods: np.ndarray) -> np.ndarray:
    return np.vectorize(lambda m: MEASURE_NAMES.get(m, "same column" if m == "self" else m),
                        otypes=[object])(methods)


def _layout(fig: go.Figure, p: int, title: str) -> go.Figure:
    height, font, _ = _size(p)
    style(fig, title=title, height=height)
    fig.update_xaxes(tickangle=-45, tickfont={"size": font}, automargin=True, side="bottom",
                     showgrid=False, constrain="domain")
    fig.update_yaxes(autorange="reversed", tickfont={"size": font}, automargin=True,
                     showgrid=False, scaleanchor="x", constrain="domain")
    fig.update_layout(plot_bgcolor="#eef0f4")  # undefined (blank) cells show as light grey
    return fig


def association_heatmap(matrix: AssociationMatrix, title: str | None = None) -> go.Figure:
    """The clustered matrix; hover names both columns, the measure, the value and the rows."""
    cols = list(matrix.columns)
    p = len(cols)
    _, _, show_text = _size(p)
    measure = _names(matrix.methods)
    note = np.full((p, p), "", dtype=object)
    for (a, b), reason in matrix.undefined.items():
        note[matrix.index(a), matrix.index(b)] = "<br>" + reason
    asym = not matrix.symmetric
    rows_label = "rows: %{customdata[1]:,}"
    fig = go.Figure(go.Heatmap(
        z=matrix.values, x=cols, y=cols, zmin=-1, zmax=1, colorscale=DIVERGING_SCALE,
        customdata=np.dstack([measure, matrix.counts.astype(object), note]),
        hovertemplate=("<b>%{y}</b>" + (" given " if asym else " × ") + "<b>%{x}</b><br>"
                       "%{customdata[0]}: %{z:.3f}<br>" + rows_label +
                       "%{customdata[2]}<extra></extra>"),
        texttemplate="%{z:.2f}" if show_text else None, textfont={"size": 10},
        colorbar={"title": {"text": "association"}, "thickness": 14}, xgap=1, ygap=1,
        hoverongaps=False))
    default = "Association (clustered" + (", row given column" if asym else "") + ")"
    return _layout(fig, p, title or default)


def difference_heatmap(change: CorrelationChange, title: str | None = None) -> go.Figure:
    """current − reference per pair, in the reference's clustered order."""
    cols = list(change.columns)
    p = len(cols)
    _, _, show_text = _size(p)
    lookup = {(r.a, r.b): r for r in change.pairs.itertuples(index=False)}
    ref = np.full((p, p), np.nan)
    cur = np.full((p, p), np.nan)
    for i, a in enumerate(cols):
        for j, b in enumerate(cols):
            row = lookup.get((a, b)) or lookup.get((b, a))
            if row is not None:
                ref[i, j], cur[i, j] = row.reference, row.current
    fig = go.Figure(go.Heatmap(
        z=change.difference, x=cols, y=cols, zmin=-1, zmax=1, colorscale=DIVERGING_SCALE,
        customdata=np.dstack([ref, cur]),
        hovertemplate=("<b>%{y}</b> × <b>%{x}</b><br>change: %{z:+.3f}<br>"
                       "reference: %{customdata[0]:.3f}<br>current: %{customdata[1]:.3f}"
                       "<extra></extra>"),
        texttemplate="%{z:+.2f}" if show_text else None, textfont={"size": 10},
        colorbar={"title": {"text": "current − reference"}, "thickness": 14}, xgap=1, ygap=1,
        hoverongaps=False))
    return _layout(fig, p, title or f"Change in association (flagged when |Δ| > "
                                    f"{change.threshold:g})")


def pair_figure(view: PairView) -> go.Figure:
    """Scatter (numeric pair), box per category (mixed) or shares per category (categorical)."""
    if view.shape == "crosstab":
        return _crosstab(view)
    fig = go.Figure()
    for period, part in view.frame.groupby("period", sort=False):
        color = _PERIOD_COLORS.get(str(period), NEUTRAL_COLOR)
        if view.shape == "scatter":
            fig.add_trace(go.Scattergl(x=part[view.a], y=part[view.b], mode="markers",
                                       name=str(period), opacity=0.45,
                                       marker={"size": 4, "color": color}))
        else:
            fig.add_trace(go.Box(x=part[view.b], y=part[view.a], name=str(period),
                                 marker_color=color, boxpoints=False))
    if view.shape == "box":
        fig.update_layout(boxmode="group")
        fig.update_xaxes(title=view.b)
        fig.update_yaxes(title=view.a)
    else:
        fig.update_xaxes(title=view.a)
        fig.update_yaxes(title=view.b)
    return style(fig, title=f"{view.a} vs {view.b}", height=420)


def _crosstab(view: PairView) -> go.Figure:
    periods = list(dict.fromkeys(view.frame["period"]))
    fig = make_subplots(rows=1, cols=len(periods), subplot_titles=periods,
                        horizontal_spacing=0.12)
    for k, period in enumerate(periods, start=1):
        part = view.frame[view.frame["period"] == period]
        table = part.pivot_table(index=view.a, columns=view.b, values="count", aggfunc="sum",
                                 fill_value=0, sort=False)
        share = table.div(table.sum(axis=1).where(lambda s: s > 0), axis=0)
        fig.add_trace(go.Heatmap(
            z=share.values, x=[str(c) for c in share.columns], y=[str(i) for i in share.index],
            zmin=0, zmax=1, colorscale="Blues", showscale=k == len(periods),
            customdata=table.values,
            hovertemplate=(f"{view.a}=%{{y}}<br>{view.b}=%{{x}}<br>share of row: %{{z:.1%}}"
                           "<br>count: %{customdata:,}<extra>" + str(period) + "</extra>")),
            row=1, col=k)
        fig.update_xaxes(title=view.b, tickangle=-45, row=1, col=k)
        fig.update_yaxes(title=view.a if k == 1 else None, autorange="reversed", row=1, col=k)
    return style(fig, title=f"{view.a} vs {view.b}: share of each {view.a} row", height=460)
