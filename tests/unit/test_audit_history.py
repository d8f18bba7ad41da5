"""Sample audits, comparison with the previous audit, the scorecard, reports and the page's
answer-building rules (overrides need a note)."""

from __future__ import annotations

import pytest

from aidebt_core.audit.evidence import Evidence, Prefill
from aidebt_core.audit.history import build_scorecard, compare
from aidebt_core.audit.questions import Answer, load_questionnaire
from aidebt_core.audit.records import AuditRecord
from aidebt_core.audit.sample_audits import sample_audit_records, write_sample_audits
from aidebt_core.audit.session import RawInput, build_answers, initial_choice, make_record
from aidebt_core.audit.store import AuditStore, workspace_store_path
from aidebt_core.reports.audit import audit_report, scorecard_report


@pytest.fixture(scope="module")
def records(ground_truth):
    return sample_audit_records(ground_truth)


def test_sample_audits_are_deterministic_and_cover_three_models(records, ground_truth):
    again = sample_audit_records(ground_truth)
    assert [r.to_dict() for r in records] == [r.to_dict() for r in again]
    assert sorted({r.model for r in records}) == ["churn", "credit-default", "fraud"]
    assert sum(r.model == "credit-default" for r in records) == 2
    latest = [r for r in records if r.model == "credit-default"][-1]
    drifted = ground_truth["data_drift"]["drifted_features"]
    assert latest.answers["D3"].source == "measured"
    assert all(name in latest.answers["D3"].evidence for name in drifted)
    assert any(f["question"] == "E1" and "mobile" in f["title"] for f in latest.findings)


def test_write_sample_audits_is_idempotent_and_keeps_other_audits(tmp_path, ground_truth):
    store = AuditStore(workspace_store_path(tmp_path))     # where the sample writes its audits
    mine = store.save_audit(AuditRecord("mine", "1", "2025-02-02", "2026.1", "me",
                                        {"D1": Answer(level=1)}))
    first = write_sample_audits(tmp_path, ground_truth)
    second = write_sample_audits(tmp_path, ground_truth)
    assert (first["added"], second["added"], second["already_present"]) == (4, 0, 4)
    assert store.get(mine.id) == mine and len(store.list_audits()) == 5


def test_scorecard_rows_and_trend(records):
    frame = build_scorecard(records).to_frame().set_index("model")
    assert list(frame.index) == ["churn", "credit-default", "fraud"]
    credit = [r for r in records if r.model == "credit-default"]
    expected = credit[1].scores["overall"] - credit[0].scores["overall"]
    assert frame.loc["credit-default", "trend"] == pytest.approx(expected)
    assert expected > 0                               # the team paid some debt back
    assert pd_isna(frame.loc["churn", "trend"])      # only one audit
    assert frame.loc["fraud", "red_flags"] == len(
        next(r for r in records if r.model == "fraud").scores["red_flags"]) > 0
    assert frame.loc["credit-default", "open_findings"] == len(credit[1].findings)
    assert frame.loc["credit-default", "audits"] == 2
    # the headline is each model's minimum dimension
    for model, row in frame.iterrows():
        dims = [row[f"{d}_score"] for d in ("data", "model", "configuration", "evaluation")]
        assert row["headline"] == pytest.approx(min(dims)), model


def pd_isna(value) -> bool:
    return value is None or value != value


def test_compare_lists_changed_answers(records):
    credit = [r for r in records if r.model == "credit-default"]
    before, after = credit
    comparison = compare(before, after.answers, after.scores, after.questionnaire_version)
    expected = {q for q in before.answers if before.answers[q].level != after.answers[q].level}
    assert {c["question"] for c in comparison.changed} == expected
    assert comparison.same_questionnaire
    for dim, delta in comparison.dimension_deltas.items():
        assert delta == pytest.approx(after.scores["dimensions"][dim]
                                      - before.scores["dimensions"][dim])


def test_reports_contain_scores_findings_and_models(records):
    q = load_questionnaire()
    latest = [r for r in records if r.model == "credit-default"][-1]
    md = audit_report(latest, q).to_markdown()
    assert f"Headline health {latest.scores['overall']:.1f} / 10" in md
    assert latest.findings[0]["title"] in md
    assert latest.scores["actions"][0]["title"] in md
    card = scorecard_report(build_scorecard(records)).to_markdown()
    for record in records:
        assert f"| {record.model} |" in card


def _evidence(level=2):
    return Evidence({"D3": Prefill("D3", "drift", True, level, "4 of 15 drifted", "/drift")})


