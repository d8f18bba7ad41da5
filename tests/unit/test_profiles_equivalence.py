"""Exact reads vs profiles on generated loans (20 columns, drift planted, labels): the same
drift flags, exact statistics equal (≤1e-9), binned ones within their stated bounds.

`make_loans` is shared with the Spark tests and the benchmark (other names, types, shapes
than the sample scenario: `repaid`, `y_pred_proba`, an integer `vintage`, NaN/inf).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from aidebt_core.drift.options import DriftOptions
from aidebt_core.drift.univariate import analyse_drift
from aidebt_core.profiles import duckdb_engine as engine
from aidebt_core.profiles.drift import drift_from_profiles
from aidebt_core.schema import infer_schema

NUMERIC_DRIFTED = {"income", "utilisation"}
CATEGORICAL_DRIFTED = {"channel"}


def make_loans(n: int, seed: int, drifted: bool, start: str = "2024-01-01") -> pd.DataFrame:
    """Loan applications; `drifted` plants income/utilisation shifts, a new channel value and
    a missing-value jump in `employment`."""
    rng = np.random.default_rng(seed)
    shift = 0.35 if drifted else 0.0
    income = rng.lognormal(10.0 + shift, 0.5, n)
    balance = rng.normal(1_000, 300, n)
    balance[rng.random(n) < 0.02] = np.nan
    balance[rng.random(n) < 0.001] = np.inf
    channels = ["branch", "web", "phone"] + (["partner"] if drifted else [])
    weights = [0.4, 0.4, 0.2] if not drifted else [0.3, 0.3, 0.2, 0.2]
    employment = rng.choice(["salaried", "self", "retired", "student"], n).astype(object)
    employment[rng.random(n) < (0.15 if drifted else 0.02)] = None
    zero_inflated = np.where(rng.random(n) < 0.7, 0.0, rng.lognormal(3, 1, n))
    score = 1 / (1 + np.exp(-(rng.normal(0, 1.5, n))))
    repaid = (rng.random(n) < score).astype(np.int64)
    frame = pd.DataFrame({
        "income": income,
        "age": rng.integers(18, 80, n),
        "credit_points": np.round(rng.normal(650, 50, n)),
        "debt_ratio": rng.beta(2, 5, n),
        "loan_amount": rng.lognormal(9, 1.2, n),
        "balance": balance,
        "tenure_months": rng.integers(0, 121, n).astype(np.int32),
        "n_accounts": rng.poisson(3, n),
        "utilisation": rng.beta(2 + 3 * shift, 3, n),
        "region": rng.choice([f"R{i}" for i in range(8)], n),
        "channel": rng.choice(channels, n, p=weights),
        "device": rng.choice(["ios", "android", None], n, p=[0.45, 0.45, 0.1]),
        "employment": employment,
        "homeowner": rng.random(n) < 0.4,
        "vintage": rng.integers(2019, 2025, n),
        "rate": rng.normal(0.07, 0.01, n).astype(np.float32),
        "zero_inflated": zero_inflated,
        "repaid": repaid,
        "y_pred_proba": score,
        "y_pred": (score > 0.5).astype(np.int64),
    })
    frame["applied_on"] = pd.Timestamp(start) + pd.to_timedelta(
        np.sort(rng.integers(0, 180 * 24 * 3600, n)), unit="s")
    return frame


@pytest.fixture(scope="module")
def loans(tmp_path_factory):
    from aidebt_core.data import connect, open_table
    from aidebt_core.workspace import Workspace

    folder = tmp_path_factory.mktemp("loans")
    make_loans(30_000, 1, False).to_parquet(folder / "ref.parquet")
    make_loans(25_000, 2, True, "2024-07-01").to_parquet(folder / "cur.parquet")
    ws = Workspace.at(folder)
    con = connect(ws)
    ref, cur = (open_table(con, ws, n) for n in ("ref.parquet", "cur.parquet"))
    schema = infer_schema(ref)
    kinds = engine.profile_kinds(ref, schema, timestamp="applied_on")
    plan = engine.plan_profile(ref, kinds, timestamp="applied_on", chunk="month",
                               target="repaid", prediction="y_pred", score="y_pred_proba")
    yield ref, cur, schema, plan, engine.compute_profile(ref, plan), \
        engine.compute_profile(cur, plan)
    con.close()


def test_twenty_columns_planned_with_both_kinds_of_numeric(loans):
    *_, plan, ref_p, _ = loans
    assert len(plan.columns) == 20
    exact = {c.name for c in plan.columns if c.kind == "numeric" and c.exact}
    binned = {c.name for c in plan.columns if c.kind == "numeric" and not c.exact}
    assert {"age", "tenure_months", "n_accounts", "vintage", "credit_points"} <= exact
    assert {"income", "debt_ratio", "loan_amount", "utilisation", "rate"} <= binned
    assert all(c.grid.bins >= 2_000 for c in plan.columns if c.name in binned)
    assert ref_p.rows == 30_000 and len(ref_p.chunks) == 6


@pytest.mark.parametrize("method", ["auto", "ks", "psi"])
def test_drift_flags_and_statistics_match_the_exact_path(loans, method):
    ref, cur, schema, plan, ref_p, cur_p = loans
    options = DriftOptions(method=method)
    exact = analyse_drift(ref, cur, schema, options=options)
    approx = drift_from_profiles(ref_p, cur_p, [c.name for c in exact.columns], options=options)
    assert [c.name for c in approx.columns] == [c.name for c in exact.columns]
    assert approx.drifted_columns == exact.drifted_columns
    assert set(exact.drifted_columns) >= NUMERIC_DRIFTED | CATEGORICAL_DRIFTED
    for e, a in zip(exact.columns, approx.columns, strict=True):
        assert a.missing_share_reference == e.missing_share_reference
        assert a.missing_share_current == e.missing_share_current
        assert a.new_categories == e.new_categories
        if a.exact:
            assert a.statistic == pytest.approx(e.statistic, rel=1e-9, abs=1e-12), a.name
            assert a.p_value == pytest.approx(e.p_value, rel=1e-9, abs=1e-300), a.name
            continue
        assert plan.column(a.name).exact is False and a.kind == "numeric"
        ks_e, ks_a = e.measures["ks"], a.measures["ks"]
        assert ks_a - 1e-12 <= ks_e <= ks_a + a.measures["ks_bound"] + 1e-12, a.name
        assert a.measures["ks_bound"] < 0.02, a.name
        w_e, w_a = e.measures["wasserstein"], a.measures["wasserstein"]
        assert abs(w_e - w_a) <= a.measures["wasserstein_bound"] + 1e-12, a.name
        if a.method in ("ks", "wasserstein"):
            assert a.bound == a.measures[f"{a.method}_bound"]


def test_binned_statistics_against_scipy_on_the_raw_values(loans):
    ref, cur, _, plan, ref_p, cur_p = loans
    result = drift_from_profiles(ref_p, cur_p, ["income", "loan_amount"])
    for name in ("income", "loan_amount"):
        a = ref.df(f'SELECT "{name}" AS v FROM aidebt_rows'.replace("aidebt_rows", "\x00rows\x00"))
        b = cur.df(f'SELECT "{name}" AS v FROM \x00rows\x00')
        d = sps.ks_2samp(a.v, b.v).statistic
        w = sps.wasserstein_distance(a.v, b.v) / np.std(a.v)
        col = result.column(name)
        assert col.exact is False and col.bound is not None
        assert col.measures["ks"] - 1e-12 <= d <= col.measures["ks"] + col.measures["ks_bound"]
        assert abs(col.measures["wasserstein"] - w) <= col.measures["wasserstein_bound"] * 1.0001


def test_json_says_exact_or_bound(loans):
    *_, ref_p, cur_p = loans
    doc = drift_from_profiles(ref_p, cur_p, ["income", "age", "channel"],
                              options=DriftOptions(method="ks")).to_dict()
    by_name = {c["name"]: c for c in doc["columns"]}
    assert by_name["income"]["exact"] is False and by_name["income"]["bound"] > 0
    assert by_name["age"]["exact"] is True and by_name["age"]["bound"] is None
    assert by_name["channel"]["exact"] is True and by_name["channel"]["new_categories"] == [
        "partner"]
