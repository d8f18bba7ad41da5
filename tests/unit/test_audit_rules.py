"""Findings → proposed level: each measured question's stated rule, case by case.

For every measured question a table of (measurement, what the answer attests) → proposed level,
with "debt found" and "nothing found" rows; the expectations are written out by hand from the
rule text in questions.yaml, not computed with the code under test.
"""

from __future__ import annotations

from datetime import date

import pytest

from aidebt_core.audit.questions import Answer, AuditError, load_questionnaire, parse_questionnaire
from aidebt_core.audit.rules import Measurement, action_effect, is_time_like, propose

DAY = date(2026, 3, 2)
LINK = "https://monitor.example.com/dash/42"

# The debt each "debt" question's measurement can find (as its provider names it).
DEBT_ITEMS = {
    "D2": ("employment_type", "channel"),              # missing-share change, new category
    "D3": ("income", "credit_score"),                  # drifted features
    "D4": ("2025-10 (concept drift)",),                # concept-drift month
    "D7": ("{income, monthly_income}",),               # redundant group
    "M7": ("income–monthly_income",),                  # association changed
    "M9": ("2025-11 (quality)",),                      # quality out of band
    "E1": ("channel = mobile and account_age_days < 87",),   # weak slice
    "E5": ("never found: fresh evaluation is a possibility, not a debt",),
}
LOGGED = {"D8", "M1", "M2", "M3", "M4"}


def _answer(level, link=False, source="manual", na=False):
    return Answer(level=level, na=na, evidence=LINK if link else "we look at it monthly",
                  note="n/a here" if na else "", source=source)


# (case, found?, attested answer) → proposed level, cap
DEBT_CASES = [
    ("debt found, nothing attested", True, None, 0, 1),
    ("debt found, level 3 asserted without a link", True, _answer(3), 1, 1),
    ("debt found, level 1 asserted without a link", True, _answer(1), 1, 1),
    ("debt found, level 0 asserted", True, _answer(0), 0, 1),
    ("debt found, level 4 attested with a link", True, _answer(4, link=True), 3, 3),
    ("debt found, level 2 attested with a link", True, _answer(2, link=True), 2, 3),
    ("debt found, answer only repeats an old measurement", True,
     _answer(2, link=True, source="measured"), 0, 1),
    ("debt found, N/A answer attests nothing", True, _answer(None, na=True), 0, 1),
    ("debt found, kept measured answer with a person's link", True,
     Answer(level=2, source="measured", measured_level=2, link=LINK), 2, 3),
    ("debt found, kept measured answer with the page link", True,
     Answer(level=2, source="measured", measured_level=2, link="/drift"), 0, 1),
    ("debt found, level 3 'linked' to aidebt's own page", True,
     Answer(level=3, evidence="/drift?slice=x"), 1, 1),
    ("debt found, level 3 linked to a file path", True,
     Answer(level=3, evidence="/srv/monitoring/drift.yaml"), 3, 3),
    ("nothing found, nothing attested", False, None, 1, None),
    ("nothing found, level 4 attested with a link", False, _answer(4, link=True), 4, None),
    ("nothing found, level 3 asserted without a link", False, _answer(3), 2, None),
    ("nothing found, level 0 asserted", False, _answer(0), 1, None),
]


def _debt_rows():
    for qid, items in DEBT_ITEMS.items():
        for case, found, attested, level, cap in DEBT_CASES:
            if qid == "E5" and found:
                continue                              # E5's provider never reports debt
            yield pytest.param(qid, items if found else (), attested, level, cap,
                               id=f"{qid}: {case}")


@pytest.fixture(scope="module")
def questions():
    return load_questionnaire().by_id()


def test_every_measured_question_has_a_rule_of_a_known_kind(questions):
    measured = {qid for qid, q in questions.items() if q.measurement}
    assert measured == set(DEBT_ITEMS) | LOGGED
    for qid in measured:
        rule = questions[qid].rule
        assert rule is not None and rule.text
        assert rule.kind == ("logged" if qid in LOGGED else "debt")
    rows = {row["id"]: row for row in load_questionnaire().to_list()}
    assert rows["D3"]["rule"]["text"].startswith("Features drifted")
    assert rows["D5"]["rule"] is None


@pytest.mark.parametrize(("qid", "found", "attested", "level", "cap"), list(_debt_rows()))
def test_debt_rule(questions, qid, found, attested, level, cap):
    measurement = Measurement(key=questions[qid].measurement, available=True,
                              text="what was measured", found=found, measured_on=DAY)
    proposal = propose(questions[qid], measurement, attested)
    assert (proposal.level, proposal.cap) == (level, cap)
    assert proposal.found == found and proposal.measured == "what was measured"
    assert proposal.label == "proposed from measurement on 2026-03-02"


