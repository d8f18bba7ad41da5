"""The chart style guide: colour meanings, model colours, number formats, date axes, scales."""

from __future__ import annotations

import random
from datetime import datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from aidebt_core.plots import theme


def test_one_meaning_per_colour() -> None:
    roles = [theme.REFERENCE, theme.CURRENT, theme.ALERT, theme.WARNING, theme.OK, theme.NEUTRAL]
    assert len(set(roles)) == len(roles)
    # no model colour can be mistaken for a role colour
    assert not set(theme.MODEL_PALETTE) & set(roles)
    # "current" is not orange (orange/amber is the warning colour)
    r, g, b = (int(theme.CURRENT[i:i + 2], 16) for i in (1, 3, 5))
    assert not (r > 200 and 100 < g < 180 and b < 80)


def test_model_colours_do_not_depend_on_row_order() -> None:
    models = ["churn", "credit_risk", "fraud-v2", "pricing", "zeta"]
    first = theme.model_colours(models)
    for seed in range(5):
        shuffled = models[:]
        random.Random(seed).shuffle(shuffled)
        assert theme.model_colours(shuffled) == first
    assert len(set(first.values())) == len(models)  # distinct while the palette lasts
    assert theme.model_colours(["churn", "churn"]) == {"churn": first["churn"]}


def test_model_colours_distinct_up_to_palette_size() -> None:
    names = [f"model_{i}" for i in range(len(theme.MODEL_PALETTE))]
    assert len(set(theme.model_colours(names).values())) == len(names)


@pytest.mark.parametrize(("value", "measure", "expected"), [
    (0.1234, "recall", "12.3%"),
    (0.859, "missing_share", "85.9%"),
    (0.77712, "roc_auc", "0.777"),
    (123.456, "statistic", "123"),
    (57602.5157, "statistic", "57,603"),
    (0.0012345, "psi", "0.00123"),
    (-0.0001, "statistic", "-0.0001"),
    (-0.00001, "rate", "0.0%"),
    (1234567, "rows", "1,234,567"),
    (0.05, "change", "+0.05"),
    (-0.05, "change", "-0.05"),
    (1e-160, "p_value", "< 0.001"),
    (0.0, "p_value", "< 0.001"),
    (0.0312, "q_value", "0.0312"),
    (4.5, "debt_index", "4.5"),
    (None, "recall", "—"),
    (float("nan"), "statistic", "—"),
    (np.float64("nan"), "count", "—"),
])
def test_format_value(value, measure, expected) -> None:
    assert theme.format_value(value, measure) == expected


def test_no_negative_zero_anywhere() -> None:
    for value in (-1e-9, -0.0, -0.0004):
        for kind in theme.FORMATS:
            text = theme.format_value(value, kind)
            assert not text.startswith("-0") or any(c in "123456789" for c in text), (kind, text)


def test_d3_formats() -> None:
    assert theme.d3_format("accuracy") == ".1%"
    assert theme.d3_format("Cramér's V") == ".3~g"
    assert theme.d3_format("rate") == ".1%"


def test_heat_scale_signed_only_diverges() -> None:
    assert theme.heat_scale(signed=True) == {"colorscale": theme.DIVERGING_SCALE, "zmin": -1,
                                             "zmax": 1, "zmid": 0}
    seq = theme.heat_scale(signed=False)
    assert seq["zmin"] == 0 and seq["colorscale"] == theme.SEQUENTIAL_SCALE


def _render(fig: go.Figure) -> dict:
    return fig.full_figure_for_development(warn=False).layout.xaxis.to_plotly_json()


def test_date_axis_single_point_is_not_milliseconds() -> None:
    fig = go.Figure(go.Scatter(x=[datetime(2025, 7, 1)], y=[1.0]))
    theme.date_axis(fig, "day")
    xaxis = fig.layout.xaxis
    assert xaxis.tickformat == "%b %d"
    lo, hi = (pd.Timestamp(v) for v in xaxis.range)
    assert hi - lo == pd.Timedelta(days=2)
    assert list(xaxis.tickvals) == [datetime(2025, 7, 1)]


def test_date_axis_daily_ticks_capped_and_horizontal() -> None:
    days = pd.date_range("2025-01-01", periods=200, freq="D")
    fig = go.Figure(go.Scatter(x=days, y=np.arange(200)))
    theme.date_axis(fig, None)
    assert fig.layout.xaxis.nticks == theme.MAX_DATE_TICKS
    assert fig.layout.xaxis.tickangle == 0
    assert fig.layout.xaxis.tickformat == "%b %d"  # inferred as days


def test_date_axis_monthly_dtick_grows_with_span() -> None:
    months = pd.date_range("2020-01-01", periods=48, freq="MS").strftime("%Y-%m").tolist()
    fig = go.Figure(go.Bar(x=months, y=np.ones(48)))
    theme.date_axis(fig, "month")
    # 47 months over at most 10 ticks -> every 5 months
    assert fig.layout.xaxis.dtick == "M5"


@pytest.mark.parametrize(("dates", "grain"), [
    (pd.date_range("2025-01-01", periods=5, freq="h"), "hour"),
    (pd.date_range("2025-01-01", periods=5, freq="D"), "day"),
    (pd.date_range("2025-01-06", periods=5, freq="W-MON"), "week"),
    (pd.date_range("2025-01-01", periods=5, freq="MS"), "month"),
    (pd.date_range("2025-01-01", periods=5, freq="QS"), "quarter"),
    (pd.date_range("2020-01-01", periods=5, freq="YS"), "year"),
])
def test_infer_granularity(dates, grain) -> None:
    assert theme.infer_granularity(list(dates.to_pydatetime())) == grain


def test_style_keeps_labels_visible() -> None:
    fig = go.Figure(go.Bar(x=["a"], y=[1], text=["1.0"]))
    theme.style(fig)
    assert fig.data[0].cliponaxis is False
    assert fig.layout.xaxis.automargin is True
    radar = theme.style(go.Figure(go.Scatterpolar(r=[1, 2, 3], theta=["configuration", "b",
                                                                       "c"])))
    assert radar.layout.margin.l >= 100 and radar.layout.margin.r >= 100


def test_date_axis_leaves_category_axes_alone() -> None:
    fig = go.Figure(go.Bar(x=["reference", "2025-W27"], y=[1, 2]))
    theme.date_axis(fig, "week")
    assert fig.layout.xaxis.type is None and fig.layout.xaxis.tickformat is None
