"""The "cross" profile section (profiles/cross.py): its counts against numpy/pandas on
generated hostile data, merge == union (Hypothesis), the engine hook, chunks, save/load.

`cross_frame` is also the data of test_profile_entanglement*.py."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aidebt_core.data import connect, open_table
from aidebt_core.entanglement.encode import DEFAULT_TOP_K
from aidebt_core.profiles import cross, model
from aidebt_core.profiles import duckdb_engine as engine
from aidebt_core.profiles.sections import text_literal
from aidebt_core.workspace import Workspace

HOSTILE = ["a", "b\\x", "c'd", "é\nz", "$levels0", "\\'", "x\\\\'y"]
KINDS = {'inc"ome; DROP': "numeric", "y_pred_proba": "numeric", "year": "numeric",
         "twin": "numeric", "const": "numeric", "it's `q`": "categorical",
         "branch": "categorical", "verified": "categorical", "region": "categorical"}


def cross_frame(seed: int, n: int, shift: float = 0.0, broken: bool = False) -> pd.DataFrame:
    """Hostile names and values: NaN, ±inf and NULL apart, an integer `year`, a constant,
    quotes/backslashes/newlines/`$` in categories, 120 skewed branches (cut at top-k, with
    ties), booleans, a region tied to `twin` (η), three months of timestamps. `broken`: twin
    no longer follows year (a planted correlation change)."""
    rng = np.random.default_rng(seed)
    year = rng.integers(2019, 2025, n)
    twin = year * 2.0 + rng.normal(shift, 0.7, n)
    if broken:
        twin = rng.permutation(twin)
    income = rng.normal(5e4, 1e4, n)
    income[rng.random(n) < 0.05] = np.nan
    income[rng.random(n) < 0.03] = np.inf
    income[rng.random(n) < 0.02] = -np.inf
    proba = rng.beta(2, 5, n)
    proba[rng.random(n) < 0.1] = np.nan
    weights = 1.0 / np.arange(1, 121) ** 0.8
    branch = rng.choice([f"b{i:03d}" for i in range(120)], n, p=weights / weights.sum())
    hostile = np.array(rng.choice(HOSTILE, n), dtype=object)
    hostile[rng.random(n) < 0.07] = None
    region = np.where(twin > 4046, "north", np.where(twin > 4042, "south", "east"))
    return pd.DataFrame({
        "when": pd.Timestamp("2025-01-15") + pd.to_timedelta(rng.integers(0, 80, n), unit="D"),
        'inc"ome; DROP': income, "y_pred_proba": proba, "year": year, "twin": twin,
        "const": np.full(n, 7.0), "it's `q`": hostile, "branch": branch,
        "verified": rng.random(n) < 0.3, "region": region})


def open_frame(tmp_path, frame: pd.DataFrame, name: str):
    frame.to_parquet(tmp_path / f"{name}.parquet")
    ws = Workspace.at(tmp_path)
    return open_table(connect(ws), ws, f"{name}.parquet")


def whole(sections: dict) -> cross.Section:
    items = list(sections.values())
    out = items[0]
    for s in items[1:]:
        out = out.merge(s)
    return out


def assert_sections_equal(a: cross.Section, b: cross.Section, rel: float = 1e-9) -> None:
    """Counts identical; float sums equal up to rounding (relative to the largest sum of the
    same kind, since a sum near 0 can differ in its last bits of a large magnitude)."""
    for name in a.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if name == "tables" or not isinstance(x, tuple):
            assert x == y, name
            continue
        flat_x = np.asarray([v for row in x for v in row] if x and isinstance(x[0], tuple)
                            else x, dtype=object)
        flat_y = np.asarray([v for row in y for v in row] if y and isinstance(y[0], tuple)
                            else y, dtype=object)
        assert flat_x.shape == flat_y.shape, name
        if flat_x.size and isinstance(flat_x.flat[0], float):
            fx = np.array([np.nan if v is None else v for v in flat_x], dtype=float)
            fy = np.array([np.nan if v is None else v for v in flat_y], dtype=float)
            scale = max(np.nanmax(np.abs(fx), initial=0.0), 1e-300)
            assert np.allclose(fx, fy, rtol=0, atol=rel * scale, equal_nan=True), name
        else:
            assert list(flat_x) == list(flat_y), name


def test_top_k_is_the_encoders():
    assert cross.TOP_K == DEFAULT_TOP_K


def test_config_levels_and_shifts(tmp_path):
    frame = cross_frame(1, 3000)
    table = open_frame(tmp_path, frame, "a")
    config = cross.make_config(cross.duckdb_context(table), list(KINDS.items()))
    assert config.numeric == ('inc"ome; DROP', "y_pred_proba", "year", "twin", "const")
    counts = frame["branch"].value_counts()
    ranked = sorted(counts.items(), key=lambda t: (-t[1], t[0]))
    b = config.categorical.index("branch")
    assert config.distinct[b] == 120 and config.folded(b)
    assert config.levels[b] == tuple(v for v, _ in ranked[:DEFAULT_TOP_K - 1])
    h = config.categorical.index("it's `q`")
    assert set(config.levels[h]) == set(HOSTILE) and not config.folded(h)
    assert config.levels[config.categorical.index("verified")] in (("false", "true"),
                                                                  ("true", "false"))
    finite = frame['inc"ome; DROP'][np.isfinite(frame['inc"ome; DROP'])]
    assert config.shifts[0] == pytest.approx(finite.mean(), rel=1e-5)
    assert config.shifts[4] == 7.0
    assert cross.Config.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def _numpy_section(frame: pd.DataFrame, config: cross.Config) -> dict:
    """The section's numbers computed directly with numpy/pandas."""
    x = np.column_stack([frame[c].to_numpy(float) for c in config.numeric])
    ok = np.isfinite(x)
    a = np.where(ok, x - np.asarray(config.shifts), 0.0)
    out = {"count": ok.sum(0), "sums": a.sum(0), "squares": (a * a).sum(0)}
    p = len(config.numeric)
    pairs = cross.pairs_of(p)
    both = [ok[:, i] & ok[:, j] for i, j in pairs]
    out["pair_rows"] = [m.sum() for m in both]
    out["pair_sums_a"] = [a[m, i].sum() for m, (i, _) in zip(both, pairs, strict=True)]
    out["pair_squares_b"] = [(a[m, j] ** 2).sum() for m, (_, j) in zip(both, pairs, strict=True)]
    out["pair_products"] = [(a[m, i] * a[m, j]).sum() for m, (i, j) in zip(both, pairs,
                                                                           strict=True)]
    every = ok.all(1)
    out["complete_rows"] = every.sum()
    out["complete_products"] = [(a[every, i] * a[every, j]).sum()
                                for i, j in cross.triangle_of(p)]
    codes = []
    for c, name in enumerate(config.categorical):
        text = [None if v is None or v is np.nan else str(v).lower()
                if isinstance(v, (bool, np.bool_)) else str(v) for v in frame[name].tolist()]
        index = {v: k for k, v in enumerate(config.levels[c])}
        codes.append(np.array([-1 if v is None else index.get(v, len(index)) for v in text]))
    out["codes"] = codes
    out["a"], out["ok"] = a, ok
    return out


