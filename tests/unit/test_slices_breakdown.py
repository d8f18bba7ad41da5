"""Slice metrics equal a pandas/sklearn group-by; q-values equal scipy; comparison and filters."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from aidebt_core.data import connect, open_table, row_count
from aidebt_core.slices import apply_slice, parse_slice
from aidebt_core.slices import breakdown as bd
from aidebt_core.slices.define import slice_from_dict
from aidebt_core.slices.encode import fit_encodings
from aidebt_core.slices.metrics import load
from aidebt_core.workspace import Workspace


def _frame(n=6000, seed=0, shift=0.0):
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])
    x = rng.normal(size=n)
    y = (rng.uniform(size=n) < 0.3).astype(int)
    noise = np.where(group == "d", 0.3 + shift, 0.15)
    score = np.clip(np.where(y == 1, 0.65, 0.35) + rng.normal(0, noise, n), 0, 1)
    pred = (score > 0.5).astype(int)
    return pd.DataFrame({"group": group, "x": x, "y": y, "pred": pred, "score": score,
                         "value": y * 3.0 + x, "value_hat": x + rng.normal(0, 1, n)})


@pytest.fixture
def tables(tmp_path):
    frames = {"ref.parquet": _frame(seed=1), "cur.parquet": _frame(seed=2, shift=0.3)}
    for name, df in frames.items():
        df.to_parquet(tmp_path / name)
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    yield {name: (open_table(con, ws, name), df) for name, df in frames.items()}
    con.close()


def _by_group(tables, metric, **kw):
    table, df = tables["cur.parquet"]
    enc, _ = fit_encodings(table, ["group"])
    data = load(table, enc, "y", metric, "pred", "score")
    return bd.breakdown(data, ["group"], metric, n_boot=kw.get("n_boot", 50)), df


def _labels(stats_):
    return [s.slice.as_dict()["group"] for s in stats_]


@pytest.mark.parametrize("metric,fn", [
    ("accuracy", lambda g: (g.y == g.pred).mean()),
    ("error_rate", lambda g: (g.y != g.pred).mean()),
    ("positive_rate", lambda g: g.pred.mean()),
    ("precision", lambda g: precision_score(g.y, g.pred)),
    ("recall", lambda g: recall_score(g.y, g.pred)),
    ("f1", lambda g: f1_score(g.y, g.pred)),
    ("roc_auc", lambda g: roc_auc_score(g.y, g.score)),
    ("mean_score", lambda g: g.score.mean()),
])
def test_slice_metric_equals_pandas_group_by(tables, metric, fn):
    result, df = _by_group(tables, metric)
    expected = df.groupby("group").apply(fn, include_groups=False)
    sizes = df.groupby("group").size()
    for s, name in zip(result, _labels(result), strict=True):
        assert s.metric == pytest.approx(expected[name], rel=1e-12)
        assert s.size == sizes[name]
        assert s.ci_low <= s.metric <= s.ci_high


@pytest.mark.parametrize("metric,fn", [
    ("mae", lambda g: (g.value - g.value_hat).abs().mean()),
    ("rmse", lambda g: np.sqrt(((g.value - g.value_hat) ** 2).mean())),
])
def test_regression_slice_metrics_equal_pandas(tables, metric, fn):
    table, df = tables["cur.parquet"]
    enc, _ = fit_encodings(table, ["group"])
    data = load(table, enc, "value", metric, "value_hat")
    result = bd.breakdown(data, ["group"], metric, n_boot=50)
    expected = df.groupby("group").apply(fn, include_groups=False)
    for s, name in zip(result, _labels(result), strict=True):
        assert s.metric == pytest.approx(expected[name], rel=1e-12)


def test_accuracy_p_values_are_slice_vs_rest_chi_square_and_q_values_are_bh(tables):
    result, df = _by_group(tables, "accuracy")
    p = []
    for s, name in zip(result, _labels(result), strict=True):
        inside = df.group == name
        ok = df.y == df.pred
        table = [[ok[inside].sum(), (~ok[inside]).sum()], [ok[~inside].sum(), (~ok[~inside]).sum()]]
        expected = stats.chi2_contingency(table, correction=False).pvalue
        assert s.p_value == pytest.approx(expected, rel=1e-9)
        p.append(s.p_value)
    np.testing.assert_allclose([s.q_value for s in result], stats.false_discovery_control(p))


def test_mean_score_p_value_is_welch_and_bootstrap_interval_matches_normal_theory(tables):
    result, df = _by_group(tables, "mean_score", n_boot=400)
    for s, name in zip(result, _labels(result), strict=True):
        g, rest = df.score[df.group == name], df.score[df.group != name]
        assert s.p_value == pytest.approx(stats.ttest_ind(g, rest, equal_var=False).pvalue,
                                          rel=1e-6)
        half = 1.96 * g.std(ddof=1) / np.sqrt(g.size)
        assert (s.ci_high - s.ci_low) / 2 == pytest.approx(half, rel=0.2)
        assert s.ci_low < g.mean() < s.ci_high


def test_numeric_breakdown_bins_match_pandas_cut(tables):
    table, df = tables["cur.parquet"]
    enc, _ = fit_encodings(table, ["x"], bins=4)
    data = load(table, enc, "y", "accuracy", "pred")
    result = bd.breakdown(data, ["x"], "accuracy")
    edges = [-np.inf, *enc[0].edges, np.inf]
    bins = pd.cut(df.x, edges, right=False)
    expected = df.assign(ok=df.y == df.pred).groupby(bins, observed=True).ok.agg(["mean", "size"])
    assert [s.size for s in result] == expected["size"].tolist()
    assert [s.metric for s in result] == pytest.approx(expected["mean"].tolist(), rel=1e-12)
    # quartile edges rounded to 3 significant digits, each ~25% of rows
    assert all(abs(s.share - 0.25) < 0.02 for s in result)


def test_compare_reports_change_and_flags_worsening(tables):
    ref_table, ref_df = tables["ref.parquet"]
    cur_table, cur_df = tables["cur.parquet"]
    enc, _ = fit_encodings(ref_table, ["group"])
    ref = load(ref_table, enc, "y", "accuracy", "pred")
    cur = load(cur_table, enc, "y", "accuracy", "pred")
    sl = [slice_from_dict(enc, {"group": g}) for g in ("a", "d")]
    changes = bd.compare(ref, cur, sl, "accuracy")
    for ch, g in zip(changes, ("a", "d"), strict=True):
        r = (ref_df.y == ref_df.pred)[ref_df.group == g]
        c = (cur_df.y == cur_df.pred)[cur_df.group == g]
        assert ch.reference.metric == pytest.approx(r.mean())
        assert ch.current.metric == pytest.approx(c.mean())
        table = [[c.sum(), (~c).sum()], [r.sum(), (~r).sum()]]
        assert ch.p_value == pytest.approx(
            stats.chi2_contingency(table, correction=False).pvalue, rel=1e-9)
    # only group d got noisier in current: it worsened, significantly; group a did not
    a, d = changes
    assert d.change < -0.05 and d.worsened and d.q_value < 0.05
    assert abs(a.change) < 0.03 and not a.worsened


def test_compare_with_a_slice_empty_in_reference_gives_no_number_and_no_flag(tmp_path):
    ref = _frame(seed=3)
    ref = ref[ref.group != "d"]
    cur = _frame(seed=4)
    ref.to_parquet(tmp_path / "r.parquet")
    cur.to_parquet(tmp_path / "c.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    rt, ct = open_table(con, ws, "r.parquet"), open_table(con, ws, "c.parquet")
    enc, _ = fit_encodings(rt, ["group"], also=ct)
    changes = bd.compare(load(rt, enc, "y", "accuracy", "pred"),
                         load(ct, enc, "y", "accuracy", "pred"),
                         [slice_from_dict(enc, {"group": "d"})], "accuracy")
    con.close()
    assert changes[0].reference.size == 0 and np.isnan(changes[0].reference.metric)
    assert changes[0].current.size == (cur.group == "d").sum()
    assert not changes[0].worsened


def test_apply_slice_filters_rows_like_pandas(tables):
    table, df = tables["cur.parquet"]
    spec = parse_slice('{"group": "b", "x": "< 0.5"}')
    assert row_count(apply_slice(table, spec)) == ((df.group == "b") & (df.x < 0.5)).sum()
    assert row_count(apply_slice(table, {"x": "[-1, 0.25)"})) == (
        (df.x >= -1) & (df.x < 0.25)).sum()
    assert row_count(apply_slice(table, {"x": ">= 1e-1"})) == (df.x >= 0.1).sum()


def test_text_labels_and_mixed_types_are_matched(tmp_path):
    rng = np.random.default_rng(9)
    n = 3000
    y = rng.uniform(size=n) < 0.2
    pred = np.where(rng.uniform(size=n) < 0.25, ~y, y)
    df = pd.DataFrame({"g": rng.choice(["a", "b"], n),
                       "y_text": np.where(y, "yes", "no"), "p_text": np.where(pred, "yes", "no"),
                       "y_num": y.astype(float), "p_str": np.where(pred, "1", "0")})
    df.to_parquet(tmp_path / "t.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    table = open_table(con, ws, "t.parquet")
    enc, _ = fit_encodings(table, ["g"])
    # text labels: the minority class ("yes") is the positive class by default
    text = load(table, enc, "y_text", "recall", "p_text")
    assert text.positive == "yes"
    got = bd.overall(text, "recall").metric
    assert got == pytest.approx(recall_score(df.y_text, df.p_text, pos_label="yes"))
    # a float 0/1 target against a text "0"/"1" prediction compares 1.0 with "1" as equal
    mixed = load(table, enc, "y_num", "accuracy", "p_str")
    con.close()
    assert bd.overall(mixed, "accuracy").metric == pytest.approx((y == pred).mean())
