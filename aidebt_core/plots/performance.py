"""Charts of performance over time, the concept-drift gap, and feature → target relations."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from aidebt_core.performance.relationship import Relationship
from aidebt_core.performance.result import PerformanceResult
from aidebt_core.plots.drift import SMALL_COLOR, chunk_ticks, small_chunk_shading
from aidebt_core.plots.theme import (
    ALERT_COLOR,
    CURRENT_COLOR,
    NEUTRAL_COLOR,
    REFERENCE_COLOR,
    period_boundary,
    style,
)

# Teal: the label-free estimate, apart from the reference (blue), current (purple) and the
# alert (red) and warning (amber) roles.
ESTIMATE_COLOR = "#13897f"
NO_LABELS_FILL = "rgba(138, 148, 166, 0.10)"  # grey: a chunk without labels is context
BAND_FILL = "rgba(138, 148, 166, 0.12)"
DASHED = {"color": NEUTRAL_COLOR, "dash": "dash", "width": 1}
NOTE_FONT = {"color": NEUTRAL_COLOR, "size": 11}


# Bands, threshold lines and notes are written as layout shapes and annotations in one update:
# `add_hline`/`add_hrect`/`add_annotation` re-validate the whole layout on every call, which
# cost about a third of a figure's build on every rerun (a metric switch builds two figures).
# The dicts are what those calls write (the tests compare the figures).
def _band(lower: float, upper: float) -> dict:
    """What `add_hrect(y0=lower, y1=upper, fillcolor=BAND_FILL, line_width=0, layer="below")`
    writes."""
    return {"type": "rect", "xref": "x domain", "yref": "y", "x0": 0, "x1": 1, "y0": lower,
            "y1": upper, "fillcolor": BAND_FILL, "line": {"width": 0}, "layer": "below"}


def _hline(y: float, line: dict) -> dict:
    """What `add_hline(y=y, line=line)` writes."""
    return {"type": "line", "xref": "x domain", "yref": "y", "x0": 0, "x1": 1, "y0": y, "y1": y,
            "line": line}


def _line_note(y: float, text: str, yanchor: str) -> dict:
    """The annotation `add_hline(..., annotation_position="bottom left" / "top left")` writes
    (yanchor "top" / "bottom")."""
    return {"x": 0, "xref": "x domain", "xanchor": "left", "y": y, "yref": "y",
            "yanchor": yanchor, "text": text, "showarrow": False, "font": NOTE_FONT}


def _add(fig: go.Figure, shapes: list[dict], notes: list[dict]) -> None:
    """Append shapes and annotations to the figure's layout in one update."""
    fig.update_layout(shapes=[*fig.layout.shapes, *shapes],
                      annotations=[*fig.layout.annotations, *notes])


