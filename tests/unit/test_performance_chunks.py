"""aidebt_core.chunks: period and row chunks checked against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aidebt_core.chunks import (
    CHUNK_COLUMN,
    Chunking,
    chunk_periods,
    plan_chunks,
    where_between,
)
from aidebt_core.data import row_count
from aidebt_core.errors import OptionError, SchemaError


def _frame(n=5000, seed=1):
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 400, n), unit="D")
    return pd.DataFrame({"ts": ts.floor("s"), "x": rng.normal(size=n)})


@pytest.mark.parametrize("kind,freq", [("month", "M"), ("week", "W"), ("day", "D"),
                                       ("quarter", "Q"), ("year", "Y")])
def test_period_chunks_match_pandas(make_table, kind, freq):
    frame = _frame()
    table = make_table(frame)
    plan = plan_chunks(table, Chunking.parse(kind), "ts")
    expected = frame.groupby(frame["ts"].dt.to_period(freq)).agg(n=("x", "size"),
                                                                  s=("x", "sum"))
    assert [c.rows for c in plan.chunks] == expected["n"].tolist()
    assert [c.start for c in plan.chunks] == [p.start_time for p in expected.index]
    assert [c.end for c in plan.chunks] == [(p + 1).start_time for p in expected.index]
    # The one-pass sub-query tags each row with the same chunk as pandas does.
    got = table.df(f"SELECT {CHUNK_COLUMN} AS c, count(*) AS n, sum(x) AS s FROM "
                   f"({plan.sub_query()}) GROUP BY 1 ORDER BY 1")
    assert got["c"].tolist() == list(range(len(plan.chunks)))
    np.testing.assert_allclose(got["s"], expected["s"], rtol=1e-9)


def test_labels():
    assert Chunking.parse("month") == Chunking("month")
    assert Chunking.parse(" 250 ") == Chunking("rows", 250)
    for bad in ("fortnight", "0", "-3", "1.5"):
        with pytest.raises(OptionError):
            Chunking.parse(bad)


def test_period_labels(make_table):
    frame = pd.DataFrame({"ts": pd.to_datetime(["2025-01-01", "2025-02-03", "2025-12-31"]),
                          "x": [1.0, 2.0, 3.0]})
    table = make_table(frame)
    assert [c.label for c in plan_chunks(table, Chunking("month"), "ts").chunks] == \
        ["2025-01", "2025-02", "2025-12"]
    assert [c.label for c in plan_chunks(table, Chunking("week"), "ts").chunks] == \
        ["2025-W01", "2025-W06", "2026-W01"]
    assert [c.label for c in plan_chunks(table, Chunking("quarter"), "ts").chunks] == \
        ["2025-Q1", "2025-Q4"]


def test_row_chunks_in_time_order(make_table):
    frame = _frame(n=1050)
    table = make_table(frame)
    plan = plan_chunks(table, Chunking.parse("200"), "ts")
    assert [c.rows for c in plan.chunks] == [200] * 5 + [50]
    ordered = frame.sort_values("ts", kind="stable").reset_index(drop=True)
    for i, chunk in enumerate(plan.chunks):
        part = ordered.iloc[i * 200:(i + 1) * 200]
        assert chunk.start == part["ts"].iloc[0] and chunk.end == part["ts"].iloc[-1]
    got = table.df(f"SELECT {CHUNK_COLUMN} AS c, min(ts) AS lo FROM ({plan.sub_query()}) "
                   "GROUP BY 1 ORDER BY 1")
    assert got["lo"].tolist() == [c.start for c in plan.chunks]


def test_row_chunks_without_timestamp(make_table):
    table = make_table(pd.DataFrame({"x": np.arange(25.0)}))
    plan = plan_chunks(table, Chunking("rows", 10))
    assert [c.rows for c in plan.chunks] == [10, 10, 5]
    assert plan.chunks[2].label == "rows 20–24"
    assert plan.chunks[0].start is None


def test_missing_and_bad_timestamps(make_table, tmp_path):
    frame = pd.DataFrame({"ts": ["2025-01-05", None, "2025-02-01", "2025-02-02"],
                          "x": [1, 2, 3, 4]})
    plan = plan_chunks(make_table(frame, "ok.csv"), Chunking("month"), "ts")
    assert [c.rows for c in plan.chunks] == [1, 2] and plan.missing_timestamps == 1
    bad = pd.DataFrame({"when": ["2025-01-05", "yesterday", "2025-02-01"], "x": [1, 2, 3]})
    with pytest.raises(SchemaError, match="'when'.*1 value.*not timestamps.*yesterday"):
        plan_chunks(make_table(bad, "bad.csv"), Chunking("month"), "when")
    with pytest.raises(SchemaError, match="needs a timestamp column"):
        plan_chunks(make_table(frame, "ok2.csv"), Chunking("month"))
    with pytest.raises(SchemaError, match="'x'.*not a timestamp"):
        plan_chunks(make_table(frame, "ok3.csv"), Chunking("month"), "x")


def test_too_many_chunks(make_table):
    with pytest.raises(SchemaError, match="coarser"):
        plan_chunks(make_table(_frame()), Chunking("day"), "ts", max_chunks=100)


def test_reference_periods_and_where_between(make_table):
    frame = _frame()
    table = make_table(frame)
    plan = plan_chunks(table, Chunking("month"), "ts")
    periods = chunk_periods(plan, "2024-07-01")
    assert periods.count("reference") == 6 and periods[6] == "current"
    part = where_between(table, "ts", plan.chunks[2].start, plan.chunks[4].end)
    assert row_count(part) == sum(c.rows for c in plan.chunks[2:5])
