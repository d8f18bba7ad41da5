"""Drift over time from profiles vs the rows, on generated bookings (not the sample): a
`booked_at` time axis with partial first and last months, an integer `year` feature, drift
planted from 2024-09 in a binned numeric column, a few-valued numeric one and a categorical
one. Same chunks and flags; exact statistics equal (≤ 1e-9); binned ones within their bound."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from aidebt_core.chunks import Chunking, plan_chunks
from aidebt_core.cli import main
from aidebt_core.drift import stats
from aidebt_core.drift.noise import numeric_null
from aidebt_core.drift.over_time import OverTimeResult, drift_over_time
from aidebt_core.profiles import duckdb_engine as engine
from aidebt_core.profiles.over_time import (
    ViewUnavailable,
    counted_wasserstein_null,
    over_time_from_profiles,
)

DRIFT_FROM = "2024-09-01"
COLUMNS = ["amount", "year", "tier", "ratio", "n_items", "note_code"]
KINDS = ["numeric", "numeric", "categorical", "numeric", "numeric", "categorical"]
PLANTED = {"amount", "tier", "n_items"}


def bookings(n: int, seed: int, start: str, days: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    booked = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.integers(0, days * 86_400, n)),
                                                   unit="s")
    late = np.asarray(booked >= pd.Timestamp(DRIFT_FROM))
    amount = rng.lognormal(7, 0.6, n) * np.where(late, 1.5, 1.0)
    amount[rng.random(n) < 0.03] = np.nan
    tier = rng.choice(["basic", "plus", "pro"], n).astype(object)
    tier[late & (rng.random(n) < 0.3)] = "gold"
    tier[rng.random(n) < 0.05] = None
    return pd.DataFrame({
        "booked_at": booked, "amount": amount, "year": rng.integers(2015, 2024, n),
        "tier": tier, "ratio": rng.beta(2, 5, n),
        "n_items": rng.poisson(np.where(late, 5.5, 4.0)),
        "note_code": rng.choice([f"c{i:03d}" for i in range(40)], n),
    })


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    from aidebt_core.data import connect, open_table
    from aidebt_core.workspace import Workspace

    folder = tmp_path_factory.mktemp("bookings")
    # reference 2024-01-17 .. 2024-06-15 (partial first and last month), current from
    # 2024-06-20 to 2024-11-12 (partial both ends too), drift from 2024-09.
    bookings(12_000, 3, "2024-01-17", 150).to_parquet(folder / "ref.parquet")
    bookings(10_000, 4, "2024-06-20", 145).to_parquet(folder / "cur.parquet")
    ws = Workspace.at(folder)
    con = connect(ws)
    ref, cur = (open_table(con, ws, n) for n in ("ref.parquet", "cur.parquet"))
    kinds = engine.profile_kinds(ref, timestamp="booked_at", columns=COLUMNS)
    plan = engine.plan_profile(ref, kinds, timestamp="booked_at", chunk="month")
    profiles = engine.compute_profile(ref, plan), engine.compute_profile(cur, plan)
    exact = drift_over_time(ref, cur, COLUMNS, KINDS, "month", "booked_at")
    spans = tuple(plan_chunks(t, Chunking("month"), "booked_at").chunks for t in (ref, cur))
    yield {"folder": folder, "ref": ref, "cur": cur, "profiles": profiles, "exact": exact,
           "spans": spans}
    con.close()


def _compare(exact: OverTimeResult, got: OverTimeResult) -> dict:
    """Checks chunk for chunk and returns the measured differences."""
    assert [c.label for c in got.chunks] == [c.label for c in exact.chunks]
    assert [c.rows for c in got.chunks] == [c.rows for c in exact.chunks]
    assert [c.too_small for c in got.chunks] == [c.too_small for c in exact.chunks]
    assert got.methods == exact.methods and got.threshold_source == exact.threshold_source
    np.testing.assert_array_equal(got.alerts, exact.alerts)
    np.testing.assert_array_equal(got.missing_alerts, exact.missing_alerts)
    np.testing.assert_allclose(got.missing, exact.missing, rtol=0, atol=1e-12)
    out = {}
    for i, name in enumerate(exact.columns):
        diff = float(np.nanmax(np.abs(got.values[i] - exact.values[i])))
        assert np.array_equal(np.isnan(got.values[i]), np.isnan(exact.values[i])), name
        if got.exact[i]:
            assert diff <= 1e-9, name
            assert np.nanmax(np.abs(got.chunk_thresholds[i] - exact.chunk_thresholds[i])) <= 1e-9
            assert got.bounds is None or np.isnan(got.bounds[i]).all()
        else:   # binned: the true value within the stated bound
            bound = got.bounds[i]
            assert np.all(np.abs(got.values[i] - exact.values[i]) <= bound + 1e-12), name
            assert 0 < np.nanmax(bound) < 0.05, name
        out[name] = diff
    return out


def test_profile_path_gives_the_rows_chunks_flags_and_statistics(sides):
    exact = sides["exact"]
    got = over_time_from_profiles(*sides["profiles"], COLUMNS, KINDS, "month",
                                  spans=sides["spans"])
    _compare(exact, got)
    assert [c.partial for c in got.chunks] == [c.partial for c in exact.chunks]
    partial = [c.label for c in exact.chunks if c.partial]
    assert partial == ["2024-01", "2024-06", "2024-06 (current)", "2024-11"]
    exactness = dict(zip(COLUMNS, got.exact, strict=True))
    assert exactness == {"amount": False, "year": True, "tier": True, "ratio": False,
                         "n_items": True, "note_code": True}
    # The planted drift: alerts from 2024-09 on, in exactly the planted columns.
    alerting = {c for i, c in enumerate(COLUMNS) if got.alerts[i].any()}
    assert alerting == PLANTED
    for name in PLANTED:
        assert got.first_alert(name) == "2024-09"
    doc = got.to_dict()
    amount = doc["columns"][0]
    assert amount["exact"] is False and len(amount["bound"]) == len(got.chunks)
    back = OverTimeResult.from_dict(json.loads(json.dumps(doc)))
    assert back.exact == got.exact and np.allclose(back.bounds, got.bounds, equal_nan=True)


def test_profiles_carry_their_chunks_first_and_last_times_for_partial_marks(sides):
    """Without the rows' chunk plan the profile's own first/last times per chunk give the
    same partial marks; a profile without them (format 1) gets none and says so."""
    got = over_time_from_profiles(*sides["profiles"], COLUMNS, KINDS, "month")
    _compare(sides["exact"], got)
    assert [c.partial for c in got.chunks] == [c.partial for c in sides["exact"].chunks]
    assert "Partial periods" not in (got.note or "")
    bare = tuple(replace(p, chunks=tuple(replace(c, first=None, last=None) for c in p.chunks))
                 for p in sides["profiles"])
    got = over_time_from_profiles(*bare, COLUMNS, KINDS, "month")
    _compare(sides["exact"], got)
    assert not any(c.partial for c in got.chunks) and "Partial periods" in got.note


def test_psi_over_time_from_profiles(sides):
    exact = drift_over_time(sides["ref"], sides["cur"], COLUMNS, KINDS, "month", "booked_at",
                            method="psi")
    got = over_time_from_profiles(*sides["profiles"], COLUMNS, KINDS, "month", method="psi",
                                  spans=sides["spans"])
    assert set(got.methods) == {"psi"}
    for i, name in enumerate(COLUMNS):
        if got.exact[i]:
            assert np.nanmax(np.abs(got.values[i] - exact.values[i])) <= 1e-9, name
            np.testing.assert_array_equal(got.alerts[i], exact.alerts[i])
    # binned PSI reads deciles on the grid: no bound, never called exact
    assert not got.exact[0] and np.isnan(got.bounds[0]).all()
    assert got.alerts[0].any() and got.first_alert("amount") == exact.first_alert("amount")


def test_counted_null_equals_the_null_of_the_expanded_values():
    rng = np.random.default_rng(9)
    values = np.sort(rng.integers(0, 300, 50_000).astype(float) * 0.5)
    distinct, counts = np.unique(values, return_counts=True)
    rows = numeric_null(stats.Sample(values), "wasserstein")
    counted = counted_wasserstein_null(stats.Sample(distinct, counts))
    np.testing.assert_array_equal(counted.shares, rows.shares)
    draws = rng.multinomial(800, rows.shares, size=200)
    np.testing.assert_allclose(counted.score(draws), rows.score(draws), rtol=1e-10, atol=0)


def _json(capsys, argv, code=0):
    capsys.readouterr()
    assert main([*argv, "--format", "json"]) == code
    return json.loads(capsys.readouterr().out)


def test_cli_from_saved_profiles_and_above_the_row_threshold(sides, capsys):
    folder, exact = sides["folder"], sides["exact"]
    ref, cur = str(folder / "ref.parquet"), str(folder / "cur.parquet")
    assert main(["profile", ref, "--timestamp", "booked_at", "--chunk", "month",
                 "--out", str(folder / "ref.aidebt")]) == 0
    assert main(["profile", cur, "--like", str(folder / "ref.aidebt"),
                 "--out", str(folder / "cur.aidebt")]) == 0
    chunked = ["--timestamp", "booked_at", "--chunk", "month", "--columns", ",".join(COLUMNS)]
    large = _json(capsys, ["drift", ref, cur, *chunked, "--profile-rows", "1000"])
    saved = _json(capsys, ["drift", str(folder / "ref.aidebt"), str(folder / "cur.aidebt"),
                           *chunked])
    for doc in (large, saved):
        got = doc["over_time"]
        assert [c["label"] for c in got["chunks"]] == [c.label for c in exact.chunks]
        by_name = {c["name"]: c for c in got["columns"]}
        assert set(by_name) == set(COLUMNS)
        for i, name in enumerate(exact.columns):
            assert by_name[name]["alert"] == exact.alerts[i].tolist(), name
            assert by_name[name]["first_alert"] == exact.first_alert(name)
        assert by_name["amount"]["exact"] is False and max(by_name["amount"]["bound"]) > 0
        assert by_name["tier"]["exact"] is True and "bound" not in by_name["tier"]
        assert got["recent_alerts"] == exact.recent_alerts(1)
    # partial marks: from the rows above the threshold, from the chunks' first/last times
    # in a saved profile
    for doc in (large, saved):
        assert [c["partial"] for c in doc["over_time"]["chunks"]] == [
            c.partial for c in exact.chunks]
    assert "Partial periods" not in (saved["over_time"].get("note") or "")
    assert large["multivariate"]["source"] == "profiles"   # from the moments of the tables
    assert saved["multivariate"] is None   # saved without the cross section: said why
    assert "saved without the cross-column counts" in saved["unavailable"]["multivariate"]


def test_a_profile_that_cannot_give_the_view_says_why_in_one_line(sides, capsys):
    folder = sides["folder"]
    assert main(["profile", str(folder / "ref.parquet"), "--out",
                 str(folder / "flat.aidebt")]) == 0
    capsys.readouterr()
    for argv, reason in (
            ([str(folder / "flat.aidebt"), str(folder / "cur.parquet"), "--timestamp",
              "booked_at", "--chunk", "month"], "profiled without chunks"),
            ([str(folder / "flat.aidebt"), str(folder / "cur.parquet"), "--chunk", "2000"],
             "needs the rows in order")):
        doc = _json(capsys, ["drift", *argv])
        assert doc["over_time"] is None and doc["columns"], argv
        assert reason in doc["unavailable"]["over_time"]
        assert main(["drift", *argv]) == 0
        out = capsys.readouterr().out
        lines = [line for line in out.splitlines() if "not computed" in line]
        assert len(lines) == 1 and reason in lines[0]
    with pytest.raises(ViewUnavailable, match="profiled by month; drift over time by week"):
        over_time_from_profiles(*sides["profiles"], COLUMNS, KINDS, "week")


def test_partial_marks_from_chunk_first_and_last_timestamps(sides):
    """A profile whose chunks carry their first/last timestamps (read when present) gets the
    partial marks `chunks.plan_chunks` gives the rows."""
    from types import SimpleNamespace

    from aidebt_core.profiles.periods import period_chunks

    frame = pd.read_parquet(sides["folder"] / "cur.parquet")
    month = frame.booked_at.dt.strftime("%Y-%m-01")
    spans = frame.groupby(month).booked_at.agg(["min", "max", "size"])
    profile = SimpleNamespace(source="cur", plan=SimpleNamespace(time_resolution=None),
                              chunks=[SimpleNamespace(key=k, rows=int(r["size"]),
                                                      first=r["min"].isoformat(),
                                                      last=r["max"].isoformat())
                                      for k, r in spans.iterrows()])
    got = period_chunks(profile, "month", 300, None)
    want = sides["spans"][1]
    assert [c.partial for c in got] == [c.partial for c in want] == [True, False, False,
                                                                      False, False, True]
    assert [c.label for c in got] == [c.label for c in want]
