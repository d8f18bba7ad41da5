"""Charts of audit scores: dimension bars, comparison with the last audit, portfolio views."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from aidebt_core.audit.questions import DIMENSIONS
from aidebt_core.audit.scoring import HEALTH_BANDS, health_band
from aidebt_core.plots.theme import (
    ALERT_COLOR,
    CURRENT_COLOR,
    NEUTRAL_COLOR,
    OK_COLOR,
    REFERENCE_COLOR,
    style,
)

BAND_COLORS = {"research-grade": ALERT_COLOR, "basic productionization": CURRENT_COLOR,
               "reasonably controlled": "#e0b000", "strong": "#7cbf5e",
               "exceptional": OK_COLOR, "not scored": NEUTRAL_COLOR}
DIMENSION_LABELS = {"data": "Data", "model": "Model", "configuration": "Configuration",
                    "evaluation": "Evaluation"}


def band_color(value: float | None) -> str:
    return BAND_COLORS[health_band(value)]


def _band_shapes(fig: go.Figure, horizontal: bool) -> None:
    """Faint background stripes for the health bands (0–2, 2–4, 4–6, 6–8, 8–10)."""
    lower = 0.0
    for upper, name in HEALTH_BANDS:
        top = min(upper, 10.0)
        kwargs = ({"x0": lower, "x1": top, "y0": 0, "y1": 1, "xref": "x", "yref": "paper"}
                  if horizontal else
                  {"y0": lower, "y1": top, "x0": 0, "x1": 1, "yref": "y", "xref": "paper"})
        fig.add_shape(type="rect", fillcolor=BAND_COLORS[name], opacity=0.08, line_width=0,
                      layer="below", **kwargs)
        lower = top


def dimension_bars(scores: dict, title: str = "Health by dimension") -> go.Figure:
    """Horizontal bars of the dimension scores (0–10) coloured by band, the weighted mean as
    a dashed line; `scores` is `AuditScore.to_dict()`."""
    dims = scores.get("dimensions") or {}
    values = [dims.get(d) for d in DIMENSIONS]
    labels = [DIMENSION_LABELS[d] for d in DIMENSIONS]
    fig = go.Figure(go.Bar(
        x=[v if v is not None else 0 for v in values], y=labels, orientation="h",
        marker_color=[band_color(v) for v in values],
        text=["N/A" if v is None else f"{v:.1f}" for v in values], textposition="outside",
        hovertemplate="%{y}: %{x:.2f} / 10<extra></extra>", name="dimension health"))
    _band_shapes(fig, horizontal=True)
    mean = scores.get("weighted_mean")
    if mean is not None:
        fig.add_vline(x=mean, line_dash="dash", line_color=NEUTRAL_COLOR,
                      annotation_text=f"weighted mean {mean:.1f}",
                      annotation_position="top")
    fig.update_xaxes(range=[0, 10.8], title="health (0–10)", dtick=2)
    fig.update_yaxes(autorange="reversed")
    return style(fig, title, height=280)


def comparison_bars(previous: dict, current: dict, previous_label: str = "previous audit",
                    current_label: str = "this audit") -> go.Figure:
    """Grouped bars: each dimension's health in the previous audit and now."""
    labels = [DIMENSION_LABELS[d] for d in DIMENSIONS]
    fig = go.Figure()
    for scores, name, color in ((previous, previous_label, REFERENCE_COLOR),
                                (current, current_label, CURRENT_COLOR)):
        dims = scores.get("dimensions") or {}
        values = [dims.get(d) for d in DIMENSIONS]
        fig.add_trace(go.Bar(x=labels, y=values, name=name, marker_color=color,
                             text=["N/A" if v is None else f"{v:.1f}" for v in values],
                             textposition="outside",
                             hovertemplate="%{x}: %{y:.2f}<extra>" + name + "</extra>"))
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 10.8], title="health (0–10)")
    return style(fig, "Compared with the previous audit", height=320)


