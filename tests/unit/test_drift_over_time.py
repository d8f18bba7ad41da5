"""Drift over time, multivariate drift and distributions: planted truth and independent numbers."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from aidebt_core.data import connect, open_table
from aidebt_core.drift.distribution import column_distribution
from aidebt_core.drift.multivariate import multivariate_drift
from aidebt_core.drift.over_time import drift_over_time
from aidebt_core.errors import SchemaError
from aidebt_core.selection import sample_selection
from aidebt_core.workspace import Workspace

FEATURES = ["age", "income", "monthly_income", "loan_amount", "credit_score",
            "employment_type", "channel", "region"]
KINDS = ["numeric"] * 5 + ["categorical"] * 3


@pytest.fixture(scope="module")
def opened(sample_dir):
    with sample_selection(sample_dir).open() as data:
        yield data


@pytest.fixture(scope="module")
def monthly(opened):
    return drift_over_time(opened.reference, opened.current, FEATURES, KINDS, "month",
                           opened.timestamp)


def test_planted_effects_appear_when_they_were_planted(monthly, ground_truth):
    assert [c.label for c in monthly.chunks] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert monthly.threshold_source == "reference chunks"
    for detail in ground_truth["data_drift"]["details"]:
        if detail["column"] in FEATURES:
            assert monthly.first_alert(detail["column"]) == f"2025-{detail['from_month']:02d}"
    jump = ground_truth["missing_jump"]
    assert monthly.first_alert(jump["column"], missing=True) == f"2025-{jump['from_month']:02d}"
    i = monthly.columns.index(jump["column"])
    assert monthly.missing[i, -1] == pytest.approx(jump["missing_share_after"], abs=0.015)
    assert monthly.first_alert("age") is None


def test_chunk_values_and_thresholds_match_independent_computation(monthly, sample_dir):
    frame = pd.read_parquet(sample_dir / "applications.parquet")
    month = frame["applied_at"].dt.month
    ref = frame[month <= 6]
    i = monthly.columns.index("income")
    oct_ = frame.loc[month == 10, "income"]
    expected = stats.wasserstein_distance(ref["income"], oct_) / ref["income"].std(ddof=0)
    assert monthly.values[i, 9] == pytest.approx(expected, rel=1e-9)
    rest = ref.loc[ref["applied_at"].dt.month != 3, "income"]
    march = ref.loc[ref["applied_at"].dt.month == 3, "income"]
    assert monthly.values[i, 2] == pytest.approx(  # leave-one-out for reference chunks
        stats.wasserstein_distance(rest, march) / rest.std(ddof=0), rel=1e-9)
    ref_vals = monthly.values[i, :6]
    assert monthly.thresholds[i] == pytest.approx(ref_vals.mean() + 3 * ref_vals.std(), rel=1e-12)
    j = monthly.columns.index("channel")
    counts = ref["channel"].value_counts()
    aug = frame.loc[month == 8, "channel"].value_counts()
    cats = sorted(set(counts.index) | set(aug.index))
    assert monthly.values[j, 7] == pytest.approx(
        jensenshannon(counts.reindex(cats, fill_value=0), aug.reindex(cats, fill_value=0)),
        rel=1e-9)
    k = monthly.columns.index("employment_type")
    nov = frame.loc[month == 11, "employment_type"]
    assert monthly.missing[k, 10] == pytest.approx(nov.isna().mean(), rel=1e-12)
    records = monthly.to_frame()
    assert len(records) == len(FEATURES) * 12
    assert monthly.to_dict()["columns"][1]["first_alert"] == "2025-07"


def test_row_chunks_and_single_reference_chunk(opened):
    by_rows = drift_over_time(opened.reference, opened.current, ["income"], ["numeric"], "20000",
                              opened.timestamp, method="psi")
    assert [c.rows for c in by_rows.chunks] == [20000] * 6
    assert by_rows.methods == ("psi",)
    assert by_rows.first_alert("income") is not None
    single = drift_over_time(opened.reference, opened.current, ["age"], ["numeric"], "year",
                             opened.timestamp)
    assert single.threshold_source == "default" and single.thresholds[0] == 0.1
    with pytest.raises(SchemaError, match="method"):
        drift_over_time(opened.reference, opened.current, ["age"], ["numeric"], "month",
                        opened.timestamp, method="magic")
    with pytest.raises(SchemaError, match="timestamp"):
        drift_over_time(opened.reference, opened.current, ["age"], ["numeric"], "month", None)


def test_multivariate_finds_the_correlation_break(opened, ground_truth):
    brk = ground_truth["correlation_break"]
    result = multivariate_drift(opened.reference, opened.current,
                                [*brk["columns"], "age", "loan_amount", "debt_to_income"], [],
                                "month", opened.timestamp)
    assert result.first_alert() == f"2025-{brk['from_month']:02d}"
    assert not result.alerts[:brk["from_month"] - 1].any()
    errors = result.errors
    assert errors[brk["from_month"] - 1:].min() > 1.3 * errors[:6].max()
    assert result.upper == pytest.approx(errors[:6].mean() + 3 * errors[:6].std(), rel=1e-12)
    assert result.to_dict()["first_alert"] == result.first_alert()
    with pytest.raises(SchemaError, match="two columns"):
        multivariate_drift(opened.reference, opened.current, ["age"], [], "month",
                           opened.timestamp)


def test_distribution_shares_match_pandas(opened, sample_dir):
    ref = pd.read_parquet(sample_dir / "reference.parquet")
    cur = pd.read_parquet(sample_dir / "current.parquet")
    dist = column_distribution(opened.reference, opened.current, "channel", "categorical")
    shares = cur["channel"].value_counts(normalize=True)
    assert dict(zip(dist.labels, dist.current, strict=True)) == pytest.approx(shares.to_dict())
    assert dist.reference[list(dist.labels).index("partner")] == 0
    num = column_distribution(opened.reference, opened.current, "credit_score", "numeric", 30)
    edges = num.edges.copy()
    edges[0], edges[-1] = -np.inf, np.inf
    expected = np.histogram(cur["credit_score"], edges)[0] / len(cur)
    np.testing.assert_allclose(num.current, expected, rtol=1e-12)
    expected_ref = np.histogram(ref["credit_score"], edges)[0] / len(ref)
    np.testing.assert_allclose(num.reference, expected_ref, rtol=1e-12)


def test_distribution_with_an_empty_side(tmp_path):
    pd.DataFrame({"v": [1.0, 2.0, 3.0]}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"v": [None, None]}, dtype=float).to_parquet(tmp_path / "b.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    try:
        dist = column_distribution(open_table(con, ws, "a.parquet"),
                                   open_table(con, ws, "b.parquet"), "v", "numeric", 4)
    finally:
        con.close()
    assert dist.current.sum() == 0 and dist.reference.sum() == pytest.approx(1.0)
