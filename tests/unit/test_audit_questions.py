"""The questionnaire file: structure, coverage of the ML Test Score and of every debt type."""

from __future__ import annotations

import json

import pytest
import yaml

from aidebt_core.audit.evidence import PROVIDERS, provider_for
from aidebt_core.audit.questions import (
    DIMENSIONS,
    MTS_SECTIONS,
    QUESTIONS_FILE,
    AuditError,
    load_questionnaire,
    parse_answers,
    parse_questionnaire,
    read_answer_file,
)

# Every debt type named in the seed article and in Hidden Technical Debt in ML Systems (the
# issue's list), with the words a question's `debt_types` must contain to cover it.
REQUIRED_DEBT_TYPES = {
    "entanglement": "entanglement",
    "correction cascades": "correction cascades",
    "cascading changes (seed)": "cascading changes",
    "undeclared consumers": "undeclared consumers",
    "unstable data dependencies": "unstable data dependencies",
    "underused data dependencies": "underutilized data dependencies",
    "feedback loops": "feedback loops",
    "glue code": "glue code",
    "pipeline jungles": "pipeline jungles",
    "dead code paths": "dead experimental codepaths",
    "configuration debt": "configuration debt",
    "data drift": "data drift",
    "concept drift": "concept drift",
    "static test sets": "static test sets",
    "metric myopia": "metric myopia",
    "reproducibility": "reproducibility",
    "serving complexity (seed)": "serving complexity",
}


@pytest.fixture(scope="module")
def questionnaire():
    return load_questionnaire()


def test_questionnaire_has_enough_complete_questions(questionnaire):
    assert len(questionnaire.questions) >= 30
    assert questionnaire.version
    for q in questionnaire.questions:
        assert q.dimension in DIMENSIONS
        assert q.weight in ("critical", "high", "medium", "low")
        assert len(q.levels) == 5 and len(set(q.levels)) == 5, q.id
        assert q.text.endswith("?"), q.id
        assert q.why and q.evidence_hint and q.title
    for dim in DIMENSIONS:
        assert len(questionnaire.in_dimension(dim)) >= 5


def test_every_debt_type_maps_to_a_question(questionnaire):
    covered = {t for q in questionnaire.questions for t in q.debt_types}
    missing = [name for name, tag in REQUIRED_DEBT_TYPES.items() if tag not in covered]
    assert not missing, f"debt types without a question: {missing}"


def test_all_28_ml_test_score_tests_are_mapped(questionnaire):
    mapped = {t for q in questionnaire.questions for t in q.mts}
    expected = {f"{s} {n}" for s in MTS_SECTIONS for n in range(1, 8)}
    assert mapped == expected


def test_every_measurement_has_a_provider(questionnaire):
    keys = {q.measurement for q in questionnaire.questions if q.measurement}
    assert keys, "some questions must be pre-fillable"
    assert all(provider_for(k) is not None for k in keys)
    # and every provider measurement is used by some question
    served = {m for p in PROVIDERS.values() for m in p.measurements}
    assert served == keys


def test_questionnaire_errors_name_item_and_field():
    raw = yaml.safe_load(QUESTIONS_FILE.read_text())
    raw["questions"][2]["weight"] = "huge"
    with pytest.raises(AuditError, match=r"\(D3\): weight 'huge'"):
        parse_questionnaire(raw)
    raw = yaml.safe_load(QUESTIONS_FILE.read_text())
    raw["questions"][0]["levels"] = raw["questions"][0]["levels"][:4]
    with pytest.raises(AuditError, match=r"\(D1\): 'levels' must list"):
        parse_questionnaire(raw)
    raw = yaml.safe_load(QUESTIONS_FILE.read_text())
    raw["questions"][1]["id"] = "D1"
    with pytest.raises(AuditError, match="'D1' appears twice"):
        parse_questionnaire(raw)
    raw = yaml.safe_load(QUESTIONS_FILE.read_text())
    raw["questions"][0]["mts"] = ["Data 9"]
    with pytest.raises(AuditError, match="unknown ML Test Score"):
        parse_questionnaire(raw)


def test_answers_validation(questionnaire):
    ok = parse_answers({"model": "m", "answers": {"D1": {"level": 3, "evidence": "x"},
                                                  "D2": 2, "M8": {"level": "NA",
                                                                  "note": "no loop"}}},
                       questionnaire)
    assert ok.model == "m"
    assert ok.answers["D1"].level == 3 and ok.answers["D2"].level == 2
    assert ok.answers["M8"].na and ok.answers["M8"].level is None
    with pytest.raises(AuditError, match="'Z9': no such question"):
        parse_answers({"answers": {"Z9": {"level": 1}}}, questionnaire)
    with pytest.raises(AuditError, match="'D1': level must be 0-4"):
        parse_answers({"answers": {"D1": {"level": 5}}}, questionnaire)
    with pytest.raises(AuditError, match="'D1': level must be 0-4"):
        parse_answers({"answers": {"D1": {"level": 2.5}}}, questionnaire)
    with pytest.raises(AuditError, match="N/A needs a justification"):
        parse_answers({"answers": {"D1": {"level": "na"}}}, questionnaire)
    with pytest.raises(AuditError, match="expected a mapping"):
        parse_answers(["D1"], questionnaire)


def test_answer_files_yaml_and_json(tmp_path, questionnaire):
    (tmp_path / "a.yaml").write_text("model: churn\nanswers:\n  D3: {level: 2}\n")
    (tmp_path / "a.json").write_text(json.dumps({"answers": {"D3": {"level": 1}}}))
    (tmp_path / "bad.yaml").write_text("answers: [unclosed\n")
    assert read_answer_file(tmp_path / "a.yaml", questionnaire).answers["D3"].level == 2
    assert read_answer_file(tmp_path / "a.json", questionnaire).answers["D3"].level == 1
    with pytest.raises(AuditError, match="bad.yaml' cannot be parsed"):
        read_answer_file(tmp_path / "bad.yaml", questionnaire)
    with pytest.raises(AuditError, match="Cannot read answers file"):
        read_answer_file(tmp_path / "missing.yaml", questionnaire)
