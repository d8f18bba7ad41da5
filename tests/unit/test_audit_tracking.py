"""Actions tracked to done, the meeting record, sign-off, partial audits, same-day audits,
carried-over answers, the honest headline, and old stores upgraded in place."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import pytest

from aidebt_core.audit.evidence import Evidence, Prefill
from aidebt_core.audit.history import build_scorecard, headline_history, history_frame
from aidebt_core.audit.questions import Answer, load_questionnaire
from aidebt_core.audit.records import (
    AuditRecord,
    Participant,
    TrackedAction,
    new_action,
    record_from_dict,
)
from aidebt_core.audit.scoring import MIN_ANSWERED_SHARE, format_score, score_audit
from aidebt_core.audit.session import (
    carry_actions,
    initial_choice,
    make_record,
    save_problems,
    start_label,
)
from aidebt_core.audit.store import AuditStore, AuditStoreError
from aidebt_core.audit.validate import AuditValidationError

Q = load_questionnaire()
IDS = [q.id for q in Q.questions]


def _answers(levels: dict[str, int] | None = None, count: int = len(IDS)) -> dict:
    levels = levels or {}
    return {qid: Answer(level=levels.get(qid, 2), note="agreed") for qid in IDS[:count]}


def _record(model="credit", day="2026-01-10", count=37, partial=False, actions=(),
            levels=None, **kw) -> AuditRecord:
    meta = {"model": model, "model_version": "3", "auditor": "Ann", "audited_at": day}
    record, _ = make_record(Q, meta, _answers(levels, count), None, {}, partial=partial,
                            actions=actions, **kw)
    return record


# -- the honest headline ----------------------------------------------------------------------
@pytest.mark.parametrize(("answered", "na", "complete"), [
    (37, 0, True), (30, 0, True), (29, 0, False), (13, 0, False), (28, 2, True), (0, 0, False),
])
def test_headline_is_incomplete_below_the_minimum_answered_share(answered, na, complete):
    answers = _answers(count=answered)
    for qid in IDS[answered:answered + na]:                 # N/A counts as answered
        answers[qid] = Answer(level=None, na=True, note="not served")
    score = score_audit(Q, answers)
    total = answered + na
    assert (score.answered, score.unanswered) == (total, 37 - total)
    assert score.complete is complete is (total >= MIN_ANSWERED_SHARE * 37)
    if complete:
        assert score.headline_text == f"{score.headline:.1f} / 10"
    else:
        assert score.headline_text == f"incomplete: {total} of 37 answered"
    data = score.to_dict()
    assert (data["answered"], data["unanswered"], data["scale"]) == (total, 37 - total, 10)


def test_format_score_and_unanswered_apart_from_level_zero():
    assert format_score(4.5) == "4.5 / 10" and format_score(None) == "n/a"
    zeros = score_audit(Q, {qid: Answer(level=0, note="no") for qid in IDS})
    blank = score_audit(Q, {})
    assert zeros.headline == blank.headline == 0.0          # both score 0 ...
    assert zeros.headline_text == "0.0 / 10"                # ... but read differently
    assert blank.headline_text == "incomplete: 0 of 37 answered"
    assert [i.unanswered for i in blank.items] == [True] * 37


# -- partial audits ---------------------------------------------------------------------------
def test_partial_audits_stay_off_the_scorecard_and_trends(tmp_path):
    store = AuditStore(tmp_path / "a.sqlite")
    full = store.save_audit(_record(day="2026-01-10", levels={"D1": 4}))
    partial = store.save_audit(_record(day="2026-02-01", count=13, partial=True))
    stored = store.read()
    assert [r.id for r in stored.scored()] == [full.id]
    assert len(stored.counted()) == 2
    card = build_scorecard(list(stored.records))
    row = card.rows[0]
    assert row["audited_at"] == "2026-01-10" and row["audits"] == 1 and row["trend"] is None
    assert row["headline"] == full.scores["overall"]
    assert list(headline_history(list(stored.records))["audited_at"]) == ["2026-01-10"]
    assert history_frame(list(stored.records))["status"].tolist() == \
        ["counts", "partial (off the scorecard)"]
    assert store.latest("credit").id == full.id
    assert store.previous(partial).id == full.id


def test_save_problems_need_version_auditor_and_complete_or_partial():
    meta = {"model": "credit", "model_version": "", "auditor": " ", "audited_at": "2026-01-10"}
    part = score_audit(Q, _answers(count=13))
    problems = save_problems(meta, part)
    assert problems == ["Give the model version.", "Give the auditor.",
                        "incomplete: 13 of 37 answered: answer more questions or save as "
                        "partial (a partial audit stays off the scorecard)."]
    meta.update(model_version="3", auditor="Ann")
    assert save_problems(meta, part, partial=True) == []
    assert save_problems(meta, score_audit(Q, _answers())) == []


# -- same day, carried over ---------------------------------------------------------------------
def test_same_day_finds_an_audit_of_that_model_that_day(tmp_path):
    store = AuditStore(tmp_path / "a.sqlite")
    assert store.same_day("credit", "2026-01-10") is None        # no store yet
    saved = store.save_audit(_record(day="2026-01-10"))
    store.save_audit(_record(model="other", day="2026-01-11"))
    assert store.same_day("credit", date(2026, 1, 10)).id == saved.id
    assert store.same_day("credit", "2026-01-11") is None
    store.withdraw(saved.id, by="Bo", reason="wrong data")
    assert store.same_day("credit", "2026-01-10") is None


def test_carried_over_starts_from_the_last_saved_answers(tmp_path):
    store = AuditStore(tmp_path / "a.sqlite")
    assert store.carried_over("credit") is None
    store.save_audit(_record(day="2026-01-10", levels={"D1": 3, "E7": 1}))
    # a later partial audit answers only the first 13 questions, D1 differently
    store.save_audit(_record(day="2026-02-01", count=13, partial=True, levels={"D1": 1}))
    carried = store.carried_over("credit")
    assert carried.audited_at == "2026-02-01" and len(carried.answers) == 37
    assert carried.answers["D1"].level == 1 and carried.answered_on["D1"] == "2026-02-01"
    assert carried.answers["E7"].level == 1 and carried.label("E7") == \
        "carried over from 2026-01-10"
    # the form starts from it (a draft would win), labelled
    assert initial_choice("E7", None, None, carried)["choice"] == "1"
    assert start_label("E7", None, None, carried) == "carried over from 2026-01-10"
    draft = {"inputs": {"E7": {"choice": "3"}}}
    assert initial_choice("E7", draft, None, carried)["choice"] == "3"
    assert start_label("E7", draft, None, carried) == "from the autosaved draft"


# -- actions tracked to done --------------------------------------------------------------------
def _evidence(found: tuple[str, ...]) -> Evidence:
    d3 = Q.by_id()["D3"]
    prefill = Prefill("D3", "drift", True, evidence="aidebt drift: ...", link="/drift",
                      found=found, measured_on=date(2026, 3, 1)).proposed(d3)
    return Evidence({"D3": prefill}, (d3,))


def test_actions_are_followed_from_one_audit_to_the_next(tmp_path):
    store = AuditStore(tmp_path / "a.sqlite")
    drift = new_action("D3", "Monitor drift on income weekly", owner="Cem",
                       due=date(2026, 2, 1), found=("income", "credit_score"),
                       opened_on="2026-01-10")
    gate = new_action("P6", "Add a quality gate", owner="Dee", due=date(2026, 6, 1))
    first = store.save_audit(_record(day="2026-01-10", actions=(drift, gate)))
    assert store.get(first.id).actions == (drift, gate)
    assert store.open_actions("credit") == (drift, gate)
    # on 2026-03-01 the drift action is past due: one open action is overdue
    assert store.action_summary(today=date(2026, 3, 1)) == {"credit": (2, 1)}
    card = build_scorecard(store.list_audits(), today=date(2026, 3, 1)).rows[0]
    assert (card["open_actions"], card["overdue_actions"]) == (2, 1)
    # the next audit starts with last time's open actions and the measured effect
    carried = carry_actions(store.carried_over("credit"), _evidence(("income",)))
    assert [a.id for a in carried] == [drift.id, gate.id]
    assert carried[0].effect == "drift on income: still present; drift on credit_score: " \
                                "no longer found"
    assert carried[1].effect == ""                          # P6 is not measured
    done = carried[1].with_status("done", "gate live since February")
    second = store.save_audit(_record(day="2026-03-01", actions=(carried[0], done)))
    statuses = {a.id: (a.status, a.note) for a in store.get(second.id).actions}
    assert statuses == {drift.id: ("open", ""), gate.id: ("done", "gate live since February")}
    assert store.open_actions("credit") == (carried[0],)
    assert store.action_summary(today=date(2026, 3, 2)) == {"credit": (1, 1)}
    assert store.action_summary(today=date(2026, 1, 31)) == {"credit": (1, 0)}


def test_action_statuses_are_checked():
    action = TrackedAction("a1", "D3", "Fix")
    with pytest.raises(ValueError, match="open, done, wont_do"):
        action.with_status("maybe")
    assert not action.overdue(date(2030, 1, 1))             # no due date: never overdue
    raw = _record().to_dict() | {"actions": [{"id": "a1", "question": "D3", "text": "Fix",
                                              "status": "later"}]}
    with pytest.raises(AuditValidationError, match="actions.0.status"):
        record_from_dict(raw)
    raw["actions"] = [{"id": "a1", "question": "D3", "text": "Fix", "due": "soon"}]
    with pytest.raises(AuditValidationError, match="actions.0.due"):
        record_from_dict(raw)
    raw["actions"] = [{"id": "a1", "question": "D3", "text": "Fix"}] * 2
    with pytest.raises(AuditValidationError, match="appears twice"):
        record_from_dict(raw)


# -- meeting record and sign-off -----------------------------------------------------------------
def test_sign_off_freezes_the_audit(tmp_path):
    store = AuditStore(tmp_path / "a.sqlite")
    saved = store.save_audit(_record(
        participants=[("Ann", "auditor"), ("Bo", "model owner")],
        discussion={"D3": "drift on income is seasonal; agreed to monitor", "E1": "  "}))
    got = store.get(saved.id)
    assert got.participants == (Participant("Ann", "auditor"), Participant("Bo", "model owner"))
    assert got.discussion == {"D3": "drift on income is seasonal; agreed to monitor"}
    with pytest.raises(AuditStoreError, match="reviewer's name"):
        store.sign_off(saved.id, by=" ")
    signed = store.sign_off(saved.id, by="Rita Reviewer")
    assert store.get(saved.id).signed_by == "Rita Reviewer" == signed.signed_by
    assert store.get(saved.id).signed_at == signed.signed_at
    assert "signed off" in history_frame(store.list_audits())["status"][0]
    with pytest.raises(AuditStoreError, match="already signed off by Rita Reviewer"):
        store.sign_off(saved.id, by="Someone")
    with pytest.raises(AuditStoreError, match="signed off by Rita Reviewer .* only be "
                                              "superseded"):
        store.save_audit(saved)                               # saving it again (same id)
    with pytest.raises(AuditStoreError, match="cannot be withdrawn, only superseded"):
        store.withdraw(saved.id, by="Bo", reason="changed my mind")
    with pytest.raises(AuditStoreError, match="cannot arrive signed"):
        store.save_audit(AuditRecord(**{**_fields(_record()), "signed_by": "X",
                                        "signed_at": "2026-01-10T10:00:00+00:00"}))
    con = sqlite3.connect(tmp_path / "a.sqlite")               # the database refuses edits too
    for statement in ("UPDATE signoffs SET signed_by = 'Eve'", "DELETE FROM signoffs",
                      "UPDATE audits SET auditor = 'Eve'"):
        with pytest.raises(sqlite3.DatabaseError, match="final|immutable"):
            con.execute(statement)
    con.close()
    newer = store.save_audit(_record(day="2026-01-10", supersedes=saved.id, levels={"D1": 4}))
    assert store.get(newer.id).supersedes == saved.id
    # the superseded audit stays in the history, marked, and leaves the scorecard
    assert store.latest("credit").id == newer.id
    assert store.carried_over("credit").audit_id == newer.id
    row = build_scorecard(store.list_audits()).rows[0]
    assert row["audits"] == 1 and row["headline"] == newer.scores["overall"]
    frame = history_frame(store.list_audits()).set_index("id")
    assert frame.loc[saved.id, "status"] == f"superseded by {newer.id[:8]}"
    assert frame.loc[newer.id, "status"] == f"counts; supersedes {saved.id[:8]}"
    with pytest.raises(AuditStoreError, match="is about 'credit'"):
        store.save_audit(_record(model="other", supersedes=saved.id))


def _fields(record: AuditRecord) -> dict:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def test_export_import_round_trips_the_new_fields(tmp_path):
    source = AuditStore(tmp_path / "a.sqlite")
    action = new_action("D3", "Monitor drift", owner="Cem", due=date(2026, 2, 1),
                        found=("income",), opened_on="2026-01-10")
    saved = source.save_audit(_record(participants=[("Ann", "auditor")],
                                      discussion={"D3": "seasonal"}, actions=(action,)))
    source.sign_off(saved.id, by="Rita")
    part = source.save_audit(_record(day="2026-02-01", count=10, partial=True,
                                     actions=(action.with_status("wont_do", "retired"),)))
    document = json.loads(json.dumps(source.export_json()))
    target = AuditStore(tmp_path / "b.sqlite")
    assert target.import_json(document) == (2, 0)
    assert target.list_audits() == source.list_audits()
    again = target.get(part.id)
    assert again.partial and again.actions[0].status == "wont_do"
    assert target.get(saved.id).signed_by == "Rita"
    assert target.export_json() == document


# -- old stores stay readable and are upgraded in place -----------------------------------------
def test_legacy_sample_store_is_read_and_upgraded_on_its_next_write(ground_truth, tmp_path):
    """The sample audits as an older aidebt wrote them: store format 1 at the legacy place
    `<workspace>/audits.sqlite`, payloads without the issue-15 fields."""
    from dataclasses import replace

    from aidebt_core.audit.sample_audits import sample_audit_records
    from aidebt_core.audit.store import default_store_path

    old = [replace(r, participants=(), discussion={}, actions=(), signed_by="", signed_at="")
           for r in sample_audit_records(ground_truth)]
    legacy = tmp_path / "audits.sqlite"
    con = sqlite3.connect(legacy)
    con.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE audits (id TEXT PRIMARY KEY, model TEXT NOT NULL,
          model_version TEXT NOT NULL, audited_at TEXT NOT NULL,
          questionnaire_version TEXT NOT NULL, auditor TEXT NOT NULL, saved_at TEXT NOT NULL,
          payload TEXT NOT NULL);
        CREATE TABLE drafts (model TEXT PRIMARY KEY, updated_at TEXT NOT NULL,
          payload TEXT NOT NULL);
        INSERT INTO meta VALUES ('format', 'aidebt-audit-store'), ('version', '1');
    """)
    for rec in old:
        payload = rec.payload()
        assert set(payload) == {"answers", "findings", "scores", "notes"}   # as written then
        con.execute("INSERT INTO audits VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (rec.id, rec.model, rec.model_version, rec.audited_at,
                     rec.questionnaire_version, rec.auditor, rec.saved_at, json.dumps(payload)))
    con.commit()
    con.close()
    assert default_store_path(tmp_path) == legacy
    store = AuditStore(legacy)
    before = store.read()
    assert before.skipped == () and len(before.records) == 4
    assert {r.id for r in before.records} == {r.id for r in old}
    assert all(not r.partial and not r.signed and r.actions == () for r in before.records)
    card = build_scorecard(list(before.records))
    credit = next(r for r in before.records if r.model == "credit-default")
    store.sign_off(credit.id, by="Rita")
    con = sqlite3.connect(legacy)
    assert con.execute("SELECT value FROM meta WHERE key = 'version'").fetchone() == ("3",)
    con.close()
    after = store.read()
    assert [_fields(r) | {"signed_by": "", "signed_at": ""} for r in after.records] == \
        [_fields(r) for r in before.records]
    assert build_scorecard(list(after.records)).to_dict() == card.to_dict()


