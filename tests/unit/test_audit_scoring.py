"""Scoring on hand-computed examples: N/A, evidence cap, staleness, min headline, red flags,
ML Test Score view (the paper's ½/1 and min-of-sections rule), ranked actions."""

from __future__ import annotations

import numpy as np
import pytest

from aidebt_core.audit.questions import Answer, load_questionnaire, parse_questionnaire
from aidebt_core.audit.scoring import (
    evidence_confidence,
    health_band,
    mts_band,
    score_audit,
)

LEVELS = ["l0", "l1", "l2", "l3", "l4"]


def _q(qid, dim, weight, mts=(), cadence=365):
    return {"id": qid, "dimension": dim, "title": f"title {qid}", "text": f"{qid}?",
            "why": "w", "weight": weight, "levels": LEVELS, "evidence_hint": "h",
            "mts": list(mts), "cadence_days": cadence}


@pytest.fixture(scope="module")
def small():
    return parse_questionnaire({
        "version": "t1", "weights": {"critical": 10, "high": 7.5, "medium": 5, "low": 2.5},
        "dimensions": {"data": "Data", "model": "Model", "configuration": "Config",
                       "evaluation": "Eval"},
        "questions": [_q("DA", "data", "critical", ["Data 1"]),
                      _q("DB", "data", "medium", ["Data 1"]),
                      _q("MA", "model", "high", ["Model 1"]), _q("MB", "model", "low"),
                      _q("PA", "configuration", "critical", ["Infra 1"]),
                      _q("PB", "configuration", "high"),
                      _q("EA", "evaluation", "medium", ["Monitor 1"], cadence=30),
                      _q("EB", "evaluation", "low")]})


@pytest.fixture(scope="module")
def example(small):
    answers = {
        "DA": Answer(level=3, evidence="https://wiki/schema"),          # linked: counts 3
        "DB": Answer(level=4, evidence="we do this"),                   # asserted: capped at 2
        "MA": Answer(level=2),
        "MB": Answer(level=None, na=True, note="no such component"),    # excluded
        "PA": Answer(level=1),                                          # critical ≤ 1: red flag
        "PB": Answer(level=4, source="measured", measured_level=4),     # verified
        "EA": Answer(level=3, evidence="/performance", evidence_date="2025-01-01"),  # stale
        # EB unanswered: level 0
    }
    return score_audit(small, answers, audit_date="2025-04-11")


def test_item_rules(example):
    items = {i.question_id: i for i in example.items}
    assert (items["DA"].confidence, items["DA"].effective_level) == ("linked", 3)
    assert (items["DB"].capped, items["DB"].effective_level, items["DB"].score) == (True, 2, 5.0)
    assert items["MB"].na and items["MB"].score is None
    assert items["PB"].confidence == "verified" and items["PB"].score == 10.0
    assert items["EA"].stale and items["EA"].effective_level == 2   # 100 days > 30-day cadence
    assert items["EB"].unanswered and items["EB"].score == 0.0


def test_dimension_scores_headline_and_mean(example):
    # hand-computed: data (10·7.5 + 5·5)/15, model 5 (N/A out), config (10·2.5 + 7.5·10)/17.5,
    # evaluation (5·5 + 2.5·0)/7.5
    assert example.dimensions["data"] == pytest.approx(100 / 15)
    assert example.dimensions["model"] == pytest.approx(5.0)
    assert example.dimensions["configuration"] == pytest.approx(100 / 17.5)
    assert example.dimensions["evaluation"] == pytest.approx(25 / 7.5)
    assert example.headline == pytest.approx(25 / 7.5)
    assert example.weakest_dimension == "evaluation"
    scores = [7.5, 5, 5, 2.5, 10, 5, 0]
    weights = [10, 5, 7.5, 10, 7.5, 5, 2.5]
    assert example.weighted_mean == pytest.approx(np.average(scores, weights=weights))
    assert example.debt_index == pytest.approx(10 - 25 / 7.5)
    assert example.band == "basic productionization"


def test_headline_cannot_hide_a_failing_dimension(small):
    good = {q.id: Answer(level=4, evidence="https://x") for q in small.questions}
    good["EA"] = Answer(level=0)
    good["EB"] = Answer(level=0)
    score = score_audit(small, good, audit_date="2025-01-01")
    assert score.headline == 0.0 and score.weakest_dimension == "evaluation"
    assert score.weighted_mean > 8


def test_red_flags_only_for_critical_at_level_1_or_below(example):
    assert len(example.red_flags) == 1 and example.red_flags[0].startswith("PA ")


def test_verified_share(example):
    assert example.verified_share["configuration"] == pytest.approx(0.5)
    assert example.verified_share["data"] == 0.0
    assert example.verified_share["model"] == 0.0   # MB is N/A: only MA counts


