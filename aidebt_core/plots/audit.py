"""Charts of audit scores: dimension bars, comparison with the last audit, portfolio views
(plotly, for the pages), and the same charts as small static SVG for printable reports (no
script, a few kB each, sharp on paper)."""

from __future__ import annotations

import html
from datetime import date

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
    date_axis,
    model_colours,
    style,
)

BAND_COLORS = {"research-grade": ALERT_COLOR, "basic productionization": "#e08a1e",
               "reasonably controlled": "#e0b000", "strong": "#7cbf5e",
               "exceptional": OK_COLOR, "not scored": NEUTRAL_COLOR}
BAND_NAMES = tuple(name for _, name in HEALTH_BANDS)


def _band_ranges() -> dict[str, str]:
    out, lower = {}, 0.0
    for upper, name in HEALTH_BANDS:
        out[name] = f"{lower:g}–{upper:g}" if upper <= 10 else f"≥ {lower:g}"
        lower = upper
    return out


BAND_RANGES = _band_ranges()
DIMENSION_LABELS = {"data": "Data", "model": "Model", "configuration": "Configuration",
                    "evaluation": "Evaluation"}
MEAN_LABEL = "Weighted mean (all items)"


def band_color(value: float | None) -> str:
    return BAND_COLORS[health_band(value)]


def band_legend() -> str:
    """The band names with their ranges, exactly as the tables and charts name them."""
    return " · ".join(f"{name} ({BAND_RANGES[name]})" for name in BAND_NAMES)


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
    """Horizontal bars of the dimension scores (0–10) coloured by band; the weighted mean of
    all items is its own grey bar below them (a line across the bars would run through their
    labels). `scores` is `AuditScore.to_dict()`."""
    dims = scores.get("dimensions") or {}
    values = [dims.get(d) for d in DIMENSIONS]
    labels = [DIMENSION_LABELS[d] for d in DIMENSIONS]
    fig = go.Figure(go.Bar(
        x=[v if v is not None else 0 for v in values], y=labels, orientation="h",
        marker_color=[band_color(v) for v in values],
        text=["N/A" if v is None else f"{v:.1f}" for v in values], textposition="outside",
        hovertemplate="%{y}: %{x:.2f} / 10<extra></extra>", name="dimension health"))
    mean = scores.get("weighted_mean")
    if mean is not None:
        fig.add_trace(go.Bar(x=[mean], y=[MEAN_LABEL], orientation="h",
                             marker_color=NEUTRAL_COLOR, marker_pattern_shape="/",
                             text=[f"{mean:.1f}"], textposition="outside",
                             hovertemplate="weighted mean of all items: %{x:.2f} / 10"
                                           "<extra></extra>", name="weighted mean"))
    _band_shapes(fig, horizontal=True)
    fig.update_xaxes(range=[0, 10.9], title="health (0–10)", dtick=2)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(showlegend=False, bargap=0.35)
    return style(fig, title, height=300)


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


def _band_scale() -> list:
    """Discrete stops: each fifth of 0–10 in its band's colour."""
    stops = []
    for i, name in enumerate(BAND_NAMES):
        stops += [(i / len(BAND_NAMES), BAND_COLORS[name]),
                  ((i + 1) / len(BAND_NAMES), BAND_COLORS[name])]
    return stops


def portfolio_heatmap(frame: pd.DataFrame) -> go.Figure:
    """Models × (headline, dimensions) coloured on the health bands; `frame` is the scorecard.
    The colour bar names the bands exactly as the scorecard's table does."""
    columns = ["headline", *[f"{d}_score" for d in DIMENSIONS]]
    names = ["Headline (min)", *[DIMENSION_LABELS[d] for d in DIMENSIONS]]
    z = frame[columns].astype(float).to_numpy()
    text = [["N/A" if pd.isna(v) else f"{v:.1f}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=names, y=list(frame["model"]), zmin=0, zmax=10, colorscale=_band_scale(),
        text=text, texttemplate="%{text}", textfont={"size": 15, "color": "#1b1f24"},
        hovertemplate="%{y} · %{x}: %{z:.2f}<extra></extra>", xgap=3, ygap=3,
        colorbar={"title": "band", "tickvals": [1, 3, 5, 7, 9], "ticktext": list(BAND_NAMES),
                  "len": 1.0}))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(side="top")
    return style(fig, None, height=max(260, 120 + 60 * max(len(frame), 1)))


