"""Ripple risk: importance (logged in MLflow, or mutual information) × strongest association."""

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import mutual_info_regression

from aidebt_core.data import connect, open_table
from aidebt_core.entanglement import Importance, analyse, association_matrix, ripple_risk
from aidebt_core.entanglement.importance import logged_importance
from aidebt_core.entanglement.ripple import mutual_information
from aidebt_core.errors import SchemaError, TrackingError
from aidebt_core.workspace import Workspace


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(7)
    n = 1500
    a = rng.normal(size=n)
    frame = pd.DataFrame({"a": a, "a2": a + rng.normal(0, 0.2, n), "b": rng.normal(size=n),
                          "g": rng.choice(["x", "y", "z"], n)})
    frame["score"] = 1 / (1 + np.exp(-(2 * frame.a + 0.5 * frame.b
                                        + frame.g.map({"x": 0, "y": 1, "z": 2}))))
    frame.loc[rng.random(n) < 0.1, "b"] = np.nan
    frame.to_parquet(tmp_path / "d.parquet", index=False)
    workspace = Workspace.at(tmp_path)
    con = connect(workspace)
    yield frame, open_table(con, workspace, "d.parquet")
    con.close()


KINDS = {"a": "numeric", "a2": "numeric", "b": "numeric", "g": "categorical"}


def test_ripple_is_scaled_importance_times_strongest_association(table):
    frame, t = table
    m = association_matrix(t, KINDS)
    risk = ripple_risk(m, Importance({"a": 0.4, "a2": 0.1, "b": 0.8, "g": 0.0}, "given"))
    rows = risk.table.set_index("feature")
    corr = frame[["a", "a2", "b"]].corr().abs()
    assert rows.loc["a", "strongest_partner"] == "a2"
    assert rows.loc["a", "strongest_association"] == pytest.approx(corr.loc["a", "a2"])
    assert rows.loc["a", "importance"] == pytest.approx(0.5)
    assert rows.loc["a", "risk"] == pytest.approx(0.5 * corr.loc["a", "a2"])
    assert rows.loc["b", "importance"] == pytest.approx(1.0)
    b_strongest = max(corr.loc["b", "a"], corr.loc["b", "a2"], m.value("b", "g"))
    assert rows.loc["b", "risk"] == pytest.approx(b_strongest)
    assert risk.table.feature.iloc[0] == "a" and risk.table.risk.is_monotonic_decreasing
    assert risk.source == "given"


def test_without_importance_the_strongest_association_ranks(table):
    _, t = table
    risk = ripple_risk(association_matrix(t, KINDS), None)
    assert set(risk.table.feature.iloc[:2]) == {"a", "a2"}
    assert risk.table.importance.isna().all() and "no importance" in risk.source


def test_mutual_information_equals_sklearn_on_the_same_rows(table):
    frame, t = table
    imp = mutual_information(t, KINDS, "score", seed=0)
    ok = frame.b.notna()
    expected_b = mutual_info_regression(frame.loc[ok, ["b"]], frame.score[ok],
                                        discrete_features=[False], random_state=0)[0]
    expected_a = mutual_info_regression(frame[["a"]], frame.score, discrete_features=[False],
                                        random_state=0)[0]
    codes = frame.g.map({"x": 0, "y": 1, "z": 2}).to_numpy()[:, None].astype(float)
    expected_g = mutual_info_regression(codes, frame.score, discrete_features=[True],
                                        random_state=0)[0]
    assert imp.values["a"] == pytest.approx(expected_a, abs=1e-9)
    assert imp.values["b"] == pytest.approx(expected_b, abs=1e-9)
    assert imp.values["g"] == pytest.approx(expected_g, abs=1e-9)
    # a drives the score; a2 only through a, so it carries less information.
    assert imp.values["a"] > imp.values["a2"] and imp.values["a"] > imp.values["b"] > 0.02
    assert "sample of 1,500 rows" in imp.source
    with pytest.raises(SchemaError, match="both a feature"):
        mutual_information(t, KINDS, "a")


def test_logged_importance_from_the_sample_mlflow_store(sample_dir, ground_truth):
    features = ground_truth["model_features"] + ["monthly_income", "region_code"]
    imp = logged_importance(str(sample_dir / "mlflow.db"), features)
    prod = ground_truth["mlflow"]["registered_models"]["credit-default"]["production_run"]
    assert f"run '{prod}'" in imp.source and "alias 'production'" in imp.source
    # The production model does not use monthly_income: it has no importance.
    assert imp.values["monthly_income"] == 0.0
    assert imp.values["debt_to_income"] > 0 and min(imp.values.values()) >= 0
    with pytest.raises(TrackingError):
        logged_importance(str(sample_dir / "missing.db"), features)


def test_analyse_prefers_logged_importance_and_explains_fallback(sample_dir):
    from aidebt_core.selection import sample_selection

    selection = sample_selection(sample_dir)
    cols = ["income", "monthly_income", "debt_to_income", "region", "region_code"]
    with selection.open() as data:
        logged = analyse(data.reference, None, data.schema, columns=cols,
                         tracking_uri=selection.tracking_uri)
        fallback = analyse(data.reference, None, data.schema, columns=cols,
                           tracking_uri=str(sample_dir / "missing.db"))
    assert "logreg-prod" in logged.ripple.source
    assert logged.ripple.table.feature.iloc[0] == "income"
    assert "mutual information with 'default_score'" in fallback.ripple.source
    assert any("could not be read" in note for note in fallback.notes)
    assert logged.change is None and "change" not in logged.to_dict()