def test_version_2_store_with_a_withdrawal_is_upgraded(tmp_path):
    path = tmp_path / "v2.sqlite"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE audits (id TEXT PRIMARY KEY, model TEXT NOT NULL,
          model_version TEXT NOT NULL, audited_at TEXT NOT NULL,
          questionnaire_version TEXT NOT NULL, auditor TEXT NOT NULL, saved_at TEXT NOT NULL,
          payload TEXT NOT NULL);
        CREATE TABLE drafts (model TEXT PRIMARY KEY, updated_at TEXT NOT NULL,
          payload TEXT NOT NULL);
        CREATE TABLE withdrawals (audit_id TEXT PRIMARY KEY, withdrawn_by TEXT NOT NULL,
          withdrawn_at TEXT NOT NULL, reason TEXT NOT NULL);
        INSERT INTO meta VALUES ('format', 'aidebt-audit-store'), ('version', '2');
    """)
    old = [_record(day=day) for day in ("2025-01-01", "2025-06-01")]
    for i, rec in enumerate(old):
        con.execute("INSERT INTO audits VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (f"old{i}", rec.model, rec.model_version, rec.audited_at,
                     rec.questionnaire_version, rec.auditor, f"{rec.audited_at}T10:00:00+00:00",
                     json.dumps(rec.payload())))
    con.execute("INSERT INTO withdrawals VALUES ('old0', 'Bo', '2025-02-01T00:00:00+00:00', "
                "'wrong model')")
    con.commit()
    con.close()
    store = AuditStore(path)
    assert [r.withdrawn is not None for r in store.list_audits()] == [True, False]
    assert store.sign_off("old1", by="Rita").signed_by == "Rita"
    assert store.get("old1").signed and store.get("old0").withdrawn.by == "Bo"


def test_sample_audits_carry_a_meeting_record_and_followed_actions(ground_truth, tmp_path):
    from aidebt_core.audit.sample_audits import write_sample_audits
    from aidebt_core.audit.store import workspace_store_path

    write_sample_audits(tmp_path, ground_truth)
    store = AuditStore(workspace_store_path(tmp_path))
    first, second = store.list_audits("credit-default")
    assert first.signed_by == "Maria Lopez" and not second.signed
    assert [p.role for p in second.participants][0] == "head of credit risk"
    before = {a.id: a.status for a in first.actions}
    after = {a.id: a.status for a in second.actions}
    assert before == {"cd-2025-07-a1": "open", "cd-2025-07-a2": "open"}
    assert after == {"cd-2025-07-a1": "done", "cd-2025-07-a2": "open", "cd-2026-01-a3": "open"}
    # overdue follows the due dates: E1's (2025-12-15) and, from April 2026, D4's (2026-03-31)
    assert store.action_summary(today=date(2026, 2, 1))["credit-default"] == (2, 1)
    assert store.action_summary(today=date(2026, 4, 1))["credit-default"] == (2, 2)
    assert store.action_summary(today=date(2026, 2, 1))["churn"] == (0, 0)
    # the measured drift answers keep the board's linked level: the rule allows it (≤ 3)
    d3 = second.answers["D3"]
    assert d3.source == "measured" and d3.link.startswith("https://")


def test_a_ranked_action_becomes_a_tracked_item_with_what_was_found():
    from aidebt_core.audit.session import action_from_ranked

    evidence = _evidence(("income", "credit_score"))
    answers, _ = evidence.merge({})
    score = score_audit(Q, answers)
    d3 = next(a for a in score.actions if a.question_id == "D3")
    item = action_from_ranked(d3, evidence, owner="Cem", due=date(2026, 4, 1),
                              opened_on="2026-03-01")
    assert item.text == "Raise 'Data drift monitored per feature' from level 0 to 4"
    assert (item.owner, item.due, item.status) == ("Cem", date(2026, 4, 1), "open")
    assert item.found == ("income", "credit_score") and len(item.id) == 12
    other = action_from_ranked(d3, None)
    assert other.found == () and other.id != item.id


def test_the_form_attests_before_merging():
    from aidebt_core.audit.session import RawInput, build_answers

    clean, drifted = _evidence(()), _evidence(("income",))
    linked = {"D3": RawInput("4", evidence="https://monitor.example.com/drift")}
    answers, problems = build_answers(Q, linked, clean)
    assert problems == [] and answers["D3"].source == "measured"
    assert answers["D3"].measured_level == 4
    answers, problems = build_answers(Q, linked, drifted)     # drift open: at most 3
    assert answers["D3"].source == "override" and answers["D3"].measured_level == 3
    assert problems == ["D3: the measurement says level 3; say in the note why you chose 4."]
    answers, problems = build_answers(Q, {"D3": RawInput("2")}, drifted)   # no link: ≤ 1
    assert answers["D3"].measured_level == 1 and len(problems) == 1


def test_carried_over_answers_are_not_an_edit(tmp_path):
    from aidebt_core.audit.session import RawInput, edited

    store = AuditStore(tmp_path / "a.sqlite")
    store.save_audit(_record(levels={"D1": 3}))
    carried = store.carried_over("credit")
    start = {qid: RawInput(**initial_choice(qid, None, None, carried)) for qid in IDS}
    assert not edited(start, None, {}, carried)
    assert edited(start, None, {})                 # without the carry-over they differ
    start["D1"] = RawInput("4", note="agreed")
    assert edited(start, None, {}, carried)
