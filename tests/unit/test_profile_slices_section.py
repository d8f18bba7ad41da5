"""The "slices" profile section (profiles/slice_cells.py): its cells against counting the
encoded rows in numpy, merge(A, B) == section(A ∪ B) (Hypothesis), its size bound, and its
file round trip."""

from __future__ import annotations

import itertools
import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aidebt_core.data import connect, open_table, quote_ident
from aidebt_core.profiles import slice_cells as sc
from aidebt_core.profiles.sections import SqlContext
from aidebt_core.profiles.slice_search import Cells
from aidebt_core.slices.encode import Encoding, fit_encodings
from aidebt_core.slices.metrics import load
from aidebt_core.workspace import Workspace
from tests.unit.test_profile_slices_data import OUTPUTS, planted


def duck_ctx(con, view: str, key: str = "''") -> SqlContext:
    return SqlContext(lambda sql: con.execute(sql).fetchall(), quote_ident(view), key,
                      quote_ident, "duckdb")


@pytest.fixture(scope="module")
def encoded(tmp_path_factory):
    """The generated 10k rows: fitted encodings, the section, and the rows as the exact path
    loads them (codes of the labelled rows)."""
    folder = tmp_path_factory.mktemp("slice_cells")
    planted(0).to_pandas().to_parquet(folder / "d.parquet")
    ws = Workspace.at(folder)
    con = connect(ws)
    table = open_table(con, ws, "d.parquet")
    columns = [c for c in table.column_types if c not in OUTPUTS.values()]
    encodings, _ = fit_encodings(table, columns)
    config = sc.Config(tuple(encodings), 3, "repaid", "y_pred", "y_pred_proba", "1", True)
    from aidebt_core.data import ROWS

    ctx = SqlContext(lambda sql: table.execute(sql).fetchall(), ROWS, "''", quote_ident,
                     "duckdb")
    section = sc.compute(ctx, None, config)[""]
    rows = load(table, encodings, "repaid", "accuracy", "y_pred", "y_pred_proba")
    yield config, section, rows
    con.close()


def test_cells_equal_counting_the_encoded_rows(encoded):
    config, section, rows = encoded
    cells = Cells(section, config)
    y, p, s = rows.y.astype(np.int64), rows.pred.astype(np.int64), rows.score
    r = y - s
    per_row = {"n": np.ones_like(y), "correct": (y == p).astype(np.int64), "y1": y, "p1": p,
               "tp": y * p, "score": s, "r_pos": np.maximum(r, 0), "r_neg": np.maximum(-r, 0),
               "r_sq": r * r}
    codes = [rows.codes[e.column].astype(np.int64) for e in config.encodings]
    pad = config.pad
    for combo in [(0,), (1, 5), (0, 1, 11), (2, 6, 9)]:
        flat = np.zeros(rows.n, np.int64)
        for c in combo:
            flat = flat * pad + codes[c]
        got = cells.sums(combo, pad)
        for name, values in per_row.items():
            want = np.bincount(flat, weights=values, minlength=pad ** len(combo))
            np.testing.assert_allclose(got[name].reshape(-1), want, rtol=1e-12, atol=1e-9,
                                       err_msg=f"{combo} {name}")
    assert cells.n == rows.n == 9_590
    assert math.isclose(section.r_max, float(np.abs(r).max()), rel_tol=1e-12)


def test_size_within_the_stated_bound(encoded):
    config, section, rows = encoded
    assert section.cells <= sc.cell_bound(config, rows.n)
    assert len(config.combos) == 12 + 66 + 220
    # only non-empty cells are kept
    assert int(section.ints[:, 0].min()) >= 1


def test_round_trip_through_a_dict_and_a_config(encoded):
    config, section, _ = encoded
    assert sc.Section.from_dict(section.to_dict()) == section
    assert sc.Config.from_dict(config.to_dict()) == config


# ------------------------------------------------------------------------------ merge

ENCODINGS = (Encoding("x $", "numeric", edges=(-1.0, 0.5, 2.0)),
             Encoding("c'q", "categorical", values=("a", "b\\'", "<i>"), folded=1),
             Encoding("year", "numeric", edges=(2020.0, 2021.0), integer=True))
