"""The DuckDB profile engine's faster SQL gives the documented counts: its bin expression
equals the grid rule (numpy `Grid.bin_of` and `grid_sql`) at and around every edge, a
profile's counts, extremes and sums equal numpy/pandas on generated data, categorical text
made per group equals text made per row, the heavy-value search finds every value holding
≥ 1/64 of a column, and a side is read once per column (the reference's distinct counts
come from its plan)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from aidebt_core.data import Table, connect, open_table
from aidebt_core.profiles import duckdb_engine as engine
from aidebt_core.profiles.model import grid_from_edges, grid_sql
from aidebt_core.workspace import Workspace

GRIDS = {
    "quantile cells and a point": grid_from_edges([-3.5, -1.0, 0.0, 0.1, 0.3, 7.0],
                                                  points=[0.0]),
    "one cell": grid_from_edges([2.0, 2.5]),
    "points at both ends": grid_from_edges([-1.0, 0.5, 4.0], points=[-1.0, 4.0]),
    "97 cells": grid_from_edges(np.cumsum(np.random.default_rng(1).exponential(1.0, 98)),
                                points=[]),
}


@pytest.mark.parametrize("name", sorted(GRIDS))
def test_bin_expression_equals_the_grid_rule_around_every_edge(name):
    grid = GRIDS[name]
    edges = np.array(grid.edges)
    probes = np.concatenate([edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf),
                             np.linspace(edges[0] - 3, edges[-1] + 3, 3_001),
                             edges[:-1] + np.diff(edges) * 0.999_999_9])
    con = duckdb.connect()
    x, cell = engine.X, engine.CELL
    sql = (f"SELECT {engine._bin_sql(x, cell, grid)} AS fast, {grid_sql(x, grid)} AS ref "
           f"FROM (SELECT {x}, {engine._cell_sql(x, grid)} AS {cell} FROM "
           f"(SELECT unnest($v) AS {x}))")
    got = con.execute(sql, {"v": probes.tolist()}).fetchnumpy()
    assert (got["fast"] == grid.bin_of(probes)).all()
    assert (got["fast"] == got["ref"]).all()
    specials = con.execute(f"SELECT {engine._bin_sql(x, cell, grid)} FROM (SELECT {x}, "
                           f"{engine._cell_sql(x, grid)} AS {cell} FROM (SELECT unnest(["
                           "NULL, 'nan'::DOUBLE, 'inf'::DOUBLE, '-inf'::DOUBLE]) AS "
                           f"{x}))").fetchall()
    assert [r[0] for r in specials] == [engine.MISSING_KEY, engine.MISSING_KEY,
                                        engine.INF_KEY, engine.INF_KEY]


def _accounts(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    balance = rng.standard_t(2, n) * 900.0
    balance[rng.random(n) < 0.04] = np.nan
    balance[rng.random(n) < 0.01] = np.inf
    balance[rng.random(n) < 0.01] = -np.inf
    rate = np.where(rng.random(n) < 0.3, -0.0, rng.choice([0.0, 1.5, 2.25], n))
    return pd.DataFrame({
        "balance_eur": balance,
        "tenure_months": rng.integers(0, 7, n).astype("int32"),
        "is_member": rng.random(n) < 0.35,
        "region_code": rng.integers(10, 14, n),
        "rate_band": rate,
        "segment": rng.choice(["retail", "sme", None], n),
        "opened_on": pd.Timestamp("2024-01-15") + pd.to_timedelta(
            rng.integers(0, 75 * 86_400, n), unit="s"),
    })


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("accounts")
    frame = _accounts(6_000, 5)
    frame.to_parquet(folder / "accounts.parquet")
    ws = Workspace.at(folder)
    con = connect(ws)
    table = open_table(con, ws, "accounts.parquet")
    kinds = engine.profile_kinds(table, categorical=["is_member", "region_code", "rate_band"],
                                 timestamp="opened_on")
    plan = engine.plan_profile(table, kinds, timestamp="opened_on", chunk="month")
    yield frame, table, plan, engine.compute_profile(table, plan)
    con.close()


def test_counts_extremes_and_sums_per_chunk_equal_numpy(accounts):
    frame, _, plan, prof = accounts
    assert not plan.column("balance_eur").exact and plan.column("tenure_months").exact
    months = frame.opened_on.dt.to_period("M").astype(str) + "-01"
    assert {c.key: c.rows for c in prof.chunks} == months.value_counts().to_dict()
    grid = plan.column("balance_eur").grid
    for chunk in prof.chunks:
        part = frame[months == chunk.key]
        col = chunk.column("balance_eur")
        finite = part.balance_eur[np.isfinite(part.balance_eur)].to_numpy()
        assert col.missing == part.balance_eur.isna().sum()
        assert col.inf == np.isinf(part.balance_eur).sum()
        assert list(col.bins) == np.bincount(grid.bin_of(finite), minlength=grid.bins).tolist()
        assert (col.minimum, col.maximum) == (finite.min(), finite.max())
        assert col.total == pytest.approx(finite.sum(), rel=1e-12)
        assert col.total_sq == pytest.approx((finite * finite).sum(), rel=1e-12)
        tenure = chunk.column("tenure_months")
        assert dict(tenure.values) == part.tenure_months.astype(float).value_counts().to_dict()
        assert (tenure.minimum, tenure.maximum) == (part.tenure_months.min(),
                                                    part.tenure_months.max())
        assert tenure.total == part.tenure_months.sum()
        assert tenure.total_sq == (part.tenure_months.astype(float) ** 2).sum()


def test_categorical_text_per_group_equals_text_per_row(accounts):
    frame, table, plan, prof = accounts
    whole = prof.overall()
    for name in ("is_member", "region_code", "rate_band", "segment"):
        per_row = dict(table.execute(
            f'SELECT CAST("{name}" AS VARCHAR), count(*) FROM {engine.ROWS} '
            f'WHERE "{name}" IS NOT NULL GROUP BY 1').fetchall())
        assert dict(whole.column(name).values) == per_row, name
    assert dict(whole.column("is_member").values) == {
        "true": int(frame.is_member.sum()), "false": int((~frame.is_member).sum())}
    # a float column keeps -0.0 and 0.0 apart, as CAST(... AS VARCHAR) per row does
    rates = dict(whole.column("rate_band").values)
    assert rates["-0.0"] == int((np.signbit(frame.rate_band) & (frame.rate_band == 0)).sum())
    assert rates["0.0"] == int((~np.signbit(frame.rate_band) & (frame.rate_band == 0)).sum())
    assert whole.column("segment").missing == frame.segment.isna().sum()


def test_heavy_values_are_found_whether_alone_in_their_sub_bin_or_not(tmp_path):
    rng = np.random.default_rng(9)
    n = 20_000
    spread = rng.uniform(0.0, 1_000.0, n)
    # 0.0 alone in its sub-bin; 500.0 shares one with 500.0 + 1e-9 (both heavy); 250.0 is
    # 1/80 of the rows, below the 1/64 share
    lone = np.where(rng.random(n) < 0.3, 0.0, spread)
    pick = rng.random(n)
    shared = np.select([pick < 0.2, pick < 0.4, pick < 0.4125], [500.0, 500.0 + 1e-9, 250.0],
                       spread)
    pd.DataFrame({"lone_zero": lone, "twin_values": shared}).to_parquet(tmp_path / "h.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    table = open_table(con, ws, "h.parquet")
    plan = engine.plan_profile(table, [("lone_zero", "numeric"), ("twin_values", "numeric")])
    for name, column in (("lone_zero", lone), ("twin_values", shared)):
        values, counts = np.unique(column, return_counts=True)
        heavy = sorted(float(v) for v, c in zip(values, counts, strict=True) if 64 * c >= n)
        assert list(plan.column(name).grid.points) == heavy, name
    assert list(plan.column("twin_values").grid.points) == [500.0, 500.0 + 1e-9]
    con.close()


def test_each_column_is_read_once_and_the_reference_distincts_come_from_its_plan(
        accounts, monkeypatch):
    _, table, plan, prof = accounts
    seen: list[str] = []
    run = Table.execute

    def counting(self, query, params=None):
        seen.append(query)
        return run(self, query, params)

    monkeypatch.setattr(Table, "execute", counting)
    # The fixture's table was profiled right after its plan: a fresh plan + profile of the
    # same table object runs no distinct count in the profile.
    fresh_plan = engine.plan_profile(table, [(c.name, c.kind) for c in plan.columns],
                                     timestamp="opened_on", chunk="month")
    planned = len(seen)
    again = engine.compute_profile(table, fresh_plan)
    profile_queries = seen[planned:]
    # each column is read by one query, which reads no other column of the plan (the
    # timestamp is in every chunk key; one more query may read only it: the chunk spans)
    for c in plan.columns:
        readers = [q for q in profile_queries if f'"{c.name}"' in q]
        assert len(readers) == 1, c.name
        assert all(f'"{o.name}"' not in readers[0] for o in plan.columns if o.name != c.name)
    assert len(profile_queries) <= len(plan.columns) + 1
    assert not any("approx_count_distinct" in q for q in profile_queries)
    # Another table object over the same rows counts them itself, with the same result.
    other = Table(table.con, table.view, table.label)
    del seen[:]
    assert engine.compute_profile(other, fresh_plan) == again == prof
    assert len(seen) == len(profile_queries) + 1
    assert sum("approx_count_distinct" in q for q in seen) == 1


def test_a_plan_without_columns_still_counts_rows_per_chunk(accounts):
    frame, table, plan, _ = accounts
    from dataclasses import replace

    bare = engine.compute_profile(table, replace(plan, columns=()))
    months = frame.opened_on.dt.to_period("M").astype(str) + "-01"
    assert {c.key: c.rows for c in bare.chunks} == months.value_counts().to_dict()
    assert all(c.columns == () for c in bare.chunks)
