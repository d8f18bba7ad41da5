"""Bin edges in slice descriptions are the real edges: integer columns give integer edges,
float columns keep the digits that tell neighbouring bins apart, and every label filters the
same rows as the quantile cut it stands for (checked against numpy quantiles and pandas)."""

import numpy as np
import pandas as pd
import pytest

from aidebt_core.data import connect, open_table, row_count
from aidebt_core.slices import apply_slice
from aidebt_core.slices.encode import fit_encodings, shortest_between
from aidebt_core.workspace import Workspace


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(11)
    n = 5000
    df = pd.DataFrame({
        # whole numbers stored as integers and as floats (a year, a count of days)
        "year": rng.integers(1990, 2025, n),
        "tenure_days": rng.integers(0, 1000, n).astype(float),
        # floats whose deciles agree to 5 significant digits: 3 would merge every bin
        "reading": 1000 + rng.normal(0, 0.01, n),
        "tiny": rng.exponential(1e-6, n),
        "signed": rng.normal(0, 1, n),
    })
    df.to_parquet(tmp_path / "edges.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    yield open_table(con, ws, "edges.parquet"), df
    con.close()


def test_integer_columns_get_integer_edges_and_floats_enough_digits(table):
    tab, df = table
    encodings, _ = fit_encodings(tab, list(df.columns), bins=10)
    by_name = {e.column: e for e in encodings}
    for name in ("year", "tenure_days"):
        edges = by_name[name].edges
        assert len(edges) == 9 and all(float(e).is_integer() for e in edges), edges
        labels = [label for label, _ in by_name[name].predicates(ranges=False)]
        assert all("." not in label for label in labels), labels
    for name in ("reading", "tiny", "signed"):
        enc = by_name[name]
        assert len(enc.edges) == 9, (name, enc.edges)   # nine distinct deciles, none merged
        assert list(enc.edges) == sorted(set(enc.edges))
        labels = [label for label, _ in enc.predicates(ranges=False)]
        assert len(set(labels)) == len(labels)
    # the reading's labels need 7+ significant digits ("< 999.9873"), not 3 ("< 1000")
    first = by_name["reading"].predicates(ranges=False)[0][0]
    assert first.startswith("< 999.98") and len(first) >= len("< 999.9873")


@pytest.mark.parametrize("name", ["year", "tenure_days", "reading", "tiny", "signed"])
def test_each_label_filters_the_rows_of_its_quantile_bin(table, name):
    tab, df = table
    (enc,), _ = fit_encodings(tab, [name], bins=10)
    x = df[name].to_numpy()
    cuts = np.quantile(x, np.arange(1, 10) / 10)   # DuckDB quantile_cont = numpy 'linear'
    shown = [label for label, _ in enc.predicates(ranges=False)][:-1]  # bins, not (missing)
    assert len(shown) == 10
    for i, label in enumerate(shown):
        low = -np.inf if i == 0 else cuts[i - 1]
        high = np.inf if i == 9 else cuts[i]
        expected = int(((x >= low) & (x < high)).sum())
        # the label, parsed back by the filter every link uses, selects the same rows
        assert row_count(apply_slice(tab, {name: label})) == expected, (label, low, high)


def test_shortest_between_picks_the_fewest_digits_in_the_gap():
    assert shortest_between(87, 88) == 88
    assert shortest_between(87.3, 90.2) == 90
    assert shortest_between(21.6378, 21.6512) == 21.65
    assert shortest_between(0.21127, 0.21134) == 0.2113
    assert shortest_between(-0.5, 0.2) == 0
    assert shortest_between(999.98712, 999.98713) == 999.98713
    rng = np.random.default_rng(3)
    for low in rng.normal(0, 1000, 200):
        high = low + abs(rng.normal(0, 0.5)) + 1e-9
        got = shortest_between(low, high)
        assert low < got <= high
