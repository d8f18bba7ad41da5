"""Entanglement from profiles (profiles/entanglement.py): the matrix read from the cross
section equals the row path's on all rows (≤ 1e-9), through `analyse`, the CLI with a saved
profile and a table above the profile switch; what it cannot do says so in one line."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aidebt_core.cli import main
from aidebt_core.entanglement import association_matrix
from aidebt_core.errors import AidebtError, OptionError
from aidebt_core.profiles import cross
from aidebt_core.profiles.entanglement import analyse_routed, matrix_from_section, side_section
from aidebt_core.profiles.source import open_profile
from tests.unit.test_profile_cross import KINDS, cross_frame, open_frame


def assert_same_matrix(exact, profiled, tol: float = 1e-9) -> float:
    """Same columns (clustered order), kinds, measures, row counts, blank cells and their
    reasons; values within `tol`. Returns the largest difference."""
    assert profiled.columns == exact.columns
    assert profiled.kinds == exact.kinds
    assert (profiled.methods == exact.methods).all()
    assert (profiled.counts == exact.counts).all()
    assert profiled.undefined == exact.undefined
    assert np.array_equal(np.isnan(profiled.values), np.isnan(exact.values))
    diff = float(np.nanmax(np.abs(profiled.values - exact.values)))
    assert diff <= tol
    assert profiled.rows_used == exact.rows_used == exact.rows_total
    return diff


@pytest.mark.parametrize("method", ["auto", "theils_u", "pearson", "cramers_v"])
def test_matrix_from_the_section_equals_the_rows(tmp_path, method):
    table = open_frame(tmp_path, cross_frame(11, 4000), "a")
    exact = association_matrix(table, KINDS, method, max_rows=None)
    section, config = side_section(table, KINDS)
    profiled = matrix_from_section(section, config, KINDS, method, table.label)
    assert_same_matrix(exact, profiled)
    assert profiled.notes == exact.notes    # the cut of 'branch', the constant
    assert any("'branch' has 120 distinct values" in n for n in profiled.notes)
    # the planted relations are there: twin ~ year, region ~ twin
    assert profiled.value("twin", "year") > 0.9 and profiled.value("region", "twin") > 0.5


def test_missing_and_single_level_columns_as_the_rows_say(tmp_path):
    frame = cross_frame(12, 500).assign(empty=np.nan, lonely="only",
                                        none_cat=None)
    kinds = {**KINDS, "empty": "numeric", "lonely": "categorical", "none_cat": "categorical"}
    table = open_frame(tmp_path, frame, "a")
    exact = association_matrix(table, kinds, max_rows=None)
    section, config = side_section(table, kinds)
    profiled = matrix_from_section(section, config, kinds, "auto", table.label)
    assert_same_matrix(exact, profiled)
    assert sorted(profiled.notes) == sorted(exact.notes)
    assert "empty" not in profiled.columns and "lonely" in profiled.columns


def test_other_levels_of_a_side_profiled_with_the_reference_levels_are_noted(tmp_path):
    reference = open_frame(tmp_path, cross_frame(13, 800), "r")
    config = cross.make_config(cross.duckdb_context(reference), list(KINDS.items()))
    current = cross_frame(14, 800)
    current["region"] = np.where(np.arange(800) % 3 == 0, "new one", np.where(
        np.arange(800) % 3 == 1, "new two", current["region"]))
    table = open_frame(tmp_path, current, "c")
    section = list(cross.compute(cross.duckdb_context(table), None, config).values())[0]
    profiled = matrix_from_section(section, config, KINDS, "auto", "c")
    assert any("'region': 534 rows hold values outside the 3 levels" in n
               for n in profiled.notes)


def saved_profile(tmp_path, frame, name, with_cross=True):
    """`aidebt profile NAME.parquet --timestamp when --chunk month [--for entanglement]`."""
    frame.to_parquet(tmp_path / f"{name}.parquet")
    path = tmp_path / f"{name}.aidebt"
    wanted = ["--for", "entanglement"] if with_cross else []
    assert main(["profile", str(tmp_path / f"{name}.parquet"), "--timestamp", "when",
                 "--chunk", "month", "--out", str(path), "--format", "json", *wanted]) == 0
    return path


def _cli(capsys, *args):
    code = main(["entanglement", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_saved_profiles_equal_the_rows(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ref, cur = cross_frame(21, 3000), cross_frame(22, 3000, shift=3.0, broken=True)
    saved_profile(tmp_path, ref, "ref")
    saved_profile(tmp_path, cur, "cur")
    capsys.readouterr()   # aidebt profile's own output
    roles = ["--timestamp", "when"]
    code, out, err = _cli(capsys, "ref.parquet", "cur.parquet", "--max-rows", "0",
                          "--format", "json", *roles)
    assert code == 0, err
    exact = json.loads(out)
    code, out, err = _cli(capsys, "ref.aidebt", "cur.aidebt", "--format", "json", *roles)
    assert code == 0, err
    profiled = json.loads(out)
    assert profiled["columns"] == exact["columns"]
    assert profiled["methods"] == exact["methods"]
    a = np.array(profiled["matrix"], dtype=float)
    b = np.array(exact["matrix"], dtype=float)
    assert np.nanmax(np.abs(a - b)) <= 1e-9
    assert profiled["groups"] == exact["groups"]
    assert_same_change(profiled, exact)
    assert any(p["flagged"] for p in profiled["change"]["pairs"])   # the planted change
    # mixed: a saved reference, a table current
    code, out, err = _cli(capsys, "ref.aidebt", "cur.parquet", "--format", "json", *roles)
    assert code == 0, err
    mixed = json.loads(out)
    assert np.nanmax(np.abs(np.array(mixed["matrix"], dtype=float) - b)) <= 1e-9
    assert_same_change(mixed, exact)


def assert_same_change(profiled: dict, exact: dict) -> None:
    """The current matrices and every pair's change (not only the flagged ones) agree."""
    assert np.nanmax(np.abs(np.array(profiled["current"]["matrix"], dtype=float)
                            - np.array(exact["current"]["matrix"], dtype=float))) <= 1e-9
    want = {(p["a"], p["b"]): p for p in exact["state"]["change"]["pairs"]}
    got = profiled["state"]["change"]["pairs"]
    assert len(want) == len(got) > 10
    for p in got:
        e = want[(p["a"], p["b"])]
        assert p["flagged"] == e["flagged"]
        assert (e["delta"] is None and p["delta"] is None) or abs(p["delta"] - e["delta"]) \
            <= 1e-9
    assert [(p["a"], p["b"]) for p in profiled["change"]["pairs"]] == \
        [(p["a"], p["b"]) for p in exact["change"]["pairs"]]


