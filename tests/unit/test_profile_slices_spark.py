"""The "slices" section on Spark (a real Spark Connect server, tests/spark_fixtures.py) equals
DuckDB's, and `aidebt slices spark:parquet:...` finds the exact path's slices."""

from __future__ import annotations

import io
import json
import math
from contextlib import chdir, redirect_stderr, redirect_stdout
from dataclasses import replace

import numpy as np
import pyarrow.parquet as pq
import pytest

from aidebt_core.cli import main
from aidebt_core.data import ROWS, connect, open_table, quote_ident
from aidebt_core.engines.spark import SparkOptions, open_spark_source
from aidebt_core.engines.spark_profile import sql_context
from aidebt_core.profiles import slice_cells as sc
from aidebt_core.profiles.model import ProfilePlan
from aidebt_core.profiles.sections import SqlContext
from aidebt_core.slices.encode import fit_encodings
from aidebt_core.workspace import Workspace
from tests.spark_fixtures import shared_connect_server
from tests.unit.test_profile_slices_data import CHANNEL, INCOME, OUTPUTS, planted

ROLES = ["--target", OUTPUTS["target"], "--prediction", OUTPUTS["prediction"],
         "--score", OUTPUTS["score"]]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("slices_spark")
    pq.write_table(planted(0), d / "data.parquet")
    return d


@pytest.fixture(scope="module")
def remote() -> str:
    return shared_connect_server()


def test_spark_section_equals_duckdb_section(folder, remote):
    ws = Workspace.at(folder)
    con = connect(ws)
    table = open_table(con, ws, "data.parquet")
    # 8 of the 12 features (every hostile name, NaN/inf, integer year, a boolean): Spark's
    # grouping sets cost ~2 s per 16 combinations on the test server
    columns = [INCOME, CHANNEL, "dti", "year", "back\\slash", "score a", "名前_b", "flag"]
    encodings, _ = fit_encodings(table, columns)
    config = sc.Config(tuple(encodings), 3, "repaid", "y_pred", "y_pred_proba", "1", True)
    duck = sc.compute(SqlContext(lambda sql: table.execute(sql).fetchall(), ROWS, "''",
                                 quote_ident, "duckdb"), None, config)[""]
    con.close()
    source = open_spark_source(f"spark:parquet:{folder}/data.parquet",
                               SparkOptions(remote=remote))
    ctx = replace(sql_context(source, ProfilePlan(())), key="''")
    spark = sc.compute(ctx, None, config)[""]
    assert spark.cells == duck.cells > 15_000
    np.testing.assert_array_equal(spark.key, duck.key)
    np.testing.assert_array_equal(spark.ints, duck.ints)
    np.testing.assert_allclose(spark.sums, duck.sums, rtol=1e-9, atol=1e-9)
    assert math.isclose(spark.r_max, duck.r_max, rel_tol=1e-12)


def _json(folder, *args) -> dict:
    out, err = io.StringIO(), io.StringIO()
    with chdir(folder), redirect_stdout(out), redirect_stderr(err):
        code = main([*args])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def test_spark_source_finds_the_exact_paths_slices(folder, remote):
    columns = f"{INCOME},{CHANNEL},age,dti,year,flag,back\\slash"
    args = [*ROLES, "--format", "json", "--max-order", "2", "--columns", columns]
    exact = _json(folder, "slices", "data.parquet", *args)
    spark = _json(folder, "slices", f"spark:parquet:{folder}/data.parquet", *args,
                  "--spark-remote", remote)
    assert spark["slices"][0]["slice"] == {INCOME: "< 31100", CHANNEL: "mobile"}
    for key in ("slices", "overall", "overall_ci", "rows", "search", "summary"):
        assert spark[key] == exact[key], key


def test_spark_profile_for_slices_saved_and_read_back(folder, remote):
    """`aidebt profile spark:... --for slices` counts the section in Spark; slices read from
    the saved file equal the exact path's on the same rows."""
    columns = f"{INCOME},{CHANNEL},year,flag"
    out, err = io.StringIO(), io.StringIO()
    with chdir(folder), redirect_stdout(out), redirect_stderr(err):
        code = main(["profile", f"spark:parquet:{folder}/data.parquet", *ROLES, "--columns",
                     f"{columns},{','.join(OUTPUTS.values())}", "--for", "slices",
                     "--out", "spark.aidebt", "--spark-remote", remote])
    assert code == 0, err.getvalue()
    args = ["--format", "json", "--max-order", "2"]
    saved = _json(folder, "slices", "spark.aidebt", *args)
    exact = _json(folder, "slices", "data.parquet", *ROLES, *args, "--columns", columns)
    assert saved["slices"][0]["slice"] == {INCOME: "< 31100", CHANNEL: "mobile"}
    for key in ("slices", "overall", "overall_ci", "rows", "search", "summary"):
        assert saved[key] == exact[key], key
