"""The Drift page on the sample scenario: cards, table values, widgets, slice links."""

import numpy as np
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
    # threshold, above each recent month's noise: a recent alert, not a drifted input.
    assert [s.value for s in at.subheader][0] == f"{len(planted)} of 15 inputs drifted " \
                                                 "(since 2025-07)"
    assert shown["Drifted inputs"] == f"{len(planted)} / 15"
    assert "Dataset drift" not in shown   # the verdict is a consequence, in words
    verdict = next(c.value for c in at.caption if c.value.startswith("Dataset level"))
    assert verdict.startswith(f"Dataset level: no dataset drift — {len(planted) / 15:.0%} of "
                              "the compared columns drifted, which is under the 50% share")
    assert "device_os alert in the last month" in verdict
    assert shown["Alerting in the last month"] == str(len(planted) + len(knock_on))
    assert shown["Worst input"] == "credit_score"
    assert shown["Missing share changed"] == "1"
    table = at.dataframe[0].value.set_index("column")
    assert sorted(table.index[table["drifted"]]) == sorted(planted)
    assert sorted(table.index[table["recent_alert"]]) == sorted(planted + knock_on)
    assert table.loc["channel", "new_categories"] == "partner"
    # Distance methods decide (auto on 60,000 rows): no p-value column at all.
    assert set(table["method"]) == {"wasserstein", "jensenshannon"}
    assert "p_value" not in table.columns
    ref = pd.read_parquet(sample_dir / "reference.parquet")
    cur = pd.read_parquet(sample_dir / "current.parquet")
    assert table.loc["income", "statistic"] == pytest.approx(
        stats.wasserstein_distance(ref["income"], cur["income"]) / ref["income"].std(ddof=0),
        rel=1e-12)
    missing = (cur["employment_type"].isna().mean() - ref["employment_type"].isna().mean())
    assert table.loc["employment_type", "missing_change"] == round(100 * missing, 1)
    assert len(table.loc["income", "trend"]) == 12  # one value per month
    assert at.selectbox(key="drift_detail").value == "credit_score"
    # The detail says which threshold is which.
    assert any(c.value.startswith("Two thresholds, two questions: the table's **0.1** "
                                  "(wasserstein) judges the whole current period")
               and "monthly alert threshold" in c.value for c in at.caption)
    assert any("First alert: 2025-08" in c.value for c in at.caption)  # the new channel
    at.toggle(key="drift_ecdf").set_value(True).run()
    assert not at.exception and at.toggle(key="drift_ecdf").value


