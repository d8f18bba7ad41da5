"""Bad input for slices: clear AidebtError messages naming the column or the problem."""

import numpy as np
import pandas as pd
import pytest

from aidebt_core.data import connect, open_table
from aidebt_core.errors import OptionError, SchemaError
from aidebt_core.slices import analyse, apply_slice, parse_slice
from aidebt_core.slices import breakdown as bd
from aidebt_core.slices.define import slice_from_dict
from aidebt_core.slices.encode import fit_encodings
from aidebt_core.slices.metrics import load
from aidebt_core.workspace import Workspace


@pytest.fixture
def open_df(tmp_path):
    cons = []

    def _open(df: pd.DataFrame):
        df.to_parquet(tmp_path / "d.parquet")
        ws = Workspace.at(tmp_path)
        con = connect(ws)
        cons.append(con)
        return open_table(con, ws, "d.parquet")

    yield _open
    for con in cons:
        con.close()


def _df(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return pd.DataFrame({"g": rng.choice(["a", "b"], n), "x": rng.normal(size=n), "y": y,
                         "pred": np.where(rng.uniform(size=n) < 0.2, 1 - y, y),
                         "score": rng.uniform(size=n)})


def test_column_with_100k_distinct_values_is_folded_with_a_message(open_df):
    n = 100_000
    df = _df(n)
    df["user"] = [f"u{i}" for i in range(n)]
    table = open_df(df)
    result = analyse(table, "y", "pred", metric="accuracy", by=["user"], discover=False,
                     n_boot=20)
    assert any("100,000 distinct values" in note and "20 most frequent" in note
               for note in result.notes)
    assert len(result.breakdown) == 21
    other = [s for s in result.breakdown if s.slice.as_dict()["user"] == "(other)"]
    assert other[0].size == n - 20


def test_missing_target_column_names_it(open_df):
    with pytest.raises(SchemaError, match="'label'"):
        analyse(open_df(_df()), "label", "pred", metric="accuracy", by=["g"], discover=False)


def test_target_all_missing_says_no_labelled_rows(open_df):
    df = _df()
    df["y"] = pd.array([pd.NA] * len(df), dtype="Int64")
    with pytest.raises(SchemaError, match="no rows where y, pred are all known"):
        analyse(open_df(df), "y", "pred", metric="accuracy", by=["g"], discover=False)


def test_one_class_only_makes_roc_auc_undefined(open_df):
    df = _df()
    df["y"] = 0
    with pytest.raises(SchemaError, match="only one class"):
        analyse(open_df(df), "y", score="score", metric="roc_auc", by=["g"], discover=False)


def test_binary_metric_on_three_classes_is_refused(open_df):
    df = _df()
    df["y"] = np.arange(len(df)) % 3
    df["pred"] = (np.arange(len(df)) + 1) % 3
    with pytest.raises(SchemaError, match="two-class target; 'y' has 3 classes"):
        analyse(open_df(df), "y", "pred", metric="f1", by=["g"], discover=False)
    result = analyse(open_df(df), "y", "pred", metric="accuracy", by=["g"], discover=False)
    assert result.overall.metric == 0.0  # every prediction is off by one class


def test_unknown_metric_and_missing_prediction(open_df):
    table = open_df(_df())
    with pytest.raises(OptionError, match="Unknown metric 'auc'"):
        analyse(table, "y", "pred", metric="auc", by=["g"], discover=False)
    with pytest.raises(SchemaError, match="needs a prediction column"):
        analyse(table, "y", score="score", metric="accuracy", by=["g"], discover=False)


def test_positive_class_must_exist(open_df):
    with pytest.raises(SchemaError, match="Positive class 'yes' does not occur"):
        analyse(open_df(_df()), "y", "pred", metric="recall", by=["g"], positive="yes",
                discover=False)


def test_too_many_breakdown_slices_and_slicing_on_the_target(open_df):
    df = _df()
    df["h"] = np.arange(len(df)) % 30
    df["k"] = np.arange(len(df)) % 17
    table = open_df(df)
    # Issue 17: a breakdown with too many slices keeps the 200 largest and says so (the page
    # and the rest of the result still render); the core function alone still refuses.
    result = analyse(table, "y", "pred", by=["h", "k", "g"], bins=30, max_values=30,
                     discover=False)
    assert len(result.breakdown) == 200
    assert any("the 200 largest are shown" in note for note in result.notes)
    sizes = df.groupby(["h", "k", "g"]).size().sort_values(ascending=False)
    assert sorted((s.size for s in result.breakdown), reverse=True) == list(sizes.iloc[:200])
    with pytest.raises(SchemaError, match="limit 200"):
        bd.breakdown(load(table, fit_encodings(table, ["h", "k", "g"], bins=30,
                                               max_values=30)[0], "y", "accuracy", "pred"),
                     ["h", "k", "g"], "accuracy")
    with pytest.raises(SchemaError, match="target/prediction/score"):
        analyse(table, "y", "pred", by=["pred"], discover=False)


def test_bad_slice_specs(open_df):
    table = open_df(_df())
    enc, _ = fit_encodings(table, ["g", "x"])
    with pytest.raises(SchemaError, match="'c' is not a slice of 'g'"):
        slice_from_dict(enc, {"g": "c"})
    with pytest.raises(SchemaError, match="not among the sliced columns"):
        slice_from_dict(enc, {"y": "1"})
    with pytest.raises(SchemaError, match="is not one of"):
        apply_slice(table, {"x": "around 3"})
    with pytest.raises(SchemaError, match="cannot be used as a filter"):
        apply_slice(table, {"g": "(other)"})
    with pytest.raises(SchemaError, match="JSON object"):
        parse_slice("channel=mobile")


def test_empty_slice_is_left_out_of_a_breakdown(open_df):
    df = _df()
    table = open_df(df)
    # user bins with one bin that holds no rows: [10, 20)
    result = analyse(table, "y", "pred", by=["x"], edges={"x": [0.0, 10.0, 20.0]},
                     discover=False, n_boot=20)
    labels = [s.slice.as_dict()["x"] for s in result.breakdown]
    assert labels == ["< 0", "[0, 10)"]
    assert sum(s.size for s in result.breakdown) == len(df)


def test_discovery_settings_are_checked(open_df):
    table = open_df(_df())
    with pytest.raises(OptionError, match="max order must be 1, 2 or 3"):
        analyse(table, "y", "pred", features=["g", "x"], max_order=4)
    with pytest.raises(SchemaError, match="calibration objective needs a score"):
        analyse(table, "y", "pred", features=["g", "x"], objective="calibration")
