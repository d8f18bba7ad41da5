"""The Audit page in AppTest: pre-filled answers, live score, overrides need a note, save,
history, draft autosave, comparison with the previous audit."""

from __future__ import annotations

import pytest

from aidebt_core.audit.sample_audits import write_sample_audits
from aidebt_core.audit.store import STORE_ENV, STORE_FILENAME, AuditStore

PAGE = "pages/audit.py"


@pytest.fixture
def store(tmp_path, monkeypatch, ground_truth) -> AuditStore:
    write_sample_audits(tmp_path, ground_truth)
    path = tmp_path / STORE_FILENAME
    monkeypatch.setenv(STORE_ENV, str(path))
    return AuditStore(path)


def _texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


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
