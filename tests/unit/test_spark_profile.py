"""Spark profiles equal DuckDB profiles of the same rows (a real local Spark Connect server).

Generated loans-like data, 20 profiled columns of every kind the engines must agree on: NULL,
NaN and ±inf apart; few-valued integers (exact value counts); a zero-inflated column (a heavy
grid point); decimals, float32, huge and negative values; a constant and a mostly-NULL
column; booleans; categoricals with ties at the top-k cut and a new category; labels arriving
late; drift planted in the current side. The plan, every count and bin, and the sums (≤ 1e-9
relative) must be the same; the merge of partition profiles equals the profile of the whole.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from aidebt_core.data import connect, open_table
from aidebt_core.engines import spark_profile
from aidebt_core.engines.spark import SparkOptions, open_spark_source
from aidebt_core.engines.spark_table import SparkSourceError, open_spark_table
from aidebt_core.errors import SchemaError
from aidebt_core.profiles import duckdb_engine
from aidebt_core.profiles.model import DatasetProfile, merge
from aidebt_core.schema import infer_schema
from aidebt_core.workspace import Workspace
from tests.spark_fixtures import loans, shared_connect_server

ROWS = 3_000
ROLES = {"timestamp": "applied_at", "chunk": "month", "target": "repaid",
         "prediction": "y_pred", "score": "y_pred_proba"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("spark_profiles")
    pq.write_table(loans(1, ROWS, False, "2025-01-01"), folder / "ref.parquet")
    (folder / "cur").mkdir()
    current = loans(2, ROWS, True, "2025-07-01")
    half = current.num_rows // 2
    pq.write_table(current.slice(0, half), folder / "cur" / "part-0.parquet")
    pq.write_table(current.slice(half), folder / "cur" / "part-1.parquet")
    return folder


@pytest.fixture(scope="module")
def spark() -> SparkOptions:
    return SparkOptions(remote=shared_connect_server())


@pytest.fixture(scope="module")
def duck(data_dir):
    ws = Workspace.at(data_dir)
    con = connect(ws)
    yield {"ref": open_table(con, ws, "ref.parquet"),
           "cur": open_table(con, ws, "cur/*.parquet"),
           "part-0": open_table(con, ws, "cur/part-0.parquet"),
           "part-1": open_table(con, ws, "cur/part-1.parquet")}
    con.close()


@pytest.fixture(scope="module")
def kinds(duck):
    return duckdb_engine.profile_kinds(duck["ref"], timestamp="applied_at")


@pytest.fixture(scope="module")
def plans(duck, spark, data_dir, kinds):
    ref = open_spark_source(f"spark:parquet:{data_dir}/ref.parquet", spark)
    options = dict(ROLES, top_k=12)  # every branch kept: partition profiles merge exactly
    return (duckdb_engine.plan_profile(duck["ref"], kinds, **options),
            spark_profile.plan_profile(ref, kinds, **options))


@pytest.fixture(scope="module")
def profiles(duck, spark, data_dir, plans):
    """{side: (DuckDB profile, Spark profile)} under the DuckDB plan."""
    plan = plans[0]
    specs = {"ref": "ref.parquet", "cur": "cur", "part-0": "cur/part-0.parquet",
             "part-1": "cur/part-1.parquet"}
    return {side: (duckdb_engine.compute_profile(duck[side], plan),
                   spark_profile.compute_profile(
                       open_spark_source(f"spark:parquet:{data_dir}/{spec}", spark), plan))
            for side, spec in specs.items()}


def assert_same_profile(a: DatasetProfile, b: DatasetProfile) -> None:
    """Equal plans, chunks, counts, bins, values, performance; sums to 1e-9 relative."""
    assert a.plan == b.plan
    assert [c.key for c in a.chunks] == [c.key for c in b.chunks]
    for x, y in zip(a.chunks, b.chunks, strict=True):
        assert (x.key, x.rows) == (y.key, y.rows)
        assert (x.first, x.last) == (y.first, y.last), x.key   # partial-period marks
        assert x.performance == y.performance, x.key
        for cx, cy in zip(x.columns, y.columns, strict=True):
            dx, dy = cx.to_dict(), cy.to_dict()
            for field in ("total", "total_sq"):
                if field in dx:
                    assert math.isclose(dx.pop(field), dy.pop(field), rel_tol=1e-9,
                                        abs_tol=1e-9), (x.key, cx.name, field)
            assert dx == dy, (x.key, cx.name)


# ------------------------------------------------------------------------------ equivalence

def test_spark_infers_the_same_roles_and_kinds(spark, data_dir, duck, kinds):
    source = open_spark_source(f"spark:parquet:{data_dir}/ref.parquet", spark)
    spark_roles = {c.name: c.role for c in spark_profile.spark_schema(source).columns}
    assert spark_roles == {c.name: c.role for c in infer_schema(duck["ref"]).columns}
    assert spark_profile.profile_kinds(source, timestamp="applied_at") == kinds
    assert len(kinds) == 20
    assert dict(kinds)["y_pred"] == "categorical" and dict(kinds)["verified"] == "categorical"


def test_the_plan_made_by_spark_is_the_plan_made_by_duckdb(plans):
    duck_plan, spark_plan = plans
    assert spark_plan == duck_plan
    by_name = {c.name: c for c in duck_plan.columns}
    # Planted shapes reach the plan: few-valued integers are exact, the zero-inflated column
    # has its zeros as a grid point, a continuous column is binned on ≥ 2,000 bins.
    assert by_name["term_months"].exact and by_name["credit_score"].exact
    assert 0.0 in by_name["overdraft"].grid.points
    assert not by_name["income"].exact and by_name["income"].grid.bins >= 2_000


@pytest.mark.parametrize("side", ["ref", "cur"])
def test_spark_profiles_equal_duckdb_profiles(profiles, side):
    duck_profile, spark_result = profiles[side]
    assert spark_result.engine == "spark" and duck_profile.engine == "duckdb"
    assert_same_profile(duck_profile, spark_result)


def test_planted_truths_in_the_spark_profile(profiles, data_dir):
    """Counts against the generated table itself (pyarrow), not only against DuckDB."""
    table = pq.read_table(data_dir / "ref.parquet")
    whole = profiles["ref"][1].overall()
    income = table.column("income").to_numpy(zero_copy_only=False)
    nulls = table.column("income").null_count
    col = whole.column("income")
    assert col.rows == ROWS
    # to_numpy turns NULLs into NaN: missing = NULL or NaN, and both kinds were planted.
    assert col.missing == int(np.isnan(income).sum()) > nulls > 0
    assert col.inf == int(np.isinf(income).sum())
    finite = income[np.isfinite(income)]
    assert col.minimum == finite.min() and col.maximum == finite.max()
    assert math.isclose(col.total, finite.sum(), rel_tol=1e-12)
    term = table.column("term_months").to_numpy()
    assert whole.column("term_months").value_counts() == {
        float(v): int((term == v).sum()) for v in np.unique(term)}
    region = table.column("region").to_pylist()
    assert whole.column("region").missing == region.count(None)


def test_top_k_cut_and_ties_as_duckdb(duck, spark, data_dir):
    """12 branches, top_k 5, ties among the tail: the kept five and the folded rest agree per
    chunk."""
    plan = duckdb_engine.plan_profile(duck["ref"], [("branch", "categorical")],
                                      timestamp="applied_at", chunk="month", top_k=5)
    source = open_spark_source(f"spark:parquet:{data_dir}/ref.parquet", spark)
    duck_profile = duckdb_engine.compute_profile(duck["ref"], plan)
    spark_result = spark_profile.compute_profile(source, plan)
    assert_same_profile(duck_profile, spark_result)
    for chunk in spark_result.chunks:
        branch = chunk.column("branch")
        assert len(branch.values) == 5 and branch.other > 0
        assert sum(n for _, n in branch.values) + branch.other + branch.missing == chunk.rows


def test_new_category_and_late_labels_seen_by_spark(profiles):
    current = profiles["cur"][1]
    assert "islands" in current.overall().column("region").value_counts()
    keys = [c.key for c in current.chunks]
    # '(no timestamp)' (1% of rows without a time) sorts first; then the six months.
    assert keys == ["(no timestamp)", "2025-07-01", "2025-08-01", "2025-09-01", "2025-10-01",
                    "2025-11-01", "2025-12-01"]
    labels = {k: sum(n for label, _, n in c.performance.confusion if label is None)
              for k, c in zip(keys, current.chunks, strict=True)}
    assert labels["2025-12-01"] > 0 and labels["2025-07-01"] == 0


def test_merge_of_spark_partition_profiles_is_the_profile_of_the_whole(profiles):
    merged = merge(profiles["part-0"][1], profiles["part-1"][1])
    assert_same_profile(merged, profiles["cur"][1])
    assert_same_profile(merged, profiles["cur"][0])


def test_exact_column_over_the_limit_on_one_side_is_binned_alike(duck, spark, data_dir):
    """credit_score planned exact on half of the current rows (max_exact = its distinct
    count) has more distinct values on the whole: both engines fall back to the same bins."""
    half = pq.read_table(data_dir / "cur" / "part-0.parquet").column("credit_score")
    whole = pq.read_table(data_dir / "cur").column("credit_score")
    limit = len(set(half.to_pylist()))
    assert len(set(whole.to_pylist())) > limit
    plan = duckdb_engine.plan_profile(duck["part-0"], [("credit_score", "numeric")],
                                      max_exact=limit)
    assert plan.column("credit_score").exact
    source = open_spark_source(f"spark:parquet:{data_dir}/cur", spark)
    spark_result = spark_profile.compute_profile(source, plan)
    assert spark_result.chunks[0].column("credit_score").bins is not None
    assert_same_profile(duckdb_engine.compute_profile(duck["cur"], plan), spark_result)


@pytest.mark.parametrize("period", ["week", "quarter"])
def test_chunk_keys_by_period_as_duckdb(duck, spark, data_dir, period):
    plan = duckdb_engine.plan_profile(duck["ref"], [("channel", "categorical")],
                                      timestamp="applied_at", chunk=period)
    source = open_spark_source(f"spark:parquet:{data_dir}/ref.parquet", spark)
    assert_same_profile(duckdb_engine.compute_profile(duck["ref"], plan),
                        spark_profile.compute_profile(source, plan))


# ------------------------------------------------------------------------------ the stand-in

def test_spark_table_stands_in_for_a_table(spark, data_dir, duck):
    con = connect(Workspace.at(data_dir))
    try:
        table = open_spark_table(con, f"spark:parquet:{data_dir}/cur", spark)
        assert table.column_types == duck["cur"].column_types | {
            "applied_at": table.column_types["applied_at"]}
        assert infer_schema(table).first("target") == "repaid"
        assert table.engine == "spark" and table.profiler() is spark_profile
        with pytest.raises(SparkSourceError, match="read by Apache Spark"):
            table.execute("SELECT count(*) FROM rows")
    finally:
        con.close()


def test_chunking_on_a_text_column_is_refused(spark, data_dir):
    source = open_spark_source(f"spark:parquet:{data_dir}/ref.parquet", spark)
    from aidebt_core.profiles.planning import make_plan

    with pytest.raises(SchemaError, match="TIMESTAMP or DATE"):
        spark_profile.compute_profile(source, make_plan([("branch", "categorical")],
                                                        timestamp="channel", chunk="month"))


# ------------------------------------------------------------------------------ jobs, heavy values

def test_a_side_is_one_spark_job_and_the_plan_reuses_role_inference(spark, data_dir, plans):
    """What each profile costs in Spark jobs (engines/spark_sql.JOBS records every fetch)."""
    from aidebt_core.engines import spark_sql

    ref = open_spark_source(f"spark:parquet:{data_dir}/ref.parquet", spark)
    spark_sql.JOBS.clear()
    kinds = spark_profile.profile_kinds(ref, timestamp="applied_at")
    plan = spark_profile.plan_profile(ref, kinds, **dict(ROLES, top_k=12))
    assert plan == plans[1]
    # roles + the plan's summaries in one aggregate; the exact distinct counts (small data);
    # value counts (3,000 rows: every numeric column has few enough values to be counted,
    # so no heavy-value job; test_heavy_values_... covers that one).
    # A chunked plan also reads whether the timestamps are whole days (one aggregate of the
    # timestamp column), and a chunked profile each chunk's first/last time (partial marks).
    assert list(spark_sql.JOBS) == ["roles and summaries", "exact distinct",
                                    "plan: value counts and plan histograms",
                                    "plan: time resolution"]
    spark_sql.JOBS.clear()
    spark_profile.compute_profile(ref, plan)
    assert list(spark_sql.JOBS) == ["profile: counts", "profile: chunk first/last times"]


def test_heavy_values_sharing_a_sub_bin_with_others_are_found_exactly(duck, spark, tmp_path):
    """A heavy value whose sub-bin (1/2^32 of the range) also holds lighter values needs the
    exact values of that sub-bin: the plan (its points) equals DuckDB's."""
    rng = np.random.default_rng(5)
    n = 20_000  # > 4 x max_exact distinct values: planned through the plan histogram
    wide = rng.uniform(-1e6, 1e6, n)
    wide[: n // 4] = 12.5                 # heavy: a quarter of the rows
    wide[n // 4: n // 4 + 30] = 12.5 + 1e-9   # lighter neighbours in its sub-bin
    wide[-50:] = 7_000.25                 # heavy-ish: 50 rows, under 1/64 of n (not a point)
    import pyarrow as pa

    pq.write_table(pa.table({"wide": wide, "grp": rng.choice(["a", "b"], n)}),
                   tmp_path / "heavy.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    try:
        table = open_table(con, ws, "heavy.parquet")
        kinds = [("wide", "numeric")]
        duck_plan = duckdb_engine.plan_profile(table, kinds)
        from aidebt_core.engines import spark_sql

        source = open_spark_source(f"spark:parquet:{tmp_path}/heavy.parquet", spark)
        spark_sql.JOBS.clear()
        spark_plan = spark_profile.plan_profile(source, kinds)
        assert "plan: values of mixed heavy sub-bins" in spark_sql.JOBS
        assert spark_plan == duck_plan
        assert 12.5 in spark_plan.column("wide").grid.points
        assert 12.5 + 1e-9 not in spark_plan.column("wide").grid.points
        assert 7_000.25 not in spark_plan.column("wide").grid.points
        assert_same_profile(duckdb_engine.compute_profile(table, duck_plan),
                            spark_profile.compute_profile(source, spark_plan))
    finally:
        con.close()


def test_sections_of_the_plan_are_computed_by_spark_per_chunk_as_by_duckdb(duck, spark,
                                                                             data_dir, plans):
    """compute_profile runs the plan's sections through sql_context and attaches them per
    chunk: the "cross" section (profiles/cross.py) equals DuckDB's chunk by chunk."""
    from dataclasses import replace

    from aidebt_core.engines import spark_sql
    from aidebt_core.profiles import cross

    plan = plans[0]
    kinds = [("income", "numeric"), ("credit_score", "numeric"), ("region", "categorical"),
             ("branch", "categorical")]
    config = cross.make_config(cross.duckdb_context(duck["cur"]), kinds)
    plan = replace(plan, sections=(config,))
    duck_profile = duckdb_engine.compute_profile(duck["cur"], plan)
    source = open_spark_source(f"spark:parquet:{data_dir}/cur", spark)
    spark_sql.JOBS.clear()
    spark_result = spark_profile.compute_profile(source, plan)
    assert list(spark_sql.JOBS)[0] == "profile: counts" and "section" in spark_sql.JOBS
    assert_same_profile(duck_profile, spark_result)
    assert len(spark_result.chunks) == 7
    for x, y in zip(duck_profile.chunks, spark_result.chunks, strict=True):
        a, b = x.section(cross.NAME), y.section(cross.NAME)
        assert a is not None and b is not None, x.key
        _assert_close(a.to_dict(), b.to_dict(), x.key)
    assert sum(y.rows for y in spark_result.chunks) == ROWS


def _assert_close(a, b, where) -> None:
    """Equal structure; numbers equal to 1e-9 (sums are float64 in any order), text equal."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_close(a[k], b[k], (where, k))
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_close(x, y, (where, i))
    elif isinstance(a, float) or isinstance(b, float):
        assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) \
            or (math.isnan(a) and math.isnan(b)), where
    else:
        assert a == b, where
