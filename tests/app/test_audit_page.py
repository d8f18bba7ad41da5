"""The Audit page in AppTest: pre-filled answers, live score, overrides need a note, save,
history, draft autosave, comparison with the previous audit."""

from __future__ import annotations

import pytest

from aidebt_core.audit.sample_audits import write_sample_audits
from aidebt_core.audit.store import STORE_ENV, AuditStore, workspace_store_path

PAGE = "pages/audit.py"


@pytest.fixture
def store(tmp_path, monkeypatch, ground_truth) -> AuditStore:
    write_sample_audits(tmp_path, ground_truth)
    path = workspace_store_path(tmp_path)
    monkeypatch.setenv(STORE_ENV, str(path))
    return AuditStore(path)


def _texts(elements) -> str:
    """The elements' text as shown: markdown escapes of user text (2025\\-07) read as 2025-07."""
    return " ".join(str(e.value) for e in elements).replace("\\", "")


def test_prefilled_audit_save_and_history(run_page, store):
    at = run_page(PAGE, state={"aud_model": "credit-default"})
    # most recently audited first (credit-default 2026-01-20, churn 2025-12, fraud 2025-11)
    assert at.selectbox(key="aud_model").options == ["credit-default", "churn", "fraud",
                                                     "➕ New model…"]
    # measured answers are pre-filled and explained
    assert at.radio(key="aud_credit-default_D3_level").value == "2"
    assert "Measured: level 2" in _texts(at.info) and "features drifted" in _texts(at.info)
    assert "Compared with the audit of 2026-01-20" in _texts(at.subheader)
    mean_before = float(at.metric[1].value)
    assert store.load_draft("credit-default") is None     # nothing edited yet: no draft

    # an override without a note blocks saving
    at.radio(key="aud_credit-default_D3_level").set_value("3").run()
    assert "D3: the measurement says level 2" in _texts(at.warning)
    assert at.button(key="aud_save").disabled
    at.text_input(key="aud_credit-default_D3_note").input("weekly drift job since December")
    at.text_input(key="aud_credit-default_D3_evidence").input("https://ci.example.com/drift")
    at.radio(key="aud_credit-default_P6_level").set_value("4")
    at.text_input(key="aud_credit-default_P6_evidence").input("https://ci.example.com/gate")
    at.text_input(key="aud_version").input("3")
    at.text_input(key="aud_auditor").input("app test")
    at.run()
    assert not at.exception
    assert not at.button(key="aud_save").disabled
    # P6 went from unanswered to 4 and D3 from 2 to 3, both with links: the mean rises
    assert float(at.metric[1].value) > mean_before
    draft = store.load_draft("credit-default")
    assert draft["inputs"]["P6"]["choice"] == "4"              # autosaved

    at.button(key="aud_save").click().run()
    assert not at.exception
    assert "Saved the audit of credit-default" in _texts(at.success)
    history = store.list_audits("credit-default")
    assert len(history) == 3
    saved = history[-1]
    assert saved.auditor == "app test" and saved.model_version == "3"
    assert saved.answers["D3"].source == "override" and saved.answers["D3"].level == 3
    assert saved.answers["D3"].note == "weekly drift job since December"
    assert saved.answers["D4"].source == "measured"
    assert saved.scores["dimensions"]["configuration"] is not None
    assert store.load_draft("credit-default") is None            # cleared by the save
    at.run()                                                     # a rerun without edits
    assert store.load_draft("credit-default") is None
    shown = at.dataframe[-1].value
    assert len(shown) == 3 and shown["auditor"].iloc[-1] == "app test"


def test_new_model_and_na_needs_a_note(run_page, store):
    at = run_page(PAGE, state={"aud_model": "➕ New model…", "aud_prefill": False})
    assert "Name the model to audit." in _texts(at.info)
    at.text_input(key="aud_new_model").input("pricing").run()
    assert "No saved audit of this model yet." in _texts(at.caption)
    at.radio(key="aud_pricing_M8_level").set_value("N/A").run()
    assert "M8: N/A needs a justification" in _texts(at.warning)
    at.text_input(key="aud_pricing_M8_note").input("pricing decisions do not feed labels")
    at.radio(key="aud_pricing_E1_level").set_value("1").run()
    assert not at.exception
    assert any("E1 Important slices" in e.value for e in at.error)   # red flag: critical ≤ 1
    at.button(key="aud_save").click().run()
    saved = store.latest("pricing")
    assert saved.answers["M8"].na and saved.answers["E1"].level == 1
    assert len(saved.scores["red_flags"]) >= 1