def test_build_answers_rules():
    q = load_questionnaire()
    ev = _evidence()
    answers, problems = build_answers(q, {"D3": RawInput("2")}, ev)
    assert answers["D3"].source == "measured" and answers["D3"].evidence == "4 of 15 drifted"
    answers, problems = build_answers(q, {"D3": RawInput("3")}, ev)
    assert answers["D3"].source == "override" and answers["D3"].measured_level == 2
    assert problems and "D3" in problems[0] and "note" in problems[0]
    answers, problems = build_answers(q, {"D3": RawInput("3", note="weekly job",
                                                         evidence="https://ci/job")}, ev)
    assert not problems and answers["D3"].level == 3
    answers, problems = build_answers(q, {"M8": RawInput("N/A")}, None)
    assert "M8" not in answers and "N/A needs a justification" in problems[0]
    answers, problems = build_answers(q, {"M8": RawInput("N/A", note="no loop"),
                                          "M5": RawInput(None)}, None)
    assert answers["M8"].na and "M5" not in answers and not problems


def test_initial_choice_prefers_draft_over_measurement():
    ev = _evidence()
    assert initial_choice("D3", None, ev)["choice"] == "2"
    draft = {"inputs": {"D3": {"choice": "1", "note": "old"}}}
    assert initial_choice("D3", draft, ev) == {"choice": "1", "note": "old", "evidence": "",
                                               "tier": "", "evidence_date": ""}
    draft["inputs"]["D3"].update(tier="critical", evidence_date="2025-01-02")
    start = initial_choice("D3", draft, ev)
    assert (start["tier"], start["evidence_date"]) == ("critical", "2025-01-02")
    assert initial_choice("D1", draft, ev)["choice"] is None


def test_make_record_scores_and_keeps_findings():
    q = load_questionnaire()
    ev = _evidence()
    answers, _ = build_answers(q, {"D3": RawInput("2")}, ev)
    record, score = make_record(q, {"model": " m ", "audited_at": "2025-03-03"}, answers, ev,
                                {"coupling": "yes", "onboarding": " "})
    assert record.model == "m" and record.scores["overall"] == score.headline
    assert record.notes == {"coupling": "yes"}
    items = {i["question"]: i for i in record.scores["items"]}
    assert items["D3"]["confidence"] == "verified"


def test_only_edits_are_worth_a_draft():
    from aidebt_core.audit.session import edited

    ev = _evidence()
    assert not edited({"D3": RawInput("2"), "D1": RawInput(None)}, ev, {})
    assert edited({"D3": RawInput("1")}, ev, {})
    assert edited({"D1": RawInput(None, note="ask the data team")}, ev, {})
    assert edited({}, ev, {"coupling": "yes"})
    assert not edited({}, ev, {"coupling": "  "})


def test_no_trend_across_questionnaire_versions(records):
    from dataclasses import replace

    credit = [r for r in records if r.model == "credit-default"]
    older = replace(credit[0], questionnaire_version="2025.9")
    frame = build_scorecard([older, credit[1]]).to_frame()
    assert pd_isna(frame.loc[0, "trend"]) and frame.loc[0, "audits"] == 2
    comparison = compare(older, credit[1].answers, credit[1].scores, "2026.1")
    assert not comparison.same_questionnaire


def test_headline_text_counts_verified_answers(records):
    from aidebt_core.reports.audit import headline_text

    latest = [r for r in records if r.model == "credit-default"][-1]
    measured = sum(a.source == "measured" for a in latest.answers.values())
    counted = sum(not a.na for a in latest.answers.values())
    assert f"{measured} of {counted} counted answers verified" in headline_text(latest.scores)


def test_withdrawn_audits_leave_the_scorecard_and_the_trend(records):
    from dataclasses import replace

    from aidebt_core.audit.history import headline_history, history_frame
    from aidebt_core.audit.records import Withdrawal

    credit = [r for r in records if r.model == "credit-default"]
    pulled = Withdrawal(by="ann", at="2026-02-01T09:00:00+00:00", reason="wrong data set")
    changed = [replace(r, withdrawn=pulled) if r.id == credit[1].id else r for r in records]
    frame = build_scorecard(changed).to_frame().set_index("model")
    # the earlier audit is the latest that counts; with one counted audit there is no trend
    assert frame.loc["credit-default", "audited_at"] == credit[0].audited_at
    assert frame.loc["credit-default", "headline"] == pytest.approx(credit[0].scores["overall"])
    assert frame.loc["credit-default", "audits"] == 1
    assert pd_isna(frame.loc["credit-default", "trend"])
    trend = headline_history(changed)
    assert credit[1].audited_at not in set(trend["audited_at"])
    assert len(trend) == len(records) - 1
    shown = history_frame(credit[:1] + [replace(credit[1], withdrawn=pulled)])
    # the first sample audit of credit-default was signed off (the status says by whom)
    assert list(shown["status"]) == ["counts; signed off 2025-07-16 by Maria Lopez",
                                     "withdrawn 2026-02-01 by ann: wrong data set"]
    # a model whose only audit is withdrawn has no scorecard row at all
    only = [replace(r, withdrawn=pulled) if r.model == "churn" else r for r in records]
    assert "churn" not in set(build_scorecard(only).to_frame()["model"])
