"""The Drift headline, dataset verdict and report table: one definition (the whole-period
test, the CLI's), p-values only for tests, values as fixed text. Generated tables."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aidebt_core.data import connect, open_table
from aidebt_core.drift import DriftOptions, analyse_drift
from aidebt_core.drift.over_time import drift_over_time
from aidebt_core.drift.summary import (
    current_since,
    dataset_verdict,
    drift_headline,
    since_text,
)
from aidebt_core.reports.drift import column_table, drift_report
from aidebt_core.timeaxis import split_on_timestamp
from aidebt_core.workspace import Workspace


@pytest.fixture
def tables(tmp_path):
    """Loans over 2021: `rate` shifts from July, `grade` gains a value, `term` stays; 300
    rows a month (small: auto picks the tests, KS and chi-square)."""
    rng = np.random.default_rng(5)
    months = []
    for m in range(1, 13):
        n = 300
        months.append(pd.DataFrame({
            "issued": pd.Timestamp(2021, m, 1) + pd.to_timedelta(rng.uniform(0, 27, n), "D"),
            "rate": rng.normal(5 + (0.6 if m >= 7 else 0), 1, n),
            "grade": rng.choice(list("ABC") + (["D"] if m >= 7 else []), n),
            "term": rng.choice([36, 60], n)}))
    frame = pd.concat(months, ignore_index=True)
    frame.to_parquet(tmp_path / "loans.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    ref, cur = split_on_timestamp(open_table(con, ws, "loans.parquet"), "issued", "2021-07-01")
    yield frame, ref, cur
    con.close()


def test_headline_counts_the_whole_period_test(tables):
    frame, ref_t, cur_t = tables
    result = analyse_drift(ref_t, cur_t, columns=["rate", "grade", "term"],
                           options=DriftOptions(small_sample=10_000))
    ref, cur = frame[frame["issued"] < "2021-07-01"], frame[frame["issued"] >= "2021-07-01"]
    expected = {c for c in ("rate", "term") if stats.ks_2samp(ref[c], cur[c]).pvalue < 0.05}
    counts = pd.crosstab(frame["grade"], frame["issued"] >= "2021-07-01").to_numpy().T
    if stats.chi2_contingency(counts).pvalue < 0.05:
        expected.add("grade")
    assert set(result.drifted_columns) == expected == {"rate", "grade"}
    trend = drift_over_time(ref_t, cur_t, ["rate"], ["numeric"], "month", "issued")
    assert current_since(trend) == "2021-07"
    assert drift_headline(result, current_since(trend)) == "2 of 3 inputs drifted (since 2021-07)"
    assert drift_headline(result) == "2 of 3 inputs drifted (current vs reference)"
    assert dataset_verdict(result).startswith(
        "Dataset level: dataset drift — 67% of the compared columns drifted, which reaches the "
        "50% share")
    stricter = analyse_drift(ref_t, cur_t, columns=["rate", "grade", "term"],
                             options=DriftOptions(small_sample=10_000, drift_share=0.7))
    assert dataset_verdict(stricter).startswith("Dataset level: no dataset drift — 67% ")
    assert since_text(cur["issued"].min(), "week") == f"{cur['issued'].min():%Y-%m-%d}"
    assert since_text(cur["issued"].min(), "quarter") == "2021-07"
    rows = drift_over_time(ref_t, cur_t, ["rate"], ["numeric"], "500")
    assert current_since(rows) is None and current_since(None) is None


def test_report_table_p_values_only_for_tests(tables):
    frame, ref_t, cur_t = tables
    tests = analyse_drift(ref_t, cur_t, columns=["rate", "grade", "term"],
                          options=DriftOptions(small_sample=10_000))
    table = column_table(tests).set_index("Column")
    ref, cur = frame[frame["issued"] < "2021-07-01"], frame[frame["issued"] >= "2021-07-01"]
    assert table.loc["rate", "Method"] == "ks"
    assert table.loc["rate", "p-value"] == f"{stats.ks_2samp(ref['rate'], cur['rate']).pvalue:.3g}"
    assert table.loc["grade", "New values"] == "D" and table.loc["term", "New values"] == "—"
    distances = analyse_drift(ref_t, cur_t, columns=["rate", "grade", "term"],
                              options=DriftOptions(method="psi"))
    assert "p-value" not in column_table(distances).columns
    text = column_table(distances).to_string()
    assert "None" not in text and "nan" not in text and "-0.0" not in text


def test_report_holds_every_view_and_the_headline(tables):
    from aidebt_core.drift.multivariate import multivariate_drift

    _, ref_t, cur_t = tables
    result = analyse_drift(ref_t, cur_t, columns=["rate", "grade", "term"])
    trend = drift_over_time(ref_t, cur_t, ["rate", "grade", "term"],
                            ["numeric", "categorical", "numeric"], "month", "issued")
    mv = multivariate_drift(ref_t, cur_t, ["rate", "term"], ["grade"], "month", "issued")
    report = drift_report(result, trend, mv)
    assert report.blocks[0][1].startswith(drift_headline(result, "2021-07", "columns"))
    titles = [b[1][0].layout.title.text for b in report.blocks if b[0] == "figure"]
    assert any(t.startswith("Drift per chunk") for t in titles)
    assert any(t.startswith("Missing share per chunk") for t in titles)
    assert any(t.startswith("Multivariate drift") for t in titles)
    assert any(t.startswith("Drift by column") for t in titles)