def portfolio_radar(frame: pd.DataFrame) -> go.Figure:
    """One closed polygon per model over the four dimensions, each model in its own colour
    (the same on every chart, whatever the rows' order)."""
    labels = [DIMENSION_LABELS[d] for d in DIMENSIONS]
    colours = model_colours(frame["model"])
    fig = go.Figure()
    for row in frame.itertuples(index=False):
        values = [getattr(row, f"{d}_score") for d in DIMENSIONS]
        values = [0 if pd.isna(v) else v for v in values]
        fig.add_trace(go.Scatterpolar(r=[*values, values[0]], theta=[*labels, labels[0]],
                                      name=str(row.model), fill="toself", opacity=0.55,
                                      line_color=colours[str(row.model)],
                                      hovertemplate="%{theta}: %{r:.1f}<extra>%{fullData.name}"
                                                    "</extra>"))
    style(fig, None, height=420)
    fig.update_layout(polar={"radialaxis": {"range": [0, 10], "dtick": 2, "angle": 45,
                                            "tickfont": {"size": 10}}},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.08,
                              "xanchor": "center", "x": 0.5})
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
    """Headline per audit over time, one line per model in its own colour
    (`history.headline_history` frame); dates read as days, even for a single audit."""
    colours = model_colours(history["model"]) if not history.empty else {}
    fig = go.Figure()
    for model, rows in history.groupby("model", sort=True):
        fig.add_trace(go.Scatter(x=pd.to_datetime(rows["audited_at"]), y=rows["headline"],
                                 mode="lines+markers", name=str(model),
                                 line_color=colours[str(model)],
                                 hovertemplate="%{x|%Y-%m-%d}: %{y:.1f}<extra>" + str(model)
                                               + "</extra>"))
    _band_shapes(fig, horizontal=False)
    fig.update_yaxes(range=[0, 10], title="headline health", dtick=2)
    style(fig, "Headline over time", height=320)
    return date_axis(fig, "day") if len(fig.data) else fig


# ------------------------------------------------------------------ static SVG for reports

_FONT = "font-family=\"Inter, Segoe UI, Helvetica, Arial, sans-serif\""


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}" '
            f'{_FONT} font-size="12">' + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", **attrs) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>'
            f"{html.escape(text)}</text>")


def hbars_svg(rows: list[tuple[str, float | None, str]], upper: float, title: str,
              width: int = 620, value_format: str = "{:.1f}") -> str:
    """Horizontal bars (label, value or None, colour) on 0..upper, value printed after each
    bar (inside the drawing: nothing is clipped), ticks every `upper`/5."""
    left, right, bar_h, gap, top = min(190, int(width * 0.4)), 40, 22, 10, 30
    plot_w = width - left - right
    height = top + len(rows) * (bar_h + gap) + 30
    body = [_text(0, 16, title, font_weight="600", font_size="14")]
    for i in range(6):
        x = left + plot_w * i / 5
        body.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" '
                    f'y2="{height - 24}" stroke="#e3e7ee"/>')
        body.append(_text(x, height - 8, f"{upper * i / 5:g}", "middle", fill="#5b6573"))
    for i, (label, value, colour) in enumerate(rows):
        y = top + i * (bar_h + gap)
        body.append(_text(left - 8, y + bar_h * 0.7, label, "end"))
        w = 0 if value is None else plot_w * max(0.0, min(value, upper)) / upper
        body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                    f'fill="{colour}"/>')
        shown = "N/A" if value is None else value_format.format(value)
        body.append(_text(left + w + 6, y + bar_h * 0.7, shown, font_weight="600"))
    return _svg(width, height, body, title)


