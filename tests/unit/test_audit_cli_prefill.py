"""`aidebt audit --prefill`: measured answers on the sample scenario (checked against the
planted truth), answers-file overrides recorded as the page records them, and bad input."""

from __future__ import annotations

import io
import json
import re
import sys

import pytest

from aidebt_core.audit.questions import load_questionnaire
from aidebt_core.audit.records import answers_from_dict
from aidebt_core.audit.scoring import score_audit
from aidebt_core.audit.store import AuditStore
from aidebt_core.cli import main


def _uri(sample_dir) -> str:
    return f"sqlite:///{(sample_dir / 'mlflow.db').as_posix()}"


def _data_args(sample_dir) -> list[str]:
    return ["--data", str(sample_dir / "applications.parquet"), "--timestamp", "applied_at",
            "--reference-end", "2025-07-01"]


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def full(sample_dir):
    """One pre-filled run on data and MLflow, no answers file (the slow part, run once)."""
    capture = pytest.MonkeyPatch()        # capsys is per test; this fixture runs once
    out = io.StringIO()
    capture.setattr(sys, "stdout", out)
    try:
        code = main(["audit", "--model", "credit-default", "--prefill", *_data_args(sample_dir),
                     "--tracking-uri", _uri(sample_dir), "--date", "2026-02-01",
                     "--format", "json"])
    finally:
        capture.undo()
    return code, json.loads(out.getvalue())


def test_prefill_without_answers_keeps_the_contract(full):
    code, payload = full
    assert code == 0
    assert set(payload) >= {"overall", "dimensions", "red_flags", "actions", "prefilled"}
    assert set(payload["dimensions"]) == {"data", "model", "configuration", "evaluation"}
    for item in payload["prefilled"]:
        assert set(item) >= {"question", "level", "figure", "source"}
        assert item["source"] == "measured" and item["answer_level"] == item["level"]
    # the payload's scores are the scores of exactly those measured answers
    answers = answers_from_dict({p["question"]: {"level": p["level"], "evidence": p["figure"],
                                                 "source": "measured"}
                                 for p in payload["prefilled"]})
    expected = score_audit(load_questionnaire(), answers, audit_date="2026-02-01")
    assert payload["overall"] == pytest.approx(expected.headline)
    for dim, value in expected.dimensions.items():
        assert payload["dimensions"][dim] == pytest.approx(value)
    assert payload["findings"]                      # open findings travel with the audit


def test_drift_question_prefilled_from_measured_drift(full, ground_truth):
    d3 = {p["question"]: p for p in full[1]["prefilled"]}["D3"]
    # the planted drift is debt found with nothing attested: the D3 rule proposes level 0
    assert d3["level"] == 0 and d3["link"] == "/drift"
    drifted = ground_truth["data_drift"]["drifted_features"]
    count = int(re.search(r": (\d+) of \d+ features drifted", d3["figure"]).group(1))
    assert count == len(drifted) and all(name in d3["figure"] for name in drifted)


def test_reproducibility_question_from_manifest_completeness(full, ground_truth):
    mlflow = ground_truth["mlflow"]
    production = mlflow["registered_models"]["credit-default"]["production_run"]
    prod = next(r for r in mlflow["runs"] if r["run_name"] == production)
    m4 = {p["question"]: p for p in full[1]["prefilled"]}["M4"]
    assert f"manifest {prod['completeness']:.0%} complete" in m4["figure"]
    assert m4["level"] == (2 if prod["completeness"] == 1.0 else 1)


