"""`aidebt entanglement`: the JSON contract, exit codes and one-line errors."""

import json

import numpy as np
import pandas as pd
import pytest

from aidebt_core.cli import main


def _run(capsys, *args):
    code = main(["entanglement", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_contract_on_the_sample(capsys, sample_dir, ground_truth, monkeypatch):
    monkeypatch.chdir(sample_dir)
    code, out, err = _run(capsys, "applications.parquet", "--timestamp", "applied_at",
                          "--reference-end", ground_truth["reference_end"], "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    columns = payload["columns"]
    assert set(ground_truth["model_features"]) <= set(columns)
    assert {"defaulted", "default_score", "applied_at"}.isdisjoint(columns)
    matrix = np.array(payload["matrix"], dtype=float)
    assert matrix.shape == (len(columns), len(columns))
    reference = pd.read_parquet(sample_dir / "reference.parquet")
    i, j = columns.index("income"), columns.index("monthly_income")
    assert matrix[i, j] == pytest.approx(reference.income.corr(reference.monthly_income),
                                         abs=1e-9)
    for pair in ground_truth["redundant_pairs"]:
        assert any(set(pair) <= set(g) for g in payload["groups"])
    first = payload["pairs"][0]
    assert set(first) >= {"a", "b", "value", "method"} and first["value"] == pytest.approx(1.0)
    changed = payload["change"]["pairs"]
    assert len(changed) == 1 and {changed[0]["a"], changed[0]["b"]} == {"income",
                                                                        "monthly_income"}


def test_fail_on_change_exit_code_and_table_output(capsys, sample_dir, monkeypatch):
    monkeypatch.chdir(sample_dir)
    code, out, _ = _run(capsys, "reference.parquet", "--current", "current.parquet",
                        "--fail-on-change", "--columns",
                        "income,monthly_income,region,region_code,credit_score")
    assert code == 1
    assert "Redundant groups" in out and "income" in out and "Changed pairs" in out
    code, _, _ = _run(capsys, "reference.parquet", "--current", "reference.parquet",
                      "--fail-on-change", "--columns", "income,monthly_income")
    assert code == 0


def test_methods_and_threshold_options(capsys, sample_dir, monkeypatch):
    monkeypatch.chdir(sample_dir)
    code, out, _ = _run(capsys, "reference.parquet", "--method", "theils_u", "--columns",
                        "region,region_code,channel,device_os", "--threshold", "0.99",
                        "--format", "json")
    assert code == 0
    payload = json.loads(out)
    methods = {m for row in payload["methods"] for m in row} - {"self"}
    assert methods == {"theils_u"}
    values = {(p["a"], p["b"]): p["value"] for p in payload["pairs"]}
    # device_os determines channel (U = 1) but not the other way round: asymmetric.
    assert values[("channel", "device_os")] == pytest.approx(1.0)
    assert values[("device_os", "channel")] < 0.9
    # Groups use the stronger direction.
    assert sorted(map(sorted, payload["groups"])) == [["channel", "device_os"],
                                                      ["region", "region_code"]]


@pytest.mark.parametrize("args,message", [
    (["--columns", "income"], "at least two feature columns"),
    (["--columns", "income,nope"], "No column 'nope'"),
    (["--target", "nope"], "--target 'nope' is not a column"),
    # --timestamp alone is a role now (issue 12); a row split must leave a current part.
    (["--reference-rows", "99999999"], "--reference-rows 99999999"),
    (["--columns", "income,default_score"], "role 'score'"),
])
def test_bad_input_exits_2_with_one_error_line(capsys, sample_dir, monkeypatch, args, message):
    monkeypatch.chdir(sample_dir)
    code, out, err = _run(capsys, "reference.parquet", *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_report_is_written(capsys, sample_dir, monkeypatch, tmp_path):
    monkeypatch.chdir(sample_dir)
    out_file = tmp_path / "ent.html"
    code, _, err = _run(capsys, "reference.parquet", "--current", "current.parquet", "--columns",
                        "income,monthly_income,region", "--report", out_file)
    assert code == 0 and "report written" in err
    html = out_file.read_text()
    assert "Feature entanglement" in html and "Ripple risk" in html and "monthly_income" in html