def test_section_equals_numpy_on_hostile_data(tmp_path):
    frame = cross_frame(2, 4000)
    table = open_frame(tmp_path, frame, "a")
    ctx = cross.duckdb_context(table)
    config = cross.make_config(ctx, list(KINDS.items()))
    section = whole(cross.compute(ctx, None, config))
    want = _numpy_section(frame, config)
    assert section.rows == len(frame)
    assert list(section.count) == list(want["count"])
    for name in ("sums", "squares", "pair_sums_a", "pair_squares_b", "pair_products",
                 "complete_products"):
        assert np.allclose(getattr(section, name), want[name], rtol=1e-11, atol=1e-6), name
    assert list(section.pair_rows) == list(want["pair_rows"])
    assert section.complete_rows == want["complete_rows"]
    finite = frame['inc"ome; DROP'][np.isfinite(frame['inc"ome; DROP'])]
    assert section.minimum[0] == finite.min() and section.maximum[0] == finite.max()
    m = len(config.categorical)
    for c in range(m):
        codes = want["codes"][c]
        expect = np.bincount(codes[codes >= 0], minlength=len(config.levels[c]) + 1)
        assert list(section.level_counts[c]) == list(expect)
        # η inputs: per code, the year column's finite rows and their sum
        year = config.numeric.index("year")
        ok = want["ok"][:, year] & (codes >= 0)
        n_per = np.bincount(codes[ok], minlength=len(expect))
        s_per = np.bincount(codes[ok], weights=want["a"][ok, year], minlength=len(expect))
        p = len(config.numeric)
        assert list(section.group_counts[c][year::p]) == list(n_per)
        assert np.allclose(section.group_sums[c][year::p], s_per, atol=1e-9)
    for a, b in cross.pairs_of(m):
        ca, cb = want["codes"][a], want["codes"][b]
        keep = (ca >= 0) & (cb >= 0)
        pairs = pd.Series(list(zip(ca[keep], cb[keep], strict=True))).value_counts()
        assert dict(((x, y), n) for x, y, n in section.tables[cross.pair_index(a, b, m)]) \
            == {(int(x), int(y)): int(n) for (x, y), n in pairs.items()}


