"""Heatmaps and pair drill-downs: the numbers drawn are the results' numbers."""

import numpy as np
import pandas as pd
import pytest

from aidebt_core.data import connect, open_table
from aidebt_core.entanglement import association_matrix, correlation_change
from aidebt_core.entanglement.drilldown import pair_view
from aidebt_core.errors import SchemaError
from aidebt_core.plots.entanglement import association_heatmap, difference_heatmap, pair_figure
from aidebt_core.workspace import Workspace


@pytest.fixture
def tables(tmp_path):
    rng = np.random.default_rng(4)

    def frame(n, broken):
        a = rng.normal(size=n)
        colour = rng.choice(["red", "green", "blue"], n)
        return pd.DataFrame({
            "a": a, "b": (rng.normal(size=n) if broken else a + rng.normal(0, 0.3, n)),
            "flat": 2.0, "colour": colour,
            "shade": np.where(rng.random(n) < 0.8, colour, "grey")})

    frame(2000, False).to_parquet(tmp_path / "ref.parquet")
    frame(1500, True).to_parquet(tmp_path / "cur.parquet")
    workspace = Workspace.at(tmp_path)
    con = connect(workspace)
    yield (open_table(con, workspace, "ref.parquet"), open_table(con, workspace, "cur.parquet"),
           pd.read_parquet(tmp_path / "ref.parquet"))
    con.close()


KINDS = {"a": "numeric", "b": "numeric", "flat": "numeric", "colour": "categorical",
         "shade": "categorical"}


def test_heatmap_shows_matrix_values_measures_and_reasons(tables):
    ref, _, _ = tables
    m = association_matrix(ref, KINDS)
    fig = association_heatmap(m)
    trace = fig.data[0]
    # Mixed measures (Pearson, Cramér's V, η): colour is the strength |value| on 0..1, the
    # signed value is in the hover data (issue 17: no −1..1 scale for measures on 0..1).
    np.testing.assert_array_equal(np.asarray(trace.z, dtype=float), np.abs(m.values))
    assert (trace.zmin, trace.zmax) == (0, 1) and trace.zmid is None
    assert list(trace.x) == list(m.columns) == list(trace.y)
    custom = np.asarray(trace.customdata)
    values = np.asarray(custom[:, :, 3], dtype=float)
    np.testing.assert_array_equal(values, m.values)
    i, j = m.index("a"), m.index("b")
    assert custom[i, j, 0] == "Pearson r" and int(custom[i, j, 1]) == 2000
    k, c = m.index("colour"), m.index("shade")
    assert custom[k, c, 0] == "Cramér's V (bias-corrected)"
    assert custom[m.index("a"), m.index("colour"), 0] == "correlation ratio η"
    assert "undefined: 'flat' is constant" in custom[m.index("flat"), i, 2]
    # Few features: values written in the cells, but only where |v| >= 0.1, never ±0.00.
    text = np.asarray(trace.text, dtype=object)
    assert text[i, j] == f"{m.values[i, j]:.2f}"
    weak = np.abs(np.nan_to_num(m.values)) < 0.1
    assert (text[weak] == "").all() and (np.diag(text) == "").all()
    assert not any(t in ("0.00", "-0.00", "+0.00") for t in text.ravel())


def test_heatmap_of_signed_measures_only_diverges(tables):
    ref, _, _ = tables
    m = association_matrix(ref, {"a": "numeric", "b": "numeric"})
    trace = association_heatmap(m).data[0]
    np.testing.assert_array_equal(np.asarray(trace.z, dtype=float), m.values)
    assert (trace.zmin, trace.zmax, trace.zmid) == (-1, 1, 0)


def test_heatmap_scales_with_many_features(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 35)), columns=[f"feature_{i}" for i in range(35)])
    frame.to_parquet(tmp_path / "wide.parquet")
    workspace = Workspace.at(tmp_path)
    con = connect(workspace)
    try:
        m = association_matrix(open_table(con, workspace, "wide.parquet"),
                               dict.fromkeys(frame.columns, "numeric"))
    finally:
        con.close()
    fig = association_heatmap(m)
    assert fig.layout.height >= 35 * 18 and fig.data[0].texttemplate is None
    assert fig.layout.yaxis.tickfont.size <= 11