@pytest.mark.parametrize("qid", sorted(DEBT_ITEMS))
def test_one_clean_run_never_proposes_a_documented_schedule(questions, qid):
    """Issue 15: a single aidebt run is not evidence of level 2."""
    proposal = propose(questions[qid], Measurement("m", True, "ran once", measured_on=DAY))
    assert proposal.level == 1


@pytest.mark.parametrize(("qid", "measured", "attested", "level"), [
    # the level MLflow shows stands (0-3); a linked 4 only on top of a measured 3
    *[pytest.param(qid, m, None, m, id=f"{qid}: MLflow level {m}")
      for qid in ("D8", "M1", "M2", "M3") for m in (0, 1, 2, 3)],
    *[pytest.param(qid, 3, _answer(4, link=True), 4, id=f"{qid}: 3 + linked 4")
      for qid in ("D8", "M1", "M2", "M3")],
    *[pytest.param(qid, 2, _answer(4, link=True), 2, id=f"{qid}: 2 + linked 4")
      for qid in ("D8", "M1", "M2", "M3")],
    pytest.param("M1", 3, _answer(4), 3, id="M1: 3 + unlinked 4"),
    pytest.param("M1", 3, _answer(1, link=True), 3, id="M1: 3 + linked 1 (the store shows more)"),
    # M4's manifest shows at most 2 (complete): a linked 3 counts on top of a complete manifest
    pytest.param("M4", 2, None, 2, id="M4: complete manifest"),
    pytest.param("M4", 1, None, 1, id="M4: half complete"),
    pytest.param("M4", 0, None, 0, id="M4: mostly missing"),
    pytest.param("M4", 2, _answer(3, link=True), 3, id="M4: complete + linked 3"),
    pytest.param("M4", 1, _answer(3, link=True), 1, id="M4: half complete + linked 3"),
])
def test_logged_rule(questions, qid, measured, attested, level):
    measurement = Measurement(key=questions[qid].measurement, available=True, text="MLflow",
                              level=measured, measured_on=DAY)
    proposal = propose(questions[qid], measurement, attested)
    assert proposal.level == level and proposal.cap is None


@pytest.mark.parametrize("qid", sorted(set(DEBT_ITEMS) | LOGGED))
def test_a_measurement_that_cannot_be_made_proposes_nothing(questions, qid):
    why = "measurement not available: no labels in the current data"
    proposal = propose(questions[qid], Measurement("m", False, note=why, measured_on=DAY),
                       _answer(4, link=True))
    assert proposal.level is None and proposal.cap is None
    assert proposal.label == why


def test_the_proposal_follows_the_measurement(questions):
    d3 = questions["D3"]
    before = propose(d3, Measurement("drift", True, found=("income",), measured_on=DAY))
    after = propose(d3, Measurement("drift", True, found=(), measured_on=date(2026, 4, 1)))
    assert (before.level, after.level) == (0, 1)
    assert after.label == "proposed from measurement on 2026-04-01"
    assert "income" in before.reason


def test_rules_in_a_questionnaire_are_checked():
    import yaml

    from aidebt_core.audit.questions import QUESTIONS_FILE

    raw = yaml.safe_load(QUESTIONS_FILE.read_text())
    d3 = next(q for q in raw["questions"] if q["id"] == "D3")
    del d3["rule"]
    with pytest.raises(AuditError, match=r"D3.*needs a 'rule'"):
        parse_questionnaire(raw)
    d3["rule"] = {"kind": "guess", "text": "x"}
    with pytest.raises(AuditError, match="'kind' of debt, logged"):
        parse_questionnaire(raw)
    d3["rule"] = {"kind": "debt", "text": "x", "debt_cap": 7}
    with pytest.raises(AuditError, match="debt_cap.*0-4"):
        parse_questionnaire(raw)
    d3["rule"] = {"kind": "debt", "text": "x", "debt_levl": 1}
    with pytest.raises(AuditError, match="unknown rule field"):
        parse_questionnaire(raw)


@pytest.mark.parametrize(("name", "time_like"), [
    ("year", True), ("YEAR", True), ("signup_month", True), ("reportQuarter", True),
    ("fiscal_yr", True), ("survey_date", True),
    ("term_months", False), ("hours_per_week", False), ("day_of_week", False),
    ("birth_year", False), ("age", False), ("income", False), ("applied_at", False),
])
def test_time_like_names(name, time_like):
    assert is_time_like(name) is time_like


def test_action_effect_reports_what_the_new_measurement_still_finds():
    from aidebt_core.audit.rules import QuestionFinding

    def row(found):
        return QuestionFinding("D3", "Data drift", "drift", "m", 0 if found else 1, None, "",
                               DAY, "/drift", found=found)

    assert action_effect("D3", ("income", "age"), row(("income",))) == \
        "drift on income: still present; drift on age: no longer found"
    assert action_effect("D3", ("income",), row(())) == "drift on income: no longer found"
    assert action_effect("D3", (), row(("x", "y"))) == "drift: 2 found now"
    assert action_effect("D3", ("income",), None) == ""
