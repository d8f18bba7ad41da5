"""The chart style guide in code: one colour per meaning, one colour per model, number formats
per measure, readable date axes, colour scales that match the measure, labels never clipped.

Every plots/*.py takes its colours, formats and layout from here, so a colour means the same
thing on every page: blue is the reference period, purple what production sees now, red an
alert, amber a warning, green fine, grey context. Orange/amber never means "current".
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import plotly.graph_objects as go
import plotly.io as pio

from aidebt_core.textsafe import defuse_figure

# Every figure starts from the white template: plotly applies the default template when a
# figure is created, so setting it there once avoids building a second copy in each style()
# call (a template copy is ~40 ms; a page draws 5-8 figures per rerun).
TEMPLATE = "plotly_white"
pio.templates.default = TEMPLATE

# --- one colour per meaning -------------------------------------------------------------------
REFERENCE_COLOR = "#4c78c8"   # calm blue: the period the model was built on
CURRENT_COLOR = "#8e5cc4"     # purple: what production sees now (never orange: that is a warning)
ALERT_COLOR = "#d62f2f"       # red: an alert, a failed check, a problem to act on
WARNING_COLOR = "#e08a1e"     # amber: worth a look, not yet an alert
OK_COLOR = "#2e9e5b"          # green: within limits
NEUTRAL_COLOR = "#8a94a6"     # grey: context (boundaries, undefined cells, averages)

# Role names other modules may use instead of the *_COLOR constants.
REFERENCE, CURRENT, ALERT, WARNING, OK, NEUTRAL = (
    REFERENCE_COLOR, CURRENT_COLOR, ALERT_COLOR, WARNING_COLOR, OK_COLOR, NEUTRAL_COLOR)
ROLE_COLORS = {"reference": REFERENCE_COLOR, "current": CURRENT_COLOR, "alert": ALERT_COLOR,
               "warning": WARNING_COLOR, "ok": OK_COLOR, "neutral": NEUTRAL_COLOR}

DIVERGING_SCALE = "RdBu_r"    # ONLY for signed measures (Pearson, differences), centred on 0
SEQUENTIAL_SCALE = "Blues"    # measures on 0..1 or 0..inf (Cramér's V, shares, distances)
FONT_FAMILY = "Inter, Segoe UI, Helvetica, Arial, sans-serif"

# Colours for models, none of them a role colour above (so a model line never reads as
# "current" or "alert"); picked from Tableau 10 / Okabe-Ito without red, amber, purple, blue.
MODEL_PALETTE = ("#1f9e89", "#b5651d", "#3b5ba5", "#e377c2", "#6b8e23", "#17becf",
                 "#7f3c8d", "#bcbd22", "#5d6d7e", "#c0392b", "#2c7fb8", "#a6761d")


def model_colours(models: Iterable[str]) -> dict[str, str]:
    """One colour per model name, the same whatever the order the models come in.

    Each name prefers the palette slot given by a hash of the name; names are placed in sorted
    order and take the next free slot on a clash, so the same set of models always gets the
    same colours on every chart (radar, trend, tables), however the rows are sorted.
    """
    names = sorted({str(m) for m in models})
    size = len(MODEL_PALETTE)
    taken: set[int] = set()
    colours: dict[str, str] = {}
    for name in names:
        slot = zlib.crc32(name.encode("utf-8")) % size
        if len(taken) < size:
            while slot in taken:
                slot = (slot + 1) % size
        taken.add(slot)
        colours[name] = MODEL_PALETTE[slot]
    return colours


# --- number formats per measure ---------------------------------------------------------------
# kind -> (d3 format for plotly ticks/hover, description). Python-side text: format_value().
FORMATS = {
    "rate": ".1%",        # shares, rates, accuracy, recall...: 0.1234 -> 12.3%
    "statistic": ".3~g",  # test statistics, distances, AUC, associations: 3 significant digits
    "pvalue": ".2~e",     # p- and q-values: tiny values stay readable
    "count": ",d",        # rows, counts
    "signed": "+.3~g",    # changes/differences: always signed
    "score": ".1f",       # 0..10 audit scores
}
# Measures by name -> kind; anything unknown is a "statistic".
MEASURE_KINDS = {
    **dict.fromkeys(("share", "rate", "missing_share", "accuracy", "recall", "precision",
                     "specificity", "f1", "coverage", "positive_rate", "share_of_rows",
                     "error_rate", "drift_share", "missing"), "rate"),
    **dict.fromkeys(("p_value", "pvalue", "q_value", "qvalue"), "pvalue"),
    **dict.fromkeys(("rows", "count", "n", "size", "support", "missing_rows"), "count"),
    **dict.fromkeys(("change", "difference", "delta", "diff", "trend"), "signed"),
    **dict.fromkeys(("score", "debt_index", "level"), "score"),
}


def measure_kind(measure: str) -> str:
    """The format kind of a measure name ("recall" -> "rate", "q_value" -> "pvalue")."""
    key = str(measure).strip().lower().replace(" ", "_").replace("-", "_")
    return MEASURE_KINDS.get(key, "statistic")


def d3_format(measure_or_kind: str) -> str:
    """The plotly (d3) format for ticks/hover of a measure name or a kind."""
    kind = measure_or_kind if measure_or_kind in FORMATS else measure_kind(measure_or_kind)
    return FORMATS[kind]


def format_value(value, measure_or_kind: str = "statistic", missing: str = "—") -> str:
    """A number as text for a measure: rates as %, statistics to 3 significant digits, counts
    with thousands separators; missing values as "—", never "None"/"nan"/"-0.000"."""
    kind = measure_or_kind if measure_or_kind in FORMATS else measure_kind(measure_or_kind)
    if value is None:
        return missing
    try:
        x = float(value)
    except (TypeError, ValueError):
        return missing if repr(value) in ("<NA>", "NaT") else str(value)  # pandas' missing
    if math.isnan(x):
        return missing
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if kind == "rate":
        text = f"{x:.1%}"
    elif kind == "count":
        text = f"{round(x):,}"
    elif kind == "pvalue":
        text = "< 0.001" if 0 <= x < 0.001 else f"{x:.3g}"  # 0: underflow, not certainty
    elif kind == "score":
        text = f"{x:.1f}"
    else:
        text = _sig3(x)
        if kind == "signed" and not text.startswith("-") and text != "0":
            text = "+" + text
    return _no_negative_zero(text)


def _sig3(x: float) -> str:
    if x == 0:
        return "0"
    digits = max(0, 2 - math.floor(math.log10(abs(x))))
    if abs(x) >= 1e6 or abs(x) < 1e-4:
        return f"{x:.3g}"
    text = f"{x:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text  # like d3's "~g"


def _no_negative_zero(text: str) -> str:
    """"-0.000" / "-0.0%" -> "0.000" / "0.0%": a value that rounds to zero has no sign."""
    if text.startswith(("-", "+")) and not any(c in "123456789" for c in text):
        return text[1:]
    return text


# --- colour scales ----------------------------------------------------------------------------
def heat_scale(signed: bool, upper: float = 1.0) -> dict:
    """Heatmap colour settings: diverging and centred on 0 only for a signed measure
    (Pearson, a change), otherwise sequential from 0 to `upper` (Cramér's V, shares)."""
    if signed:
        return {"colorscale": DIVERGING_SCALE, "zmin": -upper, "zmax": upper, "zmid": 0}
    return {"colorscale": SEQUENTIAL_SCALE, "zmin": 0, "zmax": upper}


# --- readable date axes -----------------------------------------------------------------------
_PERIODS = {  # granularity -> (tick format, hover format, dtick, half-width of a lone point)
    "hour": ("%b %d %H:%M", "%Y-%m-%d %H:%M", None, timedelta(hours=1)),
    "day": ("%b %d", "%Y-%m-%d", None, timedelta(days=1)),
    "week": ("%b %d", "week of %Y-%m-%d", None, timedelta(days=7)),
    "month": ("%b %Y", "%Y-%m", "M1", timedelta(days=31)),
    "quarter": ("%b %Y", "%Y-%m", "M3", timedelta(days=92)),
    "year": ("%Y", "%Y", "M12", timedelta(days=366)),
}
MAX_DATE_TICKS = 10  # at 1440 px no horizontal date label overlaps its neighbour


def date_axis(fig: go.Figure, granularity: str | None = "day", *, row=None, col=None,
              max_ticks: int = MAX_DATE_TICKS) -> go.Figure:
    """Make a date x axis readable at any granularity ("hour", "day", "week", "month",
    "quarter", "year"; None = infer from the data): labels at the data's own grain (never
    milliseconds, even for a single point), horizontal and at most `max_ticks` of them so they
    never overlap, full date on hover."""
    raw = [x for trace in fig.data for x in _xs(trace) if x is not None]
    parsed = [_as_datetime(x) for x in raw]
    xs = sorted({d for d in parsed if d})
    if None in parsed:  # category labels ("reference", "2025-W27"): not a date axis, leave it
        fig.update_xaxes(row=row, col=col, automargin=True)
        return fig
    grain = granularity or infer_granularity(xs)
    tick, hover, dtick, half = _PERIODS.get(grain, _PERIODS["day"])
    settings = {"type": "date", "tickformat": tick, "hoverformat": hover, "nticks": max_ticks,
                "tickangle": 0, "automargin": True, "ticklabeloverflow": "hide past div"}
    if dtick and len(xs) > 1 and _months_between(xs[0], xs[-1]) > max_ticks * _months(dtick):
        dtick = f"M{math.ceil(_months_between(xs[0], xs[-1]) / max_ticks)}"
    if dtick:
        settings["dtick"] = dtick
    if len(xs) == 1:  # a lone point: plotly would zoom to milliseconds around it
        settings["range"] = [xs[0] - half, xs[0] + half]
        settings["tickvals"] = [xs[0]]
        settings.pop("dtick", None)
    fig.update_xaxes(row=row, col=col, **settings)
    return fig


def _xs(trace) -> list:
    x = getattr(trace, "x", None)
    return [] if x is None else list(x)


def infer_granularity(dates: list[datetime]) -> str:
    """The grain of sorted distinct dates from their smallest gap (one date: "day")."""
    if len(dates) < 2:
        return "day"
    gap = min(b - a for a, b in zip(dates, dates[1:], strict=False))
    for grain, limit in (("hour", timedelta(hours=2)), ("day", timedelta(days=2)),
                         ("week", timedelta(days=8)), ("month", timedelta(days=32)),
                         ("quarter", timedelta(days=93))):
        if gap <= limit:
            return grain
    return "year"


def _months(dtick: str) -> int:
    return int(dtick[1:])


def _months_between(a: datetime, b: datetime) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def _as_datetime(x) -> datetime | None:
    if isinstance(x, datetime):
        return x.replace(tzinfo=None)
    if isinstance(x, date):
        return datetime(x.year, x.month, x.day)
    if hasattr(x, "to_pydatetime"):  # pandas Timestamp
        return x.to_pydatetime().replace(tzinfo=None)
    if hasattr(x, "astype") and str(getattr(x, "dtype", "")).startswith("datetime64"):
        return _as_datetime(x.astype("datetime64[us]").item())
    if isinstance(x, str) and re.fullmatch(r"\d{4}-\d{2}(-\d{2}([ T][\d:.]+)?)?", x):
        try:
            return datetime.fromisoformat(x if len(x) > 7 else x + "-01").replace(tzinfo=None)
        except ValueError:
            return None
    return None


# --- shared layout ----------------------------------------------------------------------------
def style(fig: go.Figure, title: str | None = None, height: int | None = None) -> go.Figure:
    """Apply the shared layout: white background, readable fonts, legend on top, and labels
    that are never clipped (axes make room for their tick labels, bar/point text may sit
    outside the plot area, a radar leaves room for its spoke labels)."""
    fig.update_layout(
        font={"family": FONT_FAMILY, "size": 13},
        title={"text": title, "x": 0, "xanchor": "left"} if title else None,
        margin={"l": 60, "r": 20, "t": 60 if title else 30, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        hoverlabel={"font_size": 12},
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    for trace in fig.data:
        if trace.type in ("bar", "scatter") and getattr(trace, "text", None) is not None:
            trace.cliponaxis = False  # a value label at the end of a bar stays visible
    if any(trace.type in ("scatterpolar", "barpolar") for trace in fig.data):
        # Spoke labels are drawn outside the polar domain: leave them room on every side.
        fig.update_layout(margin={"l": 110, "r": 110, "t": 80 if title else 50, "b": 50})
        fig.update_polars(domain={"x": [0.08, 0.92], "y": [0.06, 0.94]})
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
