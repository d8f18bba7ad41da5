"""`aidebt audit`: the CLI contract's JSON, --fail-below, reports, store export/import."""

from __future__ import annotations

import json

import pytest

from aidebt_core.audit.questions import Answer, load_questionnaire, read_answer_file
from aidebt_core.audit.scoring import score_audit
from aidebt_core.cli import main

ANSWERS = """\
model: credit-default
model_version: "2"
answers:
  D3: {level: 3, evidence: "https://ci.example.com/drift-monitor"}
  D2: {level: 4, evidence: "we check it"}
  M8: {level: na, note: "no feedback loop: decisions do not change future labels"}
  E1: 2
"""


@pytest.fixture
def answers_file(tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text(ANSWERS)
    return path


def _json(capsys) -> dict:
    out = capsys.readouterr().out
    return json.loads(out)


def test_json_matches_contract_and_scoring(answers_file, capsys):
    assert main(["audit", "--answers", str(answers_file), "--format", "json"]) == 0
    payload = _json(capsys)
    assert set(payload["dimensions"]) == {"data", "model", "configuration", "evaluation"}
    assert isinstance(payload["red_flags"], list)
    assert all(set(a) >= {"question", "gain"} for a in payload["actions"])
    q = load_questionnaire()
    expected = score_audit(q, read_answer_file(answers_file, q).answers)
    assert payload["overall"] == pytest.approx(expected.headline)
    assert payload["dimensions"]["data"] == pytest.approx(expected.dimensions["data"])
    # D2 asserted at 4 is capped at 2; D3 linked at 3 counts 3
    items = {i["question"]: i for i in payload["items"]}
    assert items["D2"]["effective_level"] == 2 and items["D3"]["effective_level"] == 3


def test_fail_below(answers_file, capsys):
    assert main(["audit", "--answers", str(answers_file), "--fail-below", "0"]) == 0
    assert main(["audit", "--answers", str(answers_file), "--fail-below", "5"]) == 1
    err = capsys.readouterr().err
    assert "below --fail-below 5" in err


def test_bad_answers_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("answers:\n  D1: {level: 7}\n")
    assert main(["audit", "--answers", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bad.yaml" in err and "level must be 0-4" in err
    assert main(["audit", "--answers", str(tmp_path / "none.yaml")]) == 2


def test_questions_json(capsys):
    assert main(["audit", "--questions", "--format", "json"]) == 0
    rows = _json(capsys)
    assert len(rows) == len(load_questionnaire().questions)
    assert {"id", "dimension", "text", "weight"} <= set(rows[0])


def test_reports_contain_the_scores(answers_file, tmp_path, capsys):
    html, md = tmp_path / "r.html", tmp_path / "r.md"
    assert main(["audit", "--answers", str(answers_file), "--report", str(html),
                 "--format", "json"]) == 0
    overall = _json(capsys)["overall"]
    assert main(["audit", "--answers", str(answers_file), "--report", str(md)]) == 0
    text, markdown = html.read_text(), md.read_text()
    assert "AI technical debt audit: credit-default" in text and "plotly" in text
    assert f"Headline health {overall:.1f} / 10" in text
    assert f"Headline health {overall:.1f} / 10" in markdown
    assert "| D3 | Data |" in markdown
    assert main(["audit", "--answers", str(answers_file), "--report",
                 str(tmp_path / "r.pdf")]) == 2


def test_save_scorecard_export_import(answers_file, tmp_path, capsys):
    store, other = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    assert main(["audit", "--answers", str(answers_file), "--save", "--store", str(store),
                 "--auditor", "team", "--date", "2025-05-01", "--format", "json"]) == 0
    saved = _json(capsys)
    assert saved["saved_id"]
    assert main(["audit", "--scorecard", "--store", str(store), "--format", "json"]) == 0
    rows = _json(capsys)["models"]
    assert rows[0]["model"] == "credit-default"
    assert rows[0]["headline"] == pytest.approx(saved["overall"])
    export = tmp_path / "export.json"
    assert main(["audit", "--export", str(export), "--store", str(store)]) == 0
    assert main(["audit", "--import", str(export), "--store", str(other), "--format",
                 "json"]) == 0
    capsys.readouterr()
    assert json.loads(export.read_text())["audits"][0]["id"] == saved["saved_id"]
    assert main(["audit", "--import", str(export), "--store", str(other), "--format",
                 "json"]) == 0
    assert _json(capsys) == {"added": 0, "already_present": 1}


def test_corrupt_store_is_a_clear_error(answers_file, tmp_path, capsys):
    store = tmp_path / "audits.sqlite"
    store.write_bytes(b"not sqlite at all" * 100)
    assert main(["audit", "--scorecard", "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert "not a readable aidebt audit store" in err and str(store) in err
    assert store.read_bytes() == b"not sqlite at all" * 100


def test_unanswered_counts_as_zero():
    q = load_questionnaire()
    empty = score_audit(q, {})
    assert empty.headline == 0.0 and empty.weighted_mean == 0.0
    one = score_audit(q, {"P9": Answer(level=2)})
    assert one.dimensions["configuration"] > 0 and one.answered == 1