def test_answers_override_prefill_and_are_recorded(sample_dir, tmp_path, capsys):
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "model: credit-default\n"
        "answers:\n"
        "  M1: {level: 3, note: 'CI tags every run', evidence: 'https://ci.example.com/tag'}\n"
        "  M4: {level: 2, evidence: 'https://wiki.example.com/manifest'}\n"
        "  P6: {level: 4, evidence: 'https://ci.example.com/gate'}\n")
    store = tmp_path / "audits.sqlite"
    assert main(["audit", "--prefill", "--tracking-uri", _uri(sample_dir), "--answers",
                 str(answers), "--save", "--store", str(store), "--format", "json"]) == 0
    payload = _json(capsys)
    shown = {p["question"]: p for p in payload["prefilled"]}
    assert shown["M1"]["source"] == "override" and shown["M1"]["level"] == 2
    assert shown["M1"]["answer_level"] == 3 and shown["M1"]["note"] == "CI tags every run"
    assert shown["M4"]["source"] == "measured"
    assert "P6" not in shown and payload["problems"] == []
    # data-based questions stay manual, saying why
    assert {u["question"] for u in payload["not_measured"]} >= {"D3", "E1"}
    saved = AuditStore(store).latest("credit-default")
    assert saved.answers["M1"].source == "override" and saved.answers["M1"].measured_level == 2
    assert saved.answers["M4"].evidence.startswith("https://wiki.example.com/manifest · "
                                                   "measured: ")
    assert saved.answers["M3"].source == "measured"           # pre-filled, not in the file
    items = {i["question"]: i for i in payload["items"]}
    assert items["M1"]["effective_level"] == 3 and items["P6"]["effective_level"] == 4


def test_override_without_note_is_not_saved(sample_dir, tmp_path, capsys):
    answers = tmp_path / "answers.yaml"
    answers.write_text("answers:\n  M1: {level: 4, evidence: 'https://ci.example.com/x'}\n")
    store = tmp_path / "audits.sqlite"
    base = ["audit", "--model", "credit-default", "--prefill", "--tracking-uri",
            _uri(sample_dir), "--answers", str(answers)]
    assert main([*base, "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert "M1: the measurement says level 2" in json.loads(captured.out)["problems"][0]
    assert "warning: M1" in captured.err
    assert main([*base, "--save", "--store", str(store)]) == 2
    assert "not saved: M1" in capsys.readouterr().err
    assert AuditStore(store).list_audits() == []


@pytest.mark.parametrize(("extra", "message"), [
    (["--model", "no-such-model", "--tracking-uri", "{uri}"],
     "no registered model 'no-such-model'"),
    (["--model", "credit-default", "--tracking-uri", "sqlite:////no/such/dir/mlflow.db"],
     "No MLflow database at '/no/such/dir/mlflow.db'"),
    (["--model", "credit-default", "--data", "{dir}/missing.parquet", "--timestamp",
      "applied_at", "--reference-end", "2025-07-01"], "missing.parquet': no such file"),
    (["--model", "credit-default", "--data", "{dir}/applications.parquet"],
     "One data source given and no split"),  # the shared message since issue 12
    (["--model", "fraud", "--data", "{dir}/applications.parquet", "--timestamp", "applied_at",
      "--reference-end", "2025-07-01", "--tracking-uri", "{uri}"],
     "lack 4 of fraud's 4 model features"),
    (["--model", "credit-default"], "--prefill needs --data"),
    ([], "--prefill needs --model"),
])
def test_bad_input_exits_2_with_one_error_line(sample_dir, capsys, extra, message):
    args = [a.format(uri=_uri(sample_dir), dir=sample_dir) for a in extra]
    assert main(["audit", "--prefill", *args, "--format", "json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_prefill_is_not_for_other_modes(capsys):
    assert main(["audit", "--prefill", "--questions"]) == 2
    assert main(["audit"]) == 2
    assert "give --answers FILE and/or --prefill" in capsys.readouterr().err


def test_table_output_lists_prefilled_and_unmeasured(sample_dir, tmp_path, capsys):
    report = tmp_path / "audit.md"
    assert main(["audit", "--model", "credit-default", "--prefill", "--tracking-uri",
                 _uri(sample_dir), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "pre-filled from measurements:" in out
    assert re.search(r"- M4 level [012] \(measured\): MLflow: credit-default 'production'", out)
    assert "- D3 not measured: measurement not available: no data given" in out
    assert "| M4 |" in report.read_text()
