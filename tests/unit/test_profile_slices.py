"""Slices from profiles (profiles/slices.py) give the exact path's answer on the same data.

Generated data (tests/unit/test_profile_slices_data.py): 10,000 rows, 12 features with
hostile names, NaN/±inf, NULL categories, missing labels, integer `year`, a planted weak slice
of two conditions. Each case runs `aidebt slices` three ways — exact reads, profiles forced by
`--profile-rows 1`, and a saved profile made with `aidebt profile --for slices` — and compares
the whole JSON answer: slices, sizes, metrics, intervals, p- and q-values, the search's
counters, breakdown and reference-vs-current changes.
"""

from __future__ import annotations

import io
import json
import math
from contextlib import chdir, redirect_stderr, redirect_stdout

import pyarrow.parquet as pq
import pytest

from aidebt_core.cli import main
from tests.unit.test_profile_slices_data import CHANNEL, INCOME, OUTPUTS, planted

ROLES = ["--target", OUTPUTS["target"], "--prediction", OUTPUTS["prediction"],
         "--score", OUTPUTS["score"]]
COMPARED = ("metric", "overall", "overall_ci", "rows", "reference_overall",
            "reference_overall_ci", "slices", "breakdown", "changes", "breakdown_changes",
            "search", "summary", "slices_overall", "objective")


def run(folder, *args) -> tuple[int, dict | None, str]:
    out, err = io.StringIO(), io.StringIO()
    with chdir(folder), redirect_stdout(out), redirect_stderr(err):
        code = main([*args])
    text = out.getvalue()
    return code, (json.loads(text) if code == 0 and text.strip().startswith("{") else None), \
        err.getvalue()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("slices_profiles")
    pq.write_table(planted(0), d / "data.parquet")
    pq.write_table(planted(1, weak=0.1), d / "ref.parquet")
    pq.write_table(planted(2, weak=0.45), d / "cur.parquet")
    return d