def test_complete_moments_equal_numpy(tmp_path):
    frame = cross_frame(3, 2000)
    table = open_frame(tmp_path, frame, "a")
    ctx = cross.duckdb_context(table)
    config = cross.make_config(ctx, list(KINDS.items()))
    n, mean, cov = whole(cross.compute(ctx, None, config)).complete_moments(config)
    x = np.column_stack([frame[c].to_numpy(float) for c in config.numeric])
    rows = x[np.isfinite(x).all(1)]
    assert n == len(rows) > 100
    assert np.allclose(mean, rows.mean(0), rtol=1e-12)
    assert np.allclose(cov, np.cov(rows, rowvar=False), rtol=1e-9, atol=1e-12)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n=st.integers(1, 300), cut=st.floats(0.0, 1.0))
def test_merge_of_parts_is_the_section_of_the_union(tmp_path_factory, seed, n, cut):
    frame = cross_frame(seed, n).assign(row_no=np.arange(n))
    k = int(cut * n)   # 0 or n: one part is empty (its section is no chunk at all)
    union = open_frame(tmp_path_factory.mktemp("merge"), frame, "all")
    config = cross.make_config(cross.duckdb_context(union), list(KINDS.items()), top_k=5)
    parts = [union.where("row_no < $k", k=k), union.where("row_no >= $k", k=k)]
    got = [whole(s) for s in (cross.compute(cross.duckdb_context(t), None, config)
                              for t in parts) if s]
    merged = got[0] if len(got) == 1 else got[0].merge(got[1])
    assert_sections_equal(merged, whole(cross.compute(cross.duckdb_context(union), None,
                                                      config)))


def test_engine_hook_chunks_and_save_load(tmp_path):
    """A plan asking for the section: the DuckDB engine counts it per month, each month's
    section equals that month's rows alone, and save/load keeps it."""
    frame = cross_frame(4, 3000)
    table = open_frame(tmp_path, frame, "a")
    kinds = [(n, k) for n, k in KINDS.items() if n != "verified"]
    plan = engine.plan_profile(table, kinds, timestamp="when", chunk="month")
    config = cross.make_config(cross.duckdb_context(table, plan), kinds)
    profile = engine.compute_profile(table, replace(plan, sections=(config,)))
    months = frame["when"].dt.to_period("M").dt.start_time.dt.strftime("%Y-%m-%d")
    assert [c.key for c in profile.chunks] == sorted(months.unique())
    for chunk in profile.chunks:
        alone = open_frame(tmp_path, frame[months == chunk.key], f"m{chunk.key}")
        assert_sections_equal(chunk.section("cross"),
                              whole(cross.compute(cross.duckdb_context(alone), None, config)))
    model.save(profile, tmp_path / "x.aidebt")
    back = model.load(tmp_path / "x.aidebt")
    assert back.plan.section("cross") == config
    assert_sections_equal(back.overall().section("cross"), profile.overall().section("cross"),
                          rel=0)