def test_headline_agrees_with_the_cli(run_page, sample_dir, capsys):
    """The page's count and dataset verdict are the CLI's (whole period, same columns)."""
    import json

    from aidebt_core.cli import main

    at = run_page("pages/drift.py")
    table = at.dataframe[0].value.set_index("column")
    main(["drift", str(sample_dir / "reference.parquet"), str(sample_dir / "current.parquet"),
          "--columns", ",".join(table.index), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    drifted = sorted(c["name"] for c in doc["columns"] if c["drifted"])
    assert sorted(table.index[table["drifted"]]) == drifted
    assert at.subheader[0].value.startswith(f"{len(drifted)} of {len(doc['columns'])} inputs")
    verdict = next(c.value for c in at.caption if c.value.startswith("Dataset level"))
    assert verdict.startswith("Dataset level: dataset drift" if doc["dataset_drift"]
                              else "Dataset level: no dataset drift")


def test_p_values_only_for_tests(run_page, sample_dir):
    at = run_page("pages/drift.py", state={"drift_method": "ks"})
    table = at.dataframe[0].value.set_index("column")
    ref = pd.read_parquet(sample_dir / "reference.parquet")
    cur = pd.read_parquet(sample_dir / "current.parquet")
    assert table.loc["age", "p_value"] == stats.ks_2samp(ref["age"], cur["age"]).pvalue
    # Categorical columns take KS's counterpart test, chi-square: a p-value there too.
    assert table.loc["device_os", "method"] == "chi2"
    assert 0 <= table.loc["device_os", "p_value"] < 0.05 and table.loc["device_os", "drifted"]
    for method in ("psi", "wasserstein"):   # distances (and their counterparts): no p-value
        at.selectbox(key="drift_method").set_value(method).run()
        assert "p_value" not in at.dataframe[0].value.columns, method


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
    assert any(f"Reference {len(mobile):,} rows" in c.value for c in at.caption)
    table = at.dataframe[0].value.set_index("column")
    assert not table.loc["channel", "drifted"]  # one value on both sides


def test_bad_slice_and_no_columns_show_errors(run_page):
    at = run_page("pages/drift.py", query={"slice": "{not json"})
    assert any("not a JSON object" in e.value for e in at.error)
    at = run_page("pages/drift.py", state={"drift_columns": []})
    assert any("Pick at least one column" in e.value for e in at.error)


def test_two_small_files_without_timestamp(run_page, tmp_path):
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
    assert _metrics(at)["Drifted inputs"] == f"{len(expected)} / 3"
    table = at.dataframe[0].value.set_index("column")
    assert set(table.index[table["drifted"]]) == expected and "x" in expected
    assert set(table["method"]) == {"ks", "chi2"}  # 400 rows < 1,000: the tests decide
    # 4 row chunks of 100 a side: too small to judge, so no line (one needs 2 judged chunks)
    assert table.loc["x", "trend"] is None


def _generated_module():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import generated_time

    return generated_time


def _z(trace: dict):
    """A heatmap's z as an array (plotly sends numpy arrays base64-encoded)."""
    import base64

    z = trace["z"]
    if isinstance(z, dict):
        values = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
        return values.reshape([int(n) for n in str(z["shape"]).split(",")])
    return np.array(z, dtype=float)


def _plotly_specs(at) -> list[dict]:
    import json

    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_recent_only_drift_is_a_recent_alert_not_a_drifted_input(run_page, tmp_path):
    """Generated loans whose drift starts in the last two 5,000-row chunks: the whole-period
    test sees nothing, so the headline (the CLI's definition) counts none; the recent alerts
    name both columns and say where."""
    from aidebt_core.selection import FILES, Selection

    gen = _generated_module()
    frame = gen.mid_current_drift()
    frame.iloc[:gen.REFERENCE_ROWS].to_parquet(tmp_path / "ref.parquet")
    frame.iloc[gen.REFERENCE_ROWS:].to_parquet(tmp_path / "cur.parquet")
    selection = Selection(workspace=str(tmp_path), mode=FILES, reference="ref.parquet",
                          current="cur.parquet")
    at = run_page("pages/drift.py", selection=selection,
                  state={"drift_chunk": "rows", "drift_rows": gen.CHUNK, "drift_recent": 2})
    shown = _metrics(at)
    assert shown["Drifted inputs"] == "0 / 7"
    since = pd.read_parquet(tmp_path / "cur.parquet")["timestamp"].min()
    assert at.subheader[0].value == f"0 of 7 inputs drifted (since {since:%Y-%m-%d})"
    assert shown["Alerting in the last 2 chunks"] == "2"
    verdict = next(c.value for c in at.caption if c.value.startswith("Dataset level"))
    assert f"{', '.join(c for c in frame.columns if c in gen.SHIFTED)} alert in the last 2 " \
           "chunks" in verdict.replace("\\", "")
    table = at.dataframe[0].value.set_index("column")
    assert not table["drifted"].any()
    assert sorted(table.index[table["recent_alert"]]) == sorted(gen.SHIFTED)
    at.number_input(key="drift_recent").set_value(1).run()
    assert _metrics(at)["Alerting in the last chunk"] == "2"


def test_a_200_row_month_is_greyed_and_marked_partial(run_page, tmp_path):
    from aidebt_core.selection import SPLIT, Selection

    gen = _generated_module()
    gen.short_last_month().to_parquet(tmp_path / "loans.parquet")
    selection = Selection(workspace=str(tmp_path), mode=SPLIT, source="loans.parquet",
                          split_column="timestamp", split_at="2019-01-01")
    at = run_page("pages/drift.py", selection=selection)
    assert any(c.value == "Greyed, too small to judge (under 300 rows; they never alert): "
               "2019-07. Partial periods (the data does not cover them fully): 2019-07."
               for c in at.caption)
    assert any("First alert: none." in c.value for c in at.caption)   # multivariate
    table = at.dataframe[0].value.set_index("column")
    sparkline = table.loc["income", "trend"]       # July's spike is not drawn as a trend
    assert len(sparkline) == 19 and np.isnan(sparkline[-1]) and np.isfinite(sparkline[:-1]).all()
    heat = next(s for s in _plotly_specs(at) if s["data"][0]["type"] == "heatmap")
    assert heat["layout"]["xaxis"]["ticktext"][-1] == \
        "2019-07<br><i>too small</i><br><i>partial</i>"
    grey = heat["data"][1]
    assert grey["name"] == "too small to judge"
    colour, greyed = _z(heat["data"][0]), _z(grey)
    assert colour.shape == (7, 19)                         # 7 features × 12 + 7 months
    assert np.isnan(colour[:, -1]).all() and np.isfinite(colour[:, :-1]).all()
    assert (greyed[:, -1] == 1.0).all() and np.isnan(greyed[:, :-1]).all()
    # A lower minimum judges July: its columns alert, and the grey goes away.
    at.number_input(key="drift_min_rows").set_value(100).run()
    assert not any("too small to judge" in c.value for c in at.caption)
    assert any("First alert: 2019-07." in c.value for c in at.caption)


def test_an_unreadable_time_column_is_an_error_box(run_page, tmp_path):
    from aidebt_core.selection import SPLIT, Selection

    gen = _generated_module()
    gen.short_last_month().to_parquet(tmp_path / "loans.parquet")
    selection = Selection(workspace=str(tmp_path), mode=SPLIT, source="loans.parquet",
                          split_column="car_type", split_at="2019-01-01")
    at = run_page("pages/drift.py", selection=selection)
    assert [e.value for e in at.error if "'car_type' has 18,200 value(s) of 18,200" in e.value
            and "not timestamps" in e.value and "integer year" in e.value]