def portfolio_heatmap(frame: pd.DataFrame) -> go.Figure:
    """Models × (headline, dimensions) coloured on the health bands; `frame` is the scorecard."""
    columns = ["headline", *[f"{d}_score" for d in DIMENSIONS]]
    names = ["Headline (min)", *[DIMENSION_LABELS[d] for d in DIMENSIONS]]
    z = frame[columns].astype(float).to_numpy()
    stops = [(0.0, ALERT_COLOR), (0.2, ALERT_COLOR), (0.2, BAND_COLORS["basic productionization"]),
             (0.4, BAND_COLORS["basic productionization"]),
             (0.4, BAND_COLORS["reasonably controlled"]),
             (0.6, BAND_COLORS["reasonably controlled"]), (0.6, BAND_COLORS["strong"]),
             (0.8, BAND_COLORS["strong"]), (0.8, OK_COLOR), (1.0, OK_COLOR)]
    text = [["N/A" if pd.isna(v) else f"{v:.1f}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=names, y=list(frame["model"]), zmin=0, zmax=10, colorscale=stops,
        text=text, texttemplate="%{text}", textfont={"size": 15, "color": "#1b1f24"},
        hovertemplate="%{y} · %{x}: %{z:.2f}<extra></extra>", xgap=3, ygap=3,
        colorbar={"title": "health", "tickvals": [1, 3, 5, 7, 9],
                  "ticktext": ["research", "basic", "controlled", "strong", "exceptional"]}))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(side="top")
    return style(fig, None, height=120 + 60 * max(len(frame), 1))


def portfolio_radar(frame: pd.DataFrame) -> go.Figure:
    """One closed polygon per model over the four dimensions."""
    labels = [DIMENSION_LABELS[d] for d in DIMENSIONS]
    palette = [REFERENCE_COLOR, CURRENT_COLOR, OK_COLOR, "#8e5bd6", ALERT_COLOR, NEUTRAL_COLOR]
    fig = go.Figure()
    for i, row in enumerate(frame.itertuples(index=False)):
        values = [getattr(row, f"{d}_score") for d in DIMENSIONS]
        values = [0 if pd.isna(v) else v for v in values]
        fig.add_trace(go.Scatterpolar(r=[*values, values[0]], theta=[*labels, labels[0]],
                                      name=str(row.model), fill="toself", opacity=0.55,
                                      line_color=palette[i % len(palette)],
                                      hovertemplate="%{theta}: %{r:.1f}<extra>%{fullData.name}"
                                                    "</extra>"))
    style(fig, None, height=400)
    fig.update_layout(polar={"radialaxis": {"range": [0, 10], "dtick": 2, "angle": 45,
                                            "tickfont": {"size": 10}}},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.12,
                              "xanchor": "center", "x": 0.5},
                      margin={"l": 40, "r": 40, "t": 40, "b": 70})
    return fig


def mts_sections(mts: dict) -> go.Figure:
    """ML Test Score points per section (0–7), the final score (minimum) highlighted."""
    sections = mts.get("sections") or {}
    final = mts.get("final", 0.0)
    names = list(sections)
    values = [sections[n] for n in names]
    colors = [ALERT_COLOR if v == final else REFERENCE_COLOR for v in values]
    fig = go.Figure(go.Bar(x=names, y=values, marker_color=colors,
                           text=[f"{v:g}" for v in values], textposition="outside",
                           hovertemplate="%{x}: %{y} of 7<extra></extra>"))
    fig.update_yaxes(range=[0, 7.6], title="points (of 7)")
    return style(fig, f"ML Test Score view: final {final:g} (minimum section)", height=300)


def headline_trend(history: pd.DataFrame) -> go.Figure:
    """Headline per audit over time, one line per model (`history.headline_history` frame)."""
    palette = [REFERENCE_COLOR, CURRENT_COLOR, OK_COLOR, "#8e5bd6", ALERT_COLOR, NEUTRAL_COLOR]
    fig = go.Figure()
    for i, (model, rows) in enumerate(history.groupby("model", sort=True)):
        fig.add_trace(go.Scatter(x=pd.to_datetime(rows["audited_at"]), y=rows["headline"],
                                 mode="lines+markers", name=str(model),
                                 line_color=palette[i % len(palette)],
                                 hovertemplate="%{x|%Y-%m-%d}: %{y:.1f}<extra>" + str(model)
                                               + "</extra>"))
    _band_shapes(fig, horizontal=False)
    fig.update_yaxes(range=[0, 10], title="headline health", dtick=2)
    return style(fig, "Headline over time", height=320)