CONFIG = sc.Config(ENCODINGS, 2, "y", "p", "s", "1", True)

row = st.tuples(
    st.one_of(st.floats(-3, 3, allow_nan=False), st.just(math.nan), st.just(math.inf),
              st.just(-math.inf), st.none()),
    st.sampled_from(["a", "b\\'", "<i>", "zz", None]),
    st.integers(2018, 2023),
    st.sampled_from([0, 1, None]), st.sampled_from([0, 1]),
    st.floats(0, 1), st.sampled_from(["2024-01", "2024-02"]))


def _frame(rows) -> pd.DataFrame:
    return pd.DataFrame({
        "x $": [r[0] for r in rows],   # None becomes NaN: both are missing
        "c'q": [r[1] for r in rows], "year": [r[2] for r in rows],
        "y": pd.array([r[3] for r in rows], dtype="Int64"), "p": [r[4] for r in rows],
        "s": [r[5] for r in rows], "month": [r[6] for r in rows]})


def _section(con, frame: pd.DataFrame, name: str, key: str = "''") -> dict:
    con.register(name, frame)
    return sc.compute(duck_ctx(con, name, key), None, CONFIG)


def assert_same(a: sc.Section, b: sc.Section) -> None:
    np.testing.assert_array_equal(a.key, b.key)
    np.testing.assert_array_equal(a.ints, b.ints)
    np.testing.assert_allclose(a.sums, b.sums, rtol=1e-9, atol=1e-9)
    assert a.r_max == b.r_max


@settings(max_examples=20, deadline=None)
@given(st.lists(row, min_size=1, max_size=40), st.lists(row, min_size=1, max_size=40))
def test_merge_of_two_parts_is_the_section_of_their_union(part_a, part_b):
    con = duckdb.connect()
    a = _section(con, _frame(part_a), "a").get("", sc.empty(True))
    b = _section(con, _frame(part_b), "b").get("", sc.empty(True))
    union = _section(con, _frame(part_a + part_b), "u").get("", sc.empty(True))
    assert_same(a.merge(b), union)
    assert_same(b.merge(a), union)
    # per chunk key (a month column), merged over the chunks: the whole again
    chunks = _section(con, _frame(part_a + part_b), "m", key=quote_ident("month"))
    merged = sc.empty(True)
    for s in chunks.values():
        merged = merged.merge(s)
    assert_same(merged, union)
    con.close()


def test_hostile_values_coded_as_the_exact_path_codes_them():
    """Quotes, backslashes and markup in values; NULL/NaN/±inf; an unknown value -> other."""
    con = duckdb.connect()
    rows = [(0.4, "b\\'", 2019, 1, 1, 0.9, "m"), (math.nan, "<i>", 2021, 0, 1, 0.2, "m"),
            (math.inf, "zz", 2023, 1, 0, 0.5, "m"), (None, None, 2020, 1, 1, 0.7, "m"),
            (-5.0, "a", 2020, None, 1, 0.1, "m")]
    section = _section(con, _frame(rows), "h")[""]
    cells = Cells(section, CONFIG)
    x = cells.sums((0,), CONFIG.pad)["n"]
    c = cells.sums((1,), CONFIG.pad)["n"]
    # labelled rows: the last has no label. x: 0.4 -> bin 1, NaN/inf/NULL -> missing (4)
    assert x.tolist()[:5] == [0, 1, 0, 0, 3]
    # c'q: b\' -> 1, <i> -> 2, zz -> other (3), NULL -> missing (4)
    assert c.tolist()[:5] == [0, 1, 1, 1, 1]
    assert cells.n == 4 and cells.totals["correct"] == 2 and cells.totals["tp"] == 2
    con.close()


def test_combination_order_and_keys_are_stable():
    assert CONFIG.combos == ((0,), (1,), (2,), (0, 1), (0, 2), (1, 2))
    assert CONFIG.pad == 5 and CONFIG.span == 25
    assert list(itertools.chain(*CONFIG.combos)) == [0, 1, 2, 0, 1, 0, 2, 1, 2]
