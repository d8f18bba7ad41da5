"""`aidebt audit`: the CLI contract's JSON, --fail-below, reports, store export/import."""

from __future__ import annotations

import json

import pytest

from aidebt_core.audit.questions import Answer, load_questionnaire, read_answer_file
from aidebt_core.audit.scoring import score_audit
from aidebt_core.audit.store import AuditStore
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
    payload = _json(capsys)
    assert main(["audit", "--answers", str(answers_file), "--report", str(md)]) == 0
    text, markdown = html.read_text(), md.read_text()
    # the small printable report: static SVG figures, no plotly script (issue 15)
    assert "AI technical debt audit: credit-default" in text and "<svg" in text
    # 4 of 37 answered: the headline says incomplete instead of a number (with its scale)
    assert payload["headline_text"] == "incomplete: 4 of 37 answered"
    assert "incomplete: 4 of 37 answered" in text
    assert "incomplete: 4 of 37 answered" in markdown
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


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_default_store_is_created_by_the_first_save_only(answers_file, tmp_path, monkeypatch,
                                                         capsys):
    from aidebt_core.audit.store import STORE_ENV

    monkeypatch.delenv(STORE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["audit", "--scorecard"]) == 0
    assert main(["audit", "--answers", str(answers_file)]) == 0       # scored, not saved
    assert main(["audit", "--export", "out.json"]) == 0
    assert not (tmp_path / ".aidebt").exists()
    assert main(["audit", "--answers", str(answers_file), "--save"]) == 0
    assert (tmp_path / ".aidebt" / "audits.sqlite").is_file()
    capsys.readouterr()


