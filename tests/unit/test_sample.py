"""The sample scenario: deterministic bytes, and every planted effect really is in the data."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from aidebt_core.sample import write_sample


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_runs_write_identical_data_files(tmp_path, sample_dir, ground_truth):
    import json

    from aidebt_core.audit.store import AuditStore, workspace_store_path
    from aidebt_core.sample_manifest import MANIFEST, SampleFolderError

    again = tmp_path / "again"
    again.mkdir()
    (again / "notes.txt").write_text("not the sample's")
    with pytest.raises(SampleFolderError, match="holds 'notes.txt'"):
        write_sample(again, with_mlflow=False)
    assert sorted(p.name for p in again.iterdir()) == ["notes.txt"]     # refused up front
    write_sample(again, with_mlflow=False, force=True)                  # next to it, not over
    for name in [*ground_truth["files"].values()]:
        assert _digest(again / name) == _digest(sample_dir / name), name
    assert (again / "notes.txt").read_text() == "not the sample's"
    listed = json.loads((again / MANIFEST).read_text())["files"]
    assert "notes.txt" not in listed
    for name in [*ground_truth["files"].values(), "ground_truth.json"]:
        assert listed[name] == _digest(again / name), name
    # the sample's audits are where the workspace's default store is, so history shows
    audits = AuditStore(workspace_store_path(again)).list_audits()
    assert sorted({a.model for a in audits}) == ["churn", "credit-default", "fraud"]


@pytest.fixture(scope="module")
def apps(sample_dir):
    frame = pd.read_parquet(sample_dir / "applications.parquet")
    frame["month"] = frame["applied_at"].dt.month
    return frame


def test_size_and_roles(apps, ground_truth):
    assert len(apps) == 12 * ground_truth["rows_per_month"]
    assert apps["application_id"].is_unique
    assert apps.loc[apps["month"].isin(ground_truth["labels_missing_months"]),
                    "defaulted"].isna().all()
    assert apps.loc[apps["month"] < 12, "defaulted"].notna().all()


def test_new_category_appears_only_from_its_month(apps, ground_truth):
    planted = ground_truth["new_category"]
    has_new = apps.groupby("month")["channel"].apply(lambda s: (s == planted["value"]).mean())
    assert (has_new[has_new.index < planted["from_month"]] == 0).all()
    assert has_new[has_new.index >= planted["from_month"]].between(0.12, 0.18).all()


def test_missing_jump(apps, ground_truth):
    planted = ground_truth["missing_jump"]
    share = apps.groupby("month")[planted["column"]].apply(lambda s: s.isna().mean())
    assert share[share.index < planted["from_month"]].max() < 0.04
    assert share[share.index >= planted["from_month"]].min() > 0.25


def test_correlation_break(apps, ground_truth):
    planted = ground_truth["correlation_break"]
    a, b = planted["columns"]
    corr = apps.groupby("month").apply(lambda g: np.corrcoef(g[a], g[b])[0, 1])
    assert corr[corr.index < planted["from_month"]].min() > 0.95
    assert corr[corr.index >= planted["from_month"]].abs().max() < 0.05


def test_weak_slice_is_worse_and_worsens(apps):
    labelled = apps[apps["defaulted"].notna()]
    error = labelled["predicted_default"] != labelled["defaulted"]
    in_slice = (labelled["channel"] == "mobile") & (labelled["account_age_days"] < 90)
    reference = labelled["month"] <= 6
    ref_gap = error[in_slice & reference].mean() - error[reference].mean()
    cur_gap = error[in_slice & ~reference].mean() - error[~reference].mean()
    assert ref_gap > 0.03 and cur_gap > ref_gap


def test_models_are_real_and_recorded(ground_truth):
    production = ground_truth["model_metrics"]["production"]
    assert 0.7 < production["roc_auc"] < 0.95
    assert 0 < production["brier"] < 0.2
