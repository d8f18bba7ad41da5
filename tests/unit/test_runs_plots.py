"""Reproducibility charts: the lineage diagram's labels cannot overlap (issue 17)."""

from __future__ import annotations

from aidebt_core.plots.runs import LINEAGE_COLUMNS, LINEAGE_WRAP, lineage_figure, lineage_layout
from aidebt_core.runs.lineage import Lineage, LineageEdge


def _edge(model: str, version: int, run: str, digest: str, aliases=(), completeness=1.0):
    return LineageEdge(model=model, version=version, aliases=tuple(aliases), run_id=run * 4,
                       run_name=run, experiment="exp", completeness=completeness,
                       dataset="training_data_with_a_rather_long_name", digest=digest,
                       context="training")


EDGES = (
    _edge("credit-default", 1, "logreg-notebook", "aa11"),
    _edge("credit-default", 2, "logreg-prod", "bb22", ("production",)),
    _edge("credit-default", 2, "logreg-prod", "cc33", ("production",)),
    _edge("credit-default", 3, "hgb-challenger", "", ("challenger",), 0.75),
    _edge("churn", 1, "churn-rf", "dd44", ("production",), 0.875),
    _edge("fraud", 1, "fraud-logreg", "bb22", ("production",), 0.625),
)


def test_each_column_has_one_row_per_node_and_rows_never_overlap():
    nodes, links = lineage_layout(Lineage(EDGES))
    columns = [[n for n in nodes if n["column"] == c] for c in range(4)]
    assert [len(c) for c in columns] == [3, 5, 5, 5]  # models; versions; runs; digests + gap
    fullest = max(len(c) for c in columns)
    for members in columns:
        ys = sorted(n["y"] for n in members)
        gaps = [b - a for a, b in zip(ys, ys[1:], strict=False)]
        assert all(g >= 1.0 - 1e-9 for g in gaps)  # at least one row (56 px) apart
        assert 0 < ys[0] and ys[-1] < fullest
    # every edge of the lineage is drawn as model->version->run->data
    labels = {i: n["label"] for i, n in enumerate(nodes)}
    assert ("credit-default", "credit-default v2 @production") in {
        (labels[a], labels[b]) for a, b in links}
    assert "no dataset digest" in labels.values()


def test_labels_are_wrapped_to_two_short_lines_with_the_full_text_on_hover():
    fig = lineage_figure(Lineage(EDGES))
    points = fig.data[1]
    labels = [a for a in fig.layout.annotations if a.bgcolor]  # the column titles have none
    assert len(labels) == len(points.x)
    for label, (column, full) in zip(labels, points.customdata, strict=True):
        lines = label.text.split("<br>")
        assert len(lines) <= 2 and all(len(line) <= LINEAGE_WRAP for line in lines)
        assert column in LINEAGE_COLUMNS and full.startswith(lines[0][:5])
    # the height gives every row its room: 5 rows of 56 px plus the frame
    assert fig.layout.height >= 5 * 56
    assert fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1]  # first row on top


def test_empty_lineage_draws_an_empty_chart():
    fig = lineage_figure(Lineage(()))
    assert len(fig.data[1].x) == 0
