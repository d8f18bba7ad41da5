"""Per-column summary statistics against pandas on the same rows."""

import numpy as np
import pandas as pd
import pytest

from aidebt_core.data import connect, open_table
from aidebt_core.profile import profile_table
from aidebt_core.schema import infer_schema
from aidebt_core.workspace import Workspace


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "x": rng.normal(10, 2, 500),
        "k": rng.choice(["a", "b", "c"], 500, p=[0.5, 0.3, 0.2]),
    })
    frame.loc[::7, "x"] = np.nan
    frame.loc[::11, "k"] = None
    frame.to_parquet(tmp_path / "d.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    yield open_table(con, ws, "d.parquet"), frame
    con.close()


def test_numeric_profile_matches_pandas(table):
    tbl, frame = table
    prof = {c.name: c for c in profile_table(tbl, infer_schema(tbl)).columns}
    x = frame["x"]
    assert prof["x"].rows == 500
    assert prof["x"].missing == int(x.isna().sum())
    assert prof["x"].mean == pytest.approx(x.mean(), rel=1e-12)
    assert prof["x"].std == pytest.approx(x.std(ddof=1), rel=1e-12)
    assert prof["x"].median == pytest.approx(x.median(), rel=1e-12)
    assert prof["x"].p25 == pytest.approx(x.quantile(0.25), rel=1e-12)
    assert prof["x"].maximum == pytest.approx(x.max(), rel=1e-12)


def test_categorical_profile_matches_pandas(table):
    tbl, frame = table
    prof = {c.name: c for c in profile_table(tbl, infer_schema(tbl)).columns}
    counts = frame["k"].value_counts()
    assert prof["k"].distinct == frame["k"].nunique()
    assert prof["k"].top_value == counts.index[0]
    assert prof["k"].top_count == counts.iloc[0]
    assert prof["k"].missing_share == pytest.approx(frame["k"].isna().mean())


def test_infinities_are_counted_not_averaged(tmp_path):
    pd.DataFrame({"v": [1.0, 2.0, np.inf, -np.inf, 3.0]}).to_parquet(tmp_path / "inf.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    tbl = open_table(con, ws, "inf.parquet")
    (col,) = profile_table(tbl, infer_schema(tbl)).columns
    assert col.non_finite == 2
    assert col.mean == pytest.approx(2.0)
    con.close()
