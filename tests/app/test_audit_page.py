"""The Audit page in AppTest: it starts from the last saved audit and the measurements (the
same findings and proposals as `aidebt audit --prefill`), overrides need a note, saving needs a
version, an auditor and a complete form (or "save as partial"), a second audit the same day asks
first, pre-fill off clears measured levels, tracked actions, sign-off, history, drafts."""

from __future__ import annotations

import io
import json
import sys
import time
from datetime import date, timedelta

import pytest

from aidebt_core.audit.questions import DIMENSIONS, load_questionnaire
from aidebt_core.audit.sample_audits import write_sample_audits
from aidebt_core.audit.store import STORE_ENV, AuditStore, AuditStoreError, workspace_store_path

PAGE = "pages/audit.py"
MEASURE_TIMEOUT = 300  # seconds: the first measurement of the sample runs five analyses


@pytest.fixture
def run_page(run_page):
    """The shared `run_page`, read as a person sees the page. AppTest keeps only the elements
    of its last run, and a card edit reruns only that card, the live score and the checks
    below the form (the fragments the browser redraws; the rest of the page stays on screen
    as it was). After such a run the whole page is run once more, with no change, so a test
    reads the page as the browser shows it. Each partial run's tree is kept in
    `at.fragment_trees` for the tests of what a click reruns."""

    def whole(*args, **kwargs):
        at = run_page(*args, **kwargs)
        one_run = at._run
        at.fragment_trees = []

        def run(widget_state=None, timeout=None):
            one_run(widget_state, timeout)
            if not any(box.key == "aud_model" for box in at.selectbox):  # a partial run
                at.fragment_trees.append(at._tree)
                one_run(None, timeout)
            return at

        at._run = run
        return at

    return whole


@pytest.fixture
def store(tmp_path, monkeypatch, ground_truth) -> AuditStore:
    write_sample_audits(tmp_path, ground_truth)
    path = workspace_store_path(tmp_path)
    monkeypatch.setenv(STORE_ENV, str(path))
    return AuditStore(path)


@pytest.fixture(scope="module")
def cli_prefill(sample_dir) -> dict:
    """`aidebt audit --prefill --format json` for credit-default on the sample (the page's
    default selection: the same data, split and MLflow store)."""
    from aidebt_core.cli import main

    out, saved = io.StringIO(), sys.stdout
    sys.stdout = out
    try:
        code = main(["audit", "--model", "credit-default", "--prefill",
                     "--data", str(sample_dir / "applications.parquet"),
                     "--timestamp", "applied_at", "--reference-end", "2025-07-01",
                     "--tracking-uri", f"sqlite:///{(sample_dir / 'mlflow.db').as_posix()}",
                     "--format", "json"])
    finally:
        sys.stdout = saved
    assert code == 0
    return json.loads(out.getvalue())


def _texts(elements) -> str:
    """The elements' text as shown: markdown escapes of user text (2025\\-07) read as 2025-07."""
    return " ".join(str(e.value) for e in elements).replace("\\", "")


