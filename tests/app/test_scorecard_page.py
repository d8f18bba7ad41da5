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
    # human headers, the main columns only (the rest in "More columns")
    assert list(table.columns) == ["Model name", "Last audit", "Headline", "Data", "Model",
                                   "Configuration", "Evaluation", "Band", "Trend", "Flags",
                                   "Open", "Overdue"]
    assert sorted(table["Model name"]) == sorted(expected["model"])
    # default sort: headline, lowest first
    assert list(table["Headline"]) == sorted(expected["headline"])
    by_model = table.set_index("Model name")
    for row in expected.itertuples(index=False):
        assert by_model.loc[row.model, "Headline"] == pytest.approx(row.headline)
        assert by_model.loc[row.model, "Data"] == pytest.approx(row.data_score)
        assert by_model.loc[row.model, "Band"] == row.band
    trend = expected.set_index("model")["trend"]
    # a signed trend with a true minus sign
    assert by_model.loc["credit-default", "Trend"] == \
        f"{trend['credit-default']:+.1f}".replace("-", "\u2212")
    assert by_model.loc["churn", "Trend"] == "—"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Models"] == "3 of 3"
    assert metrics["Models with red flags"] == str(int((expected["red_flags"] > 0).sum()))
    assert metrics["Median headline"] == f"{expected['headline'].median():.1f} / 10"
    assert len(at.get("plotly_chart")) == 4


def test_filters_and_sorting(run_page, store_path):
    at = run_page(PAGE)
    at.toggle(key="sc_flagged").set_value(True).run()
    assert list(_table(at)["Model name"]) == ["fraud"]
    at.toggle(key="sc_flagged").set_value(False)
    at.selectbox(key="sc_sort").set_value("Model").run()
    assert list(_table(at)["Model name"]) == ["churn", "credit-default", "fraud"]
    at.multiselect(key="sc_bands").set_value(["strong"]).run()
    assert list(_table(at)["Model name"]) == ["churn"]


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
    table = _table(run_page(PAGE)).set_index("Model name")
    assert table.loc["credit-default", "Last audit"] == credit[0].audited_at
    assert table.loc["credit-default", "Headline"] == pytest.approx(
        credit[0].scores["overall"])
    assert table.loc["credit-default", "Trend"] == "—"


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
    assert sorted(_table(at)["Model name"]) == ["churn", "credit-default", "fraud"]
    assert any("bad-one" in w.value and "imported" in w.value for w in at.warning)


def test_open_and_overdue_actions_and_partial_audits(run_page, store_path, ground_truth):
    """Actions agreed in a model's latest audit are counted open/overdue against today; a
    partial audit stays off the scorecard's scores but its action progress counts."""
    from dataclasses import replace
    from datetime import date, timedelta

    from aidebt_core.audit.records import new_action
    from aidebt_core.audit.store import AuditStore

    store = AuditStore(store_path)
    churn = store.latest("churn")
    today = date.today()
    late = new_action("E1", "Define the key slices", "ann", today - timedelta(days=3))
    later = new_action("P6", "Add a quality gate", "bob", today + timedelta(days=30))
    store.save_audit(replace(churn, id="", saved_at="", audited_at=today.isoformat(),
                             actions=(late, later), partial=True,
                             scores={**churn.scores, "overall": 0.5}))
    at = run_page(PAGE)
    row = _table(at).set_index("Model name").loc["churn"]
    assert row["Open"] == 2 and row["Overdue"] == 1
    assert row["Headline"] == pytest.approx(churn.scores["overall"])  # partial: off
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Overdue actions"] == str(_table(at)["Overdue"].sum())
    assert metrics["Open actions"] == str(_table(at)["Open"].sum())
    at.selectbox(key="sc_model").set_value("churn").run()
    actions = next(d.value for d in at.dataframe if "Status" in d.value.columns)
    assert sorted(actions["Status"]) == ["open", "open · overdue"]
