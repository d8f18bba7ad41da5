"""Performance per chunk from profiles vs the exact path on generated loans: confusion
metrics identical (value and interval), ROC AUC within its stated bound."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from test_profiles_equivalence import make_loans  # noqa: E402

from aidebt_core.performance.analysis import analyse_performance
from aidebt_core.profiles import duckdb_engine as engine
from aidebt_core.profiles.performance import chunk_metrics


@pytest.fixture(scope="module")
def loans(tmp_path_factory):
    from aidebt_core.data import connect, open_table
    from aidebt_core.workspace import Workspace

    folder = tmp_path_factory.mktemp("perf")
    frame = make_loans(24_000, 5, False)
    frame.loc[frame.applied_on >= "2024-06-01", "repaid"] = None   # labels arrive late
    frame.to_parquet(folder / "loans.parquet")
    ws = Workspace.at(folder)
    con = connect(ws)
    table = open_table(con, ws, "loans.parquet")
    kinds = engine.profile_kinds(table, timestamp="applied_on")
    plan = engine.plan_profile(table, kinds, timestamp="applied_on", chunk="month",
                               target="repaid", prediction="y_pred", score="y_pred_proba")
    yield frame, table, engine.compute_profile(table, plan)
    con.close()


@pytest.mark.parametrize("metric", ["accuracy", "precision", "recall", "f1"])
def test_confusion_metrics_per_chunk_equal_the_exact_path(loans, metric):
    frame, table, profile = loans
    split = "CAST(applied_on AS DATE) < DATE '2024-04-01'"
    exact = analyse_performance(table.where(split), table.where(f"NOT ({split})"), "repaid",
                                score="y_pred_proba",
                                prediction="y_pred", timestamp="applied_on", chunking="month",
                                metric=metric)
    values = exact.series[metric].values
    got = chunk_metrics(profile, metric)
    assert len(got) == len(values) == 6
    for g, v, info in zip(got, values, exact.chunks, strict=True):
        assert g.exact and g.rows == info.rows and g.labelled == info.labelled_rows
        for a, b in ((g.value, v.realized), (g.low, v.ci_low), (g.high, v.ci_high)):
            assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, rel=1e-12), g.key


def test_auc_per_chunk_within_its_bound(loans):
    frame, _, profile = loans
    got = chunk_metrics(profile, "roc_auc")
    months = frame.applied_on.dt.strftime("%Y-%m-01")
    for g in got:
        part = frame[(months == g.key) & frame.repaid.notna()]
        if part.empty:
            assert np.isnan(g.value) and g.labelled == 0
            continue
        truth = roc_auc_score(part.repaid, part.y_pred_proba)
        assert not g.exact and 0 < g.bound < 0.01
        assert abs(g.value - truth) <= g.bound + 1e-12