def test_with_section_adds_it_to_a_saved_profile(tmp_path):
    """`aidebt profile --for entanglement`'s hook: the config of the schema's features, the
    counts per chunk, other sections kept."""
    from types import SimpleNamespace

    from aidebt_core.schema import infer_schema

    frame = cross_frame(5, 1500)
    table = open_frame(tmp_path, frame, "a")
    kinds = [(n, k) for n, k in KINDS.items()]
    plan = engine.plan_profile(table, kinds, timestamp="when", chunk="month")
    profile = engine.compute_profile(table, plan)
    assert profile.chunks[0].section("cross") is None
    added = cross.with_section(table, profile, SimpleNamespace(schema=infer_schema(table)))
    config = added.plan.section("cross")
    assert set(config.numeric) | set(config.categorical) <= set(KINDS)
    assert "twin" in config.numeric and "region" in config.categorical
    assert sum(c.section("cross").rows for c in added.chunks) == len(frame)


def test_text_literal_reads_back_on_duckdb():
    import duckdb

    con = duckdb.connect()
    for value in HOSTILE + ["", "''", "\t", "ü€😀"]:
        assert con.execute(f"SELECT {text_literal(value, 'duckdb')}").fetchone()[0] \
            == value


def test_section_size_for_twenty_columns(tmp_path):
    """10 numeric + 10 categorical columns (50 levels each): one chunk's section in JSON."""
    rng = np.random.default_rng(6)
    n = 5000
    frame = pd.DataFrame({**{f"x{i}": rng.normal(i, 1, n) for i in range(10)},
                          **{f"c{i}": rng.integers(0, 80, n).astype(str) for i in range(10)}})
    table = open_frame(tmp_path, frame, "a")
    kinds = [(f"x{i}", "numeric") for i in range(10)] + [(f"c{i}", "categorical")
                                                          for i in range(10)]
    ctx = cross.duckdb_context(table)
    section = whole(cross.compute(ctx, None, cross.make_config(ctx, kinds)))
    size = len(json.dumps(section.to_dict(), separators=(",", ":")))
    assert 50_000 < size < 2_000_000


def test_complete_columns_take_the_short_path_with_the_same_numbers(tmp_path):
    """Columns finite on every row are counted with Σxy alone (their other pair sums and the
    complete case come from the column sums): the same numbers as numpy, all complete or
    not, and merged with a part where one column has gaps."""
    frame = cross_frame(7, 2000)[["year", "twin", "const", "region"]].assign(
        gappy=np.linspace(0.0, 1.0, 2000))
    kinds = [("year", "numeric"), ("twin", "numeric"), ("const", "numeric"),
             ("gappy", "numeric"), ("region", "categorical")]
    union = open_frame(tmp_path, frame.assign(gappy=np.where(np.arange(2000) < 1500,
                                                             frame["gappy"], np.nan)), "u")
    config = cross.make_config(cross.duckdb_context(union), kinds)
    complete = union.where("gappy IS NOT NULL")      # every column complete here
    assert cross._complete_columns(cross.duckdb_context(complete), config) == {0, 1, 2, 3}
    section = whole(cross.compute(cross.duckdb_context(complete), None, config))
    want = _numpy_section(frame.iloc[:1500], config)
    assert list(section.pair_rows) == list(want["pair_rows"]) == [1500] * 6
    for name in ("pair_sums_a", "pair_squares_b", "pair_products", "complete_products"):
        assert np.allclose(getattr(section, name), want[name], rtol=1e-11, atol=1e-6), name
    assert section.complete_rows == 1500
    rest = whole(cross.compute(cross.duckdb_context(union.where("gappy IS NULL")), None,
                               config))
    assert cross._complete_columns(cross.duckdb_context(union), config) == {0, 1, 2}
    assert_sections_equal(section.merge(rest),
                          whole(cross.compute(cross.duckdb_context(union), None, config)))
