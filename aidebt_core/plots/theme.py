"""One look for every chart: colours for reference/current/alerts and a shared layout."""

from __future__ import annotations

import plotly.graph_objects as go

from aidebt_core.textsafe import defuse_figure

REFERENCE_COLOR = "#5b8def"   # calm blue: the period the model was built on
CURRENT_COLOR = "#f08c38"     # orange: what production sees now
ALERT_COLOR = "#d62f2f"
OK_COLOR = "#2e9e5b"
NEUTRAL_COLOR = "#8a94a6"
DIVERGING_SCALE = "RdBu_r"    # for signed associations and differences, centred on 0
SEQUENTIAL_SCALE = "Blues"
FONT_FAMILY = "Inter, Segoe UI, Helvetica, Arial, sans-serif"


def style(fig: go.Figure, title: str | None = None, height: int | None = None) -> go.Figure:
    """Apply the shared layout: white background, readable fonts, legend on top."""
    fig.update_layout(
        template="plotly_white",
        font={"family": FONT_FAMILY, "size": 13},
        title={"text": title, "x": 0, "xanchor": "left"} if title else None,
        margin={"l": 60, "r": 20, "t": 60 if title else 30, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        hoverlabel={"font_size": 12},
    )
    if height:
        fig.update_layout(height=height)
    return defuse_figure(fig)  # column names and values in labels render as text, not links


def period_boundary(fig: go.Figure, periods: list[str]) -> None:
    """A dotted line between the last reference and the first current chunk of a time axis."""
    if "reference" in periods and "current" in periods:
        x = periods.index("current") - 0.5
        fig.add_vline(x=x, line={"color": NEUTRAL_COLOR, "dash": "dot", "width": 1})
        fig.add_annotation(x=x, y=0.99, yref="paper", text="reference ◀ ▶ current",
                           showarrow=False, yanchor="top", bgcolor="rgba(255,255,255,0.8)",
                           font={"color": NEUTRAL_COLOR, "size": 11})
