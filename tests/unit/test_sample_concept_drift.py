"""The sample's planted concept drift lowers realized quality below the label-free estimate,
as its ground truth says; checked on a sample generated here (not the shared sample_data)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from aidebt_core.performance import analyse_performance
from aidebt_core.performance.relationship import rank_relationships
from aidebt_core.sample import write_sample
from aidebt_core.selection import sample_selection


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder, with_mlflow=False)
    truth = json.loads((folder / "ground_truth.json").read_text())
    with sample_selection(folder).open() as data:
        result = analyse_performance(data.reference, data.current, "defaulted",
                                     score="default_score", prediction="predicted_default",
                                     timestamp="applied_at", chunking="month")
        start = truth["concept_drift"]["from_month"]
        after = data.current.where(f"applied_at >= TIMESTAMP '2025-{start:02d}-01'")
        ranked = rank_relationships(data.reference, after, truth["model_features"],
                                    "defaulted")
    return folder, truth, result, ranked


def _concept_months(truth):
    start = truth["concept_drift"]["from_month"]
    return [f"2025-{m:02d}" for m in truth["current_months"]
            if m >= start and m not in truth["labels_missing_months"]]


def test_concept_months_realized_below_the_estimate_on_the_default_metric(fresh):
    folder, truth, result, _ = fresh
    assert result.metric == "roc_auc"
    frame = result.to_frame().set_index("chunk")
    apps = pd.read_parquet(folder / "applications.parquet")
    for label in _concept_months(truth):
        month = apps[apps["applied_at"].dt.strftime("%Y-%m") == label]
        auc = skm.roc_auc_score(month["defaulted"].astype(int), month["default_score"])
        assert frame.loc[label, "realized"] == pytest.approx(auc, rel=1e-10)
        assert frame.loc[label, "realized"] < frame.loc[label, "estimated"] - 0.05, label
        assert frame.loc[label, "realized"] < result.series["roc_auc"].band.lower, label
    assert result.alerts()["concept_drift"] == _concept_months(truth)


def test_quality_drops_on_every_clear_metric_and_not_before(fresh):
    _, truth, result, _ = fresh
    months = _concept_months(truth)
    before = [f"2025-{m:02d}" for m in truth["current_months"]
              if m < truth["concept_drift"]["from_month"]]
    for metric in ("roc_auc", "accuracy", "log_loss", "brier"):
        frame = result.to_frame(metric).set_index("chunk")
        worse = frame.loc[months, "gap"] > 0 if result.series[metric].lower_is_better \
            else frame.loc[months, "gap"] < 0
        assert worse.all(), metric
        assert result.alerts(metric)["concept_drift"] == months, metric
        assert not frame.loc[before, "concept_alert"].any(), metric


def test_the_planted_feature_leads_the_relation_ranking(fresh):
    _, truth, _, ranked = fresh
    assert ranked[0].feature == truth["concept_drift"]["feature"]
    assert truth["concept_drift"]["logit_weight_after"] < 0 < \
        truth["concept_drift"]["logit_weight_before"]


def test_other_planted_effects_are_unchanged(fresh):
    """Only the labels of the concept-drift months move: rows, columns, and every input are
    what the other planted problems (and other pages' tests) expect."""
    folder, truth, _, _ = fresh
    apps = pd.read_parquet(folder / "applications.parquet")
    assert len(apps) == 12 * truth["rows_per_month"]
    month = apps["applied_at"].dt.month
    assert apps.loc[month == 12, "defaulted"].isna().all()
    assert apps.loc[month < 12, "defaulted"].notna().all()
    missing = apps["employment_type"].isna().groupby(month).mean()
    assert missing[10] < 0.05 < 0.25 < missing[11]
    assert (apps.loc[month >= 8, "channel"] == "partner").mean() == pytest.approx(0.15, abs=0.01)
    # Reference-period default rate unchanged by the concept drift (months 1-9 untouched).
    rates = apps.loc[month <= 9].groupby(month)["defaulted"].mean()
    assert np.all((rates > 0.1) & (rates < 0.2))
