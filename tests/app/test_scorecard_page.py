"""The Scorecard page in AppTest: one row per model, colour bands, filters, sorting, details."""

from __future__ import annotations

import pytest

from aidebt_core.audit.history import build_scorecard
from aidebt_core.audit.sample_audits import sample_audit_records, write_sample_audits
from aidebt_core.audit.store import STORE_ENV, workspace_store_path

PAGE = "pages/scorecard.py"


@pytest.fixture
def store_path(tmp_path, monkeypatch, ground_truth):
    write_sample_audits(tmp_path, ground_truth)
    monkeypatch.setenv(STORE_ENV, str(workspace_store_path(tmp_path)))
    return workspace_store_path(tmp_path)


def _table(at):
    return at.dataframe[0].value


def test_one_row_per_model_with_scores(run_page, store_path, ground_truth):
    at = run_page(PAGE)
    table = _table(at)
    expected = build_scorecard(sample_audit_records(ground_truth)).to_frame()
    assert sorted(table["model"]) == sorted(expected["model"])
    # default sort: headline, lowest first
    assert list(table["headline"]) == sorted(expected["headline"])
    by_model = table.set_index("model")
    for row in expected.itertuples(index=False):
        assert by_model.loc[row.model, "headline"] == pytest.approx(row.headline)
        assert by_model.loc[row.model, "Data"] == pytest.approx(row.data_score)
    trend = expected.set_index("model")["trend"]
    assert by_model.loc["credit-default", "trend"] == f"{trend['credit-default']:+.1f}"
    assert by_model.loc["churn", "trend"] == "—"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Models"] == "3 of 3"
    assert metrics["Models with red flags"] == str(int((expected["red_flags"] > 0).sum()))
    assert len(at.get("plotly_chart")) == 4


def test_filters_and_sorting(run_page, store_path):
    at = run_page(PAGE)
    at.toggle(key="sc_flagged").set_value(True).run()
    assert list(_table(at)["model"]) == ["fraud"]
    at.toggle(key="sc_flagged").set_value(False)
    at.selectbox(key="sc_sort").set_value("Model").run()
    assert list(_table(at)["model"]) == ["churn", "credit-default", "fraud"]
    at.multiselect(key="sc_bands").set_value(["strong"]).run()
    assert list(_table(at)["model"]) == ["churn"]


def test_model_details(run_page, store_path):
    at = run_page(PAGE, state={"sc_model": "fraud"})
    assert any("Red flags" in e.value for e in at.error)
    at.selectbox(key="sc_model").set_value("churn").run()
    assert any("No red flags" in s.value for s in at.success)


def test_no_store_yet(run_page, tmp_path, monkeypatch):
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "none.sqlite"))
    at = run_page(PAGE)
    assert any("No audits saved yet" in i.value for i in at.info)
    assert not (tmp_path / "none.sqlite").exists()


def test_a_folder_without_a_store_shows_no_audits_and_writes_nothing(run_page, tmp_path,
                                                                     monkeypatch):
    from aidebt_core.selection import FILES, Selection

    monkeypatch.delenv(STORE_ENV, raising=False)
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    at = run_page(PAGE, selection=Selection(workspace=str(tmp_path), mode=FILES,
                                            reference="data.csv", current="data.csv"))
    assert any("No audits saved yet" in i.value for i in at.info)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_withdrawn_audits_are_off_the_scorecard(run_page, store_path, ground_truth):
    from aidebt_core.audit.store import AuditStore

    records = sample_audit_records(ground_truth)
    credit = [r for r in records if r.model == "credit-default"]
    AuditStore(store_path).withdraw(credit[1].id, by="ann", reason="wrong data")
    table = _table(run_page(PAGE)).set_index("model")
    assert table.loc["credit-default", "last audit"] == credit[0].audited_at
    assert table.loc["credit-default", "headline"] == pytest.approx(credit[0].scores["overall"])
    assert table.loc["credit-default", "trend"] == "—"


def test_a_bad_stored_record_is_skipped_with_a_warning(run_page, store_path):
    import json
    import sqlite3

    con = sqlite3.connect(store_path)        # as an older aidebt's unchecked import left it
    con.execute("INSERT INTO audits SELECT 'bad-one', 'imported', model_version, 'not-a-date', "
                "questionnaire_version, auditor, saved_at, ? FROM audits LIMIT 1",
                (json.dumps({"answers": {}, "scores": {"overall": "high"}}),))
    con.commit()
    con.close()
    at = run_page(PAGE)
    assert sorted(_table(at)["model"]) == ["churn", "credit-default", "fraud"]
    assert any("bad-one" in w.value and "imported" in w.value for w in at.warning)