def close(a, b, path="") -> None:
    """Equal JSON, floats to 1e-9 relative (sums of residuals add in another order)."""
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            assert a == b, path
        else:
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (
                math.isnan(a) and math.isnan(b)), (path, a, b)
    elif isinstance(a, dict):
        assert set(a) == set(b), (path, set(a) ^ set(b))
        for k in a:
            close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            close(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


def same_answer(exact: dict, profiled: dict) -> None:
    for key in COMPARED:
        close(exact.get(key), profiled.get(key), key)


@pytest.fixture(scope="module")
def single(folder):
    """One source: exact, profiles above a 1-row switch, a saved profile --for slices."""
    ws = []
    args = ["slices", "data.parquet", *ROLES, *ws, "--format", "json"]
    code, saved, err = run(folder, "profile", "data.parquet", *ROLES, *ws, "--for", "slices",
                           "--out", str(folder / "data.aidebt"))
    assert code == 0, err
    return {"exact": run(folder, *args)[1],
            "switch": run(folder, *args, "--profile-rows", "1")[1],
            "saved": run(folder, "slices", "data.aidebt", *ws, "--format", "json")[1]}


def test_planted_slice_found_first_from_profiles(single):
    for how in ("switch", "saved"):
        top = single[how]["slices"][0]
        assert top["slice"] == {INCOME: "< 31100", CHANNEL: "mobile"}, how
        assert top["significant"] and top["metric"] < single[how]["overall"] - 0.15
        assert "Computed from profiles" in single[how]["notes"][-1]


@pytest.mark.parametrize("how", ["switch", "saved"])
def test_whole_answer_equals_the_exact_path(single, how):
    same_answer(single["exact"], single[how])
    assert single[how]["search"]["tests"] > 100_000    # the BH family: identical, not small


def test_unlabelled_rows_and_folded_values_noted_as_on_rows(single):
    for how in ("switch", "saved"):
        for note in single["exact"]["notes"]:
            assert note in single[how]["notes"], (how, note)


@pytest.fixture(scope="module")
def compared(folder):
    """Reference and current, F1, a breakdown by the channel, order 2. (Not `region`: with
    25 values its 20 kept ones are counted over both sides on rows, over the reference alone
    in a saved reference profile — docs/profiles.md says so.)"""
    ws = []
    columns = ",".join(c for c in planted(0, 10).column_names
                       if c not in (*OUTPUTS.values(), "region"))
    args = ["slices", "ref.parquet", "cur.parquet", *ROLES, *ws, "--format", "json",
            "--metric", "f1", "--by", CHANNEL, "--max-order", "2", "--columns", columns]
    code, _, err = run(folder, "profile", "ref.parquet", *ROLES, *ws, "--for", "slices",
                       "--out", str(folder / "ref.aidebt"))
    assert code == 0, err
    saved_args = ["slices", "ref.aidebt", "cur.parquet", *args[3:]]
    return {"exact": run(folder, *args)[1],
            "switch": run(folder, *args, "--profile-rows", "1")[1],
            "saved": run(folder, *saved_args)[1]}


@pytest.mark.parametrize("how", ["switch", "saved"])
def test_reference_current_breakdown_and_changes_equal(compared, how):
    exact = compared["exact"]
    assert exact["changes"] and exact["breakdown"]["slices"]
    assert any(c["worsened"] for c in exact["changes"])        # the slice got worse
    same_answer(exact, compared[how])


def test_calibration_objective_equal(folder):
    ws = []
    args = ["slices", "data.parquet", *ROLES, *ws, "--format", "json", "--objective",
            "calibration", "--max-order", "2", "--columns", f"{INCOME},{CHANNEL},age,year,flag"]
    exact, profiled = run(folder, *args)[1], run(folder, *args, "--profile-rows", "1")[1]
    assert exact["slices"] and "gap" in exact["slices"][0]
    same_answer(exact, profiled)


def test_roc_auc_and_a_profile_without_the_section_refused_in_one_line(folder):
    ws = []
    code, _, err = run(folder, "slices", "data.parquet", *ROLES, *ws, "--metric", "roc_auc",
                       "--profile-rows", "1")
    assert code == 2 and err.startswith("error: ") and "roc_auc" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = run(folder, "profile", "data.parquet", *ROLES, *ws,
                       "--out", str(folder / "plain.aidebt"))
    assert code == 0, err
    code, _, err = run(folder, "slices", "plain.aidebt", *ws)
    assert code == 2 and "--for slices" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(folder, "profile", "data.parquet", *ROLES, "--for", "slices,nothing",
                       "--out", "x.aidebt")
    assert code == 2 and "--for nothing" in err and len(err.strip().splitlines()) == 1
    assert not (folder / "x.aidebt").exists()


def test_profile_chunked_by_month_merges_to_the_same_answer(folder):
    """Per-month sections (`--chunk month`), merged over the months, give the rows' answer."""
    import numpy as np
    import pyarrow as pa

    table = planted(3)
    days = np.random.default_rng(3).integers(0, 120, table.num_rows)
    when = pa.array(np.datetime64("2025-01-01") + days.astype("timedelta64[D]"))
    pq.write_table(table.append_column("applied_at", when), folder / "dated.parquet")
    dated = [*ROLES, "--timestamp", "applied_at"]
    code, _, err = run(folder, "profile", "dated.parquet", *dated, "--chunk", "month",
                       "--for", "slices", "--out", "dated.aidebt")
    assert code == 0, err
    from aidebt_core.profiles.model import load

    profile = load(folder / "dated.aidebt")
    assert len(profile.chunks) == 4
    assert all(c.section("slices").cells > 0 for c in profile.chunks)
    shown = ["--format", "json", "--max-order", "2"]
    exact = run(folder, "slices", "dated.parquet", *dated, *shown)[1]
    saved = run(folder, "slices", "dated.aidebt", *shown)[1]
    same_answer(exact, saved)
