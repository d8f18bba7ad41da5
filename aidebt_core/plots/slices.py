"""Slice charts: a forest plot (metric with interval per slice, overall line) and a dumbbell of
the same slices in reference and current."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from aidebt_core.plots.theme import (
    ALERT_COLOR,
    CURRENT_COLOR,
    NEUTRAL_COLOR,
    REFERENCE_COLOR,
    style,
)
from aidebt_core.slices.breakdown import Change, SliceStat

SIGNIFICANCE = 0.05
OVERALL_COLOR = "#3d4654"


def wrap_label(text: str, width: int = 38) -> str:
    """Break a slice description at ' and ' so long conjunctions fit beside the plot."""
    parts, line, lines = text.split(" and "), "", []
    for part in parts:
        candidate = f"{line} and {part}" if line else part
        if line and len(candidate) > width:
            lines.append(line)
            line = f"and {part}"
        else:
            line = candidate
    lines.append(line)
    return "<br>".join(lines)


def _worse(value: float, overall: float, higher_is_better: bool | None) -> bool:
    if higher_is_better is None or np.isnan(value):
        return False
    return value < overall if higher_is_better else value > overall


def forest_figure(stats: Sequence[SliceStat], overall: float, metric_label: str,
                  higher_is_better: bool | None, title: str | None = None,
                  level: float = SIGNIFICANCE, rule: str | None = None) -> go.Figure:
    """The measure shown per slice with its confidence interval; red = significantly worse
    than overall (the slice's own `significant` flag, else q < level and worse), grey
    otherwise; the dashed line is the overall value. `rule` words the red legend entry
    (`SliceResult.rule`, e.g. 'BH q < 0.05, at least 0.02 worse')."""
    labels = [wrap_label(s.slice.describe()) for s in stats]
    flagged = [s.significant if s.significant is not None
               else bool(s.q_value < level and _worse(s.metric, overall, higher_is_better))
               for s in stats]
    fig = go.Figure()
    for flag, name, color in ((True, f"significantly worse ({rule or f'q < {level:g}'})",
                               ALERT_COLOR),
                              (False, "not significantly worse", NEUTRAL_COLOR)):
        idx = [i for i, f in enumerate(flagged) if f == flag]
        if not idx:
            continue
        pick = [stats[i] for i in idx]
        fig.add_trace(go.Scatter(
            x=[s.metric for s in pick], y=[labels[i] for i in idx], mode="markers",
            name=name, marker={"color": color, "size": 10},
            error_x={"type": "data", "symmetric": False, "color": color, "thickness": 1.6,
                     "array": [s.ci_high - s.metric for s in pick],
                     "arrayminus": [s.metric - s.ci_low for s in pick]},
            customdata=[[s.size, s.share, s.ci_low, s.ci_high, s.q_value] for s in pick],
            hovertemplate=("%{y}<br>" + metric_label + " %{x:.3f} "
                           "[%{customdata[2]:.3f}, %{customdata[3]:.3f}]<br>"
                           "%{customdata[0]:,} rows (%{customdata[1]:.1%}), "
                           "q = %{customdata[4]:.2g}<extra></extra>")))
    fig.add_vline(x=overall, line_dash="dash", line_color=OVERALL_COLOR)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=f"overall {overall:.3f}",
                             line={"dash": "dash", "color": OVERALL_COLOR}))
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=labels)
    fig.update_xaxes(title=metric_label)
    return style(fig, title, height=_height(len(stats), labels))


def dumbbell_figure(changes: Sequence[Change], metric_label: str,
                    title: str | None = None) -> go.Figure:
    """The same slices in reference (blue) and current (orange); a red line marks a
    significant change for the worse."""
    labels = [wrap_label(c.slice.describe()) for c in changes]
    fig = go.Figure()
    for c, label in zip(changes, labels, strict=True):
        fig.add_trace(go.Scatter(
            x=[c.reference.metric, c.current.metric], y=[label, label], mode="lines",
            line={"color": ALERT_COLOR if c.worsened else NEUTRAL_COLOR,
                  "width": 4 if c.worsened else 2},
            showlegend=False, hoverinfo="skip"))
    for name, color, pick in (("reference", REFERENCE_COLOR, lambda c: c.reference),
                              ("current", CURRENT_COLOR, lambda c: c.current)):
        fig.add_trace(go.Scatter(
            x=[pick(c).metric for c in changes], y=labels, mode="markers", name=name,
            marker={"color": color, "size": 11},
            customdata=[[pick(c).size, pick(c).ci_low, pick(c).ci_high, c.change, c.q_value]
                        for c in changes],
            hovertemplate=("%{y}<br>" + name + ": " + metric_label + " %{x:.3f} "
                           "[%{customdata[1]:.3f}, %{customdata[2]:.3f}], %{customdata[0]:,} rows"
                           "<br>change %{customdata[3]:+.3f}, q = %{customdata[4]:.2g}"
                           "<extra></extra>")))
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=labels)
    fig.update_xaxes(title=metric_label)
    return style(fig, title, height=_height(len(changes), labels))


def _height(rows: int, labels: Sequence[str]) -> int:
    lines = sum(label.count("<br>") + 1 for label in labels)
    return int(max(260, 110 + 30 * max(rows, 1) + 14 * lines))
