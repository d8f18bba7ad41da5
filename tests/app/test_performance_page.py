"""The Performance & concept drift page on the sample scenario: values, alerts, widgets."""

import pandas as pd
import pytest
from sklearn import metrics as skm


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def test_page_shows_estimate_and_concept_drift(run_page, sample_dir):
    at = run_page("pages/performance.py")
    shown = _metrics(at)
    assert shown["Latest chunk (2025-12)"] == "no labels"
    assert shown["Concept-drift alerts"] == "2"
    assert any("2025-10, 2025-11" in w.value for w in at.warning)
    assert any("No labels yet in 2025-12" in c.value for c in at.caption)
    table = at.dataframe[0].value
    frame = pd.read_parquet(sample_dir / "applications.parquet")
    oct_ = frame[frame["applied_at"].dt.month == 10]
    row = table.set_index("chunk").loc["2025-10"]
    assert row["realized"] == pytest.approx(skm.roc_auc_score(oct_["defaulted"],
                                                              oct_["default_score"]), rel=1e-10)
    assert bool(row["concept_alert"]) and not table.set_index("chunk").loc[
        ["2025-07", "2025-08", "2025-09"], "concept_alert"].any()
    assert pd.isna(table["realized"].iloc[-1]) and table["estimated"].iloc[-1] > 0.7
    # The relation view defaults to the concept-drift window and ranks the planted feature first.
    assert at.select_slider(key="perf_window").value == ("2025-10", "2025-11")
    assert at.selectbox(key="perf_feature").value == "debt_to_income"


def test_metric_and_chunking_switch(run_page, sample_dir):
    at = run_page("pages/performance.py")
    at.segmented_control(key="perf_metric").set_value("accuracy").run()
    assert not at.exception
    table = at.dataframe[0].value
    frame = pd.read_parquet(sample_dir / "applications.parquet")
    jan = frame[frame["applied_at"].dt.month == 1]
    assert table["realized"].iloc[0] == pytest.approx(
        skm.accuracy_score(jan["defaulted"], jan["predicted_default"]), rel=1e-12)
    at.selectbox(key="perf_chunk").set_value("quarter").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["chunk"].tolist() == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert table["labelled_rows"].tolist() == [30_000, 30_000, 30_000, 20_000]


def test_bad_label_column_shows_an_error(run_page):
    at = run_page("pages/performance.py", state={"perf_target": "income"})
    assert not at.exception
    assert any("not binary" in e.value and "'income'" in e.value for e in at.error)


def test_two_files_and_row_chunks(run_page, sample_dir):
    from dataclasses import replace

    from aidebt_core.selection import FILES, sample_selection

    selection = replace(sample_selection(sample_dir), mode=FILES, reference="reference.parquet",
                        current="current.parquet")
    at = run_page("pages/performance.py", selection=selection,
                  state={"perf_chunk": "rows", "perf_rows": 20_000})
    table = at.dataframe[0].value
    assert table["chunk"].tolist() == [f"rows {i * 20_000:,}–{i * 20_000 + 19_999:,}"
                                       for i in range(6)]
    assert table["period"].tolist() == ["reference"] * 3 + ["current"] * 3
    # The last 20,000 current rows (months 11-12 in time order) are half unlabelled.
    assert table["labelled_rows"].tolist()[-1] == 10_000
    # Months 7-8 (rows 60,000–79,999) carry no concept drift; months 11-12 do.
    flagged = table.set_index("chunk")["concept_alert"]
    assert not flagged["rows 60,000–79,999"] and flagged["rows 100,000–119,999"]


def test_small_chunks_are_marked_and_silent(run_page, tmp_path):
    """Generated loans: a 200-row partial July scored by a broken model and a May with 25
    (wrong) labels. Neither alerts; both are named; a lower minimum makes both alert."""
    import sys
    from pathlib import Path

    from aidebt_core.selection import SPLIT, Selection

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from generated_time import loans_with_small_chunks

    loans_with_small_chunks().to_parquet(tmp_path / "loans.parquet")
    selection = Selection(workspace=str(tmp_path), mode=SPLIT, source="loans.parquet",
                          split_column="timestamp", split_at="2019-01-01")
    at = run_page("pages/performance.py", selection=selection)
    shown = _metrics(at)
    assert shown["Latest chunk (2019-07)"] == "too small to judge"
    assert shown["Concept-drift alerts"] == "0"
    assert not at.error and not at.warning
    assert any(c.value == "Greyed, too small to judge (under 300 rows; no alerts): 2019-07. "
               "Too few labels for a realized or concept-drift claim (under 100): 2019-05. "
               "Partial periods (the data does not cover them fully): 2019-07."
               for c in at.caption)
    table = at.dataframe[0].value.set_index("chunk")
    assert table.loc["2019-07", "too_small"] and table.loc["2019-07", "partial"]
    assert table.loc["2019-05", "too_few_labels"] and table.loc["2019-05", "labelled_rows"] == 25
    assert not table[["alert", "concept_alert"]].any().any()
    at.number_input(key="perf_min_rows").set_value(100).run()
    at.number_input(key="perf_min_labels").set_value(10).run()
    assert _metrics(at)["Concept-drift alerts"] == "2"
    assert any("2019-05, 2019-07" in w.value for w in at.warning)
    assert any("worse than the reference band in 2019-05, 2019-07" in e.value for e in at.error)
