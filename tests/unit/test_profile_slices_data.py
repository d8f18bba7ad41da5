"""Generated data for the slices-from-profiles tests (and a check of what it plants).

10,000 rows, 12 features with hostile names, a planted weak slice of two conditions
(`chan'nel` = mobile and `inc"ome; DROP` < 30,000: 35% errors against about 10% elsewhere),
an integer `year`, NaN and ±inf in a float column, NULLs in a categorical one, missing labels,
and the outputs `repaid` (target), `y_pred` (prediction) and `y_pred_proba` (score).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

INCOME = 'inc"ome; DROP'
CHANNEL = "chan'nel"
SLICE = {CHANNEL: "mobile", INCOME: "< 30000"}
OUTPUTS = {"target": "repaid", "prediction": "y_pred", "score": "y_pred_proba"}


def planted(seed: int = 0, rows: int = 10_000, weak: float = 0.35) -> pa.Table:
    rng = np.random.default_rng(seed)
    channel = rng.choice(["web", "mobile", "branch", "<b>partner</b>"], rows,
                         p=[0.45, 0.3, 0.15, 0.1]).astype(object)
    channel[rng.random(rows) < 0.03] = None
    income = np.round(rng.lognormal(10.6, 0.5, rows), 2)
    age = rng.integers(18, 80, rows).astype(float)
    dti = rng.random(rows)
    dti[rng.random(rows) < 0.02] = np.nan
    dti[rng.random(rows) < 0.01] = np.inf
    dti[rng.random(rows) < 0.01] = -np.inf
    year = rng.integers(2019, 2025, rows)
    region = rng.choice([f"r{i}" for i in range(25)], rows)     # > 20 values: folded
    back = rng.choice(["a\\b", "c'd", "e"], rows)
    score_a = rng.normal(0, 1, rows)
    score_b = rng.normal(0, 1, rows)
    util = np.round(rng.random(rows) * 100, 1)
    term = rng.choice([12, 24, 36, 60], rows).astype(np.int64)
    flag = rng.random(rows) < 0.4
    proba = np.clip(rng.beta(2, 3, rows), 0.001, 0.999)
    y_pred = (proba > 0.5).astype(np.int64)
    weak_rows = (channel == "mobile") & (income < 30_000)
    flip = rng.random(rows) < np.where(weak_rows, weak, 0.1)
    repaid = np.where(flip, 1 - y_pred, y_pred).astype(float)
    repaid[rng.random(rows) < 0.04] = np.nan                    # labels not in yet
    label = pa.array([None if np.isnan(v) else int(v) for v in repaid], pa.int64())
    return pa.table({
        INCOME: income, CHANNEL: pa.array(channel, pa.string()), "age": age, "dti": dti,
        "year": year, "region": region, "back\\slash": back, "score a": score_a,
        "名前_b": score_b, "util": util, "term": term, "flag": flag,
        "repaid": label, "y_pred": y_pred, "y_pred_proba": proba})


def write(folder, seed: int = 0, rows: int = 10_000, name: str = "data.parquet"):
    path = folder / name
    pq.write_table(planted(seed, rows), path)
    return path


def test_the_planted_slice_is_weaker_than_the_rest():
    t = planted().to_pandas()
    known = t["repaid"].notna()
    wrong = (t["repaid"] != t["y_pred"]) & known
    inside = (t[CHANNEL] == "mobile") & (t[INCOME] < 30_000)
    rate_in = wrong[inside].sum() / (inside & known).sum()
    rate_out = wrong[~inside].sum() / (~inside & known).sum()
    assert rate_in > 0.3 and rate_out < 0.12
    assert 300 < int((inside & known).sum()) < 1500
    assert t["repaid"].isna().sum() > 300 and np.isinf(t["dti"]).sum() > 100