def test_export_refuses_the_store_and_existing_files(answers_file, tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    assert main(["audit", "--answers", str(answers_file), "--save", "--store", str(store)]) == 0
    before = store.read_bytes()
    (tmp_path / "alias.sqlite").symlink_to(store)
    for same in (store, tmp_path / "alias.sqlite"):
        capsys.readouterr()
        assert main(["audit", "--export", str(same), "--store", str(store), "--force"]) == 2
        assert "is the audit store itself" in _one_error_line(capsys)
    assert store.read_bytes() == before
    out = tmp_path / "out.json"
    out.write_text("precious")
    assert main(["audit", "--export", str(out), "--store", str(store)]) == 2
    assert "--force" in _one_error_line(capsys) and out.read_text() == "precious"
    assert main(["audit", "--export", str(out), "--store", str(store), "--force",
                 "--format", "json"]) == 0
    assert _json(capsys) == {"exported": 1, "file": str(out)}
    assert json.loads(out.read_text())["audits"][0]["model"] == "credit-default"


@pytest.mark.parametrize(("change", "fragment"), [
    ({"audited_at": "not-a-date"}, "field 'audited_at': not a date"),
    ({"auditor": ["a", "list"]}, "field 'auditor': Input should be a valid string"),
    ({"answers": {"ZZ1": {"level": 1}}}, "field 'answers.ZZ1': no such question"),
    ({"answers": {"D1": {"level": 9}}}, "field 'answers.D1.level': level must be 0-4"),
])
def test_import_checks_every_audit_first(answers_file, tmp_path, capsys, change, fragment):
    source = tmp_path / "source.sqlite"
    assert main(["audit", "--answers", str(answers_file), "--save", "--store", str(source),
                 "--format", "json"]) == 0
    capsys.readouterr()
    document = AuditStore(source).export_json()
    bad = {**document["audits"][0], "id": "bad-one", **change}
    document["audits"].append(bad)
    file = tmp_path / "in.json"
    file.write_text(json.dumps(document))
    target = tmp_path / "target" / "audits.sqlite"
    assert main(["audit", "--import", str(file), "--store", str(target)]) == 2
    line = _one_error_line(capsys)
    assert f"{file}: audit #2 (id bad-one): {fragment}" in line
    assert not target.parent.exists()                       # nothing written, not even a folder


@pytest.mark.parametrize("content", [b"\xff\xfe\x00 not utf-8", b"[" * 100_000,
                                     b"format: aidebt-audits\naudits: *a\n"])
def test_import_of_a_hostile_file_is_one_error_line(tmp_path, capsys, content):
    file = tmp_path / "in.json"
    file.write_bytes(content)
    assert main(["audit", "--import", str(file), "--store", str(tmp_path / "s.sqlite")]) == 2
    _one_error_line(capsys)
    assert not (tmp_path / "s.sqlite").exists()


@pytest.mark.parametrize(("text", "fragment"), [
    (b"model: m\nanswers:\n  D1: {level: 2, measured_level: abc}\n", "measured_level"),
    (b"model: m\nanswers:\n  D1: {level: 2, evidence_date: 2025-13-45}\n", "real date"),
    (b"model: m\nanswers:\n  D1: {level: 2, evidence_date: '2025-13-45'}\n", "evidence_date"),
    (b"model: m\nanswers:\n  D1: {level: 2}\n\xff\xfe", "not UTF-8"),
    (b"[" * 100_000, "nests more than"),
])
def test_hostile_answers_files_are_one_error_line(tmp_path, capsys, text, fragment):
    file = tmp_path / "answers.yaml"
    file.write_bytes(text)
    assert main(["audit", "--answers", str(file)]) == 2
    assert fragment in _one_error_line(capsys)


def test_withdraw_keeps_the_audit_and_takes_it_off_the_scorecard(answers_file, tmp_path,
                                                                  capsys):
    store = tmp_path / "s.sqlite"
    ids = []
    for day in ("2025-01-10", "2025-03-10"):
        assert main(["audit", "--answers", str(answers_file), "--save", "--store", str(store),
                     "--date", day, "--format", "json"]) == 0
        ids.append(_json(capsys)["saved_id"])
    assert main(["audit", "--withdraw", ids[1], "--store", str(store)]) == 2
    assert "needs a reason" in _one_error_line(capsys)
    assert main(["audit", "--withdraw", ids[1], "--reason", "wrong data", "--auditor", "ann",
                 "--store", str(store), "--format", "json"]) == 0
    out = _json(capsys)
    assert (out["withdrawn"], out["by"], out["reason"]) == (ids[1], "ann", "wrong data")
    assert main(["audit", "--scorecard", "--store", str(store), "--format", "json"]) == 0
    row = _json(capsys)["models"][0]
    assert (row["audited_at"], row["audits"], row["trend"]) == ("2025-01-10", 1, None)
    assert main(["audit", "--withdraw", ids[1], "--reason", "again", "--store",
                 str(store)]) == 2
    assert "already withdrawn" in _one_error_line(capsys)
    assert main(["audit", "--withdraw", "nosuchid", "--reason", "x", "--store",
                 str(store)]) == 2
    assert "no audit with id 'nosuchid'" in _one_error_line(capsys)
    history = AuditStore(store).list_audits()
    assert [r.id for r in history] == ids and history[1].withdrawn.reason == "wrong data"


def test_scorecard_skips_a_bad_stored_record_with_a_warning(answers_file, tmp_path, capsys):
    import sqlite3

    store = tmp_path / "s.sqlite"
    assert main(["audit", "--answers", str(answers_file), "--save", "--store", str(store),
                 "--date", "2025-01-10"]) == 0
    con = sqlite3.connect(store)
    con.execute("INSERT INTO audits SELECT 'bad-one', 'other', model_version, 'not-a-date', "
                "questionnaire_version, auditor, saved_at, payload FROM audits")
    con.commit()
    con.close()
    capsys.readouterr()
    assert main(["audit", "--scorecard", "--store", str(store), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert [r["model"] for r in json.loads(captured.out)["models"]] == ["credit-default"]
    assert "warning: Skipped audit bad-one (other, not-a-date)" in captured.err


def test_partial_save_stays_off_the_scorecard_and_sign_off_is_final(answers_file, tmp_path,
                                                                     capsys):
    store = str(tmp_path / "s.sqlite")
    base = ["audit", "--answers", str(answers_file), "--save", "--store", store,
            "--format", "json"]
    assert main([*base, "--partial", "--date", "2026-01-01"]) == 0
    partial = _json(capsys)
    assert partial["partial"] is True
    assert main(["audit", "--scorecard", "--store", store, "--format", "json"]) == 0
    assert _json(capsys)["models"] == []
    assert main([*base, "--date", "2026-01-02"]) == 0             # incomplete, saved anyway
    captured = capsys.readouterr()
    saved = json.loads(captured.out)["saved_id"]
    assert "warning: saving an incomplete: 4 of 37 answered audit as complete" in captured.err
    assert main(["audit", "--scorecard", "--store", store, "--format", "json"]) == 0
    assert [m["audited_at"] for m in _json(capsys)["models"]] == ["2026-01-02"]
    assert main(["audit", "--sign-off", saved, "--store", store, "--format", "json"]) == 2
    assert "needs the reviewer's name" in capsys.readouterr().err
    assert main(["audit", "--sign-off", saved, "--reviewer", "Rita", "--store", store,
                 "--format", "json"]) == 0
    assert _json(capsys)["by"] == "Rita"
    assert main(["audit", "--withdraw", saved, "--reason", "oops", "--auditor", "Bo",
                 "--store", store]) == 2
    assert "only superseded" in capsys.readouterr().err
    assert main(["audit", "--answers", str(answers_file), "--partial"]) == 2
    assert "--partial goes with --save" in capsys.readouterr().err
