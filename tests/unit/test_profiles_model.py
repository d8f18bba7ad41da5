"""Profile model: the bin rule in SQL equals numpy's, merge(profile(A), profile(B)) ==
profile(A ∪ B) on partitions, and `.aidebt` files round-trip or are refused with a message."""

from __future__ import annotations

import gzip
import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aidebt_core.data import connect, open_table
from aidebt_core.errors import DataSourceError, SchemaError
from aidebt_core.profiles import duckdb_engine as engine
from aidebt_core.profiles.model import (
    DatasetProfile,
    grid_from_edges,
    grid_sql,
    load,
    merge,
    save,
)
from aidebt_core.workspace import Workspace


def _frame(n: int, seed: int, start: str = "2023-03-01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.standard_t(3, n) * 100
    x[rng.random(n) < 0.05] = np.nan
    x[rng.random(n) < 0.01] = -np.inf
    return pd.DataFrame({
        "spend": x,
        "visits": rng.integers(0, 6, n),
        "zeros": np.where(rng.random(n) < 0.4, 0.0, rng.exponential(5, n)),
        "plan_tier": rng.choice(["free", "pro", "team", None], n),
        "repaid": rng.integers(0, 2, n),
        "y_pred_proba": rng.random(n),
        "y_pred": rng.integers(0, 2, n),
        "seen_at": pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 90 * 86400, n),
                                                          unit="s"),
    })


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parts")
    _frame(4_000, 3).to_parquet(folder / "base.parquet")
    ws = Workspace.at(folder)
    con = connect(ws)
    base = open_table(con, ws, "base.parquet")
    kinds = engine.profile_kinds(base, timestamp="seen_at")
    plan = engine.plan_profile(base, kinds, timestamp="seen_at", chunk="month", target="repaid",
                               prediction="y_pred", score="y_pred_proba")
    yield con, ws, folder, plan
    con.close()


def test_grid_rule_in_sql_equals_numpy_at_and_around_every_edge():
    grid = grid_from_edges([-3.5, -1.0, 0.0, 0.1, 0.3, 7.0], points=[0.0])
    edges = np.array(grid.edges)
    probes = np.concatenate([edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf),
                             np.linspace(-5, 9, 2_001)])
    con = duckdb.connect()
    got = con.execute(f"SELECT {grid_sql('v', grid)} AS b FROM (SELECT unnest($v) AS v)",
                      {"v": probes.tolist()}).fetchnumpy()["b"]
    assert (got == grid.bin_of(probes)).all()
    assert grid.bins >= 2_000
    # the rule's landmarks: below e_0 -> 0, above e_m -> overflow, the point -> its own bin
    assert grid.bin_of(np.array([-9.0, 8.0, 0.0])).tolist() == [0, grid.cells * grid.fine + 1,
                                                                grid.cells * grid.fine + 2]
    lows, highs = grid.bin_bounds()
    order = grid.order()
    assert sorted(order.tolist()) == list(range(grid.bins))
    assert np.all(np.diff(lows[order]) >= 0)


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(1, 3_999), seed=st.integers(0, 10))
def test_merge_of_partitions_is_the_profile_of_the_union(tables, cut, seed):
    con, ws, folder, plan = tables
    frame = _frame(4_000, 100 + seed)
    order = np.random.default_rng(seed).permutation(len(frame))
    parts = {"a.parquet": frame.iloc[order[:cut]], "b.parquet": frame.iloc[order[cut:]],
             "all.parquet": frame}
    profiles = {}
    for name, part in parts.items():
        part.to_parquet(folder / name)
        table = open_table(con, ws, name)
        profiles[name] = engine.compute_profile(table, plan)
    merged = merge(profiles["a.parquet"], profiles["b.parquet"])
    whole = profiles["all.parquet"]
    assert [c.key for c in merged.chunks] == [c.key for c in whole.chunks]
    for m, w in zip(merged.chunks, whole.chunks, strict=True):
        assert m.rows == w.rows and m.performance == w.performance
        for mc, wc in zip(m.columns, w.columns, strict=True):
            # integers and values exactly; float sums to rounding
            assert (mc.rows, mc.missing, mc.inf, mc.values, mc.other, mc.bins,
                    mc.minimum, mc.maximum) == (wc.rows, wc.missing, wc.inf, wc.values,
                                                wc.other, wc.bins, wc.minimum, wc.maximum)
            assert mc.total == pytest.approx(wc.total, rel=1e-9, abs=1e-6)
            assert mc.total_sq == pytest.approx(wc.total_sq, rel=1e-9, abs=1e-6)


