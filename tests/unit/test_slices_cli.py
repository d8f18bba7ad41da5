"""`aidebt slices`: JSON as in CLI_CONTRACT.md, --fail-on-slice exit codes, bad input exit 2."""

import json

import pandas as pd
import pytest

from aidebt_core.cli import main

SAMPLE_ARGS = ["--target", "defaulted", "--prediction", "predicted_default",
               "--score", "default_score"]
FAST = ["--columns", "channel,account_age_days,debt_to_income", "--max-order", "2"]


def _run(capsys, sample_dir, *args):
    code = main(["slices", str(sample_dir / "applications.parquet"), *SAMPLE_ARGS, *args])
    out = capsys.readouterr()
    return code, out


def test_json_follows_the_contract_and_finds_the_weak_slice(capsys, sample_dir):
    code, out = _run(capsys, sample_dir, "--timestamp", "applied_at", "--reference-end",
                     "2025-07-01", "--format", "json", "--by", "channel", *FAST)
    assert code == 0, out.err
    doc = json.loads(out.out)
    assert doc["metric"] == "accuracy"
    df = pd.read_parquet(sample_dir / "applications.parquet")
    cur = df[(df.applied_at >= "2025-07-01") & df.defaulted.notna()]
    assert doc["overall"] == pytest.approx((cur.defaulted == cur.predicted_default).mean())
    keys = {"slice", "size", "metric", "ci_low", "ci_high", "p_value", "q_value", "score",
            "significant"}
    assert all(keys <= set(s) for s in doc["slices"])
    # Issue 16: significant slices first, each group by score (worst first).
    flags = [s["significant"] for s in doc["slices"]]
    assert flags == sorted(flags, reverse=True)
    for flag in (True, False):
        scores = [s["score"] for s in doc["slices"] if s["significant"] is flag]
        assert scores == sorted(scores, reverse=True)
    assert all(s["q_value"] < 0.05 and s["metric"] < doc["overall"]
               for s in doc["slices"] if s["significant"])
    # With error as the default objective, the sample's concept drift on debt_to_income
    # comes first; the planted mobile/new-account slice is among the significant ones.
    mobile = [s for s in doc["slices"] if s["slice"].get("channel") == "mobile"
              and s["slice"].get("account_age_days", "").startswith("< ")]
    assert mobile and mobile[0]["significant"]
    top = mobile[0]
    inside = cur[(cur.channel == "mobile")
                 & (cur.account_age_days < float(top["slice"]["account_age_days"][2:]))]
    assert top["size"] == len(inside)
    assert top["metric"] == pytest.approx((inside.defaulted == inside.predicted_default).mean())
    mobile = [s for s in doc["breakdown"]["slices"] if s["slice"] == {"channel": "mobile"}]
    assert mobile[0]["size"] == (cur.channel == "mobile").sum()
    change = next(c for c in doc["changes"] if c["slice"] == top["slice"])
    assert change["worsened"] is True


def test_fail_on_slice_exit_codes(capsys, sample_dir):
    code, _ = _run(capsys, sample_dir, "--fail-on-slice", "0.75", *FAST)
    assert code == 1  # over all labelled months the weak slice's accuracy is ~0.71
    code, out = _run(capsys, sample_dir, "--fail-on-slice", "0.3", *FAST)
    assert code == 0, out.err
    assert "overall accuracy" in out.out


def test_report_is_written(capsys, sample_dir, tmp_path):
    target = tmp_path / "slices.html"
    code, _ = _run(capsys, sample_dir, "--report", str(target), *FAST)
    assert code == 0
    text = target.read_text()
    assert "Weak slices found" in text and "channel = mobile" in text


def test_user_edges_define_the_breakdown_bins(capsys, sample_dir):
    code, out = _run(capsys, sample_dir, "--by", "account_age_days", "--edges",
                     "account_age_days=90,365", "--format", "json", *FAST)
    assert code == 0, out.err
    doc = json.loads(out.out)
    labels = [s["slice"]["account_age_days"] for s in doc["breakdown"]["slices"]]
    assert labels == ["< 90", "[90, 365)", ">= 365"]
    df = pd.read_parquet(sample_dir / "applications.parquet")
    df = df[df.defaulted.notna()]
    assert doc["breakdown"]["slices"][0]["size"] == (df.account_age_days < 90).sum()


@pytest.mark.parametrize("args,message", [
    (["--edges", "age=young"], "--edges: 'age=young'"),
    (["--columns", "no_such_column"], "no_such_column"),
    # --timestamp alone is now a role; a split needs --reference-end, and a second source
    # cannot also be split (issue 12: one way to give reference and current).
    (["--reference-rows", "10", "--reference-end", "2025-07-01"], "not both"),
    (["--metric", "positive_rate", "--fail-on-slice", "0.1"], "better direction"),
])
def test_bad_input_exits_2_with_one_error_line(capsys, sample_dir, args, message):
    code, out = _run(capsys, sample_dir, *args)
    assert code == 2
    assert out.err.strip().startswith("error:") and message in out.err
    assert "Traceback" not in out.err