def measured(at):
    """Rerun until the background measurement is shown (the page opens before it ends)."""
    deadline = time.time() + MEASURE_TIMEOUT
    while "Measuring drift" in _texts(at.info):
        assert time.time() < deadline, "the measurement did not finish"
        time.sleep(0.5)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def show(at, dimension: str):
    """Draw one dimension's questions (one is drawn at a time)."""
    at.segmented_control(key="aud_section").set_value(dimension).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table_with(at, column: str):
    """The shown table that has `column` (AppTest finds dataframes by position only)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def headline(at) -> str:
    return next(m.value for m in at.metric if m.label == "Headline")


def answer_all(at, model: str, choice: str = "2") -> None:
    """Answer every question of every dimension with `choice` (keeping measured levels)."""
    for dim in DIMENSIONS:
        show(at, dim)
        for q in load_questionnaire().in_dimension(dim):
            radio = at.radio(key=f"aud_{model}_{q.id}_level")
            if radio.value is None:
                radio.set_value(choice)
        at.run()


def test_findings_and_proposals_are_the_clis(run_page, store, cli_prefill):
    at = measured(run_page(PAGE, state={"aud_model": "credit-default"}))
    # most recently audited first (credit-default 2026-01-20, churn 2025-12, fraud 2025-11)
    assert at.selectbox(key="aud_model").options == ["credit-default", "churn", "fraud",
                                                     "➕ New model…"]
    table = table_with(at, "Proposed level")
    cli = {f["question"]: f for f in cli_prefill["findings"]}
    assert [q.split(" ")[0] for q in table["Question"]] == list(cli)
    for row in table.itertuples(index=False):
        finding = cli[row.Question.split(" ")[0]]
        assert row.Measured == finding["measured"]
        assert row._2 == ("—" if finding["proposed_level"] is None
                          else str(finding["proposed_level"]))
        assert row.Why == finding["reason"]
    # beside the question: the same proposal, labelled with the day it was measured
    d3 = cli["D3"]
    info = _texts(at.info)
    assert f"proposes level {d3['proposed_level']}" in info
    assert f"proposed from measurement on {date.today().isoformat()}" in info
    assert d3["measured"].split(":")[0] in info


def test_starts_from_the_last_audit(run_page, store):
    last = store.latest("credit-default")
    at = measured(run_page(PAGE, state={"aud_model": "credit-default"}))
    # every question starts from the saved answer, not only the 13 measured ones
    for dim in DIMENSIONS:
        show(at, dim)
        for q in load_questionnaire().in_dimension(dim):
            saved = last.answers[q.id]
            expected = "N/A" if saved.na else str(saved.level)
            assert at.radio(key=f"aud_credit-default_{q.id}_level").value == expected, q.id
    assert f"carried over from {last.audited_at}" in _texts(at.caption)
    assert headline(at).endswith(" / 10")                   # 37 answered: a headline
    # where the measurement now proposes another level, both are shown
    assert "the carried-over answer is 2" in _texts(at.info)
    assert store.load_draft("credit-default") is None      # opening writes nothing


def test_override_needs_a_note_and_save_needs_version_and_auditor(run_page, store):
    at = measured(run_page(PAGE, state={"aud_model": "credit-default"}))
    key = "aud_credit-default"
    at.button(key="aud_save").click().run()
    refusal = _texts(at.error)
    assert "Not saved" in refusal and "Give the model version" in refusal \
        and "Give the auditor" in refusal
    assert "the measurement says level" in refusal          # carried 2 vs proposed 0, no note
    assert len(store.list_audits("credit-default")) == 2     # nothing saved
    # give the overrides their notes, a version and an auditor
    for dim in DIMENSIONS:
        show(at, dim)
        for problem in [w.value for w in at.warning if "the measurement says" in w.value]:
            qid = problem.split(":")[0].replace("\\", "")
            if f"{key}_{qid}_note" in [t.key for t in at.text_input]:
                at.text_input(key=f"{key}_{qid}_note").input("monitored weekly since March")
        at.run()
    at.text_input(key="aud_version").input("3")
    at.text_input(key="aud_auditor").input("app test").run()
    at.button(key="aud_save").click().run()
    assert not at.exception
    assert "Saved the audit of credit-default" in _texts(at.success), _texts(at.error)
    saved = store.list_audits("credit-default")[-1]
    assert (saved.auditor, saved.model_version, saved.partial) == ("app test", "3", False)
    assert saved.answers["D3"].source == "override"
    assert saved.answers["D3"].note == "monitored weekly since March"
    assert store.load_draft("credit-default") is None          # cleared by the save


def test_full_save_then_reopen_shows_the_same_answers_and_headline(run_page, store):
    day = date(2026, 3, 2)
    at = run_page(PAGE, state={"aud_model": "➕ New model…", "aud_prefill": False,
                               "aud_date": day})
    at.text_input(key="aud_new_model").input("pricing").run()
    answer_all(at, "pricing", "2")
    show(at, "model")
    at.radio(key="aud_pricing_M8_level").set_value("N/A")
    at.text_input(key="aud_pricing_M8_note").input("pricing decisions do not feed labels")
    at.radio(key="aud_pricing_M1_level").set_value("3")
    at.text_input(key="aud_pricing_M1_evidence").input("https://git.example.com/pricing")
    at.text_input(key="aud_version").input("1.4")
    at.text_input(key="aud_auditor").input("app test").run()
    shown = headline(at)
    assert shown.endswith(" / 10")
    at.button(key="aud_save").click().run()
    saved = store.latest("pricing")
    assert saved.scores["headline_text"] == shown and not saved.partial

    again = run_page(PAGE, state={"aud_model": "pricing", "aud_prefill": False,
                                  "aud_date": day})
    assert headline(again) == shown
    show(again, "model")
    assert again.radio(key="aud_pricing_M8_level").value == "N/A"
    assert again.radio(key="aud_pricing_M1_level").value == "3"
    assert again.text_input(key="aud_pricing_M1_evidence").value == \
        "https://git.example.com/pricing"
    # a second audit the same day asks first; nothing is lost on refusal
    again.text_input(key="aud_version").input("1.4")
    again.text_input(key="aud_auditor").input("app test").run()
    again.button(key="aud_save").click().run()
    assert "already saved" in _texts(again.error)
    assert len(store.list_audits("pricing")) == 1
    assert again.radio(key="aud_pricing_M1_level").value == "3"
    again.checkbox(key="aud_pricing_again").check().run()
    again.button(key="aud_save").click().run()
    audits = store.list_audits("pricing")
    assert len(audits) == 2 and audits[1].supersedes == audits[0].id


def test_a_partial_form_saves_only_as_partial_and_stays_off_the_scorecard(run_page, store):
    from aidebt_core.audit.history import build_scorecard

    before = build_scorecard(store.read().counted()).to_frame()
    at = run_page(PAGE, state={"aud_model": "➕ New model…", "aud_prefill": False,
                               "aud_version": "1", "aud_auditor": "app test"})
    at.text_input(key="aud_new_model").input("pricing").run()
    at.radio(key="aud_pricing_D1_level").set_value("2").run()
    assert headline(at) == "incomplete: 1 of 37 answered"
    at.button(key="aud_save").click().run()
    assert "incomplete: 1 of 37 answered" in _texts(at.error) and "partial" in _texts(at.error)
    assert store.list_audits("pricing") == []
    at.checkbox(key="aud_pricing_partial").check().run()
    at.button(key="aud_save").click().run()
    saved = store.list_audits("pricing")
    assert len(saved) == 1 and saved[0].partial
    after = build_scorecard(store.read().counted()).to_frame()
    assert list(after["model"]) == list(before["model"])       # the scorecard is unchanged


def test_prefill_off_clears_the_measured_levels(run_page, store, cli_prefill):
    proposed = {f["question"]: f["proposed_level"] for f in cli_prefill["findings"]}
    at = measured(run_page(PAGE, state={"aud_model": "➕ New model…"}))
    at.text_input(key="aud_new_model").input("credit-default-v2").run()
    measured(at)
    key = "aud_credit-default-v2"
    assert at.radio(key=f"{key}_D3_level").value == str(proposed["D3"])
    # a new model name is not in MLflow: only the data-based questions are measured
    n = sum(level != "—" for level in table_with(at, "Proposed level")["Proposed level"])
    assert 0 < n < len(proposed)
    at.radio(key=f"{key}_D1_level").set_value("3").run()         # a person's own answer
    at.toggle(key="aud_prefill").set_value(False).run()
    assert at.radio(key=f"{key}_D3_level").value is None           # not a silent manual answer
    assert at.radio(key=f"{key}_D1_level").value == "3"            # kept
    assert f"{n} measured level(s) were cleared" in _texts(at.info)
    at.toggle(key="aud_prefill").set_value(True).run()
    measured(at)
    assert at.radio(key=f"{key}_D3_level").value == str(proposed["D3"])


def test_actions_are_tracked_into_the_next_audit_and_signing_off_freezes(run_page, store):
    key = "aud_pricing"
    today = date.today()
    at = run_page(PAGE, state={"aud_model": "➕ New model…", "aud_prefill": False,
                               "aud_version": "1", "aud_auditor": "app test"})
    at.text_input(key="aud_new_model").input("pricing").run()
    answer_all(at, "pricing", "1")
    for text, owner, due in (("Gate releases on slice accuracy", "ann", today - timedelta(2)),
                             ("Pin the training image", "bob", today + timedelta(30))):
        at.text_input(key=f"{key}_act_new_text").input(text)
        at.text_input(key=f"{key}_act_new_owner").input(owner)
        at.date_input(key=f"{key}_act_new_due").set_value(due)
        next(b for b in at.button if b.label == "Add action").click().run()
    at.text_area(key=f"{key}_participants").input("Ann, model owner\nBob, reviewer").run()
    at.button(key="aud_save").click().run()
    first = store.latest("pricing")
    assert [(a.owner, a.status) for a in first.actions] == [("ann", "open"), ("bob", "open")]
    assert [tuple(p) for p in first.participants] == [("Ann", "model owner"),
                                                      ("Bob", "reviewer")]

    # the next audit opens with last time's actions and their status; mark one done
    nxt = run_page(PAGE, state={"aud_model": "pricing", "aud_prefill": False,
                                "aud_version": "1", "aud_auditor": "app test",
                                "aud_date": today + timedelta(1)})
    last = table_with(nxt, "Owner")
    assert list(last["Status"]) == ["open · overdue", "open"]
    done = first.actions[1]
    nxt.selectbox(key=f"{key}_act_{done.id}_status").set_value("done")
    nxt.text_input(key=f"{key}_act_{done.id}_note").input("image pinned in CI").run()
    nxt.button(key="aud_save").click().run()
    second = store.latest("pricing")
    assert {a.id: a.status for a in second.actions} == {first.actions[0].id: "open",
                                                        done.id: "done"}

    # sign off: named, confirmed; then final (not withdrawable, not saved over)
    nxt.run()
    nxt.text_input(key=f"{key}_sign_by").input("Carol Reviewer")
    nxt.checkbox(key=f"{key}_sign_sure").check().run()
    nxt.button(key=f"{key}_sign_go").click().run()
    assert not nxt.exception
    signed = store.get(second.id)
    assert signed.signed_by == "Carol Reviewer" and signed.signed_at
    assert "signed off by Carol Reviewer" in _texts(nxt.success)
    assert f"{key}_sign_go" not in [b.key for b in nxt.button]
    picks = nxt.selectbox(key=f"{key}_wd_pick").options
    assert not any(second.id[:8] in p for p in picks)
    with pytest.raises(AuditStoreError, match="signed off"):
        store.save_audit(signed.__class__(**{**signed.__dict__, "signed_by": "",
                                            "signed_at": ""}))


def test_new_model_and_na_needs_a_note(run_page, store):
    at = run_page(PAGE, state={"aud_model": "➕ New model…", "aud_prefill": False,
                               "aud_version": "1", "aud_auditor": "app test"})
    assert "Name the model to audit." in _texts(at.info)
    at.text_input(key="aud_new_model").input("pricing").run()
    assert "No saved audit of this model yet." in _texts(at.caption)
    show(at, "model")
    at.radio(key="aud_pricing_M8_level").set_value("N/A").run()
    assert "M8: N/A needs a justification" in _texts(at.warning)
    at.text_input(key="aud_pricing_M8_note").input("pricing decisions do not feed labels")
    show(at, "evaluation")
    at.radio(key="aud_pricing_E1_level").set_value("1").run()
    assert not at.exception
    assert any("E1 Important slices" in e.value for e in at.error)   # red flag: critical ≤ 1
    at.checkbox(key="aud_pricing_partial").check().run()
    at.button(key="aud_save").click().run()
    assert store.list_audits("pricing"), _texts(at.error)
    saved = store.list_audits("pricing")[-1]
    assert saved.answers["M8"].na and saved.answers["E1"].level == 1 and saved.partial
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
    show(at, "model")
    at.radio(key="aud_pricing_M8_level").set_value("1")
    at.radio(key="aud_pricing_M2_level").set_value("3")
    at.text_input(key="aud_pricing_M2_evidence").input("https://ci.example.com/params")
    at.run()
    q = load_questionnaire()
    answers = {"M8": Answer(level=1), "M2": Answer(level=3,
                                                   evidence="https://ci.example.com/params")}

    def shown() -> tuple[float, int]:
        return float(at.metric[1].value.split(" / ")[0]), int(at.metric[2].value)

    base = score_audit(q, answers, audit_date=day)
    assert shown() == (round(base.weighted_mean, 1), len(base.red_flags))
    # a critical item's tier cannot be lowered; a medium one can only go up
    assert at.selectbox(key="aud_pricing_M8_tier").options == ["medium", "high", "critical"]
    show(at, "evaluation")
    assert at.selectbox(key="aud_pricing_E1_tier").disabled
    assert at.selectbox(key="aud_pricing_E1_tier").options == ["critical"]
    assert shown() == (round(base.weighted_mean, 1), len(base.red_flags))  # kept while hidden
    show(at, "model")

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

    at.text_input(key="aud_version").input("1")
    at.text_input(key="aud_auditor").input("app test")
    at.checkbox(key="aud_pricing_partial").check().run()
    at.button(key="aud_save").click().run()
    assert not at.exception
    saved = store.list_audits("pricing")[-1]
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
    show(at, "evaluation")
    at.radio(key="aud_pricing_E1_level").set_value("2")
    at.text_input(key="aud_version").input("1")
    at.text_input(key="aud_auditor").input("app test")
    at.checkbox(key="aud_pricing_partial").check().run()
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
    shown = table_with(at, "Audited")                   # the history table
    assert len(shown) == 2                                         # kept in the history
    assert shown["Status"].iloc[-1].startswith("withdrawn ")
    assert shown["Status"].iloc[0].startswith("counts")
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
    show(at, "evaluation")
    at.radio(key="aud_census-model_E1_level").set_value("2")
    at.text_input(key="aud_version").input("1")
    at.text_input(key="aud_auditor").input("app test")
    at.checkbox(key="aud_census-model_partial").check().run()
    at.button(key="aud_save").click().run()
    assert not at.exception
    saved = AuditStore(workspace_store_path(first)).list_audits()
    assert [a.model for a in saved] == ["census-model"]
    assert sorted(p.name for p in second.iterdir()) == ["data.csv"]


def test_a_level_click_reruns_only_its_card_the_score_and_the_checks(run_page, store):
    """Issue 17 (a level click <= 0.5 s): a click sends again only the clicked card, the live
    score and the checks below the form, not the other cards of the dimension; the dimension
    switch only when the question became answered (its count changes). What the partial run
    shows equals what a full run of the same answers shows."""
    at = run_page(PAGE, state={"aud_model": "➕ New model…", "aud_prefill": False})
    at.text_input(key="aud_new_model").input("pricing").run()
    data = load_questionnaire().in_dimension(DIMENSIONS[0])
    assert len(at.radio) == len(data) > 3                       # the whole dimension is drawn
    first, second = (f"aud_pricing_{q.id}_level" for q in data[:2])

    at.radio(key=first).set_value("2").run()                   # unanswered -> answered
    partial = at.fragment_trees[-1]
    assert [r.key for r in partial.radio] == [first]
    assert [s.key for s in partial.segmented_control] == ["aud_section"]   # "(1/n)" changed
    assert f"(1/{len(data)})" in str(partial.segmented_control[0].proto.options)
    assert "aud_model" not in [b.key for b in partial.selectbox]   # the top: not redrawn
    assert "aud_save" not in [b.key for b in partial.button]  # actions and Save: not redrawn
    assert {m.label: m.value for m in partial.metric} == {m.label: m.value for m in at.metric}
    assert "1 of 37 questions answered" in str(partial.get("progress")[0].proto.text)

    runs = len(at.fragment_trees)
    at.radio(key=first).set_value("3").run()                   # answered -> another level
    partial = at.fragment_trees[-1]
    assert len(at.fragment_trees) == runs + 1
    assert [r.key for r in partial.radio] == [first]
    assert len(partial.segmented_control) == 0                 # the counts did not change
    assert {m.label: m.value for m in partial.metric} == {m.label: m.value for m in at.metric}
    at.radio(key=second).set_value("1").run()
    assert [r.key for r in at.fragment_trees[-1].radio] == [second]
    assert at.radio(key=first).value == "3" and at.radio(key=second).value == "1"
    assert store.load_draft("pricing")["inputs"][data[0].id]["choice"] == "3"   # autosaved


def test_the_measurement_runs_in_its_own_process_and_a_dead_one_is_said(tmp_path,
                                                                        monkeypatch):
    """The measurement runs in a worker process (not a thread holding the server's GIL),
    started without re-running the server's __main__ (the page script); if that process dies,
    the page says so in one line and the next open measures again."""
    import os
    import sys

    from aidebt_app import audit_widgets as aw
    from aidebt_core.errors import AidebtError
    _, selection = _own_folder(tmp_path, monkeypatch)  # two rows: measured in a moment
    model = f"process-test-{time.time_ns()}"          # a job of its own
    main = sys.modules["__main__"]
    assert aw.background_evidence(selection, model, start=False) is None
    job = aw.background_evidence(selection, model)
    assert sys.modules["__main__"] is main                                 # put back
    workers = list(aw._EXECUTOR._processes.values())
    assert len(workers) == 1 and workers[0].pid != os.getpid()
    workers[0].kill()
    deadline = time.time() + 60
    while not job.done():
        assert time.time() < deadline
        time.sleep(0.1)
    with pytest.raises(AidebtError, match="measurement stopped before it finished"):
        aw.evidence_if_ready(job)
    again = aw.background_evidence(selection, model)                       # a new worker
    assert again is not job and aw.background_evidence(selection, model, start=False) is again
    evidence = again.result(timeout=MEASURE_TIMEOUT)
    assert evidence.prefills and aw.evidence_if_ready(again) is evidence
