"""The section framework (profiles/sections.py): computed by the engine per chunk, merged,
saved and read back, refused when unknown — with a toy section (tests/toy_section.py)."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from aidebt_core.data import connect, open_table
from aidebt_core.errors import DataSourceError
from aidebt_core.profiles import duckdb_engine as engine
from aidebt_core.profiles import model, sections
from aidebt_core.workspace import Workspace
from tests import toy_section


@pytest.fixture(autouse=True)
def _toy(monkeypatch):
    monkeypatch.setitem(sections.SECTION_MODULES, "toy", "tests.toy_section")


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.normal(100, 20, n)
    amount[rng.random(n) < 0.1] = np.nan
    amount[:3] = [np.inf, -np.inf, np.nan]
    return pd.DataFrame({
        "when": pd.Timestamp("2024-01-20") + pd.to_timedelta(rng.integers(0, 60, n), unit="D"),
        "amount $": amount,
        "kind \"q\"": rng.choice(["a", "b", None], n),
    })


def _profile(tmp_path, frame: pd.DataFrame, name: str, plan=None):
    frame.to_parquet(tmp_path / f"{name}.parquet")
    ws = Workspace.at(tmp_path)
    table = open_table(connect(ws), ws, f"{name}.parquet")
    kinds = [("amount $", model.NUMERIC), ("kind \"q\"", model.CATEGORICAL)]
    if plan is None:
        plan = engine.plan_profile(table, kinds, timestamp="when", chunk="month")
        plan = replace(plan, sections=(toy_section.Config("amount $", "kind \"q\""),))
    return engine.compute_profile(table, plan), plan


def _expected(frame: pd.DataFrame) -> dict:
    finite = frame[np.isfinite(frame["amount $"])]
    month = finite["when"].dt.to_period("M").dt.start_time.dt.strftime("%Y-%m-%d")
    grouped = finite.groupby([month, finite["kind \"q\""].fillna("<null>")])["amount $"]
    return {(k, None if g == "<null>" else g): (len(s), s.sum()) for (k, g), s in grouped}


def test_sections_are_computed_per_chunk_and_match_pandas(tmp_path):
    frame = _frame(3000, 1)
    profile, _ = _profile(tmp_path, frame, "a")
    seen = {}
    for chunk in profile.chunks:
        for g, n, t in chunk.section("toy").cells:
            seen[(chunk.key, g)] = (n, t)
    expected = _expected(frame)
    assert seen.keys() == expected.keys()
    for cell, (n, t) in expected.items():
        assert seen[cell][0] == n
        assert seen[cell][1] == pytest.approx(t, rel=1e-12)


def test_merge_save_and_load_keep_sections(tmp_path):
    frame = _frame(4000, 2)
    whole, plan = _profile(tmp_path, frame, "whole")
    first, _ = _profile(tmp_path, frame.iloc[:1500], "first", plan)
    second, _ = _profile(tmp_path, frame.iloc[1500:], "second", plan)
    merged = model.merge(first, second)
    for a, b in zip(merged.chunks, whole.chunks, strict=True):
        assert [(g, n) for g, n, _ in a.section("toy").cells] == \
               [(g, n) for g, n, _ in b.section("toy").cells]
    back = model.load(model.save(whole, tmp_path / "w.aidebt"))
    assert back.plan == whole.plan
    assert back.chunks == whole.chunks
    assert back.overall().section("toy").cells == whole.overall().section("toy").cells


def test_a_section_missing_on_one_side_is_dropped_on_merge(tmp_path):
    profile, _ = _profile(tmp_path, _frame(500, 3), "a")
    chunk = profile.chunks[0]
    merged = model.merge_chunks(chunk, replace(chunk, sections=()), profile.plan)
    assert merged.section("toy") is None and merged.rows == 2 * chunk.rows


def test_an_unknown_section_in_a_file_is_refused_by_name(tmp_path):
    profile, _ = _profile(tmp_path, _frame(300, 4), "a")
    doc = profile.to_dict()
    doc["plan"]["sections"] = [{"name": "os.system"}]
    path = tmp_path / "bad.aidebt"
    with gzip.open(path, "wt") as fh:
        json.dump(doc, fh)
    with pytest.raises(DataSourceError, match="bad.aidebt.*Unknown profile section 'os.system'"):
        model.load(path)


def test_version_1_files_still_load(tmp_path):
    profile, _ = _profile(tmp_path, _frame(300, 5), "a")
    doc = replace(profile, plan=replace(profile.plan, sections=()),
                  chunks=tuple(replace(c, sections=()) for c in profile.chunks)).to_dict()
    doc["version"] = 1
    del doc["plan"]["sections"]
    path = tmp_path / "v1.aidebt"
    with gzip.open(path, "wt") as fh:
        json.dump(doc, fh)
    assert model.load(path).rows == 300