def test_profile_counts_against_pandas(tables):
    con, ws, folder, plan = tables
    frame = _frame(4_000, 3)
    prof = engine.compute_profile(open_table(con, ws, "base.parquet"), plan)
    whole = prof.overall()
    spend = whole.column("spend")
    assert spend.missing == frame.spend.isna().sum()
    assert spend.inf == np.isinf(frame.spend).sum()
    finite = frame.spend[np.isfinite(frame.spend)]
    assert spend.minimum == finite.min() and spend.maximum == finite.max()
    assert spend.total == pytest.approx(finite.sum(), rel=1e-12)
    assert dict(whole.column("visits").values) == frame.visits.value_counts().to_dict()
    tiers = whole.column("plan_tier")
    assert dict(tiers.values) == frame.plan_tier.value_counts().to_dict()
    assert tiers.missing == frame.plan_tier.isna().sum()
    months = frame.seen_at.dt.to_period("M").astype(str) + "-01"
    assert {c.key: c.rows for c in prof.chunks} == months.value_counts().to_dict()
    jan = prof.chunks[0].performance
    first = frame[months == prof.chunks[0].key]
    expected = first.groupby(["repaid", "y_pred"]).size()
    assert {(int(a), int(b)): n for a, b, n in jan.confusion} == expected.to_dict()
    grid = plan.score_grid
    for label, bins in jan.score_bins:
        scores = first.y_pred_proba[first.repaid == int(label)]
        assert list(bins) == np.bincount(grid.bin_of(scores), minlength=grid.bins).tolist()
    zeros = whole.column("zeros")
    zero_bin = plan.column("zeros").grid.bin_of(np.array([0.0]))[0]
    assert zeros.bins[zero_bin] == (frame.zeros == 0).sum()


def test_save_and_load_round_trip(tables, tmp_path):
    con, ws, _, plan = tables
    prof = engine.compute_profile(open_table(con, ws, "base.parquet"), plan)
    path = save(prof, tmp_path / "base.aidebt")
    assert load(path) == prof
    text = gzip.open(path, "rt").read()
    assert '"format":"aidebt-profile"' in text and '"version":2' in text
    assert "seen_at" not in json.loads(text)["plan"]["columns"].__repr__()


@pytest.mark.parametrize("damage, message", [
    (lambda d: {**d, "version": 99}, "version 99"),
    (lambda d: {**d, "format": "other"}, "not an aidebt profile"),
    (lambda d: {**d, "chunks": [{"key": "x"}]}, "damaged"),
])
def test_bad_profiles_are_refused_with_the_file_name(tables, tmp_path, damage, message):
    con, ws, _, plan = tables
    doc = engine.compute_profile(open_table(con, ws, "base.parquet"), plan).to_dict()
    path = tmp_path / "bad.aidebt"
    with gzip.open(path, "wt") as fh:
        json.dump(damage(doc), fh)
    with pytest.raises(DataSourceError, match=message) as info:
        load(path)
    assert "bad.aidebt" in str(info.value)


def test_corrupt_and_truncated_files_are_refused(tmp_path):
    (tmp_path / "plain.aidebt").write_text("not gzip")
    with pytest.raises(DataSourceError, match="plain.aidebt"):
        load(tmp_path / "plain.aidebt")
    raw = gzip.compress(b'{"format": "aidebt-profile", "version": 1, "plan":')
    (tmp_path / "cut.aidebt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataSourceError, match="cut.aidebt"):
        load(tmp_path / "cut.aidebt")


def test_merge_refuses_profiles_of_other_plans(tables):
    con, ws, _, plan = tables
    prof = engine.compute_profile(open_table(con, ws, "base.parquet"), plan)
    other = DatasetProfile(plan.__class__(plan.columns[:2]), prof.chunks, "other")
    with pytest.raises(SchemaError, match="different plans"):
        merge(prof, other)
