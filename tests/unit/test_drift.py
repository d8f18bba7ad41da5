"""Per-column drift on small tables: numbers vs scipy, options, odd columns and bad input."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aidebt_core.data import connect, open_table
from aidebt_core.drift import DriftOptions, analyse_drift, drift_summary
from aidebt_core.errors import AidebtError, SchemaError
from aidebt_core.workspace import Workspace


@pytest.fixture
def make(tmp_path):
    """make(reference_frame, current_frame) -> (reference Table, current Table)."""
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    count = iter(range(1000))

    def _make(ref: pd.DataFrame, cur: pd.DataFrame, fmt: str = "parquet"):
        tables = []
        for frame in (ref, cur):
            path = tmp_path / f"t{next(count)}.{fmt}"
            frame.to_parquet(path) if fmt == "parquet" else frame.to_csv(path, index=False)
            tables.append(open_table(con, ws, str(path)))
        return tables
    yield _make
    con.close()


def frames(n_ref=3000, n_cur=2500, seed=0):
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({"x": rng.normal(0, 1, n_ref), "k": rng.choice(list("abc"), n_ref),
                        "same": rng.normal(5, 2, n_ref)})
    cur = pd.DataFrame({"x": rng.normal(0.5, 1, n_cur),
                        "k": rng.choice(list("abcd"), n_cur, p=[.2, .3, .3, .2]),
                        "same": rng.normal(5, 2, n_cur)})
    return ref, cur


def test_statistics_equal_scipy_on_the_tables(make):
    ref, cur = frames()
    result = analyse_drift(*make(ref, cur), options=DriftOptions(small_sample=10))
    x = result.column("x")
    ks = stats.ks_2samp(ref["x"], cur["x"])
    assert x.measures["ks"] == ks.statistic and x.p_value == ks.pvalue
    assert x.statistic == pytest.approx(
        stats.wasserstein_distance(ref["x"], cur["x"]) / np.std(ref["x"]), rel=1e-12)
    assert x.method == "wasserstein" and x.drifted
    k = result.column("k")
    table = pd.crosstab(pd.concat([ref["k"], cur["k"]]),
                        np.repeat(["ref", "cur"], [len(ref), len(cur)])).T.to_numpy()
    chi2 = stats.chi2_contingency(table)
    assert k.measures["chi2"] == pytest.approx(chi2.statistic, rel=1e-12)
    assert k.p_value == pytest.approx(chi2.pvalue, rel=1e-9, abs=1e-300)
    assert k.new_categories == ("d",) and k.method == "jensenshannon" and k.drifted
    assert not result.column("same").drifted
    assert result.drifted_columns == ["x", "k"]
    assert result.drifted_share == pytest.approx(2 / 3)
    assert result.dataset_drift  # 2/3 ≥ 0.5


def test_auto_uses_the_test_on_small_samples_and_method_choice(make):
    ref, cur = frames(300, 200)
    tables = make(ref, cur)
    auto = analyse_drift(*tables)
    assert auto.column("x").method == "ks" and auto.column("k").method == "chi2"
    assert auto.column("x").statistic == stats.ks_2samp(ref["x"], cur["x"]).statistic
    assert auto.column("x").threshold == 0.05
    psi = analyse_drift(*tables, options=DriftOptions(method="psi", threshold=0.05))
    assert {c.method for c in psi.columns} == {"psi"}
    assert all(c.threshold == 0.05 for c in psi.columns)
    ks = analyse_drift(*tables, options=DriftOptions(method="ks"))
    assert ks.column("k").method == "chi2"  # the test counterpart for categorical columns
    override = analyse_drift(*tables, options=DriftOptions(
        method="wasserstein", column_thresholds=(("x", 5.0),)))
    assert override.column("x").threshold == 5.0 and not override.column("x").drifted
    assert override.column("k").method == "jensenshannon"


def test_dataset_drift_share_threshold(make):
    ref, cur = frames()
    tables = make(ref, cur)
    assert not analyse_drift(*tables, options=DriftOptions(drift_share=0.9)).dataset_drift
    summary = drift_summary(analyse_drift(*tables))
    assert summary["drifted_columns"] == ["x", "k"] and summary["drifted_count"] == 2
    assert summary["new_categories"] == {"k": ["d"]}
    assert summary["worst_column"] in ("x", "k")
    json.dumps(summary, allow_nan=False)


def test_missing_shares_constant_all_null_and_one_row(make):
    ref = pd.DataFrame({"m": [1.0, None, 3.0, 4.0] * 50, "c": [7.0] * 200,
                        "gone": np.arange(200.0), "t": ["a", "b"] * 100})
    cur = pd.DataFrame({"m": [None, None, 3.0, 4.0] * 50, "c": [7.0] * 200,
                        "gone": [None] * 200, "t": [None] * 199 + ["a"]})
    result = analyse_drift(*make(ref, cur), columns=["m", "c", "gone", "t"])
    m = result.column("m")
    assert m.missing_share_reference == 0.25 and m.missing_share_current == 0.5
    assert m.missing_changed
    c = result.column("c")
    assert c.status == "ok" and c.statistic == 0.0 and not c.drifted
    gone = result.column("gone")
    assert gone.status == "not testable" and "no usable values in current" in gone.note
    assert gone.missing_share_current == 1.0 and not gone.drifted
    t = result.column("t")
    assert t.current_count == 1 and t.status == "ok" and t.vanished_categories == ("b",)
    assert t.p_value == pytest.approx(stats.chi2_contingency([[100, 100], [1, 0]]).pvalue)
    assert "gone" not in drift_summary(result)["drifted_columns"]
    assert "m" in drift_summary(result)["missing_changed"]


@pytest.fixture(params=["grouped", "raw"])
def read_path(request, monkeypatch):
    """Run a test once with numeric columns counted in SQL and once read value by value."""
    from aidebt_core.drift import collect

    monkeypatch.setattr(collect, "GROUP_BY_MAX_DISTINCT",
                        10**9 if request.param == "grouped" else -1)
    return request.param


def test_one_row_side_and_nan_inf(make, tmp_path, read_path):
    ref = pd.DataFrame({"v": [0.1, 0.5, 0.9, 1.4, 2.0]})
    cur = pd.DataFrame({"v": [0.7]})
    result = analyse_drift(*make(ref, cur), columns=["v"])
    v = result.column("v")
    expected = stats.ks_2samp(ref["v"], cur["v"])
    assert (v.statistic, v.p_value) == (expected.statistic, expected.pvalue)
    (tmp_path / "r.csv").write_text("v\n1.0\n2.0\nnan\ninf\n3.0\n-inf\n4.0\n")
    (tmp_path / "c.csv").write_text("v\n1.5\n2.5\n3.5\n\n4.5\n")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    try:
        r, c = open_table(con, ws, "r.csv"), open_table(con, ws, "c.csv")
        assert r.column_types["v"] == "DOUBLE"
        v = analyse_drift(r, c, columns=["v"]).column("v")
    finally:
        con.close()
    assert v.reference_count == 4 and v.current_count == 4
    assert v.missing_share_reference == pytest.approx(1 / 7)   # the NaN
    assert v.missing_share_current == pytest.approx(1 / 5)     # the empty field
    assert "2 infinite value(s) left out" in v.note
    assert v.statistic == stats.ks_2samp([1, 2, 3, 4], [1.5, 2.5, 3.5, 4.5]).statistic


def test_type_change_is_reported_not_crashed(make):
    ref = pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50),
                        "t": pd.date_range("2025-01-01", periods=50, freq="D")})
    cur = pd.DataFrame({"a": [f"v{i}" for i in range(50)], "b": np.arange(50.0),
                        "t": pd.date_range("2025-06-01", periods=50, freq="D")})
    result = analyse_drift(*make(ref, cur), columns=["a", "b", "t"])
    t = result.column("t")
    assert t.status == "not testable" and "timestamp" in t.note and not t.drifted
    a = result.column("a")
    assert a.status == "type changed" and a.drifted and "DOUBLE" in a.note and "VARCHAR" in a.note
    b = result.column("b")  # BIGINT vs DOUBLE: same family, compared, noted
    assert b.status == "ok" and not b.drifted and "stored as BIGINT" in b.note
    assert json.loads(json.dumps(result.to_dict()))["columns"][0]["statistic"] is None


def test_high_cardinality_folds_rare_values(make):
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"code": rng.choice([f"c{i:02d}" for i in range(40)], 4000)})
    cur = pd.DataFrame({"code": rng.choice([f"c{i:02d}" for i in range(5, 45)], 4000)})
    result = analyse_drift(*make(ref, cur), columns=["code"], categorical=["code"],
                           options=DriftOptions(max_categories=10))
    code = result.column("code")
    assert "folded" in code.note and code.measures["categories"] <= 21
    row = result.to_frame().iloc[0]
    assert row["new_categories"] == ", ".join(code.new_categories)
    assert row["vanished_categories"] == ", ".join(code.vanished_categories)
    ref_counts = ref["code"].value_counts()
    cur_counts = cur["code"].value_counts()
    top = sorted(set(ref_counts.sort_index().sort_values(ascending=False, kind="stable")[:10].index)
                 | set(cur_counts.sort_index().sort_values(ascending=False, kind="stable")[:10]
                       .index))
    r = [ref_counts.get(k, 0) for k in top] + [len(ref) - sum(ref_counts.get(k, 0) for k in top)]
    c = [cur_counts.get(k, 0) for k in top] + [len(cur) - sum(cur_counts.get(k, 0) for k in top)]
    expected = stats.chi2_contingency(np.array([r, c])[:, np.add(r, c) > 0])
    assert code.measures["chi2"] == pytest.approx(expected.statistic, rel=1e-12)


def test_bad_input_raises_clear_errors(make):
    ref, cur = frames(50, 50)
    tables = make(ref, cur)
    with pytest.raises(SchemaError, match="'nope'"):
        analyse_drift(*tables, columns=["x", "nope"])
    with pytest.raises(SchemaError, match="share no column"):
        analyse_drift(*make(pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"b": [1, 2]})))
    with pytest.raises(SchemaError, match="missing from"):
        analyse_drift(*make(pd.DataFrame({"a": [1, 2], "b": [1, 2]}),
                            pd.DataFrame({"a": [1, 2]})), columns=["b"])
    with pytest.raises(AidebtError, match="Unknown drift method"):
        DriftOptions(method="magic")
    with pytest.raises(AidebtError, match="threshold"):
        DriftOptions(threshold=float("nan"))
    with pytest.raises(AidebtError, match="drift share"):
        DriftOptions(drift_share=0)


def test_columns_only_on_one_side_are_listed(make):
    ref = pd.DataFrame({"a": np.arange(10.0), "old": np.arange(10.0)})
    cur = pd.DataFrame({"a": np.arange(10.0), "new": np.arange(10.0)})
    result = analyse_drift(*make(ref, cur))
    assert [c.name for c in result.columns] == ["a"]
    assert result.only_in_reference == ("old",) and result.only_in_current == ("new",)
    out = result.to_dict()
    assert out["only_in_reference"] == ["old"] and out["only_in_current"] == ["new"]


def test_both_read_paths_give_the_same_numbers(sample_dir, monkeypatch):
    from aidebt_core.drift import collect
    from aidebt_core.selection import sample_selection

    out = {}
    with sample_selection(sample_dir).open() as data:
        for limit in (10**9, -1):
            monkeypatch.setattr(collect, "GROUP_BY_MAX_DISTINCT", limit)
            result = analyse_drift(data.reference, data.current, data.schema,
                                   columns=["age", "credit_score", "loan_amount"])
            out[limit] = {c.name: c.measures for c in result.columns}
    for name, grouped in out[10**9].items():
        raw = out[-1][name]
        assert grouped["ks"] == raw["ks"] and grouped["ks_p_value"] == raw["ks_p_value"]
        for key in ("wasserstein", "psi", "reference_std"):
            assert grouped[key] == pytest.approx(raw[key], rel=1e-10), (name, key)
