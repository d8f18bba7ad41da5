"""Audit charts carry the numbers they are given, coloured by the health bands."""

from __future__ import annotations

import numpy as np
import pytest

from aidebt_core.audit.history import build_scorecard, headline_history
from aidebt_core.audit.sample_audits import sample_audit_records
from aidebt_core.plots.audit import (
    BAND_COLORS,
    dimension_bars,
    headline_trend,
    mts_sections,
    portfolio_heatmap,
    portfolio_radar,
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
