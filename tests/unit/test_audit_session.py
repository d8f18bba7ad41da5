"""The pure rules behind the Audit page and `aidebt audit --prefill`: laying people's answers
over measured ones, raising weight tiers, evidence dates in answers and records."""

from __future__ import annotations

import pytest

from aidebt_core.audit.evidence import Evidence, Prefill
from aidebt_core.audit.questions import Answer, AuditError, load_questionnaire
from aidebt_core.audit.session import (
    RawInput,
    build_answers,
    chosen_tiers,
    draft_payload,
    edited,
    make_record,
    tier_options,
)


def _evidence() -> Evidence:
    return Evidence({"D3": Prefill("D3", "drift", True, 2, "4 of 15 drifted", "/drift"),
                     "E1": Prefill("E1", "slices", False, note="measurement not available: x")})


def test_merge_fills_keeps_and_overrides():
    ev = _evidence()
    merged, problems = ev.merge({})
    assert merged["D3"].source == "measured" and merged["D3"].level == 2
    assert "E1" not in merged and not problems
    assert ev.merge({}, fill=False) == ({}, [])
    kept, _ = ev.merge({"D3": Answer(level=2, evidence="https://ci/x",
                                     evidence_date="2025-01-01")})
    assert kept["D3"].source == "measured" and kept["D3"].link == "/drift"
    assert kept["D3"].evidence == "https://ci/x · measured: 4 of 15 drifted"
    assert kept["D3"].evidence_date == "2025-01-01"
    changed, problems = ev.merge({"D3": Answer(level=4)})
    assert changed["D3"].source == "override" and changed["D3"].measured_level == 2
    assert problems == ["D3: the measurement says level 2; say in the note why you chose 4."]
    na, problems = ev.merge({"D3": Answer(level=None, na=True, note="no inputs")})
    assert na["D3"].source == "override" and na["D3"].na and not problems
    manual, _ = ev.merge({"E1": Answer(level=1)})          # not measured: left as given
    assert manual["E1"] == Answer(level=1)


def test_prefilled_lists_level_figure_and_source():
    ev = _evidence()
    merged, _ = ev.merge({"D3": Answer(level=3, note="weekly job")})
    (row,) = ev.prefilled(merged)
    assert row == {"question": "D3", "measurement": "drift", "level": 2,
                   "figure": "4 of 15 drifted", "link": "/drift", "source": "override",
                   "answer_level": 3, "note": "weekly job"}
    assert ev.unmeasured() == [{"question": "E1", "measurement": "slices",
                                "note": "measurement not available: x"}]


def test_tier_options_only_go_up():
    q = load_questionnaire().by_id()
    assert tier_options(q["P9"]) == ("low", "medium", "high", "critical")
    assert tier_options(q["M8"]) == ("medium", "high", "critical")
    assert tier_options(q["D3"]) == ("critical",)


def test_tiers_and_evidence_date_reach_the_record():
    q = load_questionnaire()
    raw = {"M8": RawInput("1", tier="critical"), "M2": RawInput("2", tier="high",
                                                               evidence_date="2025-01-01")}
    tiers = chosen_tiers(q, raw)
    assert tiers == {"M8": "critical"}                      # M2 is already high
    answers, problems = build_answers(q, raw, None)
    assert not problems and answers["M2"].evidence_date == "2025-01-01"
    meta = {"model": "m", "audited_at": "2025-03-01"}
    record, score = make_record(q, meta, answers, None, {}, tiers)
    assert record.notes == {"tiers": "M8=critical"}
    assert [f for f in score.red_flags if f.startswith("M8 ")] == [
        "M8 Feedback loops identified and mitigated: critical item at level 1"]
    # M2's evidence is 59 days old, within its 90-day cadence: level 2 counts 2
    items = {i.question_id: i for i in score.items}
    assert items["M2"].effective_level == 2 and not items["M2"].stale
    late, late_score = make_record(q, {**meta, "audited_at": "2025-06-01"}, answers, None, {})
    assert {i.question_id: i for i in late_score.items}["M2"].effective_level == 1
    assert late.notes == {}
    with pytest.raises(AuditError, match="critical and cannot be lowered"):
        make_record(q, meta, answers, None, {}, {"D3": "high"})


def test_tier_and_date_are_drafted_and_count_as_edits():
    assert edited({"M8": RawInput(None, tier="high")}, None, {})
    assert edited({"M8": RawInput(None, evidence_date="2025-01-01")}, None, {})
    assert not edited({"M8": RawInput(None)}, None, {})
    payload = draft_payload({}, {"M8": RawInput(None, tier="high"), "M2": RawInput(None)}, {})
    assert payload["inputs"] == {"M8": {"choice": None, "note": "", "evidence": "",
                                        "tier": "high", "evidence_date": ""}}
