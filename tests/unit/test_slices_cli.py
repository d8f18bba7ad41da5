"""`aidebt slices`: JSON as in CLI_CONTRACT.md, --fail-on-slice exit codes, bad input exit 2."""

import json

import numpy as np
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
    code, out = _run(capsys, sample_dir, "--format", "json", "--by", "channel", *FAST)
    assert code == 0, out.err
    doc = json.loads(out.out)
    worst = min(s["metric"] for s in [*doc["slices"], *doc["breakdown"]["slices"]])
    assert worst < doc["overall"]
    # exit 1 when a reported slice (found or breakdown) is below the floor, else 0
    code, _ = _run(capsys, sample_dir, "--by", "channel", "--fail-on-slice",
                   f"{worst + 0.001}", *FAST)
    assert code == 1
    code, out = _run(capsys, sample_dir, "--by", "channel", "--fail-on-slice",
                     f"{worst - 0.001}", *FAST)
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


def planted_table(path, n=10_000, seed=21):
    """10k rows x 20 features (integer, float, text, boolean) with labels `y`, predictions `p`,
    a miscalibrated `score` (too high everywhere) and a planted 2-condition weak slice:
    region = north and tenure_days < 100 (~1.8% of rows, errors 45% against 8%)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age": rng.integers(18, 80, n), "tenure_days": rng.integers(0, 1000, n),
        "year": rng.integers(2015, 2025, n), "n_accounts": rng.integers(0, 12, n),
        "income": rng.lognormal(10, 0.5, n), "balance": rng.normal(5000, 2000, n),
        "utilization": rng.uniform(0, 1, n), "latency_ms": rng.exponential(80, n),
        "rating": rng.normal(3.5, 0.8, n), "ratio": rng.beta(2, 5, n),
        "region": rng.choice(["north", "south", "east", "west", "centre"], n),
        "channel": rng.choice(["web", "app", "branch", "phone"], n),
        "device": rng.choice(["ios", "android", "desktop"], n),
        "plan": rng.choice(["free", "basic", "plus", "pro"], n),
        "segment": rng.choice([f"s{i}" for i in range(6)], n),
        "lang": rng.choice(["en", "de", "fr", "es", "it"], n),
        "tier": rng.choice(["gold", "silver", "bronze"], n),
        "source": rng.choice([f"src{i}" for i in range(7)], n),
        "weekday": rng.choice(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], n),
        "verified": rng.random(n) < 0.6,
    })
    weak = ((df.region == "north") & (df.tenure_days < 100)).to_numpy()
    y = (rng.random(n) < 0.3).astype(int)
    wrong = rng.random(n) < np.where(weak, 0.45, 0.08)
    p = np.where(wrong, 1 - y, y)
    score = np.clip(np.where(p == 1, 0.75, 0.35) + rng.normal(0, 0.1, n), 0, 1)
    df = df.assign(y=y, p=p, score=score)
    df.to_parquet(path, index=False)
    return df, weak


def test_planted_slice_first_and_significant_slices_before_the_rest(capsys, tmp_path):
    """Issue 16 done-when: defaults otherwise, the planted 2-condition slice comes first and
    every slice listed above a non-significant one is significant."""
    df, weak = planted_table(tmp_path / "planted.parquet")
    code = main(["slices", str(tmp_path / "planted.parquet"), "--target", "y", "--prediction",
                 "p", "--score", "score", "--max-order", "3", "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    doc = json.loads(out.out)
    assert doc["objective"] == "error" and doc["alpha_fdr"] == 0.05
    slices = doc["slices"]
    top = slices[0]
    assert set(top["slice"]) == {"region", "tenure_days"} and top["slice"]["region"] == "north"
    edge = top["slice"]["tenure_days"]
    assert edge.startswith("< ") and edge[2:].isdigit() and 80 <= int(edge[2:]) <= 120
    inside = (df.region == "north") & (df.tenure_days < int(edge[2:]))
    assert top["size"] == inside.sum()
    assert top["metric"] == pytest.approx((df.y == df.p)[inside].mean())
    assert top["significant"] and top["q_value"] < 1e-10
    flags = [s["significant"] for s in slices]
    first_not = flags.index(False) if False in flags else len(flags)
    assert all(flags[:first_not]) and not any(flags[first_not:])
    overall = (df.y == df.p).mean()
    for s in slices:   # significant = q below the level and worse than overall, nothing else
        assert s["significant"] == (s["q_value"] < 0.05 and s["metric"] < overall)
    assert doc["summary"]["weak_slices"] == sum(flags)
