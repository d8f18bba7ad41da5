"""The multivariate drift's PCA solver (covariance eigenvectors, for speed) gives the same
reconstruction errors as a full SVD. Generated data with a broken correlation."""

import numpy as np
import pandas as pd

from aidebt_core.data import connect, open_table
from aidebt_core.drift import multivariate
from aidebt_core.timeaxis import split_on_timestamp
from aidebt_core.workspace import Workspace


def test_covariance_solver_equals_full_svd(tmp_path, monkeypatch):
    rng = np.random.default_rng(11)
    n = 4000
    ts = pd.Timestamp(2022, 1, 1) + pd.to_timedelta(np.sort(rng.uniform(0, 360, n)), "D")
    income = rng.lognormal(10, 0.4, n)
    late = ts >= pd.Timestamp(2022, 7, 1)
    frame = pd.DataFrame({"when": ts, "income": income,
                          "monthly": np.where(late, rng.permutation(income), income) / 12,
                          "age": rng.normal(40, 9, n), "plan": rng.choice(list("xyz"), n)})
    frame.to_parquet(tmp_path / "d.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    ref, cur = split_on_timestamp(open_table(con, ws, "d.parquet"), "when", "2022-07-01")
    args = (ref, cur, ["income", "monthly", "age"], ["plan"], "month", "when")
    fast = multivariate.multivariate_drift(*args)
    monkeypatch.setattr(multivariate, "PCA_SOLVER", "full")
    full = multivariate.multivariate_drift(*args)
    con.close()
    assert fast.components == full.components
    np.testing.assert_allclose(fast.errors, full.errors, rtol=1e-9)
    np.testing.assert_allclose(fast.uppers, full.uppers, rtol=1e-9)
    assert fast.first_alert() == full.first_alert() == "2022-07"