def test_difference_heatmap_is_current_minus_reference(tables):
    ref, cur, _ = tables
    change = correlation_change(association_matrix(ref, KINDS), association_matrix(cur, KINDS))
    fig = difference_heatmap(change)
    z = np.asarray(fig.data[0].z, dtype=float)
    i, j = change.columns.index("a"), change.columns.index("b")
    row = change.pairs[(change.pairs.a.isin(["a", "b"])) & (change.pairs.b.isin(["a", "b"]))]
    assert z[i, j] == pytest.approx(row.current.iloc[0] - row.reference.iloc[0])
    assert np.isnan(np.diag(z)).all()
    custom = np.asarray(fig.data[0].customdata, dtype=float)
    assert custom[i, j, 0] == pytest.approx(row.reference.iloc[0])


def test_pair_views_scatter_box_and_crosstab(tables):
    ref, cur, frame = tables
    periods = {"reference": ref, "current": cur}
    scatter = pair_view(periods, "a", "b", KINDS, rows=500)
    assert scatter.shape == "scatter"
    # A Bernoulli sample of 25 % of 2,000 rows: 500 ± 19 (one sd).
    assert 420 <= (scatter.frame.period == "reference").sum() <= 580
    assert pair_figure(scatter).data[0].type == "scattergl"

    box = pair_view(periods, "colour", "a", KINDS)
    assert box.shape == "box" and (box.a, box.b) == ("a", "colour")  # numeric side first
    assert pair_figure(box).data[0].type == "box"

    cross = pair_view(periods, "colour", "shade", KINDS)
    assert cross.shape == "crosstab"
    ref_counts = cross.frame[cross.frame.period == "reference"].set_index(["colour", "shade"])
    expected = pd.crosstab(frame.colour, frame.shade).stack()
    for (colour, shade), count in expected.items():
        assert ref_counts.loc[(colour, shade), "count"] == count
    fig = pair_figure(cross)
    assert len(fig.data) == 2 and fig.data[0].zmax == 1
    # Both panels list the categories in the same order (most rows first over both periods)
    assert list(fig.data[0].y) == list(fig.data[1].y)
    assert list(fig.data[0].x) == list(fig.data[1].x)
    totals = cross.frame.groupby("colour")["count"].sum().sort_values(ascending=False)
    assert list(fig.data[0].y) == list(totals.index)
    box_fig = pair_figure(box)
    assert box_fig.layout.xaxis.categoryorder == "array"
    assert set(box_fig.layout.xaxis.categoryarray) == {"red", "green", "blue"}
    with pytest.raises(SchemaError, match="two different columns"):
        pair_view(periods, "a", "a", KINDS)
    with pytest.raises(SchemaError, match="not one of the analysed"):
        pair_view(periods, "a", "zzz", KINDS)


def test_report_tables_are_readable(tables):
    """Issue 17: report tables with words for headers, 3 decimals, no None/nan/-0.000."""
    from aidebt_core.entanglement.result import EntanglementResult
    from aidebt_core.entanglement.ripple import RippleRisk
    from aidebt_core.reports.entanglement import entanglement_report

    ref, cur, _ = tables
    before, after = association_matrix(ref, KINDS), association_matrix(cur, KINDS)
    change = correlation_change(before, after, threshold=0.05)
    ripple = RippleRisk(pd.DataFrame({
        "feature": ["a", "b"], "importance": [1.0, float("nan")],
        "strongest_partner": ["b", None], "strongest_association": [-0.00001, 0.5],
        "risk": [0.25, float("nan")]}), "test")
    report = entanglement_report(EntanglementResult(before, [], ripple, after, change))
    frames = [v[0] for k, v in report.blocks if k == "table"]
    flagged, risk = frames
    assert list(flagged.columns[:3]) == ["feature", "paired with", "measure"]
    row = change.flagged.iloc[0]
    assert flagged["change"].iloc[0] == f"{row.delta:+.3f}"
    assert list(risk["strongest association"]) == ["0.000", "0.500"]
    assert list(risk["importance"]) == ["1.000", "—"] and risk["strongest partner"][1] == "—"
    for frame in frames:
        for cell in frame.to_numpy().ravel():
            assert str(cell) not in ("None", "nan", "-0.000")
