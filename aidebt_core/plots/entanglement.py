"""Entanglement charts: clustered association heatmap, difference heatmap, pair drill-downs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from aidebt_core.entanglement.drilldown import PairView
from aidebt_core.entanglement.result import MEASURE_NAMES, AssociationMatrix, CorrelationChange
from aidebt_core.plots.theme import (
    CURRENT_COLOR,
    NEUTRAL_COLOR,
    REFERENCE_COLOR,
    SEQUENTIAL_SCALE,
    heat_scale,
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


TEXT_MIN = 0.1  # cells weaker than this carry no printed value (hover still shows it)


def _cell_text(values: np.ndarray, show: bool, signed: bool) -> np.ndarray | None:
    """Printed values only where they say something: |v| ≥ TEXT_MIN, off the diagonal."""
    if not show:
        return None
    fmt = "{:+.2f}" if signed else "{:.2f}"
    text = np.full(values.shape, "", dtype=object)
    strong = np.abs(np.nan_to_num(values, nan=0.0)) >= TEXT_MIN
    np.fill_diagonal(strong, False)
    for i, j in zip(*np.nonzero(strong), strict=True):
        text[i, j] = fmt.format(values[i, j])
    return text


def association_heatmap(matrix: AssociationMatrix, title: str | None = None) -> go.Figure:
    """The clustered matrix; hover names both columns, the measure, the value and the rows.

    Colour is the strength of association on a sequential 0..1 scale, since most measures
    (Cramér's V, η, Theil's U) are on 0..1; only a matrix of signed measures alone (Pearson /
    Spearman for all-numeric features) is drawn on the diverging −1..1 scale."""
    cols = list(matrix.columns)
    p = len(cols)
    _, _, show_text = _size(p)
    measure = _names(matrix.methods)
    note = np.full((p, p), "", dtype=object)
    for (a, b), reason in matrix.undefined.items():
        note[matrix.index(a), matrix.index(b)] = "<br>" + reason
    asym = not matrix.symmetric
    signed = matrix.signed
    z = matrix.values if signed else np.abs(matrix.values)
    fig = go.Figure(go.Heatmap(
        z=z, x=cols, y=cols, **heat_scale(signed),
        customdata=np.dstack([measure, matrix.counts.astype(object), note,
                              matrix.values.astype(object)]),
        hovertemplate=("<b>%{y}</b>" + (" given " if asym else " × ") + "<b>%{x}</b><br>"
                       "%{customdata[0]}: %{customdata[3]:.3f}<br>rows: %{customdata[1]:,}"
                       "%{customdata[2]}<extra></extra>"),
        text=_cell_text(matrix.values, show_text, signed),
        texttemplate="%{text}" if show_text else None, textfont={"size": 10},
        colorbar={"title": {"text": "association" if signed else "strength"},
                  "thickness": 14}, xgap=1, ygap=1, hoverongaps=False))
    default = "Association (clustered" + (", row given column" if asym else "") + ")"
    return _layout(fig, p, title or default)


def difference_heatmap(change: CorrelationChange, title: str | None = None) -> go.Figure:
    """current − reference per pair, in the reference's clustered order (signed: diverging)."""
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
        z=change.difference, x=cols, y=cols, **heat_scale(signed=True),
        customdata=np.dstack([ref, cur]),
        hovertemplate=("<b>%{y}</b> × <b>%{x}</b><br>change: %{z:+.3f}<br>"
                       "reference: %{customdata[0]:.3f}<br>current: %{customdata[1]:.3f}"
                       "<extra></extra>"),
        text=_cell_text(np.asarray(change.difference, dtype=float), show_text, signed=True),
        texttemplate="%{text}" if show_text else None, textfont={"size": 10},
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
        order = category_order(view.frame[view.b])
        fig.update_xaxes(title=view.b, categoryorder="array", categoryarray=order)
        fig.update_yaxes(title=view.a)
    else:
        fig.update_xaxes(title=view.a)
        fig.update_yaxes(title=view.b)
    return style(fig, title=f"{view.a} vs {view.b}", height=420)


def category_order(values: pd.Series, weights: pd.Series | None = None) -> list[str]:
    """One order of categories for every panel: most frequent first over all periods,
    "(other)" and missing last, ties by name."""
    frame = pd.DataFrame({"v": values.astype(str), "w": 1 if weights is None else weights})
    totals = frame.groupby("v")["w"].sum()
    tail = [v for v in ("(other)", "(missing)", "None") if v in totals.index]
    head = totals.drop(tail).reset_index().sort_values(["w", "v"], ascending=[False, True])
    return list(head["v"]) + tail


def _crosstab(view: PairView) -> go.Figure:
    periods = list(dict.fromkeys(view.frame["period"]))
    rows = category_order(view.frame[view.a], view.frame["count"])
    columns = category_order(view.frame[view.b], view.frame["count"])
    fig = make_subplots(rows=1, cols=len(periods), subplot_titles=periods,
                        horizontal_spacing=0.12)
    for k, period in enumerate(periods, start=1):
        part = view.frame[view.frame["period"] == period]
        table = part.assign(**{view.a: part[view.a].astype(str),
                               view.b: part[view.b].astype(str)}).pivot_table(
            index=view.a, columns=view.b, values="count", aggfunc="sum", fill_value=0,
            sort=False).reindex(index=rows, columns=columns, fill_value=0)
        share = table.div(table.sum(axis=1).where(lambda s: s > 0), axis=0)
        fig.add_trace(go.Heatmap(
            z=share.values, x=[str(c) for c in share.columns], y=[str(i) for i in share.index],
            zmin=0, zmax=1, colorscale=SEQUENTIAL_SCALE, showscale=k == len(periods),
            customdata=table.values,
            hovertemplate=(f"{view.a}=%{{y}}<br>{view.b}=%{{x}}<br>share of row: %{{z:.1%}}"
                           "<br>count: %{customdata:,}<extra>" + str(period) + "</extra>")),
            row=1, col=k)
        fig.update_xaxes(title=view.b, tickangle=-45, row=1, col=k)
        fig.update_yaxes(title=view.a if k == 1 else None, autorange="reversed", row=1, col=k)
    return style(fig, title=f"{view.a} vs {view.b}: share of each {view.a} row", height=460)