def test_corrupt_store_shows_an_error(run_page, tmp_path, monkeypatch):
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"\x00garbage" * 300)
    monkeypatch.setenv(STORE_ENV, str(path))
    at = run_page(PAGE)
    assert "not a readable aidebt audit store" in _texts(at.error)
    assert path.read_bytes() == b"\x00garbage" * 300


def test_weight_tier_and_evidence_date_change_the_live_score(run_page, store):
    from datetime import date

    from aidebt_core.audit.questions import Answer, load_questionnaire
    from aidebt_core.audit.scoring import score_audit

    day = date(2026, 1, 15)
    at = run_page(PAGE, state={"aud_model": "➕ New model…", "aud_prefill": False,
                               "aud_date": day})
    at.text_input(key="aud_new_model").input("pricing").run()
    at.radio(key="aud_pricing_M8_level").set_value("1")
    at.radio(key="aud_pricing_M2_level").set_value("3")
    at.text_input(key="aud_pricing_M2_evidence").input("https://ci.example.com/params")
    at.run()
    q = load_questionnaire()
    answers = {"M8": Answer(level=1), "M2": Answer(level=3,
                                                   evidence="https://ci.example.com/params")}

    def shown() -> tuple[float, int]:
        return float(at.metric[1].value), int(at.metric[2].value)

    base = score_audit(q, answers, audit_date=day)
    assert shown() == (round(base.weighted_mean, 1), len(base.red_flags))
    # a critical item's tier cannot be lowered; a medium one can only go up
    assert at.selectbox(key="aud_pricing_E1_tier").disabled
    assert at.selectbox(key="aud_pricing_E1_tier").options == ["critical"]
    assert at.selectbox(key="aud_pricing_M8_tier").options == ["medium", "high", "critical"]

    # raised to critical, M8 at level 1 becomes a red flag and weighs more
    at.selectbox(key="aud_pricing_M8_tier").set_value("critical").run()
    raised = score_audit(q.with_tiers({"M8": "critical"}), answers, audit_date=day)
    assert shown() == (round(raised.weighted_mean, 1), len(base.red_flags) + 1)
    # by hand: weights critical 10, high 7.5, medium 5; M8 scores 2.5, M2 7.5, the rest 0
    total = sum(q.weights[x.weight] for x in q.questions)
    assert base.weighted_mean == pytest.approx((5 * 2.5 + 7.5 * 7.5) / total)
    assert raised.weighted_mean == pytest.approx((10 * 2.5 + 7.5 * 7.5) / (total + 5))
    assert any("M8 " in e.value for e in at.error)                  # listed as a red flag
    assert any("M8 · " in m.value and ":red-badge[critical]" in m.value for m in at.markdown)

    # evidence older than M2's cadence (90 days) counts one level lower
    at.date_input(key="aud_pricing_M2_evdate").set_value(date(2025, 6, 1)).run()
    old = {**answers, "M2": Answer(level=3, evidence="https://ci.example.com/params",
                                   evidence_date="2025-06-01")}
    stale = score_audit(q.with_tiers({"M8": "critical"}), old, audit_date=day)
    assert stale.weighted_mean == pytest.approx((10 * 2.5 + 7.5 * 5) / (total + 5))
    assert shown()[0] == round(stale.weighted_mean, 1) < round(raised.weighted_mean, 1)
    assert "M2: evidence older than 90 days, one level lower" in _texts(at.warning)
    at.date_input(key="aud_pricing_M2_evdate").set_value(date(2025, 12, 1)).run()
    assert shown()[0] == round(raised.weighted_mean, 1)
    assert "M2: evidence older" not in _texts(at.warning)
    draft = store.load_draft("pricing")["inputs"]
    assert draft["M8"]["tier"] == "critical" and draft["M2"]["evidence_date"] == "2025-12-01"

    at.button(key="aud_save").click().run()
    assert not at.exception
    saved = store.latest("pricing")
    assert saved.notes["tiers"] == "M8=critical"
    assert saved.answers["M2"].evidence_date == "2025-12-01"
    items = {i["question"]: i for i in saved.scores["items"]}
    assert items["M8"]["weight"] == "critical" and items["M2"]["effective_level"] == 3
    assert saved.scores["weighted_mean"] == pytest.approx(raised.weighted_mean)


def _own_folder(tmp_path, monkeypatch):
    """A user's data folder with one unrelated file, no audit store, no store override."""
    import pandas as pd

    from aidebt_core.selection import FILES, Selection

    monkeypatch.delenv(STORE_ENV, raising=False)
    folder = tmp_path / "mydata"
    folder.mkdir()
    pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}).to_parquet(folder / "loans.parquet")
    return folder, Selection(workspace=str(folder), mode=FILES, reference="loans.parquet",
                             current="loans.parquet")


