"""Performance charts and report carry the result's numbers (sample scenario)."""

from __future__ import annotations

import numpy as np
import pytest

from aidebt_core.performance import analyse_performance
from aidebt_core.performance.relationship import feature_relationship
from aidebt_core.plots.performance import gap_figure, performance_figure, relationship_figure
from aidebt_core.plots.theme import ALERT_COLOR
from aidebt_core.reports.performance import performance_report
from aidebt_core.selection import sample_selection


@pytest.fixture(scope="module")
def result_and_relation(sample_dir):
    with sample_selection(sample_dir).open() as data:
        result = analyse_performance(data.reference, data.current, "defaulted",
                                     score="default_score", prediction="predicted_default",
                                     timestamp="applied_at")
        relation = feature_relationship(data.reference, data.current, "debt_to_income",
                                        "defaulted")
    return result, relation


def _trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def test_performance_figure_values(result_and_relation):
    result, _ = result_and_relation
    frame = result.to_frame("accuracy")
    fig = performance_figure(result, "accuracy")
    np.testing.assert_allclose(np.asarray(_trace(fig, "realized").y, dtype=float),
                               frame["realized"], equal_nan=True)
    np.testing.assert_allclose(np.asarray(_trace(fig, "estimated (no labels needed)").y,
                                          dtype=float), frame["estimated"])
    band = _trace(fig, "95% CI (realized)")
    assert len(band.x) == 2 * 11      # 11 labelled chunks; the unlabelled one has no CI
    lines = sorted(s.y0 for s in fig.layout.shapes if s.type == "line" and s.y0 == s.y1)
    assert lines == pytest.approx(sorted([frame["lower"][0], frame["upper"][0]]))
    assert any("no labels" in a.text for a in fig.layout.annotations)


def test_gap_figure_marks_concept_alerts(result_and_relation):
    result, _ = result_and_relation
    fig = gap_figure(result)
    bars = fig.data[0]
    red = [x for x, c in zip(bars.x, bars.marker.color, strict=True) if c == ALERT_COLOR]
    assert red == ["2025-10", "2025-11"]
    np.testing.assert_allclose(np.asarray(bars.y, dtype=float), result.to_frame()["gap"],
                               equal_nan=True)


def test_relationship_figure_and_report(result_and_relation):
    result, relation = result_and_relation
    fig = relationship_figure(relation, "current (2025-10 – 2025-11)")
    assert [t.name for t in fig.data] == ["reference", "current (2025-10 – 2025-11)"]
    np.testing.assert_allclose(np.asarray(fig.data[1].y, dtype=float), relation.current_rate)
    html = performance_report(result).to_html()
    assert "Concept drift in 2025-10, 2025-11: realized ROC AUC up to" in html
    assert "2025-10: ROC AUC " in html and "below the label-free estimate" in html
    assert "Chunks without labels (estimate only): 2025-12" in html
    assert html.count("plotly-graph-div") >= 2


def test_relationship_of_a_category_has_bars_not_lines(sample_dir):
    with sample_selection(sample_dir).open() as data:
        relation = feature_relationship(data.reference, data.current, "channel", "defaulted")
    fig = relationship_figure(relation)
    assert relation.kind == "categorical"
    assert [t.type for t in fig.data] == ["bar", "bar"]
    np.testing.assert_allclose(np.asarray(fig.data[0].y, dtype=float), relation.reference_rate)


def test_report_without_a_score_has_no_estimate_parts(sample_dir):
    with sample_selection(sample_dir).open() as data:
        result = analyse_performance(data.reference, data.current, "defaulted",
                                     prediction="predicted_default", timestamp="applied_at")
    report = performance_report(result)
    html = report.to_html()
    assert "label-free" not in html and "estimated" not in html.lower().replace(
        "estimate only", "")
    assert html.count("plotly-graph-div") == 1
