"""The Drift page on the sample scenario: cards, table values, widgets, slice links."""

import pandas as pd
import pytest
from scipy import stats


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def test_page_shows_the_planted_drift(run_page, sample_dir, ground_truth):
    at = run_page("pages/drift.py")
    shown = _metrics(at)
    planted = ground_truth["data_drift"]["drifted_features"]
    knock_on = sorted(ground_truth["knock_on_shifts"])  # device_os: under the whole-period
    # threshold, above each recent month's noise: the headline counts it, and says why.
    assert shown["Drifted columns"] == f"{len(planted) + len(knock_on)} / 15"
    assert [m.value for m in at.markdown if "columns drifted" in m.value] == [
        f"**{len(planted) + len(knock_on)} of 15 columns drifted: {len(planted)} overall, "
        f"{len(knock_on)} more in the last month**"]
    assert shown["Dataset drift"] == "no"
    assert shown["Worst column"] == "credit_score"
    assert shown["Missing share changed"] == "1"
    table = at.dataframe[0].value.set_index("column")
    assert sorted(table.index[table["drifted"]]) == sorted(planted)
    assert sorted(table.index[table["recent_alert"]]) == sorted(planted + knock_on)
    assert table.loc["channel", "new_categories"] == "partner"
    ref = pd.read_parquet(sample_dir / "reference.parquet")
    cur = pd.read_parquet(sample_dir / "current.parquet")
    assert table.loc["age", "p_value"] == stats.ks_2samp(ref["age"], cur["age"]).pvalue
    assert table.loc["income", "statistic"] == pytest.approx(
        stats.wasserstein_distance(ref["income"], cur["income"]) / ref["income"].std(ddof=0),
        rel=1e-12)
    assert len(table.loc["income", "trend"]) == 12  # one value per month
    assert at.selectbox(key="drift_detail").value == "credit_score"
    assert any("First alert: 2025-08" in c.value for c in at.caption)  # the new channel
    at.toggle(key="drift_ecdf").set_value(True).run()
    assert not at.exception and at.toggle(key="drift_ecdf").value


def test_method_threshold_and_outputs(run_page):
    at = run_page("pages/drift.py")
    at.selectbox(key="drift_method").set_value("psi").run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("column")
    assert set(table["method"]) == {"psi"} and set(table["threshold"]) == {0.2}
    assert sorted(table.index[table["drifted"]]) == ["channel"]  # PSI 0.90; credit_score 0.199
    at.number_input(key="drift_threshold").set_value(0.1).run()
    table = at.dataframe[0].value.set_index("column")
    assert sorted(table.index[table["drifted"]]) == ["channel", "credit_score"]
    at.text_input(key="drift_col_thresholds").set_value("credit_score=0.5").run()
    table = at.dataframe[0].value.set_index("column")
    assert table.loc["credit_score", "threshold"] == 0.5
    assert sorted(table.index[table["drifted"]]) == ["channel"]  # PSI 0.199 < 0.5
    at.text_input(key="drift_col_thresholds").set_value("credit_score").run()
    assert any("COLUMN=NUMBER" in e.value for e in at.error)
    at.text_input(key="drift_col_thresholds").set_value("").run()
    at.toggle(key="drift_outputs").set_value(True).run()
    table = at.dataframe[0].value
    assert {"default_score", "predicted_default"} <= set(table["column"])


def test_slice_link_filters_rows(run_page, sample_dir):
    at = run_page("pages/drift.py", query={"slice": '{"channel": "mobile"}'})
    assert any("channel = mobile" in i.value for i in at.info)
    frame = pd.read_parquet(sample_dir / "applications.parquet")
    mobile = frame[(frame["channel"] == "mobile") & (frame["applied_at"] < "2025-07-01")]
    assert f"Reference {len(mobile):,} rows" in at.caption[1].value
    table = at.dataframe[0].value.set_index("column")
    assert not table.loc["channel", "drifted"]  # one value on both sides


def test_bad_slice_and_no_columns_show_errors(run_page):
    at = run_page("pages/drift.py", query={"slice": "{not json"})
    assert any("not a JSON object" in e.value for e in at.error)
    at = run_page("pages/drift.py", state={"drift_columns": []})
    assert any("Pick at least one column" in e.value for e in at.error)


def test_two_small_files_without_timestamp(run_page, tmp_path):
    import numpy as np

    from aidebt_core.selection import FILES, Selection

    rng = np.random.default_rng(0)
    frames = {}
    for name, shift in (("ref.csv", 0.0), ("cur.csv", 0.8)):
        frames[name] = pd.DataFrame({"x": rng.normal(shift, 1, 400), "z": rng.normal(0, 1, 400),
                                     "k": rng.choice(["a", "b", "c"], 400)})
        frames[name].to_csv(tmp_path / name, index=False)
    ref, cur = frames["ref.csv"], frames["cur.csv"]
    expected = {c for c in ("x", "z") if stats.ks_2samp(ref[c], cur[c]).pvalue < 0.05}
    counts = pd.crosstab(pd.concat([ref["k"], cur["k"]]), [0] * 400 + [1] * 400).T
    if stats.chi2_contingency(counts.to_numpy()).pvalue < 0.05:
        expected.add("k")
    selection = Selection(workspace=str(tmp_path), mode=FILES, reference="ref.csv",
                          current="cur.csv")
    at = run_page("pages/drift.py", selection=selection, state={"drift_rows": 100})
    assert _metrics(at)["Drifted columns"] == f"{len(expected)} / 3"
    table = at.dataframe[0].value.set_index("column")
    assert set(table.index[table["drifted"]]) == expected and "x" in expected
    assert set(table["method"]) == {"ks", "chi2"}  # 400 rows < 1,000: the tests decide
    assert len(table.loc["x", "trend"]) == 8  # 4 row chunks a side