def performance_figure(result: PerformanceResult, metric: str | None = None) -> go.Figure:
    """Realized metric with its CI band, the estimate, the reference band and alerts."""
    metric = metric or result.metric
    series = result.series[metric]
    frame = result.to_frame(metric)
    x = frame["chunk"].tolist()
    fig = go.Figure()
    thresholds = ((series.band.lower, "lower threshold"), (series.band.upper, "upper threshold"))
    _add(fig, [_band(series.band.lower, series.band.upper),
               *(_hline(y, DASHED) for y, _ in thresholds)],
         [_line_note(y, f"{name} {y:.3f}", "top") for y, name in thresholds])
    judged = ~(frame["too_small"] | frame["too_few_labels"])
    ci = frame[frame["ci_low"].notna() & judged]
    cx = ci["chunk"].tolist()
    fig.add_trace(go.Scatter(x=cx + cx[::-1], y=list(ci["ci_high"]) + list(ci["ci_low"])[::-1],
                             fill="toself", fillcolor="rgba(59, 74, 99, 0.13)",
                             line={"width": 0}, hoverinfo="skip", name="95% CI (realized)"))
    colors = [REFERENCE_COLOR if p == "reference" else CURRENT_COLOR for p in frame["period"]]
    # Chunks not judged break the line and sit apart as grey rings: their values are shown,
    # not trusted (too few rows or labels).
    fig.add_trace(go.Scatter(
        x=x, y=frame["realized"].where(judged), mode="lines+markers", name="realized",
        line={"color": "#3b4a63", "width": 2}, marker={"color": colors, "size": 9},
        customdata=np.c_[frame["ci_low"], frame["ci_high"], frame["labelled_rows"]],
        hovertemplate="%{x}<br>realized %{y:.4f}<br>95% CI %{customdata[0]:.4f} – "
                      "%{customdata[1]:.4f}<br>labelled rows %{customdata[2]:,}<extra></extra>"))
    loose = frame[~judged & frame["realized"].notna()]
    if len(loose):
        fig.add_trace(go.Scatter(
            x=loose["chunk"], y=loose["realized"], mode="markers", name="not judged",
            marker={"symbol": "circle-open", "size": 10, "color": SMALL_COLOR,
                    "line": {"width": 2}},
            customdata=np.c_[loose["rows"], loose["labelled_rows"]],
            hovertemplate="%{x}<br>realized %{y:.4f}<br>not judged: %{customdata[0]:,} rows, "
                          "%{customdata[1]:,} labelled<extra></extra>"))
    if frame["estimated"].notna().any():
        # Where the estimate speaks for the chunk (no judged labels), its interval is drawn:
        # an alert needs all of it beyond the band.
        speaks = ~judged | frame["realized"].isna()
        fig.add_trace(go.Scatter(
            x=x, y=frame["estimated"].where(~frame["too_small"]), mode="lines+markers",
            name="estimated (no labels needed)",
            line={"color": ESTIMATE_COLOR, "dash": "dash", "width": 2},
            marker={"symbol": "diamond", "size": 8, "color": ESTIMATE_COLOR},
            error_y={"type": "data", "symmetric": False, "thickness": 1, "width": 4,
                     "color": ESTIMATE_COLOR,
                     "array": (frame["estimated_high"] - frame["estimated"]).where(speaks),
                     "arrayminus": (frame["estimated"] - frame["estimated_low"]).where(speaks)},
            hovertemplate="%{x}<br>estimated %{y:.4f}<extra></extra>"))
    # A measured alert (realized, judged) and an estimate-only one (no or too few labels)
    # are told apart: an unlabelled month is never drawn as a measured drop.
    measured = frame["alert"] & judged & frame["realized"].notna() & (frame["labelled_rows"] > 0)
    if measured.any():
        alerts = frame[measured]
        fig.add_trace(go.Scatter(x=alerts["chunk"], y=alerts["realized"], mode="markers",
                                 name="outside the band (realized)",
                                 marker={"symbol": "x", "size": 14, "color": ALERT_COLOR,
                                         "line": {"width": 2}}))
    estimate_only = frame["estimated_alert"] & ~measured & ~frame["too_small"] & \
        (~judged | frame["realized"].isna())
    if estimate_only.any():
        alerts = frame[estimate_only]
        fig.add_trace(go.Scatter(x=alerts["chunk"], y=alerts["estimated"], mode="markers",
                                 name="estimate outside the band (no labels)",
                                 marker={"symbol": "x-open", "size": 14, "color": ALERT_COLOR,
                                         "line": {"width": 2}}))
    unlabelled = frame[(frame["labelled_rows"] == 0) & ~frame["too_small"]]
    shapes, notes = [], []
    for chunk in unlabelled["chunk"]:
        i = x.index(chunk)
        # what add_vrect(x0=, x1=, fillcolor=NO_LABELS_FILL, line_width=0, layer="below") writes
        shapes.append({"type": "rect", "xref": "x", "yref": "y domain", "x0": i - 0.45,
                       "x1": i + 0.45, "y0": 0, "y1": 1, "fillcolor": NO_LABELS_FILL,
                       "line": {"width": 0}, "layer": "below"})
        notes.append({"x": chunk, "y": 0.02, "yref": "paper",
                      "text": "no labels:<br>estimate only" if frame["estimated"].notna().any()
                      else "no labels", "showarrow": False,
                      "font": {"size": 11, "color": NEUTRAL_COLOR}})
    for chunk in frame.loc[frame["too_few_labels"] & (frame["labelled_rows"] > 0)
                           & ~frame["too_small"], "chunk"]:
        notes.append({"x": chunk, "y": 0.02, "yref": "paper", "text": "too few<br>labels",
                      "showarrow": False, "yanchor": "bottom",
                      "font": {"size": 10, "color": NEUTRAL_COLOR}})
    _add(fig, shapes, notes)
    small_chunk_shading(fig, result.chunks, x)
    period_boundary(fig, [c.period for c in result.chunks])
    chunk_ticks(fig, result.chunks)
    fig.update_layout(xaxis_title=f"chunk ({result.chunking})", yaxis_title=series.name)
    title = f"{series.name} per chunk: realized" + (
        " vs estimated" if frame["estimated"].notna().any() else "")
    return style(fig, title, height=430)


