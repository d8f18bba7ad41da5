"""`aidebt drift` as ../shared/CLI_CONTRACT.md says, and the drift charts built from results."""

import json

import numpy as np
import pandas as pd
import pytest

from aidebt_core.cli import main
from aidebt_core.drift import analyse_drift
from aidebt_core.drift.distribution import column_distribution
from aidebt_core.drift.over_time import drift_over_time
from aidebt_core.plots.drift import (
    distribution_figure,
    drift_heatmap,
    drift_overview,
    feature_over_time,
)
from aidebt_core.plots.theme import ALERT_COLOR
from aidebt_core.selection import sample_selection

CONTRACT = {"name": str, "kind": str, "method": str, "statistic": float, "p_value": float,
            "threshold": float, "drifted": bool, "missing_share_reference": float,
            "missing_share_current": float, "new_categories": list}


@pytest.fixture(scope="module")
def files(sample_dir):
    return str(sample_dir / "reference.parquet"), str(sample_dir / "current.parquet")


def run(capsys, *argv):
    code = main(["drift", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_follows_the_contract(capsys, files, ground_truth):
    code, out, err = run(capsys, *files, "--format", "json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["reference_rows"] == 60000 and doc["current_rows"] == 60000
    assert doc["dataset_drift"] is False and doc["drift_share_threshold"] == 0.5
    assert doc["drifted_share"] == pytest.approx(4 / 15)
    for col in doc["columns"]:
        for key, kind in CONTRACT.items():
            assert isinstance(col[key], kind), (col["name"], key)
        assert col["kind"] in ("numeric", "categorical")
    drifted = sorted(c["name"] for c in doc["columns"] if c["drifted"])
    assert drifted == sorted(ground_truth["data_drift"]["drifted_features"])
    channel = next(c for c in doc["columns"] if c["name"] == "channel")
    assert channel["new_categories"] == ["partner"]


def test_options_fail_on_drift_and_report(capsys, files, tmp_path):
    code, out, _ = run(capsys, *files, "--format", "json", "--columns", "income,age",
                       "--method", "ks", "--fail-on-drift=any")
    doc = json.loads(out)
    assert code == 1 and [c["name"] for c in doc["columns"]] == ["income", "age"]
    assert all(c["method"] == "ks" and c["threshold"] == 0.05 for c in doc["columns"])
    code, _, _ = run(capsys, *files, "--fail-on-drift", "--format", "json")
    assert code == 0  # 27% < 50%: no dataset drift
    code, _, _ = run(capsys, *files, "--fail-on-drift", "--drift-share", "0.2",
                     "--format", "json")
    assert code == 1
    code, out, _ = run(capsys, *files, "--exclude", "income", "--categorical", "term_months",
                       "--column-threshold", "credit_score=0.9", "--threshold", "0.2",
                       "--with-outputs", "--format", "json")
    cols = {c["name"]: c for c in json.loads(out)["columns"]}
    assert "income" not in cols and cols["term_months"]["kind"] == "categorical"
    assert cols["credit_score"]["threshold"] == 0.9 and not cols["credit_score"]["drifted"]
    assert cols["monthly_income"]["threshold"] == 0.2 and "default_score" in cols
    report = tmp_path / "drift.html"
    code, out, err = run(capsys, *files, "--report", str(report))
    assert code == 0 and "4 of 15 columns drifted" in out and "report written" in err
    html = report.read_text()
    assert "plotly" in html and "credit_score" in html and "Distributions of the drifted" in html


@pytest.mark.parametrize("argv,message", [
    (["--columns", "income,nope"], "'nope'"),
    (["--method", "magic"], "invalid choice"),
    (["--column-threshold", "income"], "COLUMN=NUMBER"),
    (["--drift-share", "0"], "--drift-share"),
    (["--column-threshold", "nope=0.2"], "'nope'"),
])
def test_bad_input_exits_2_with_a_clear_message(capsys, files, argv, message):
    try:
        code = main(["drift", *files, *argv])
    except SystemExit as exc:  # argparse refuses unknown choices itself
        code = exc.code
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    last = out.err.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last and "Traceback" not in out.err


def test_missing_file_and_disjoint_schemas(capsys, files, tmp_path):
    code, _, err = run(capsys, files[0], str(tmp_path / "nope.parquet"))
    assert code == 2 and "nope.parquet" in err
    frame = pd.read_parquet(files[1], columns=["age", "income"]).assign(extra=1.0)
    frame.to_parquet(tmp_path / "fewer.parquet")
    code, out, _ = run(capsys, files[0], str(tmp_path / "fewer.parquet"))
    assert code == 0 and "only in current (not compared): extra" in out
    assert "only in reference (not compared): application_id, applied_at" in out
    pd.DataFrame({"zzz": [1, 2]}).to_parquet(tmp_path / "other.parquet")
    code, _, err = run(capsys, files[0], str(tmp_path / "other.parquet"))
    assert code == 2 and "share no column" in err


def test_charts_reflect_the_results(sample_dir):
    with sample_selection(sample_dir).open() as data:
        result = analyse_drift(data.reference, data.current, data.schema)
        trend = drift_over_time(data.reference, data.current, ["income", "channel"],
                                ["numeric", "categorical"], "month", data.timestamp)
        dist = column_distribution(data.reference, data.current, "age", "numeric", 20)
        ref_ages = data.reference.df("SELECT age FROM \x00rows\x00")["age"]
    bars = drift_overview(result).data[0]
    by_name = dict(zip(bars.y, bars.x, strict=True))
    income = result.column("income")
    assert by_name["income"] == pytest.approx(income.statistic / income.threshold)
    colors = dict(zip(bars.y, bars.marker.color, strict=True))
    assert {n for n, c in colors.items() if c == ALERT_COLOR} == set(result.drifted_columns)
    heat = drift_heatmap(trend).data
    np.testing.assert_allclose(heat[0].z, trend.values / trend.thresholds[:, None])
    assert len(heat[1].x) == int(trend.alerts.sum())
    line = feature_over_time(trend, "channel").data[0]
    np.testing.assert_allclose(line.y, trend.values[1])
    ecdf = distribution_figure(dist, ecdf=True).data[0]
    edges = dist.edges[1:-1]  # the last edge's share includes values beyond it: 100 %
    np.testing.assert_allclose(ecdf.y[:-1], [(ref_ages < e).mean() for e in edges], rtol=1e-12)
    assert ecdf.y[-1] == pytest.approx(1.0)
