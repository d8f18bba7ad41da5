"""`aidebt runs` on the sample store: the JSON contract, --fail-below, --diff, --registry,
--report, and bad input as `error: ...` with exit 2."""

from __future__ import annotations

import json

import pytest

from aidebt_core.cli import main


def _json(capsys, *argv) -> tuple[int, object]:
    code = main(["runs", *argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_json_matches_the_contract_and_the_truth(capsys, sample_dir, ground_truth):
    code, payload = _json(capsys, "--tracking-uri", str(sample_dir))
    assert code == 0
    planted = {r["run_name"]: r for r in ground_truth["mlflow"]["runs"]}
    assert {p["run_name"] for p in payload} == set(planted)
    for item in payload:
        assert {"run_id", "experiment", "completeness", "missing", "fields"} <= set(item)
        assert item["missing"] == planted[item["run_name"]]["missing"]
        assert item["completeness"] == planted[item["run_name"]]["completeness"]


def test_experiment_filter_and_required_fields(capsys, sample_dir):
    code, payload = _json(capsys, "--tracking-uri", f"sqlite:///{sample_dir / 'mlflow.db'}",
                          "--experiment", "fraud", "--required", "git_commit,model")
    assert code == 0 and [p["run_name"] for p in payload] == ["fraud-logreg"]
    assert payload[0]["completeness"] == 0.5 and payload[0]["missing"] == ["git_commit"]


def test_fail_below_gates_on_production_runs(capsys, sample_dir):
    # Production runs: logreg-prod 1.0, churn-rf 0.875, fraud-logreg 0.625.
    assert main(["runs", "--tracking-uri", str(sample_dir), "--fail-below", "0.6"]) == 0
    capsys.readouterr()
    assert main(["runs", "--tracking-uri", str(sample_dir), "--fail-below", "0.7"]) == 1
    err = capsys.readouterr().err
    assert "fraud v1 (production): completeness 62% < 70%" in err and "churn" not in err
    assert main(["runs", "--tracking-uri", str(sample_dir), "--fail-below", "0.9"]) == 1
    assert "churn v1" in capsys.readouterr().err


def test_diff_and_registry_views(capsys, sample_dir, ground_truth):
    code, diff = _json(capsys, "--tracking-uri", str(sample_dir),
                       "--diff", "logreg-prod", "hgb-challenger")
    assert code == 0 and diff["a"] == "logreg-prod" and diff["b"] == "hgb-challenger"
    differing = {r["key"] for r in diff["rows"] if r["section"] == "params" and not r["same"]}
    assert {k.split(" ")[0] for k in differing} == \
        set(ground_truth["mlflow"]["planted_diff"]["params_differ"])
    code, models = _json(capsys, "--tracking-uri", str(sample_dir), "--registry")
    by_name = {m["model"]: m for m in models}
    assert by_name["credit-default"]["version"] == 2
    assert by_name["credit-default"]["staleness"]["newer_run_count"] == 2


def test_report_is_written(tmp_path, capsys, sample_dir):
    out = tmp_path / "runs.html"
    assert main(["runs", "--tracking-uri", str(sample_dir), "--report", str(out)]) == 0
    text = out.read_text()
    assert "Manifest completeness per run" in text and "logreg-prod" in text


def test_bad_input_exits_2_with_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["runs"]) == 2
    assert capsys.readouterr().err.startswith("error: --tracking-uri is required")
    assert main(["runs", "--tracking-uri", str(tmp_path / "none.db")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    with pytest.raises(SystemExit) as stop:  # refused while parsing the options
        main(["runs", "--tracking-uri", str(tmp_path), "--fail-below", "2"])
    assert stop.value.code == 2
    assert "--fail-below: expected a finite number ≥ 0 and ≤ 1" in capsys.readouterr().err