def dimension_bars_svg(scores: dict, title: str = "Health by dimension (0–10)",
                       width: int = 620) -> str:
    """The dimension bars (band colours) and the weighted mean as a grey bar, as SVG."""
    dims = scores.get("dimensions") or {}
    rows = [(DIMENSION_LABELS[d], dims.get(d), band_color(dims.get(d))) for d in DIMENSIONS]
    if scores.get("weighted_mean") is not None:
        rows.append((MEAN_LABEL if width >= 500 else "Weighted mean", scores["weighted_mean"],
                     NEUTRAL_COLOR))
    return hbars_svg(rows, 10.0, title, width=width)


def comparison_svg(previous: dict, current: dict, previous_label: str,
                   current_label: str) -> str:
    """Each dimension twice: the previous audit (blue) above this one (purple)."""
    rows = []
    for d in DIMENSIONS:
        rows.append((f"{DIMENSION_LABELS[d]} · {previous_label}",
                     (previous.get("dimensions") or {}).get(d), REFERENCE_COLOR))
        rows.append((f"{DIMENSION_LABELS[d]} · {current_label}",
                     (current.get("dimensions") or {}).get(d), CURRENT_COLOR))
    return hbars_svg(rows, 10.0, "Compared with the previous audit (0–10)", width=680)


def mts_sections_svg(mts: dict) -> str:
    sections = mts.get("sections") or {}
    final = mts.get("final", 0.0)
    rows = [(name, value, ALERT_COLOR if value == final else REFERENCE_COLOR)
            for name, value in sections.items()]
    return hbars_svg(rows, 7.0, f"ML Test Score view: final {final:g} (minimum section, "
                                "of 7)", value_format="{:g}")


def trend_svg(history: pd.DataFrame, width: int = 680, height: int = 260) -> str:
    """Headline per audit over time, one line per model in its own colour; a single date is
    drawn as one labelled day, never a zoomed-in clock."""
    title = "Headline over time (0–10)"
    if history.empty:
        return _svg(width, 40, [_text(0, 16, title + ": no audits")], title)
    days = pd.to_datetime(history["audited_at"]).dt.date
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    left, right, top, bottom = 40, 150, 30, 36
    plot_w, plot_h = width - left - right, height - top - bottom

    def x_of(day: date) -> float:
        if first == last:
            return left + plot_w / 2
        return left + plot_w * (day - first).days / span

    def y_of(value: float) -> float:
        return top + plot_h * (1 - value / 10)

    body = [_text(0, 16, title, font_weight="600", font_size="14")]
    for v in range(0, 11, 2):
        body.append(f'<line x1="{left}" y1="{y_of(v):.1f}" x2="{left + plot_w}" '
                    f'y2="{y_of(v):.1f}" stroke="#e3e7ee"/>')
        body.append(_text(left - 6, y_of(v) + 4, str(v), "end", fill="#5b6573"))
    ticks = sorted({first, last})
    for day in ticks:
        body.append(_text(x_of(day), height - 12, day.isoformat(), "middle", fill="#5b6573"))
    colours = model_colours(history["model"])
    for i, (model, rows) in enumerate(history.groupby("model", sort=True)):
        points = [(x_of(d), y_of(v)) for d, v in zip(pd.to_datetime(rows["audited_at"]).dt.date,
                                                      rows["headline"], strict=True)
                  if v is not None and not pd.isna(v)]
        colour = colours[str(model)]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                        f'stroke-width="2"/>')
        body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
                 for x, y in points]
        ly = top + 14 + i * 18
        body.append(f'<rect x="{left + plot_w + 12}" y="{ly - 9}" width="10" height="10" '
                    f'fill="{colour}"/>')
        body.append(_text(left + plot_w + 26, ly, str(model)[:20]))
    return _svg(width, height, body, title)