def test_cli_table_above_the_profile_switch_equals_exact(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cross_frame(31, 2500).to_parquet(tmp_path / "ref.parquet")
    cross_frame(32, 2500, shift=2.0).to_parquet(tmp_path / "cur.parquet")
    args = ["ref.parquet", "cur.parquet", "--format", "json", "--timestamp", "when"]
    code, out, err = _cli(capsys, *args, "--max-rows", "0")
    assert code == 0, err
    exact = json.loads(out)
    code, out, err = _cli(capsys, *args, "--profile-rows", "1000")
    assert code == 0, err
    profiled = json.loads(out)
    assert profiled["columns"] == exact["columns"]
    assert np.nanmax(np.abs(np.array(profiled["matrix"], dtype=float)
                            - np.array(exact["matrix"], dtype=float))) <= 1e-9
    # importance still from a sample of the rows (a DuckDB table can be read)
    assert profiled["ripple"]["importance_source"] == exact["ripple"]["importance_source"]
    for got, want in zip(profiled["ripple"]["features"], exact["ripple"]["features"],
                         strict=True):
        assert got["feature"] == want["feature"] and got["importance"] == want["importance"]
        assert got["risk"] == pytest.approx(want["risk"], abs=1e-9)


def test_profile_without_the_section_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    saved_profile(tmp_path, cross_frame(41, 500), "plain", with_cross=False)
    capsys.readouterr()
    code, out, err = _cli(capsys, "plain.aidebt")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert "--for entanglement" in lines[0] and "plain.aidebt" in lines[0]


def test_spearman_from_a_profile_is_refused_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    saved_profile(tmp_path, cross_frame(42, 500), "ref")
    capsys.readouterr()
    code, out, err = _cli(capsys, "ref.aidebt", "--method", "spearman")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "Spearman" in err and "rank" in err


def test_analyse_on_a_saved_profile_ranks_ripple_without_importance(tmp_path):
    from aidebt_core.data import connect
    from aidebt_core.workspace import Workspace

    path = saved_profile(tmp_path, cross_frame(43, 1500), "ref")
    table = open_profile(connect(Workspace.at(tmp_path)), path, "ref.aidebt")
    result = analyse_routed(table, None, table.schema_override)
    assert result.current is None and result.reference.rows_used == 1500
    assert any("ranks features by their strongest association alone" in m
               for m in result.messages)
    assert result.ripple.table["importance"].isna().all()
    fewer = analyse_routed(table, None, table.schema_override, top_k=10)
    assert "ref.aidebt keeps the 50 categories a column had when it was profiled, not the 10 " \
        "asked for." in fewer.notes
    with pytest.raises(OptionError, match="Spearman"):
        analyse_routed(table, None, table.schema_override, method="spearman")


def test_a_profile_made_with_other_columns_is_noted(tmp_path):
    table = open_frame(tmp_path, cross_frame(44, 600), "a")
    few = {k: v for k, v in KINDS.items() if k in ("year", "twin", "region")}
    section, config = side_section(table, few)
    profiled = matrix_from_section(section, config, {**few, "branch": "categorical"}, "auto",
                                   "a")
    assert profiled.columns and "branch" not in profiled.columns
    assert any("'branch' not in the profile's cross-column counts" in n for n in profiled.notes)
    with pytest.raises(AidebtError, match="at least two"):
        matrix_from_section(section, replace(config), {"year": "numeric"}, "auto", "a")


def test_categorical_drill_down_from_saved_profiles_equals_the_rows(tmp_path):
    """The page's drill-down of a categorical pair: from saved profiles' contingency counts,
    the same cells and counts as from the rows (12 levels a side kept, the rest folded)."""
    from aidebt_core.data import connect, open_table
    from aidebt_core.entanglement.drilldown import pair_view
    from aidebt_core.profiles.entanglement import pair_crosstab
    from aidebt_core.workspace import Workspace

    ref, cur = cross_frame(81, 3000), cross_frame(82, 2000, broken=True)
    saved_profile(tmp_path, ref, "ref")
    saved_profile(tmp_path, cur, "cur")
    con = connect(Workspace.at(tmp_path))
    ws = Workspace.at(tmp_path)
    rows = {"reference": open_table(con, ws, "ref.parquet"),
            "current": open_table(con, ws, "cur.parquet")}
    profiles = {"reference": open_profile(con, tmp_path / "ref.aidebt", "ref.aidebt"),
                "current": open_profile(con, tmp_path / "cur.aidebt", "cur.aidebt")}
    for a, b in (("branch", "it's `q`"), ("region", "verified"), ("it's `q`", "branch")):
        want = pair_view(rows, a, b, KINDS).frame
        got = pair_crosstab(profiles, a, b, KINDS).frame
        key = ["period", a, b]
        want = want.sort_values(key).reset_index(drop=True)
        got = got.sort_values(key).reset_index(drop=True)
        assert got.equals(want.astype(got.dtypes.to_dict())), (a, b)
        assert (got["count"] > 0).sum() >= 6
        if "branch" in (a, b):   # 120 branches: 11 kept and the rest folded, as from rows
            assert "(other)" in set(got["branch"])
            assert got.groupby("period")["branch"].nunique().eq(12).all()
    assert pair_crosstab(profiles, "year", "branch", KINDS) is None


@settings(max_examples=15, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n=st.integers(2, 200), top_k=st.integers(2, 8),
       method=st.sampled_from(["auto", "theils_u"]))
def test_matrix_from_profiles_equals_the_rows_on_small_odd_data(tmp_path_factory, seed, n,
                                                                  top_k, method):
    """Few rows (pairs under 3 rows, columns constant or missing by chance), few levels:
    the same matrix, blanks and reasons as the rows."""
    frame = cross_frame(seed, n)
    table = open_frame(tmp_path_factory.mktemp("odd"), frame, "a")
    kinds = dict(KINDS)
    try:
        exact = association_matrix(table, kinds, method, top_k=top_k, max_rows=None)
    except AidebtError as exc:   # fewer than two usable columns: the same refusal
        with pytest.raises(AidebtError, match=re.escape(str(exc)[:40])):
            matrix_from_section(*side_section(table, kinds, top_k), kinds, method, "a")
        return
    section, config = side_section(table, kinds, top_k)
    assert_same_matrix(exact, matrix_from_section(section, config, kinds, method, table.label))
