"""Drift charts: per-column overview, one column's distributions, drift over time, PCA error."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from aidebt_core.drift.distribution import Distribution
from aidebt_core.drift.multivariate import MultivariateResult
from aidebt_core.drift.over_time import OverTimeResult
from aidebt_core.drift.result import DriftResult
from aidebt_core.plots.theme import (
    ALERT_COLOR,
    CURRENT_COLOR,
    NEUTRAL_COLOR,
    OK_COLOR,
    REFERENCE_COLOR,
    period_boundary,
    style,
)

BAND_FILL = "rgba(138, 148, 166, 0.14)"
SMALL_COLOR = "#c9ced8"      # chunks too small to judge: greyed, never alert-coloured
SMALL_FILL = "rgba(138, 148, 166, 0.16)"
RATIO_CAP = 1e3   # bars stop at 1000× the threshold (a p-value of 1e-300 is no longer bar)


def drift_overview(result: DriftResult) -> go.Figure:
    """One bar per column: how far past (or short of) its threshold it is, drifted in red.

    Each method's own rule (`Method.excess`): statistic / threshold for a distance,
    threshold / p for a test (capped), so 1 is the line in both cases and longer bars mean
    more drift. The axis is that ratio (log scale, ticks written as "10×"); each bar's label
    gives the real value and the threshold it is compared with.
    """
    rows = [c for c in result.columns if c.statistic is not None or c.status == "type changed"]
    ratios, texts = [], []
    for c in rows:
        if c.status == "type changed":
            ratios.append(np.nan)
            texts.append("type changed")
        else:
            ratios.append(min(c.excess, RATIO_CAP))
            texts.append(f"{c.method} {c.method_info.shown(c.statistic, c.p_value)} · "
                         f"threshold {c.threshold:.3g}")
    order = np.argsort(np.nan_to_num(np.array(ratios, dtype=float), nan=RATIO_CAP))
    names = [rows[i].name for i in order]
    values = np.nan_to_num(np.array([ratios[i] for i in order], dtype=float), nan=RATIO_CAP)
    colors = [ALERT_COLOR if rows[i].drifted else REFERENCE_COLOR for i in order]
    fig = go.Figure(go.Bar(
        x=values, y=names, orientation="h",
        marker_color=colors, text=[texts[i] for i in order], textposition="outside",
        hovertemplate="%{y}<br>%{text}<br>%{x:.3g}× the threshold<extra></extra>"))
    fig.add_vline(x=1, line={"color": NEUTRAL_COLOR, "dash": "dash", "width": 1})
    # Annotations on a log axis take log10 positions: 0 is the threshold line at 1.
    fig.add_annotation(x=0, y=1, yref="paper", text="threshold", showarrow=False,
                       yanchor="bottom", font={"color": NEUTRAL_COLOR, "size": 11})
    low = min(0.1, float(np.min(values)) if len(values) else 0.1)
    ticks = [10.0 ** e for e in range(int(np.floor(np.log10(max(low, 1e-6)))), 4)]
    fig.update_xaxes(type="log", tickvals=ticks,
                     ticktext=[_times(v) for v in ticks],
                     range=[np.log10(ticks[0]), np.log10(RATIO_CAP) + 0.9],
                     title="value relative to the column's threshold (1× = the line; log "
                           "scale)")
    fig.update_yaxes(automargin=True)
    return style(fig, "Drift by column (red: drifted over the whole period)",
                 height=max(320, 26 * len(rows) + 120))


def _times(v: float) -> str:
    """Tick text of a ratio: "0.1×", "1×", "1000×"."""
    text = f"{v:g}×"
    return f"≥{text}" if v >= RATIO_CAP else text


def distribution_figure(dist: Distribution, ecdf: bool = False) -> go.Figure:
    """Reference vs current: overlaid histograms or ECDFs (numeric), side-by-side bars
    (categorical). The ECDF is exact at the bin edges: the share of values below each."""
    if dist.kind == "numeric" and ecdf:
        fig = go.Figure()
        for shares, name, color in ((dist.reference, "reference", REFERENCE_COLOR),
                                    (dist.current, "current", CURRENT_COLOR)):
            fig.add_trace(go.Scatter(x=dist.edges[1:], y=np.cumsum(shares), name=name,
                                     mode="lines", line={"color": color, "shape": "hv"},
                                     hovertemplate="< %{x:.4g}: %{y:.1%}<extra>" + name
                                                   + "</extra>"))
        fig.update_xaxes(title=dist.column)
        fig.update_yaxes(title="share of rows below", tickformat=".0%", range=[0, 1.02])
        return style(fig, f"{dist.column}: cumulative distribution", height=360)
    if dist.kind == "numeric":
        centres = (dist.edges[:-1] + dist.edges[1:]) / 2
        width = float(dist.edges[1] - dist.edges[0])
        fig = go.Figure()
        for shares, name, color in ((dist.reference, "reference", REFERENCE_COLOR),
                                    (dist.current, "current", CURRENT_COLOR)):
            fig.add_trace(go.Bar(x=centres, y=shares, width=width, name=name,
                                 marker_color=color, opacity=0.55,
                                 customdata=dist.labels,
                                 hovertemplate="%{customdata}: %{y:.1%}<extra>" + name
                                               + "</extra>"))
        fig.update_layout(barmode="overlay", bargap=0)
        fig.update_xaxes(title=dist.column)
        fig.update_yaxes(title="share of rows", tickformat=".0%")
        return style(fig, f"{dist.column}: distribution", height=360)
    labels = list(dist.labels)[::-1]  # most frequent at the top
    fig = go.Figure()
    for shares, name, color in ((dist.current, "current", CURRENT_COLOR),
                                (dist.reference, "reference", REFERENCE_COLOR)):
        fig.add_trace(go.Bar(y=labels, x=list(shares)[::-1], name=name, orientation="h",
                             marker_color=color,
                             hovertemplate="%{y}: %{x:.1%}<extra>" + name + "</extra>"))
    fig.update_layout(barmode="group", legend={"traceorder": "reversed"})
    fig.update_xaxes(title="share of rows", tickformat=".0%")
    fig.update_yaxes(automargin=True, type="category")
    return style(fig, f"{dist.column}: share per value",
                 height=max(320, 34 * len(labels) + 120))


FULL_PLOT_PX = 680      # plot area of a full-width chart at 1440 px (y labels, colour bar off)
HALF_PLOT_PX = 330      # a chart in one of two columns
CHAR_PX, GAP_PX = 6.4, 12   # a tick label's width per character at 12 px, and the gap between


def chunk_ticks(fig: go.Figure, chunks, plot_px: int = FULL_PLOT_PX) -> None:
    """Chunk names on a category x axis, with 'partial' / 'too small' under the ones that
    are (chunks: anything with label, partial and too_small). Daily or weekly chunks would
    crowd the axis: as many labels as fit `plot_px` at their length are shown, every k-th
    chunk, horizontally, so no label overlaps (hover still names every chunk)."""
    labels = [c.label for c in chunks]
    text = [c.label + ("<br><i>too small</i>" if c.too_small else "")
            + ("<br><i>partial</i>" if c.partial else "") for c in chunks]
    longest = max((len(label) for label in labels), default=1)
    fits = max(2, int(plot_px // (CHAR_PX * longest + GAP_PX)))
    step = max(1, math.ceil(len(labels) / fits))
    shown = list(range(0, len(labels), step))
    if shown and shown[-1] != len(labels) - 1 and text[-1] != labels[-1]:
        shown[-1] = len(labels) - 1   # a partial / too-small last chunk keeps its mark
    # The order is the chunks' own: traces that skip chunks must not reorder the axis.
    fig.update_xaxes(type="category", tickmode="array", tickvals=[labels[i] for i in shown],
                     ticktext=[text[i] for i in shown],
                     categoryorder="array", categoryarray=labels, tickangle=0)


MAX_CHUNK_NOTES = 6   # more "too small" notes than this crowd the chart: the legend says it


def small_chunk_shading(fig: go.Figure, chunks, labels: list[str]) -> None:
    """Grey bands behind chunks too small to judge, each labelled so when there are few.

    The shapes go in with one layout update: `add_vrect` per chunk re-validates the whole
    layout each time, which cost 1.2 s for a year of daily chunks. With many such chunks
    (daily data), one legend entry explains the grey instead of a note per chunk."""
    small = [i for i, c in enumerate(chunks) if c.too_small]
    if not small:
        return
    shapes = [{"type": "rect", "xref": "x", "yref": "paper", "x0": i - 0.45, "x1": i + 0.45,
               "y0": 0, "y1": 1, "fillcolor": SMALL_FILL, "line": {"width": 0},
               "layer": "below"} for i in small]
    notes = [] if len(small) > MAX_CHUNK_NOTES else [
        {"x": labels[i], "y": 0.02, "yref": "paper", "showarrow": False,
         "text": "too small<br>to judge", "yanchor": "bottom",
         "font": {"size": 10, "color": NEUTRAL_COLOR}} for i in small]
    fig.update_layout(shapes=[*fig.layout.shapes, *shapes],
                      annotations=[*fig.layout.annotations, *notes])
    if not notes:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", hoverinfo="skip",
                                 name=f"grey: too small to judge ({len(small)} chunks)",
                                 marker={"symbol": "square", "size": 12, "color": SMALL_COLOR}))


def _not_judged(fig: go.Figure, labels: list[str], values) -> None:
    """Values of chunks too small to judge: grey rings, apart from the line."""
    if len(labels):
        fig.add_trace(go.Scatter(x=labels, y=values, mode="markers", name="too small to judge",
                                 marker={"symbol": "circle-open", "size": 10,
                                         "color": SMALL_COLOR, "line": {"width": 2}},
                                 hovertemplate="%{x}<br>%{y:.4g}: too small to judge"
                                               "<extra></extra>"))


def drift_heatmap(result: OverTimeResult, missing: bool = False) -> go.Figure:
    """Columns × chunks: drift value relative to each column's reference-derived threshold
    (or the missing share), alerts marked with a dot; chunks too small to judge in grey."""
    labels = [c.label for c in result.chunks]
    small = np.array([c.too_small for c in result.chunks], dtype=bool)
    if missing:
        z = result.missing
        text = np.vectorize(lambda v: "" if np.isnan(v) else f"{v:.0%}")(z)
        alerts = result.missing_alerts
        colorbar, scale, zmax = "missing share", "Blues", None
    else:
        z = result.ratios
        text = np.vectorize(lambda v: "" if np.isnan(v) else f"{v:.3g}")(result.values)
        alerts = result.alerts
        # Under the threshold (ratio < 1) in greys, past it in reds: no amber, which means
        # "warning" elsewhere, for values that are fine.
        colorbar, scale, zmax = "value / threshold", [[0, "#f7f8fb"], [0.4999, "#c3ccdb"],
                                                       [0.5, "#f4b6b6"], [1, ALERT_COLOR]], 2.0
    fig = go.Figure(go.Heatmap(
        z=np.where(small[None, :], np.nan, z), x=labels, y=list(result.columns),
        colorscale=scale, zmin=0, zmax=zmax,
        text=text, customdata=np.where(alerts, "alert", ""),
        hovertemplate="%{y} · %{x}<br>%{text} %{customdata}<extra></extra>",
        colorbar={"title": colorbar}, xgap=1, ygap=1))
    if small.any():
        grey = np.where(np.broadcast_to(small[None, :], z.shape), 1.0, np.nan)
        fig.add_trace(go.Heatmap(
            z=grey, x=labels, y=list(result.columns), text=text, showscale=False,
            colorscale=[[0, SMALL_COLOR], [1, SMALL_COLOR]], xgap=1, ygap=1,
            name="too small to judge",
            hovertemplate="%{y} · %{x}<br>%{text} — too small to judge (under "
                          f"{result.min_rows:,} rows), never alerts<extra></extra>"))
    ys, xs = np.nonzero(alerts)
    fig.add_trace(go.Scatter(x=[labels[i] for i in xs], y=[result.columns[i] for i in ys],
                             mode="markers", name="alert", hoverinfo="skip",
                             marker={"symbol": "circle", "size": 8, "color": "#1b1f24",
                                     "line": {"color": "white", "width": 1.5}}))
    period_boundary(fig, [c.period for c in result.chunks])
    fig.update_yaxes(autorange="reversed", automargin=True, type="category")
    chunk_ticks(fig, result.chunks)
    title = "Missing share per chunk" if missing else "Drift per chunk (● alert)"
    if small.any():
        title += " · grey: too small to judge"
    return style(fig, title, height=max(340, 24 * len(result.columns) + 160))


def feature_over_time(result: OverTimeResult, column: str) -> go.Figure:
    """One column's drift value per chunk, its chunk alert threshold, and its missing share.

    The threshold here is the one a single chunk is judged by (from the reference chunks'
    variation and a chunk's sampling noise), not the whole-period threshold of the table:
    the line says which."""
    i = result.columns.index(column)
    labels = [c.label for c in result.chunks]
    alerts = result.alerts[i]
    fig = go.Figure()
    small = ~result.judged
    fig.add_trace(go.Scatter(x=labels, y=np.where(small, np.nan, result.values[i]),
                             mode="lines+markers",
                             name=result.method_labels[i],
                             line={"color": REFERENCE_COLOR},
                             marker={"color": [ALERT_COLOR if a else REFERENCE_COLOR
                                               for a in alerts], "size": 8}))
    _not_judged(fig, [lab for lab, s in zip(labels, small, strict=True) if s],
                result.values[i][small])
    fig.add_hline(y=result.thresholds[i], line={"color": ALERT_COLOR, "dash": "dash",
                                                "width": 1},
                  annotation_text=f"{chunk_unit(result.chunking)} alert threshold "
                                  f"{result.thresholds[i]:.3g}",
                  annotation_position="top left", annotation_font={"color": ALERT_COLOR})
    fig.add_trace(go.Scatter(x=labels, y=result.missing[i], mode="lines", yaxis="y2",
                             name="missing share", line={"color": NEUTRAL_COLOR, "dash": "dot"}))
    top = np.nanmax(result.missing[i]) if np.isfinite(result.missing[i]).any() else 0.0
    upper = max(0.1, 1.15 * top)
    fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%",
                              "dtick": share_step(upper), "title": "missing share",
                              "range": [0, upper], "showgrid": False})
    fig.update_layout(yaxis={"title": result.method_labels[i],
                             "rangemode": "tozero"})
    chunk_ticks(fig, result.chunks, HALF_PLOT_PX)
    small_chunk_shading(fig, result.chunks, labels)
    period_boundary(fig, [c.period for c in result.chunks])
    return style(fig, f"{column} over time", height=360)


def chunk_unit(chunking: str) -> str:
    """"monthly", "daily", ... for a chunking; "chunk" for row chunks."""
    return {"day": "daily", "week": "weekly", "month": "monthly", "quarter": "quarterly",
            "year": "yearly"}.get(chunking, "chunk")


def share_step(upper: float) -> float:
    """A tick step for a 0..upper share axis that gives at most 6 ticks, each a whole
    percent (no "2% 5% 7%" from a 2.5 % step rounded for display)."""
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25):
        if upper / step <= 6:
            return step
    return 0.25


def multivariate_figure(result: MultivariateResult) -> go.Figure:
    """PCA reconstruction error per chunk with each chunk's band (its size sets its noise);
    alerts in red, chunks too small to judge greyed."""
    labels = [c.label for c in result.chunks]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=labels + labels[::-1],
                             y=list(result.uppers) + list(result.lowers)[::-1],
                             fill="toself", fillcolor=BAND_FILL, line={"width": 0},
                             hoverinfo="skip", name="reference band", showlegend=False))
    fig.add_trace(go.Scatter(x=labels, y=result.uppers, mode="lines", name="upper threshold",
                             line={"color": ALERT_COLOR, "dash": "dash", "width": 1,
                                   "shape": "hvh"},
                             hovertemplate="%{x}<br>threshold %{y:.4g}<extra></extra>"))
    colors = [ALERT_COLOR if a else OK_COLOR for a in result.alerts]
    small = ~result.judged
    fig.add_trace(go.Scatter(x=labels, y=np.where(small, np.nan, result.errors),
                             mode="lines+markers", name="reconstruction error",
                             line={"color": OK_COLOR}, marker={"size": 9, "color": colors}))
    _not_judged(fig, [lab for lab, s in zip(labels, small, strict=True) if s],
                result.errors[small])
    chunk_ticks(fig, result.chunks)
    small_chunk_shading(fig, result.chunks, labels)
    fig.update_yaxes(title="mean reconstruction error")
    period_boundary(fig, [c.period for c in result.chunks])
    return style(fig, f"Multivariate drift: PCA on {len(result.columns)} columns "
                      f"({result.components} components, "
                      f"{result.explained_variance:.0%} of the variance)", height=360)