def gap_figure(result: PerformanceResult, metric: str | None = None) -> go.Figure:
    """Realized − estimated per chunk, with the band of the reference gaps."""
    metric = metric or result.metric
    series = result.series[metric]
    frame = result.to_frame(metric)
    fig = go.Figure()
    if series.gap_band is None:
        return style(fig, "No estimate: the concept-drift gap needs a score column", height=200)
    judged = ~(frame["too_small"] | frame["too_few_labels"])
    colors = [ALERT_COLOR if a else SMALL_COLOR if not ok else
              (REFERENCE_COLOR if p == "reference" else CURRENT_COLOR)
              for a, p, ok in zip(frame["concept_alert"], frame["period"], judged, strict=True)]
    fig.add_trace(go.Bar(x=frame["chunk"], y=frame["gap"], marker_color=colors,
                         name="realized − estimated",
                         hovertemplate="%{x}<br>gap %{y:+.4f}<extra></extra>"))
    edges = (series.gap_band.lower, series.gap_band.upper)
    notes = [_line_note(y, f"{y:+.3f}", "bottom") for y in edges]
    notes += [{"x": chunk, "y": 0, "text": "no labels", "showarrow": False, "yanchor": "bottom",
               "font": {"size": 11, "color": NEUTRAL_COLOR}}
              for chunk in frame.loc[frame["labelled_rows"] == 0, "chunk"]]
    notes += [{"x": chunk, "y": 0, "text": "too few<br>labels", "showarrow": False,
               "yanchor": "bottom", "font": {"size": 10, "color": NEUTRAL_COLOR}}
              for chunk in frame.loc[frame["too_few_labels"] & (frame["labelled_rows"] > 0),
                                     "chunk"]]
    _add(fig, [_band(*edges), *(_hline(y, DASHED) for y in edges),
               _hline(0, {"color": "#3b4a63", "width": 1})], notes)
    period_boundary(fig, [c.period for c in result.chunks])
    chunk_ticks(fig, result.chunks)
    fig.update_layout(xaxis_title=f"chunk ({result.chunking})",  # one relayout, not two
                      yaxis={"title": f"{series.name}: realized − estimated", "zeroline": False})
    _scale_to_judged(fig, frame, judged, series.gap_band)
    return style(fig, "Concept-drift signal (red: outside the reference gaps' band)", height=330)


def _scale_to_judged(fig: go.Figure, frame, judged, band) -> None:
    """Keep the y axis on the judged chunks and the band: a 25-label chunk's gap of -0.9
    would flatten every real signal. Bars beyond it are clipped and labelled with their value."""
    shown = np.r_[frame.loc[judged, "gap"].dropna().to_numpy(), band.lower, band.upper, 0.0]
    low, high = float(shown.min()), float(shown.max())
    pad = 0.15 * (high - low or 1e-3)
    low, high = low - pad, high + pad
    off = frame[~judged & frame["gap"].notna() & ((frame["gap"] < low) | (frame["gap"] > high))]
    if len(off):
        fig.update_yaxes(range=[low, high])
        for chunk, gap in zip(off["chunk"], off["gap"], strict=True):
            fig.add_annotation(x=chunk, y=low if gap < low else high, showarrow=False,
                               yanchor="bottom" if gap < low else "top",
                               text=f"{gap:+.2f}<br>(off scale)",
                               font={"size": 10, "color": NEUTRAL_COLOR})


def relationship_figure(rel: Relationship, current_label: str = "current") -> go.Figure:
    """Target rate by feature bin, reference vs current, with row counts on hover. Ordered
    numeric bins are joined by lines; categories have no order, so they get grouped bars (a
    line between "mobile" and "web" would suggest a trend that does not exist)."""
    fig = go.Figure()
    ordered = rel.kind == "numeric"
    for name, rate, rows, color in (("reference", rel.reference_rate, rel.reference_rows,
                                     REFERENCE_COLOR),
                                    (current_label, rel.current_rate, rel.current_rows,
                                     CURRENT_COLOR)):
        hover = "%{x}<br>target rate %{y:.1%}<br>rows %{customdata:,}" + f"<extra>{name}</extra>"
        if ordered:
            fig.add_trace(go.Scatter(
                x=list(rel.bins), y=rate, mode="lines+markers", name=name,
                line={"color": color, "width": 2}, marker={"size": 8}, customdata=rows,
                hovertemplate=hover))
        else:
            fig.add_trace(go.Bar(x=list(rel.bins), y=rate, name=name, marker_color=color,
                                 customdata=rows, hovertemplate=hover))
    if not ordered:
        fig.update_layout(barmode="group")
    fig.update_xaxes(type="category", title=f"{rel.feature} ({rel.kind} bins)")
    fig.update_yaxes(title="target rate", tickformat=".0%")
    return style(fig, f"Target rate by {rel.feature}: shape change {rel.shift:.3f}", height=380)
