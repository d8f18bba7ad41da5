"""Fixtures the unit tests share."""

from __future__ import annotations

import pandas as pd
import pytest

from aidebt_core.data import connect, open_table
from aidebt_core.workspace import Workspace


@pytest.fixture
def make_table(tmp_path):
    """`make_table(frame, name)` writes `frame` (Parquet, or CSV for other names) into a
    temporary workspace and opens it as a sandboxed table; connections close after the test."""
    cons = []

    def _make(frame: pd.DataFrame, name: str = "data.parquet"):
        path = tmp_path / name
        frame.to_parquet(path) if name.endswith(".parquet") else frame.to_csv(path, index=False)
        ws = Workspace.at(tmp_path)
        con = connect(ws)
        cons.append(con)
        return open_table(con, ws, name)

    yield _make
    for con in cons:
        con.close()