def test_ml_test_score_view(example):
    # Data 1 = min(DA→1, DB→½) = ½; Model 1 = MA (level 2) → ½; Infra 1 = PA (level 1) → 0;
    # Monitor 1 = EA (stale, 2) → ½. Final = min of sections = 0.
    assert example.mts.tests["Data 1"] == 0.5
    assert example.mts.sections == {"Data": 0.5, "Model": 0.5, "Infra": 0.0, "Monitor": 0.5}
    assert example.mts.final == 0.0
    assert example.mts.band.startswith("More of a research project")


def test_ml_test_score_on_the_real_questionnaire():
    q = load_questionnaire()
    manual = score_audit(q, {x.id: Answer(level=2) for x in q.questions})
    assert manual.mts.sections == {s: 3.5 for s in ("Data", "Model", "Infra", "Monitor")}
    assert manual.mts.final == 3.5 and manual.mts.band.startswith("Strong automated")
    automated = score_audit(q, {x.id: Answer(level=3, evidence="https://ci") for x in q.questions})
    assert automated.mts.final == 7.0 and automated.mts.band.startswith("Exceptional")
    # asserted level 3 is capped at 2, so it earns ½ (manual) not 1
    asserted = score_audit(q, {x.id: Answer(level=3) for x in q.questions})
    assert asserted.mts.final == 3.5
    assert asserted.headline == 5.0 and len(asserted.warnings) == len(q.questions)


def test_bands():
    assert mts_band(0) .startswith("More of a research")
    assert mts_band(1).startswith("Not totally untested")
    assert mts_band(1.5).startswith("First pass")
    assert mts_band(3).startswith("Reasonably tested")
    assert mts_band(5).startswith("Strong")
    assert mts_band(5.5).startswith("Exceptional")
    assert health_band(1.99) == "research-grade" and health_band(2.0) == "basic productionization"
    assert health_band(8.0) == "exceptional" and health_band(None) == "not scored"


def test_actions_ranked_by_weight_times_gap(example):
    ids = [a.question_id for a in example.actions]
    assert ids == ["PA", "DA", "MA", "EA", "EB", "DB"]
    by_id = {a.question_id: a for a in example.actions}
    assert by_id["PA"].priority == 30 and by_id["PA"].target_level == 4
    assert by_id["PA"].gain == pytest.approx(10 * 3 * 2.5 / 17.5)
    assert by_id["MA"].gain == pytest.approx(2.5)   # model weight is MA's alone (MB is N/A)


def test_all_na_dimension_is_not_scored(small):
    answers = {"MA": Answer(level=None, na=True, note="n"),
               "MB": Answer(level=None, na=True, note="n"),
               "DA": Answer(level=2), "DB": Answer(level=2), "PA": Answer(level=2),
               "PB": Answer(level=2), "EA": Answer(level=2), "EB": Answer(level=2)}
    score = score_audit(small, answers)
    assert score.dimensions["model"] is None
    assert score.headline == 5.0
    assert score.to_dict()["dimensions"]["model"] is None


def test_confidence_classification():
    assert evidence_confidence(Answer(level=3, evidence="https://ci/job/1")) == "linked"
    assert evidence_confidence(Answer(level=3, evidence="/drift")) == "linked"
    assert evidence_confidence(Answer(level=3, evidence="we run it weekly")) == "asserted"
    assert evidence_confidence(Answer(level=3, source="measured")) == "verified"


def test_contract_keys(example):
    d = example.to_dict()
    assert set(d["dimensions"]) == {"data", "model", "configuration", "evaluation"}
    assert d["overall"] == pytest.approx(example.headline)
    assert all({"question", "gain"} <= set(a) for a in d["actions"])
    assert isinstance(d["red_flags"], list) and isinstance(d["red_flags"][0], str)


def test_tiers_can_be_raised_for_context_but_critical_not_lowered():
    from aidebt_core.audit.questions import AuditError, parse_answers

    q = load_questionnaire()
    answers = {"M8": Answer(level=1)}
    assert not any(f.startswith("M8 ") for f in score_audit(q, answers).red_flags)
    raised = q.with_tiers({"M8": "critical"})
    score = score_audit(raised, answers)
    assert any(f.startswith("M8 ") for f in score.red_flags)
    m8 = next(i for i in score.items if i.question_id == "M8")
    assert m8.weight == 10.0 and m8.weight_tier == "critical"
    with pytest.raises(AuditError, match="D3 is critical and cannot be lowered"):
        q.with_tiers({"D3": "high"})
    with pytest.raises(AuditError, match="no question Z1"):
        q.with_tiers({"Z1": "high"})
    with pytest.raises(AuditError, match="f.yaml: tiers: 'huge'"):
        parse_answers({"answers": {}, "tiers": {"M8": "huge"}}, q, origin="f.yaml")
    assert parse_answers({"answers": {}, "tiers": {"M8": "high"}}, q).tiers == {"M8": "high"}
