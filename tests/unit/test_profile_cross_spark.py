"""The cross section computed by Spark SQL equals DuckDB's (a real local Spark Connect server,
tests/spark_fixtures.py): the same config (levels by exact counts, rounded shifts), the same
counts and contingency tables, sums within 1e-9, and the matrix read from Spark's section
equals the row path's on the same file. Hostile category values (quotes, backslashes,
newlines, `$`) go through Spark's string literals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from aidebt_core.engines import spark_profile
from aidebt_core.engines.spark import SparkOptions, open_spark_source, spark_column
from aidebt_core.entanglement import association_matrix
from aidebt_core.profiles import cross
from aidebt_core.profiles.entanglement import matrix_from_section
from aidebt_core.profiles.model import ProfilePlan
from aidebt_core.profiles.sections import SqlContext, text_literal
from tests.spark_fixtures import shared_connect_server
from tests.unit.test_profile_cross import (
    HOSTILE,
    KINDS,
    assert_sections_equal,
    cross_frame,
    open_frame,
    whole,
)
from tests.unit.test_profile_entanglement import assert_same_matrix

_views = itertools.count()


def spark_context(source) -> SqlContext:
    """The engine's own SqlContext when it offers one (engines/spark_profile.sql_context),
    else one over a temp view of the source's frame (the same SQL either way)."""
    make = getattr(spark_profile, "sql_context", None) or getattr(spark_profile,
                                                                  "section_context", None)
    if make is not None:
        return make(source, ProfilePlan(()))
    view = f"aidebt_cross_test_{next(_views)}"
    source.frame.createOrReplaceTempView(view)
    session = source.frame.sparkSession
    return SqlContext(lambda sql: [tuple(r) for r in session.sql(sql).collect()], view, "''",
                      spark_column, "spark")


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    """(DuckDB table, Spark source) of one generated file."""
    folder = tmp_path_factory.mktemp("cross_spark")
    table = open_frame(folder, cross_frame(51, 3000), "a")
    source = open_spark_source(f"spark:parquet:{folder}/a.parquet",
                               SparkOptions(remote=shared_connect_server()))
    return table, source


def test_spark_makes_the_duckdb_config_and_section(sides):
    table, source = sides
    duck_ctx, spark_ctx = cross.duckdb_context(table), spark_context(source)
    kinds = list(KINDS.items())
    duck_config = cross.make_config(duck_ctx, kinds)
    spark_config = cross.make_config(spark_ctx, kinds)
    assert spark_config == duck_config
    hostile = duck_config.levels[duck_config.categorical.index("it's `q`")]
    assert set(hostile) == set(HOSTILE)
    duck = whole(cross.compute(duck_ctx, None, duck_config))
    spark = whole(cross.compute(spark_ctx, None, duck_config))
    assert spark.rows == duck.rows == 3000
    assert spark.level_counts[duck_config.categorical.index("it's `q`")][-1] == 0  # all matched
    assert_sections_equal(spark, duck)
    exact = association_matrix(table, KINDS, max_rows=None)
    profiled = matrix_from_section(spark, duck_config, KINDS, "auto", "spark")
    assert_same_matrix(exact, profiled)
    theil = matrix_from_section(spark, duck_config, KINDS, "theils_u", "spark")
    assert_same_matrix(association_matrix(table, KINDS, "theils_u", max_rows=None), theil)


def test_spark_literals_read_back_as_the_values(sides):
    _, source = sides
    ctx = spark_context(source)
    values = HOSTILE + ["", "''", "\t", "ü€😀", "a\\u0041"]
    sql = "SELECT " + ", ".join(text_literal(v, "spark") for v in values)
    assert list(ctx.run(sql)[0]) == values


def test_cli_entanglement_on_spark_sources_equals_the_rows(tmp_path, capsys, monkeypatch):
    """`aidebt entanglement spark:parquet:REF spark:parquet:CUR`: Spark computes each side's
    cross section; matrices and changes equal the DuckDB row path on the same files."""
    import json

    from aidebt_core.cli import main
    from tests.unit.test_profile_entanglement import assert_same_change

    monkeypatch.chdir(tmp_path)
    cross_frame(71, 1500).to_parquet(tmp_path / "ref.parquet")
    cross_frame(72, 1500, broken=True).to_parquet(tmp_path / "cur.parquet")
    roles = ["--format", "json", "--timestamp", "when", "--columns",
             'year,twin,inc"ome; DROP,it\'s `q`,region,branch']
    assert main(["entanglement", "ref.parquet", "cur.parquet", "--max-rows", "0",
                 *roles]) == 0
    exact = json.loads(capsys.readouterr().out)
    code = main(["entanglement", f"spark:parquet:{tmp_path}/ref.parquet",
                 f"spark:parquet:{tmp_path}/cur.parquet", "--spark-remote",
                 shared_connect_server(), *roles])
    out, err = capsys.readouterr()
    assert code == 0, err
    spark = json.loads(out)
    assert spark["columns"] == exact["columns"] and spark["methods"] == exact["methods"]
    assert np.nanmax(np.abs(np.array(spark["matrix"], dtype=float)
                            - np.array(exact["matrix"], dtype=float))) <= 1e-9
    assert_same_change(spark, exact)
    assert any("ranks features by their strongest association alone" in n
               for n in spark["notes"])
    # a profile saved from Spark, chunked by month, with the section: the same matrix
    remote = shared_connect_server()
    assert main(["profile", f"spark:parquet:{tmp_path}/ref.parquet", "--spark-remote", remote,
                 "--timestamp", "when", "--chunk", "month", "--for", "entanglement",
                 "--out", str(tmp_path / "ref.aidebt"), "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["entanglement", "ref.aidebt", *roles]) == 0
    saved = json.loads(capsys.readouterr().out)
    assert saved["columns"] == exact["columns"]
    assert np.nanmax(np.abs(np.array(saved["matrix"], dtype=float)
                            - np.array(exact["matrix"], dtype=float))) <= 1e-9
