"""Audit charts carry the numbers they are given, coloured by the health bands."""

from __future__ import annotations

import numpy as np
import pytest

from aidebt_core.audit.history import build_scorecard, headline_history
from aidebt_core.audit.sample_audits import sample_audit_records
from aidebt_core.audit.scoring import health_band
from aidebt_core.plots.audit import (
    BAND_COLORS,
    BAND_NAMES,
    MEAN_LABEL,
    band_legend,
    dimension_bars,
    dimension_bars_svg,
    headline_trend,
    mts_sections,
    portfolio_heatmap,
    portfolio_radar,
    trend_svg,
)


@pytest.fixture(scope="module")
def records(ground_truth):
    return sample_audit_records(ground_truth)


def test_dimension_bars_values_and_band_colours():
    scores = {"dimensions": {"data": 1.0, "model": 3.0, "configuration": None,
                             "evaluation": 9.0}, "weighted_mean": 4.0}
    fig = dimension_bars(scores)
    bar = fig.data[0]
    assert list(bar.x) == [1.0, 3.0, 0, 9.0]
    assert list(bar.text) == ["1.0", "3.0", "N/A", "9.0"]
    assert list(bar.marker.color) == [BAND_COLORS["research-grade"],
                                      BAND_COLORS["basic productionization"],
                                      BAND_COLORS["not scored"], BAND_COLORS["exceptional"]]


def test_portfolio_views(records):
    frame = build_scorecard(records).to_frame()
    heat = portfolio_heatmap(frame).data[0]
    np.testing.assert_allclose(np.asarray(heat.z)[:, 0], frame["headline"])
    assert list(heat.y) == list(frame["model"])
    radar = portfolio_radar(frame)
    assert [t.name for t in radar.data] == list(frame["model"])
    assert radar.data[0].r[0] == pytest.approx(frame["data_score"].iloc[0])


def test_headline_trend_has_every_audit(records):
    history = headline_history(records)
    fig = headline_trend(history)
    by_name = {t.name: list(t.y) for t in fig.data}
    credit = [r.scores["overall"] for r in records if r.model == "credit-default"]
    assert by_name["credit-default"] == pytest.approx(credit)
    assert sum(len(v) for v in by_name.values()) == len(records)


def test_mts_sections_highlights_the_minimum():
    fig = mts_sections({"sections": {"Data": 3.0, "Model": 1.5, "Infra": 4.0,
                                     "Monitor": 2.0}, "final": 1.5})
    colors = list(fig.data[0].marker.color)
    assert colors.count(colors[1]) == 1 and "final 1.5" in fig.layout.title.text


def test_weighted_mean_is_its_own_bar_not_a_line_through_the_labels():
    scores = {"dimensions": {"data": 4.0, "model": 4.2, "configuration": 3.9,
                             "evaluation": 4.1}, "weighted_mean": 4.05}
    fig = dimension_bars(scores)
    assert not fig.layout.shapes or all(s.type == "rect" for s in fig.layout.shapes)
    assert not fig.layout.annotations                      # no "weighted mean" line label
    mean = fig.data[1]
    assert list(mean.x) == [4.05] and list(mean.text) == ["4.0"]   # 4.05 is 4.0499… in binary
    assert list(mean.y) == [MEAN_LABEL]


def test_model_colours_follow_the_name_not_the_row_order(records):
    frame = build_scorecard(records).to_frame()
    radar = {t.name: t.line.color for t in portfolio_radar(frame).data}
    flipped = {t.name: t.line.color for t in portfolio_radar(frame.iloc[::-1]).data}
    trend = {t.name: t.line.color for t in headline_trend(headline_history(records)).data}
    assert radar == flipped == trend
    assert len(set(radar.values())) == len(radar)          # one colour per model


def test_a_single_audit_gives_a_day_axis_not_milliseconds(records):
    import pandas as pd

    one = headline_history(records[:1])
    fig = headline_trend(one)
    axis = fig.layout.xaxis
    day = pd.Timestamp(one["audited_at"].iloc[0])
    assert axis.tickformat and "%L" not in axis.tickformat and "%S" not in axis.tickformat
    low, high = (pd.Timestamp(v) for v in axis.range)
    assert low < day < high and (high - low) >= pd.Timedelta(hours=12)


def test_band_names_are_the_same_in_the_colour_bar_and_the_legend(records):
    from aidebt_core.audit.scoring import HEALTH_BANDS

    frame = build_scorecard(records).to_frame()
    bar = portfolio_heatmap(frame).data[0].colorbar
    names = [name for _, name in HEALTH_BANDS]
    assert list(bar.ticktext) == names == list(BAND_NAMES)
    assert set(frame["band"]) <= set(names)
    assert band_legend().split(" · ")[0] == "research-grade (0–2)"
    # each band's tick sits in the middle of its fifth of 0..10, coloured as the band
    for tick, name in zip(bar.tickvals, names, strict=True):
        assert BAND_COLORS[name] == BAND_COLORS[health_band(tick)]


def test_static_bars_draw_each_value_to_scale():
    import re

    svg = dimension_bars_svg({"dimensions": {"data": 2.5, "model": 10.0, "configuration": None,
                                             "evaluation": 0.0}, "weighted_mean": 5.0})
    widths = [float(w) for w in re.findall(r'<rect x="\d+" y="\d+" width="([\d.]+)"', svg)]
    full = widths[1]
    assert widths == pytest.approx([full / 4, full, 0.0, 0.0, full / 2])
    assert ">N/A<" in svg and ">2.5<" in svg and svg.count("<svg") == 1
    assert BAND_COLORS["basic productionization"] in svg


def test_static_trend_places_points_by_date_and_score(records):
    import re

    history = headline_history(records)
    svg = trend_svg(history)
    circles = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)
    assert len(circles) == len(history)
    ys = [float(y) for _, y in circles]
    # higher headline, higher on the page (smaller y): same order as the scores
    by_model = history.sort_values("model", kind="stable")
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    scores = list(by_model["headline"])
    assert [scores[i] for i in order] == sorted(scores, reverse=True)
    one = trend_svg(history.iloc[:1])
    assert one.count("<circle") == 1 and history["audited_at"].iloc[0] in one
