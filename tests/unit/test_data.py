"""The DuckDB data layer: sandbox, formats, aggregations and bad input."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from aidebt_core.data import (
    connect,
    histogram,
    numeric_values,
    open_table,
    quantiles,
    row_count,
    sample_rows,
    value_counts,
)
from aidebt_core.errors import AidebtError, DataSourceError, SandboxError, SchemaError
from aidebt_core.schema import infer_schema
from aidebt_core.timeaxis import split_on_timestamp
from aidebt_core.workspace import Workspace

HOSTILE = ['we"ird', "semi;colon", "with space", "ünïcødé 列", "drop table x; --", "a'b"]


@pytest.fixture
def ws(tmp_path):
    (tmp_path / "data").mkdir()
    return Workspace.at(tmp_path / "data")


@pytest.fixture
def con(ws):
    connection = connect(ws)
    yield connection
    connection.close()


def write(ws, name, frame):
    path = ws.folder / name
    if name.endswith(".parquet"):
        frame.to_parquet(path)
    elif name.endswith(".csv"):
        frame.to_csv(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    return name


def test_reads_csv_parquet_jsonl_and_globs(ws, con):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    for name in ("f.csv", "f.parquet", "f.jsonl"):
        table = open_table(con, ws, write(ws, name, frame))
        assert row_count(table) == 3
        assert table.columns == ["a", "b"]
    write(ws, "part-1.parquet", frame)
    write(ws, "part-2.parquet", frame)
    assert row_count(open_table(con, ws, "part-*.parquet")) == 6


def test_reads_a_table_in_a_duckdb_file(ws, con):
    db = duckdb.connect(str(ws.folder / "store.duckdb"))
    db.execute("CREATE TABLE scores AS SELECT range AS x FROM range(5)")
    db.close()
    assert row_count(open_table(con, ws, "store.duckdb::scores")) == 5
    with pytest.raises(DataSourceError, match="has no table 'nope'. Tables: scores"):
        open_table(con, ws, "store.duckdb::nope")
    with pytest.raises(DataSourceError, match="name a table"):
        open_table(con, ws, "store.duckdb")


@pytest.mark.parametrize("make, message", [
    (lambda d: None, "does not exist"),
    (lambda d: (d / "bad.csv").write_bytes(b""), "empty"),
    (lambda d: (d / "bad.csv").write_text("a,b,c\n"), "no data rows"),
    (lambda d: (d / "bad.parquet").write_bytes(b"PAR1 this is not parquet at all"),
     "not a valid Parquet file|Could not read"),
])
def test_bad_files_give_clear_errors(ws, con, make, message):
    make(ws.folder)
    name = "bad.parquet" if (ws.folder / "bad.parquet").exists() else "bad.csv"
    with pytest.raises(DataSourceError, match=message) as err:
        open_table(con, ws, name)
    assert name in str(err.value)


def test_unknown_file_type_is_named(ws, con):
    (ws.folder / "notes.xlsx").write_text("x")
    with pytest.raises(DataSourceError, match=r"unknown file type '\.xlsx'"):
        open_table(con, ws, "notes.xlsx")


def test_paths_outside_the_workspace_are_refused(ws, con, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("a\n1\n")
    for spec in (str(outside), "../secret.csv", "../*.csv"):
        with pytest.raises(SandboxError, match="outside the allowed data directories"):
            open_table(con, ws, spec)


def test_duckdb_itself_cannot_read_outside_even_with_raw_sql(ws, con, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("a\n1\n")
    with pytest.raises(duckdb.Error):
        con.execute(f"SELECT * FROM read_csv('{outside}')").fetchall()
    with pytest.raises(duckdb.Error):  # the sandbox settings cannot be loosened afterwards
        con.execute("SET enable_external_access = true")


def test_hostile_column_names_are_quoted_everywhere(ws, con):
    frame = pd.DataFrame({name: np.arange(5, dtype=float) + i for i, name in enumerate(HOSTILE)})
    frame["cat"] = ["a", "b", "a", "c", "a"]
    table = open_table(con, ws, write(ws, "hostile.parquet", frame))
    schema = infer_schema(table)
    assert schema.names == [*HOSTILE, "cat"]
    for name in HOSTILE:
        assert quantiles(table, name, [0.5]) == [frame[name].median()]
        assert numeric_values(table, name).tolist() == frame[name].tolist()
    assert value_counts(table, "cat").set_index("value")["count"].to_dict() == \
        {"a": 3, "b": 1, "c": 1}
    narrowed = table.where('"cat" = $v', v="a; DROP TABLE x")
    assert row_count(narrowed) == 0


def test_all_null_and_one_row_columns(ws, con):
    frame = pd.DataFrame({"empty": pd.array([None, None], dtype="Float64"), "x": [1.0, 2.0]})
    table = open_table(con, ws, write(ws, "nulls.parquet", frame))
    assert infer_schema(table)["empty"].all_null
    with pytest.raises(SchemaError, match="'empty' .* no finite values"):
        quantiles(table, "empty", [0.5])
    one = open_table(con, ws, write(ws, "one.csv", pd.DataFrame({"x": [7.5]})))
    assert row_count(one) == 1 and quantiles(one, "x", [0.1, 0.9]) == [7.5, 7.5]


def test_aggregations_match_numpy_and_pandas(ws, con):
    rng = np.random.default_rng(0)
    values = rng.normal(size=2_000)
    values[::50] = np.nan
    frame = pd.DataFrame({"v": values, "k": rng.choice(list("abcde"), 2_000)})
    table = open_table(con, ws, write(ws, "agg.parquet", frame))
    finite = values[np.isfinite(values)]
    edges = np.quantile(finite, np.linspace(0, 1, 11))
    expected, _ = np.histogram(finite, bins=edges)
    assert histogram(table, "v", edges).tolist() == expected.tolist()
    assert quantiles(table, "v", [0.1, 0.5]) == pytest.approx(np.quantile(finite, [0.1, 0.5]),
                                                              rel=1e-12)
    counts = value_counts(table, "k", top_k=2)
    assert counts["count"].sum() == 2_000 and counts["value"].iloc[-1] == "(other)"
    sample = sample_rows(table, 100, seed=1)
    assert len(sample) == 100 and sample.equals(sample_rows(table, 100, seed=1))


def test_split_on_timestamp_and_bad_timestamps(ws, con):
    frame = pd.DataFrame({"at": pd.date_range("2025-01-01", periods=10, freq="D"),
                          "text_at": ["2025-01-01"] * 9 + ["not a date"]})
    table = open_table(con, ws, write(ws, "ts.parquet", frame))
    reference, current = split_on_timestamp(table, "at", "2025-01-06")
    assert (row_count(reference), row_count(current)) == (5, 5)
    with pytest.raises(SchemaError, match="'text_at' has 1 value"):
        split_on_timestamp(table, "text_at", "2025-01-06")
    with pytest.raises(SchemaError, match="not a date"):
        split_on_timestamp(table, "at", "yesterday-ish")
    with pytest.raises(SchemaError, match="has no rows"):
        split_on_timestamp(table, "at", "2030-01-01")


def test_every_error_is_an_aidebt_error(ws, con):
    for spec in ("missing.csv", "../x.csv", ""):
        with pytest.raises(AidebtError):
            open_table(con, ws, spec)
