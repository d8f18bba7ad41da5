"""Spark sources and sessions against a real local Spark Connect server (tests/spark_fixtures.py):
spec parsing, session options, reading tables/Parquet/CSV, and the errors a user can cause."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pandas as pd
import pytest

from aidebt_core.engines.spark import (
    SparkOptions,
    SparkSpec,
    is_spark_spec,
    open_spark_source,
    parse_spark_spec,
    spark_column,
    spark_session,
)
from aidebt_core.errors import AidebtError, DataSourceError, OptionError
from tests.local_server import free_port
from tests.spark_fixtures import shared_connect_server


@pytest.fixture(scope="module")
def remote() -> SparkOptions:
    return SparkOptions(remote=shared_connect_server())


# ------------------------------------------------------------------------- pure: specs, options

@pytest.mark.parametrize(("spec", "expected"), [
    ("spark:main.sales.orders", SparkSpec("table", "main.sales.orders")),
    ("spark:orders", SparkSpec("table", "orders")),
    ("spark:parquet:/data/ref", SparkSpec("parquet", "/data/ref")),
    ("spark:PARQUET:s3a://bucket/ref/", SparkSpec("parquet", "s3a://bucket/ref/")),
    ("spark:csv:file:/tmp/x.csv", SparkSpec("csv", "file:/tmp/x.csv")),
    ("spark:delta:hdfs://nn/t", SparkSpec("delta", "hdfs://nn/t")),
])
def test_specs_parse_into_format_and_location(spec, expected):
    assert parse_spark_spec(spec) == expected
    assert is_spark_spec(spec)
    assert parse_spark_spec(str(expected)) == expected  # str() is the spec again


def test_a_relative_path_is_made_absolute_for_the_server(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert parse_spark_spec("spark:parquet:ref/part").location == str(tmp_path / "ref" / "part")


@pytest.mark.parametrize("spec", ["spark:", "spark:parquet:", "spark:orc:/x", "spark:a:b"])
def test_bad_specs_say_what_is_expected(spec):
    with pytest.raises(DataSourceError, match="spark:"):
        parse_spark_spec(spec)


def test_not_spark_specs():
    assert not is_spark_spec("data/ref.parquet")
    assert not is_spark_spec("sparkling.csv")


def test_options_flags_win_over_the_environment():
    env = {"SPARK_REMOTE": "sc://env:1"}
    assert SparkOptions.resolve(None, None, env) == SparkOptions(remote="sc://env:1")
    assert SparkOptions.resolve("sc://flag:2", None, env) == SparkOptions(remote="sc://flag:2")
    assert SparkOptions.resolve(None, "local[2]", env) == SparkOptions(master="local[2]")
    with pytest.raises(OptionError, match="not both"):
        SparkOptions.resolve("sc://a:1", "local[2]", env)


def test_no_session_configured_says_how_to_give_one():
    with pytest.raises(OptionError, match="--spark-remote"):
        spark_session(SparkOptions.resolve(None, None, {}))


@pytest.mark.parametrize("url", ["http://host:15002", "sc://", "sc://host:notaport"])
def test_bad_remote_urls(url):
    with pytest.raises(OptionError, match="--spark-remote"):
        spark_session(SparkOptions(remote=url))


def test_column_names_are_quoted_as_identifiers():
    assert spark_column("a.b") == "`a.b`"
    assert spark_column("we`ird") == "`we``ird`"


# ------------------------------------------------------------------------- unreachable servers

def test_unreachable_server_fails_fast_with_one_clear_error():
    port = free_port()  # nothing listens there
    started = time.monotonic()
    with pytest.raises(DataSourceError, match=f"Cannot reach the Spark Connect server.*{port}"):
        spark_session(SparkOptions(remote=f"sc://127.0.0.1:{port}"))
    assert time.monotonic() - started < 10


def test_a_port_that_is_not_spark_fails_within_ten_seconds():
    """Something listens but does not speak gRPC: the client's retries are capped."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def accept_and_close() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                conn.close()
            except OSError:
                pass

    thread = threading.Thread(target=accept_and_close, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(AidebtError, match="Spark"):
            spark_session(SparkOptions(remote=f"sc://127.0.0.1:{server.getsockname()[1]}"))
        assert time.monotonic() - started < 10
    finally:
        stop.set()
        thread.join()
        server.close()


# ------------------------------------------------------------------------- reading sources

def _frame(n: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({"repaid": rng.integers(0, 2, n), "y_pred_proba": rng.random(n),
                         "branch.name": rng.choice(["north", "south"], n),
                         "year": rng.integers(2019, 2024, n).astype("int32")})


def test_parquet_folder_opens_with_columns_and_types(remote, tmp_path):
    folder = tmp_path / "ref"
    folder.mkdir()
    frame = _frame()
    frame.iloc[:300].to_parquet(folder / "part-0.parquet")
    frame.iloc[300:].to_parquet(folder / "part-1.parquet")
    source = open_spark_source(f"spark:parquet:{folder}", remote)
    assert dict(source.columns) == {"repaid": "bigint", "y_pred_proba": "double",
                                    "branch.name": "string", "year": "int"}
    assert source.frame.count() == 500
    counts = source.frame.groupBy(spark_column("branch.name")).count().collect()
    assert {r[0]: r[1] for r in counts} == frame["branch.name"].value_counts().to_dict()


def test_csv_file_opens_with_inferred_types(remote, tmp_path):
    path = tmp_path / "cur.csv"
    _frame(50).to_csv(path, index=False)
    source = open_spark_source(f"spark:csv:{path}", remote)
    assert source.column_type("y_pred_proba") == "double"
    assert source.column_type("repaid") == "int"
    assert source.frame.count() == 50


def test_catalog_table_opens_by_name(remote, tmp_path):
    folder = tmp_path / "orders"
    folder.mkdir()
    _frame(40).to_parquet(folder / "part-0.parquet")
    session = spark_session(remote)
    session.sql("CREATE DATABASE IF NOT EXISTS aidebt_test")
    session.sql(f"CREATE TABLE IF NOT EXISTS aidebt_test.orders_{free_port()} USING parquet "
                f"LOCATION '{folder}'")
    name = [r.tableName for r in session.sql("SHOW TABLES IN aidebt_test").collect()
            if r.tableName.startswith("orders_")][0]
    source = open_spark_source(f"spark:spark_catalog.aidebt_test.{name}", remote)
    assert source.frame.count() == 40
    assert source.label == f"spark:spark_catalog.aidebt_test.{name}"


def test_missing_table_is_named(remote):
    with pytest.raises(DataSourceError, match=r"spark:nowhere\.missing_table.*TABLE_OR_VIEW"):
        open_spark_source("spark:nowhere.missing_table", remote)


def test_missing_path_is_named(remote, tmp_path):
    missing = tmp_path / "no_such_folder"
    with pytest.raises(DataSourceError, match="no_such_folder"):
        open_spark_source(f"spark:parquet:{missing}", remote)


def test_delta_without_the_delta_package_is_a_clear_error(remote, tmp_path):
    with pytest.raises(DataSourceError, match="spark:delta:.*delta"):
        open_spark_source(f"spark:delta:{tmp_path}", remote)
