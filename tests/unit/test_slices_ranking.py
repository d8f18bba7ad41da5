"""Significance before size: the order and the flag of discovered slices; the calibration
objective shows what it ranks by; no significant slice is one sentence, not a finding."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aidebt_core.data import connect, open_table
from aidebt_core.slices import analyse
from aidebt_core.slices.analysis import rank_slices
from aidebt_core.slices.breakdown import SliceStat
from aidebt_core.slices.define import Predicate, SliceDef
from aidebt_core.workspace import Workspace


def _stat(name, metric, p, score):
    return SliceStat(SliceDef((Predicate("c", name, (0,)),)), 100, 0.01, metric, metric - 0.1,
                     metric + 0.1, p, math.nan, score)


def test_significant_slices_come_first_whatever_their_score():
    stats_ = [_stat("big_noise", 0.80, 0.02, 3.0),      # best score, q far above 0.05
              _stat("small_real", 0.50, 1e-30, 0.5),
              _stat("better", 0.99, 1e-40, 2.0),        # significant difference, but better
              _stat("medium_real", 0.60, 1e-20, 1.0)]
    ranked = rank_slices(stats_, tests=1000, alpha_fdr=0.05, overall=0.85, direction=True)
    assert [s.slice.predicates[0].label for s in ranked] == [
        "medium_real", "small_real", "big_noise", "better"]
    assert [s.significant for s in ranked] == [True, True, False, False]
    # q-values: BH over the 1,000 slices examined, the unlisted ones counting as p = 1
    p = np.array([0.02, 1e-30, 1e-40, 1e-20])
    expected = stats.false_discovery_control(np.r_[p, np.ones(996)])[:4]
    got = {s.slice.predicates[0].label: s.q_value for s in ranked}
    assert [got[k] for k in ("big_noise", "small_real", "better", "medium_real")] == \
        pytest.approx(expected, rel=1e-12)


@pytest.fixture
def open_df(tmp_path):
    cons = []

    def _open(df):
        df.to_parquet(tmp_path / "d.parquet")
        ws = Workspace.at(tmp_path)
        con = connect(ws)
        cons.append(con)
        return open_table(con, ws, "d.parquet")

    yield _open
    for con in cons:
        con.close()


def _loans(n=8000, seed=4, weak_error=0.1):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"band": rng.choice(["a", "b", "c", "d"], n),
                       "months": rng.integers(1, 60, n), "x": rng.normal(size=n)})
    weak = ((df.band == "d") & (df.months < 30)).to_numpy()
    risk = rng.uniform(0.1, 0.6, n)
    y = (rng.random(n) < risk).astype(int)
    pred = np.where(rng.random(n) < np.where(weak, weak_error, 0.1), 1 - y, y)
    # calibrated except inside the slice, where the score is 0.3 too low
    score = np.clip(risk - np.where(weak, 0.3, 0.0), 0, 1)
    return df.assign(repaid=y, decision=pred, p_hat=score), weak


def test_calibration_objective_shows_observed_rate_mean_score_and_gap(open_df):
    df, weak = _loans()
    result = analyse(open_df(df), "repaid", "decision", "p_hat", "accuracy",
                     objective="calibration", features=["band", "months", "x"])
    top = result.found[0]
    assert set(top.slice.as_dict()) == {"band", "months"}
    sliced = df[top.slice.as_dict()["band"] == df.band]
    sliced = sliced[sliced.months < float(top.slice.as_dict()["months"][2:])]
    assert top.observed == pytest.approx(sliced.repaid.mean())
    assert top.mean_score == pytest.approx(sliced.p_hat.mean())
    assert top.metric == pytest.approx(top.observed - top.mean_score)
    assert result.shown_overall == pytest.approx((df.repaid - df.p_hat).mean())
    assert top.significant and abs(top.metric) > abs(result.shown_overall)
    doc = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert doc["objective"] == "calibration" and doc["slices_show"].startswith("calibration gap")
    first = doc["slices"][0]
    assert first["gap"] == pytest.approx(first["observed_rate"] - first["mean_score"])
    frame = result.to_frame()
    assert {"observed_rate", "mean_score", "gap"} <= set(frame.columns)
    assert "metric" not in frame.columns
    assert result.sentence(top).startswith(f"{top.slice.describe()}: observed rate ")


def test_no_significant_slice_is_one_sentence(open_df):
    df, _ = _loans(weak_error=0.1)   # nothing planted: errors are 10% everywhere
    result = analyse(open_df(df), "repaid", "decision", None, "accuracy",
                     features=["band", "months", "x"])
    assert result.weak() == []
    assert result.verdict().startswith("No slice is significantly worse than overall")
    assert all(not s.significant for s in result.found)
    assert result.to_dict()["summary"]["sentences"] == []
