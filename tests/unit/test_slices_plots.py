"""Slice charts carry the numbers of the results they are built from."""

import numpy as np
import pytest

from aidebt_core.plots.slices import dumbbell_figure, forest_figure, wrap_label
from aidebt_core.slices.breakdown import Change, SliceStat
from aidebt_core.slices.define import Predicate, SliceDef


def _stat(value, low, high, q, label="mobile"):
    sl = SliceDef((Predicate("channel", label, (0,)),))
    return SliceStat(sl, 100, 0.1, value, low, high, q / 2, q)


def test_forest_plot_whiskers_are_the_intervals_and_red_marks_significantly_worse():
    stats = [_stat(0.7, 0.65, 0.74, 0.001, "mobile"), _stat(0.9, 0.85, 0.93, 0.5, "web")]
    fig = forest_figure(stats, 0.85, "accuracy", higher_is_better=True)
    worse, other = fig.data[0], fig.data[1]
    assert worse.name.startswith("significantly worse") and list(worse.x) == [0.7]
    assert list(worse.error_x.array) == pytest.approx([0.04])
    assert list(worse.error_x.arrayminus) == pytest.approx([0.05])
    assert list(other.y) == ["channel = web"]
    assert fig.layout.shapes[0].x0 == 0.85  # the overall line
    assert any(t.name == "overall 0.850" for t in fig.data)


def test_significant_but_better_slice_is_not_red():
    fig = forest_figure([_stat(0.95, 0.93, 0.97, 1e-6)], 0.85, "accuracy", True)
    assert fig.data[0].name == "not significantly worse"


def test_dumbbell_points_are_reference_and_current_metrics():
    ref, cur = _stat(0.74, 0.7, 0.78, np.nan), _stat(0.66, 0.62, 0.7, np.nan)
    change = Change(ref.slice, ref, cur, -0.08, 1e-5, 1e-5, True)
    fig = dumbbell_figure([change], "accuracy")
    line, ref_pts, cur_pts = fig.data
    assert list(line.x) == [0.74, 0.66] and line.line.width == 4
    assert list(ref_pts.x) == [0.74] and list(cur_pts.x) == [0.66]


def test_long_descriptions_wrap_at_and():
    text = "channel = mobile and account_age_days < 87 and debt_to_income >= 0.25"
    assert wrap_label(text, 38) == ("channel = mobile<br>and account_age_days < 87"
                                    "<br>and debt_to_income >= 0.25")