def test_viewing_writes_nothing_and_the_first_draft_creates_the_store(run_page, tmp_path,
                                                                       monkeypatch):
    folder, selection = _own_folder(tmp_path, monkeypatch)
    at = run_page(PAGE, selection=selection, state={"aud_prefill": False})
    assert at.selectbox(key="aud_model").options == ["➕ New model…"]
    at.text_input(key="aud_new_model").input("pricing").run()
    assert "No saved audit of this model yet." in _texts(at.caption)
    assert sorted(p.name for p in folder.iterdir()) == ["loans.parquet"]     # nothing written
    at.radio(key="aud_pricing_D1_level").set_value("2").run()                # an edit: a draft
    path = folder / ".aidebt" / "audits.sqlite"
    assert AuditStore(path).load_draft("pricing")["inputs"]["D1"]["choice"] == "2"


def test_the_servers_store_setting_is_where_audits_go(run_page, tmp_path, monkeypatch):
    import json

    folder, selection = _own_folder(tmp_path, monkeypatch)
    elsewhere = tmp_path / "team" / "audits.sqlite"
    monkeypatch.setenv("AIDEBT_SERVE_CONFIG", json.dumps(
        {"roots": [str(folder)], "tracking_uris": [], "store": str(elsewhere)}))
    at = run_page(PAGE, selection=selection, state={"aud_prefill": False,
                                                    "aud_model": "➕ New model…"})
    at.text_input(key="aud_new_model").input("pricing").run()
    at.radio(key="aud_pricing_E1_level").set_value("2").run()
    at.button(key="aud_save").click().run()
    assert not at.exception
    assert [a.model for a in AuditStore(elsewhere).list_audits()] == ["pricing"]
    assert not (folder / ".aidebt").exists()


def test_withdraw_from_the_history_with_confirmation(run_page, store):
    latest = store.latest("credit-default")
    at = run_page(PAGE, state={"aud_model": "credit-default", "aud_prefill": False,
                               "aud_auditor": "review board"})
    key = "aud_credit-default"
    assert at.text_input(key=f"{key}_wd_by").value == "review board"
    assert at.selectbox(key=f"{key}_wd_pick").value.endswith(latest.id[:8])   # newest first
    assert at.button(key=f"{key}_wd_go").disabled                  # no reason, no confirmation
    at.text_input(key=f"{key}_wd_reason").input("scored on last year's data").run()
    assert at.button(key=f"{key}_wd_go").disabled                  # still not confirmed
    at.checkbox(key=f"{key}_wd_confirm").check().run()
    at.button(key=f"{key}_wd_go").click().run()
    assert not at.exception
    assert "withdrawn" in _texts(at.success) and "scored on last year" in _texts(at.success)
    withdrawn = store.get(latest.id).withdrawn
    assert (withdrawn.by, withdrawn.reason) == ("review board", "scored on last year's data")
    shown = at.dataframe[-1].value                                  # the history table
    assert len(shown) == 2                                         # kept in the history
    assert shown["status"].iloc[-1].startswith("withdrawn ")
    assert shown["status"].iloc[0] == "counts"
    # the comparison now uses the audit that still counts
    assert "Compared with the audit of 2025-07-15" in _texts(at.subheader)


def test_a_served_dashboard_keeps_one_store_in_its_first_root(run_page, tmp_path, monkeypatch):
    import json

    from aidebt_core.selection import FILES, Selection

    monkeypatch.delenv(STORE_ENV, raising=False)
    first, second = tmp_path / "loans", tmp_path / "census"
    for folder in (first, second):
        folder.mkdir()
        (folder / "data.csv").write_text("a,b\n1,2\n")
    monkeypatch.setenv("AIDEBT_SERVE_CONFIG", json.dumps(
        {"roots": [str(first), str(second)], "tracking_uris": []}))
    at = run_page(PAGE, selection=Selection(workspace=str(second), mode=FILES,
                                            reference="data.csv", current="data.csv"),
                  state={"aud_prefill": False, "aud_model": "➕ New model…"})
    at.text_input(key="aud_new_model").input("census-model").run()
    at.radio(key="aud_census-model_E1_level").set_value("2").run()
    at.button(key="aud_save").click().run()
    assert not at.exception
    saved = AuditStore(workspace_store_path(first)).list_audits()
    assert [a.model for a in saved] == ["census-model"]
    assert sorted(p.name for p in second.iterdir()) == ["data.csv"]
