"""The command line with profiles: `aidebt profile`, `.aidebt` as reference/current, the
automatic switch above --profile-rows, --exact, and bad profile files (one error line)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest
from test_profiles_equivalence import make_loans  # noqa: E402

from aidebt_core.cli import main


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    make_loans(12_000, 11, False).to_parquet(folder / "ref.parquet")
    make_loans(9_000, 12, True, "2024-07-01").to_parquet(folder / "cur.parquet")
    roles = ["--target", "repaid", "--prediction", "y_pred", "--score", "y_pred_proba",
             "--timestamp", "applied_on"]
    assert main(["profile", str(folder / "ref.parquet"), "--chunk", "month", *roles,
                 "--out", str(folder / "ref.aidebt")]) == 0
    assert main(["profile", str(folder / "cur.parquet"), "--like", str(folder / "ref.aidebt"),
                 *roles, "--out", str(folder / "cur.aidebt")]) == 0
    return folder


def _json(capsys, argv, code=0):
    capsys.readouterr()
    assert main([*argv, "--format", "json"]) == code
    return json.loads(capsys.readouterr().out)


def test_drift_between_saved_profiles_matches_the_rows(folder, capsys):
    rows = _json(capsys, ["drift", str(folder / "ref.parquet"), str(folder / "cur.parquet")])
    saved = _json(capsys, ["drift", str(folder / "ref.aidebt"), str(folder / "cur.aidebt")])
    mixed = _json(capsys, ["drift", str(folder / "ref.aidebt"), str(folder / "cur.parquet")])
    assert saved["drifted_columns"] == rows["drifted_columns"] == mixed["drifted_columns"]
    assert set(rows["drifted_columns"]) >= {"income", "utilisation", "channel"}
    assert saved["labels"][0].endswith("(profile)") and saved["reference_rows"] == 12_000
    by_name = {c["name"]: c for c in saved["columns"]}
    exact_rows = {c["name"]: c for c in rows["columns"]}
    assert by_name["income"]["exact"] is False and by_name["income"]["bound"] > 0
    assert by_name["channel"]["exact"] is True
    assert by_name["channel"]["statistic"] == pytest.approx(exact_rows["channel"]["statistic"],
                                                            rel=1e-9)


def test_large_sides_switch_to_profiles_and_exact_says_what_it_cost(folder, capsys):
    args = ["drift", str(folder / "ref.parquet"), str(folder / "cur.parquet")]
    switched = _json(capsys, [*args, "--profile-rows", "10000"])
    assert any(c["exact"] is False for c in switched["columns"])
    below = _json(capsys, [*args, "--profile-rows", "20000"])
    assert all(c["exact"] is True for c in below["columns"])
    capsys.readouterr()
    assert main([*args, "--profile-rows", "10000", "--exact", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert all(c["exact"] for c in json.loads(out)["columns"])
    assert "--exact: exact reads of 12,000 rows a side took" in err and "MB" in err


def test_performance_from_saved_profiles_equals_the_rows(folder, capsys):
    roles = ["--target", "repaid", "--prediction", "y_pred", "--score", "y_pred_proba",
             "--timestamp", "applied_on", "--metric", "accuracy"]
    saved = _json(capsys, ["performance", str(folder / "ref.aidebt"), str(folder / "cur.aidebt"),
                           *roles])
    rows = _json(capsys, ["performance", str(folder / "ref.parquet"),
                          str(folder / "cur.parquet"), *roles])
    assert [c["rows"] for c in saved["chunks"]] == [c["rows"] for c in rows["chunks"]]
    for a, b in zip(saved["chunks"], rows["chunks"], strict=True):
        assert a["realized"] == pytest.approx(b["realized"], rel=1e-12)
    frame = pd.read_parquet(folder / "cur.parquet")
    first = frame[frame.applied_on < "2024-08-01"]
    assert saved["chunks"][6]["realized"] == pytest.approx(
        float(np.mean(first.repaid == first.y_pred)), rel=1e-12)


def _write(path, doc):
    with gzip.open(path, "wt") as fh:
        json.dump(doc, fh)


def test_bad_profiles_give_one_error_line(folder, capsys, tmp_path):
    doc = json.loads(gzip.open(folder / "ref.aidebt", "rt").read())
    _write(tmp_path / "old.aidebt", {**doc, "version": 0})
    (tmp_path / "junk.aidebt").write_bytes(b"\x1f\x8b garbage")
    other = {**doc, "plan": {**doc["plan"], "columns": doc["plan"]["columns"][:0]}}
    _write(tmp_path / "empty.aidebt", other)
    pd.DataFrame({"a": [1.0, 2.0] * 50, "b": ["x", "y"] * 50}).to_parquet(tmp_path / "o.parquet")
    assert main(["profile", str(tmp_path / "o.parquet"), "--out", str(tmp_path / "o.aidebt")]) == 0
    cases = [("old.aidebt", "version 0"), ("junk.aidebt", "junk.aidebt"),
             ("o.aidebt", "share no column")]
    for name, message in cases:
        capsys.readouterr()
        code = main(["drift", str(folder / "ref.aidebt"), str(tmp_path / name)])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and err[0].startswith("error:"), (name, err)
        assert message in err[0]
    capsys.readouterr()
    assert main(["slices", str(folder / "ref.aidebt"), str(folder / "cur.aidebt"),
                 "--target", "repaid", "--prediction", "y_pred"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "saved profile" in err and "\n" not in err


def test_dashboard_selection_reads_saved_profiles(folder):
    """What the pages run: a selection of two .aidebt files through the registry."""
    from aidebt_core.analyses import get
    from aidebt_core.selection import FILES, Selection
    from aidebt_core.sources import list_sources
    from aidebt_core.workspace import Workspace

    assert {"ref.aidebt", "cur.aidebt"} <= set(list_sources(Workspace.at(folder)))
    selection = Selection(workspace=str(folder), mode=FILES, reference="ref.aidebt",
                          current="cur.aidebt")
    with selection.open() as data:
        assert data.schema.first("target") == "repaid"
        drift = get("drift").run_on(data)
        perf = get("performance").run_on(data)
    assert drift.labels == ("ref.aidebt (profile)", "cur.aidebt (profile)")
    assert {"income", "utilisation", "channel"} <= set(drift.drifted_columns)
    months = [n for name in ("ref.parquet", "cur.parquet") for n in pd.read_parquet(
        folder / name).applied_on.dt.to_period("M").value_counts().sort_index()]
    assert [c.rows for c in perf.chunks] == months


def test_a_type_change_against_a_saved_profile_is_one_line_and_exclude_works(folder, capsys,
                                                                              tmp_path):
    frame = pd.read_parquet(folder / "cur.parquet")
    frame["income"] = frame["income"].round().astype(str) + " EUR"
    frame.to_parquet(tmp_path / "text.parquet")
    capsys.readouterr()
    assert main(["drift", str(folder / "ref.aidebt"), str(tmp_path / "text.parquet")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Type changed: 'income'") and "\n" not in err
    doc = _json(capsys, ["drift", str(folder / "ref.aidebt"), str(tmp_path / "text.parquet"),
                         "--exclude", "income"])
    assert "income" not in [c["name"] for c in doc["columns"]]
    assert doc["only_in_reference"] == [] and "utilisation" in doc["drifted_columns"]
