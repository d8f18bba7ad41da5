"""The Performance & concept drift page on the sample scenario: values, alerts, widgets."""

import pandas as pd
import pytest
from sklearn import metrics as skm


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def test_page_shows_estimate_and_concept_drift(run_page, sample_dir):
    at = run_page("pages/performance.py")
    frame = pd.read_parquet(sample_dir / "applications.parquet")
    month = frame["applied_at"].dt.month
    nov = frame[month == 11]
    shown = _metrics(at)
    # Headline cards: the ranking metric and a calibration-sensitive one, measured on the
    # latest labelled month; the estimate on the latest month (no labels there).
    assert shown["ROC AUC, realized (2025-11)"] == \
        f"{skm.roc_auc_score(nov['defaulted'], nov['default_score']):.3f}"
    assert shown["Brier score, realized (2025-11)"] == \
        f"{skm.brier_score_loss(nov['defaulted'], nov['default_score']):.3f}"
    assert float(shown["ROC AUC, estimated (2025-12)"]) > 0.7
    assert shown["Concept-drift alerts"] == "2"
    table = at.dataframe[0].value.set_index("Chunk")
    gap = table.loc[["2025-10", "2025-11"], "Realized − estimate"]
    headline = [m.value for m in at.markdown if "Concept drift in" in m.value]
    assert headline == [f"**Concept drift in 2025-10, 2025-11\\: realized ROC AUC up to "
                        f"{gap.abs().max():.3f} below the label-free estimate (worse).**"]
    # Every alert says which way and how far.
    (warning,) = [w.value for w in at.warning if "Concept drift" in w.value]
    for label in ("2025-10", "2025-11"):
        realized, estimated = table.loc[label, ["ROC AUC (realized)", "ROC AUC (estimated)"]]
        assert (f"{label}\\: ROC AUC {realized:.3f}, {estimated - realized:.3f} below the "
                f"label-free estimate {estimated:.3f} (worse)") in warning
    assert all("2025-12" not in e.value for e in at.error)
    assert any("No labels yet in 2025-12" in c.value for c in at.caption)
    oct_ = frame[month == 10]
    row = table.loc["2025-10"]
    assert row["ROC AUC (realized)"] == pytest.approx(
        skm.roc_auc_score(oct_["defaulted"], oct_["default_score"]), rel=1e-10)
    assert row["ROC AUC (realized)"] < row["ROC AUC (estimated)"]   # the planted truth
    assert bool(row["Concept drift"]) and not table.loc[
        ["2025-07", "2025-08", "2025-09"], "Concept drift"].any()
    assert pd.isna(table["ROC AUC (realized)"].iloc[-1])
    assert table["ROC AUC (estimated)"].iloc[-1] > 0.7
    assert "CI low" not in table.columns   # raw columns sit in the expander's table
    assert "CI low" in at.dataframe[1].value.columns
    # The relation view defaults to the concept-drift window and ranks the planted feature first.
    assert at.select_slider(key="perf_window").value == ("2025-10", "2025-11")
    assert at.selectbox(key="perf_feature").value == "debt_to_income"


def test_recall_alerts_never_name_the_unlabelled_month(run_page, sample_dir):
    at = run_page("pages/performance.py", state={"perf_metric": "recall"})
    (measured,) = [e.value for e in at.error]
    assert "Recall outside the reference band" in measured and "2025-12" not in measured
    assert "2025-11\\: Recall " in measured and "below the reference band's lower edge" in \
        measured
    (estimate_only,) = [w.value for w in at.warning if "Estimate only" in w.value]
    assert "2025-12 (no labels yet)\\: estimated Recall" in estimate_only


def test_without_score_the_estimate_parts_are_hidden(run_page):
    at = run_page("pages/performance.py", state={"perf_score": "(none)"})
    shown = _metrics(at)
    assert not any("estimated" in label for label in shown)
    assert "Concept-drift alerts" not in shown
    assert not at.info   # the estimate's explanation
    assert any("No score column" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 2   # realized chart and relation chart, no gap chart
    table = at.dataframe[0].value
    assert not [c for c in table.columns if "estimat" in c.lower() or "concept" in c.lower()]
    assert table.columns[0] == "Chunk"


def test_without_label_a_clear_message(run_page):
    at = run_page("pages/performance.py", state={"perf_target": "(none)"})
    assert not at.error
    (info,) = [i.value for i in at.info]
    assert info.startswith("**Pick the label column**") and "role" not in info
    assert not at.dataframe


def test_metric_and_chunking_switch(run_page, sample_dir):
    at = run_page("pages/performance.py")
    at.segmented_control(key="perf_metric").set_value("accuracy").run()
    assert not at.exception
    table = at.dataframe[0].value
    frame = pd.read_parquet(sample_dir / "applications.parquet")
    jan = frame[frame["applied_at"].dt.month == 1]
    assert table["Accuracy (realized)"].iloc[0] == pytest.approx(
        skm.accuracy_score(jan["defaulted"], jan["predicted_default"]), rel=1e-12)
    at.selectbox(key="perf_chunk").set_value("quarter").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["Chunk"].tolist() == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert table["Labelled rows"].tolist() == [30_000, 30_000, 30_000, 20_000]


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
    assert table["Chunk"].tolist() == [f"rows {i * 20_000:,}–{i * 20_000 + 19_999:,}"
                                       for i in range(6)]
    assert table["Period"].tolist() == ["reference"] * 3 + ["current"] * 3
    # The last 20,000 current rows (months 11-12 in time order) are half unlabelled.
    assert table["Labelled rows"].tolist()[-1] == 10_000
    # Months 7-8 (rows 60,000–79,999) carry no concept drift; months 11-12 do.
    flagged = table.set_index("Chunk")["Concept drift"]
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
    # The latest judged month is June: July is too small, so the card does not use it.
    assert "ROC AUC, realized (2019-06)" in shown
    assert shown["Concept-drift alerts"] == "0"
    assert not at.error and not at.warning
    assert any(c.value == "Greyed, too small to judge (under 300 rows; no alerts): 2019-07. "
               "Too few labels for a realized or concept-drift claim (under 100): 2019-05. "
               "Partial periods (the data does not cover them fully): 2019-07."
               for c in at.caption)
    raw = at.dataframe[1].value.set_index("Chunk")
    assert raw.loc["2019-07", "Too small"] and raw.loc["2019-07", "Partial"]
    assert raw.loc["2019-05", "Too few labels"]
    table = at.dataframe[0].value.set_index("Chunk")
    assert table.loc["2019-05", "Labelled rows"] == 25
    assert not table[["Outside band", "Concept drift"]].any().any()
    at.number_input(key="perf_min_rows").set_value(100).run()
    at.number_input(key="perf_min_labels").set_value(10).run()
    assert _metrics(at)["Concept-drift alerts"] == "2"
    assert any("2019-05" in w.value and "2019-07" in w.value and "label-free estimate" in w.value
               for w in at.warning)
    assert any("outside the reference band" in e.value and "2019-05\\: ROC AUC" in e.value
               and "2019-07\\: ROC AUC" in e.value for e in at.error)
