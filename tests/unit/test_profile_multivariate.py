"""Multivariate drift from profiles (the "cross" section's complete-case moments) on generated
accounts (not the sample): a correlation that breaks from 2024-09, a lognormal `amount` with
missing values, an integer `year`, partial first/last months. The moments path equals a
direct computation on the complete rows (≤ 1e-9) and flags the same chunks as the rows path."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from aidebt_core.cli import main
from aidebt_core.drift.multivariate import multivariate_drift
from aidebt_core.profiles import cross
from aidebt_core.profiles import duckdb_engine as engine
from aidebt_core.profiles.model import save
from aidebt_core.profiles.multivariate import multivariate_route
from aidebt_core.profiles.route import SETTINGS, EngineSettings

NUMERIC = ["amount", "balance", "age_years", "tenure", "year"]
BROKEN_FROM = "2024-09-01"


def accounts(n: int, seed: int, start: str, days: int, broken: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    opened = pd.Timestamp(start) + pd.to_timedelta(
        np.sort(rng.integers(0, days * 86_400, n)), unit="s")
    late = np.asarray(opened >= pd.Timestamp(BROKEN_FROM)) & broken
    a, b = rng.normal(0, 1, n), rng.normal(0, 1, n)
    c = np.where(late, rng.normal(0, 1, n), 0.9 * a + rng.normal(0, 0.43, n))
    amount = np.exp(7 + 0.5 * a)
    amount[rng.random(n) < 0.02] = np.nan
    return pd.DataFrame({"opened_at": opened, "amount": amount, "balance": 100 + 20 * c,
                         "age_years": 40 + 8 * b, "tenure": 0.8 * b + rng.normal(0, 0.6, n),
                         "year": rng.integers(2015, 2024, n),
                         "region": rng.choice(["north", "south"], n)})


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    from aidebt_core.data import connect, open_table
    from aidebt_core.workspace import Workspace

    folder = tmp_path_factory.mktemp("accounts")
    frames = (accounts(12_000, 1, "2024-01-10", 150, False),
              accounts(10_000, 2, "2024-06-12", 140, True))
    for frame, name in zip(frames, ("ref.parquet", "cur.parquet"), strict=True):
        frame.to_parquet(folder / name)
    ws = Workspace.at(folder)
    con = connect(ws)
    tables = tuple(open_table(con, ws, n) for n in ("ref.parquet", "cur.parquet"))
    token = SETTINGS.set(EngineSettings(profile_rows=1_000))   # both sides "large"
    try:
        routed = multivariate_route(*tables, NUMERIC, ["region"], "month", "opened_at")
    finally:
        SETTINGS.reset(token)
    rows = multivariate_drift(*tables, NUMERIC, [], "month", "opened_at")
    yield {"folder": folder, "frames": frames, "tables": tables, "routed": routed,
           "rows": rows}
    con.close()


def _direct(base: pd.DataFrame, chunk: pd.DataFrame, variance: float = 0.65) -> float:
    """RMS reconstruction error of `chunk`'s complete rows under a PCA of `base`'s complete
    rows, computed on the rows themselves."""
    x = base[NUMERIC].to_numpy(float)
    x = x[np.isfinite(x).all(axis=1)]
    mean, std = x.mean(axis=0), x.std(axis=0)
    z = (x - mean) / std
    values, vectors = np.linalg.eigh(np.cov(z.T, bias=True))
    order = np.argsort(values)[::-1]
    ratio = values[order] / values.sum()
    k = int(np.searchsorted(np.cumsum(ratio), variance, side="right") + 1)
    kept = vectors[:, order][:, :k]
    y = chunk[NUMERIC].to_numpy(float)
    y = (y[np.isfinite(y).all(axis=1)] - mean) / std
    residual = y - y @ kept @ kept.T
    return float(np.sqrt(np.mean(np.sum(residual ** 2, axis=1))))


def test_moments_give_the_complete_rows_error_exactly(sides):
    ref, cur = sides["frames"]
    got = sides["routed"]
    months = [f.opened_at.dt.strftime("%Y-%m") for f in (ref, cur)]
    labels = [c.label.replace(" (current)", "") for c in got.chunks]
    n_ref = sum(c.period == "reference" for c in got.chunks)
    expected = [_direct(ref[months[0] != m], ref[months[0] == m]) for m in labels[:n_ref]]
    expected += [_direct(ref, cur[months[1] == m]) for m in labels[n_ref:]]
    np.testing.assert_allclose(got.errors, expected, rtol=0, atol=1e-9)
    assert dict(got.settings)["left_out"] == ("region",) and got.columns == tuple(NUMERIC)


def test_flags_and_chunks_match_the_rows_path(sides):
    got, rows = sides["routed"], sides["rows"]
    assert [c.label for c in got.chunks] == [c.label for c in rows.chunks]
    assert [c.partial for c in got.chunks] == [c.partial for c in rows.chunks]
    assert [c.rows for c in got.chunks] == [c.rows for c in rows.chunks]
    np.testing.assert_array_equal(got.alerts, rows.alerts)
    assert got.first_alert() == rows.first_alert() == "2024-09"
    assert got.components == rows.components
    # RMS of the error norms ≥ their mean (Jensen): the statistics differ, by a few percent
    judged = np.isfinite(rows.errors)
    assert np.all(got.errors[judged] >= rows.errors[judged] * 0.95)
    assert np.all(got.errors[judged] <= rows.errors[judged] * 1.15)


def _saved(sides, name: str, table, plan, config=None):
    ctx = cross.sql_context(table, plan)
    config = config or cross.make_config(ctx, [(n, "numeric") for n in NUMERIC])
    counted = cross.compute(ctx, plan, config)
    profile = engine.compute_profile(table, plan)
    profile = replace(profile, plan=replace(plan, sections=(config,)), chunks=tuple(
        replace(c, sections=((cross.NAME, counted[c.key]),)) for c in profile.chunks))
    save(profile, sides["folder"] / name)
    return config


@pytest.fixture(scope="module")
def saved(sides):
    """ref.aidebt / cur.aidebt with the cross section; the plan."""
    ref, cur = sides["tables"]
    kinds = engine.profile_kinds(ref, timestamp="opened_at")
    plan = engine.plan_profile(ref, kinds, timestamp="opened_at", chunk="month")
    config = _saved(sides, "ref.aidebt", ref, plan)
    _saved(sides, "cur.aidebt", cur, plan, config)
    return plan


def test_cli_from_saved_profiles_with_and_without_the_cross_section(sides, saved, capsys):
    ref, plan = sides["tables"][0], saved
    folder = sides["folder"]
    argv = ["drift", str(folder / "ref.aidebt"), str(folder / "cur.aidebt"), "--chunk",
            "month", "--columns", ",".join([*NUMERIC, "region"]), "--format", "json"]
    capsys.readouterr()
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)["multivariate"]
    assert doc["source"] == "profiles" and doc["left_out"] == ["region"]
    np.testing.assert_allclose(doc["error"], sides["routed"].errors, rtol=1e-9)
    assert doc["alert"] == sides["rows"].alerts.tolist()
    # a saved profile without the section: one line saying why, drift over time still there
    save(engine.compute_profile(ref, plan), folder / "plain.aidebt")
    argv[2] = str(folder / "plain.aidebt")
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["multivariate"] is None and out["over_time"]["columns"]
    assert "saved without the cross-column counts" in out["unavailable"]["multivariate"]


def test_drift_page_shows_multivariate_drift_from_saved_profiles(sides, saved):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from aidebt_core.selection import FILES, Selection

    folder = sides["folder"]
    assert (folder / "cur.aidebt").is_file()
    page = str(Path(__file__).resolve().parents[2] / "pages" / "drift.py")
    at = AppTest.from_file(page, default_timeout=120)
    at.session_state["aidebt_selection"] = Selection(
        workspace=str(folder), mode=FILES, reference="ref.aidebt", current="cur.aidebt")
    at.run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert not at.info
    captions = [c.value for c in at.caption]
    assert any("First alert: 2024-09" in c for c in captions)
    assert any(c.startswith("From the profiles: the root mean squared reconstruction error")
               and "region" in c for c in captions)
