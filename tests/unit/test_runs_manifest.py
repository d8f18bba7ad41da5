"""Manifest rules on hand-built MLflow runs: seed and feature detection, dirty flags, model
folders, completeness arithmetic, and the run diff's numbers."""

from __future__ import annotations

import pytest
from mlflow.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunTag,
)

from aidebt_core.errors import AidebtError
from aidebt_core.runs import build_manifest, diff_runs, required_fields
from aidebt_core.runs.diff import _requirements


def _run(run_id="r1", params=None, metrics=None, tags=None, datasets=(), status="FINISHED"):
    info = RunInfo(run_id, "7", "me", status, 1_700_000_000_000, 1_700_000_060_000, "active",
                   f"file:///tmp/art/{run_id}", run_id)
    data = RunData([Metric(k, v, 0, 0) for k, v in (metrics or {}).items()],
                   [Param(k, v) for k, v in (params or {}).items()],
                   [RunTag(k, v) for k, v in (tags or {}).items()])
    inputs = RunInputs([DatasetInput(Dataset(name, digest, "local", "{}"),
                                     [InputTag("mlflow.data.context", ctx)])
                        for name, digest, ctx in datasets], [])
    return Run(info, data, inputs)


@pytest.mark.parametrize("params, tags, key, value", [
    ({"seed": "1"}, {}, "seed", "1"),
    ({"model__random_state": "7"}, {}, "model__random_state", "7"),
    ({"xgb.seed": "3"}, {}, "xgb.seed", "3"),
    ({"random_state": "None"}, {}, "random_state", None),     # sklearn's default: not fixed
    ({"seeded_rows": "5"}, {}, None, None),                   # a name that only contains 'seed'
    ({}, {"random_seed": "11"}, "random_seed", "11"),         # seed logged as a tag
])
def test_seed_detection(params, tags, key, value):
    manifest = build_manifest(_run(params=params, tags=tags), "e")
    assert manifest.seed_key == key and manifest.seed == value
    assert manifest.present["seed"] is (value is not None)


@pytest.mark.parametrize("text, expected", [
    ('["a", "b"]', ("a", "b")),
    ("['a', 'b']", ("a", "b")),
    ("a, b ,c", ("a", "b", "c")),
])
def test_feature_param_forms(text, expected):
    manifest = build_manifest(_run(params={"features": text, "C": "1"}), "e")
    assert manifest.features == expected and manifest.hyper_params == {"C": "1"}


def test_signature_wins_over_params_and_model_folder_from_listing():
    listing = [("model", True), ("model/MLmodel", False), ("model/conda.yaml", False),
               ("model/model.pkl", False), ("notes.txt", False)]
    manifest = build_manifest(_run(params={"features": "x"}), "e", run_listing=listing,
                              signature_inputs=("f1", "f2"))
    assert manifest.features == ("f1", "f2") and manifest.features_source == "model signature"
    assert manifest.model_uri == "runs:/r1/model"
    assert manifest.environment_files == ("model/conda.yaml",)


def test_bare_pickle_counts_as_model_without_environment():
    manifest = build_manifest(_run(), "e", run_listing=[("clf.joblib", False)])
    assert manifest.model_uri == "runs:/r1/clf.joblib" and not manifest.present["environment"]


def test_completeness_is_the_share_of_required_fields_present():
    run = _run(params={"C": "1", "seed": "2"}, metrics={"auc": 0.8},
               tags={"mlflow.source.git.commit": "abc", "mlflow.source.git.dirty": "True"},
               datasets=[("train", "d1", "training")])
    full = build_manifest(run, "e")
    assert full.missing == ("features", "model", "environment")
    assert full.completeness == pytest.approx(5 / 8)
    assert full.git_dirty is True and any("dirty" in w for w in full.warnings)
    narrow = build_manifest(run, "e", required=required_fields(["seed", "model"]))
    assert narrow.completeness == 0.5 and narrow.missing == ("model",)


def test_dataset_without_training_context_is_warned_about():
    manifest = build_manifest(_run(datasets=[("eval", "d2", "evaluation")]), "e")
    assert manifest.present["data_digest"]
    assert "No dataset input has context 'training'." in manifest.warnings


def test_required_fields_validation():
    assert required_fields(None)[0] == "git_commit"
    with pytest.raises(AidebtError, match="'commit'"):
        required_fields(["commit"])
    with pytest.raises(AidebtError):
        required_fields([" "])


def test_diff_numbers_and_sections():
    a = build_manifest(_run("a", params={"C": "1", "seed": "1"}, metrics={"auc": 0.8, "f1": 0.5},
                            datasets=[("train", "d1", "training")]), "e")
    b = build_manifest(_run("b", params={"C": "2", "seed": "1"}, metrics={"auc": 0.75},
                            datasets=[("train", "d2", "training")]), "e")
    diff = diff_runs(a, b, ("numpy==2.0\nscikit-learn>=1.5\n", "numpy==2.1\nscikit-learn>=1.5\n"))
    rows = {(r.section, r.key): r for r in diff.rows}
    assert rows[("metrics", "auc")].delta == pytest.approx(-0.05)
    assert rows[("metrics", "f1")].b is None and rows[("metrics", "f1")].delta is None
    assert not rows[("params", "C")].same and rows[("params", "seed (seed)")].same
    assert rows[("data", "training digest")].a == "train@d1"
    assert not rows[("environment", "numpy")].same and rows[("environment", "scikit-learn")].same
    frame = diff.to_frame()
    assert frame["delta"].dtype == float and frame["delta"].notna().sum() == 1  # auc only


def test_requirements_parsing():
    text = "numpy>=1.26  # pinned\n-r base.txt\nmypkg @ git+https://x/y.git\nrich\n\n"
    assert _requirements(text) == {"numpy": ">=1.26", "mypkg": "@git+https://x/y.git",
                                   "rich": "(unpinned)"}


def test_importances_without_a_store_need_local_artifacts():
    from dataclasses import replace

    from aidebt_core.errors import TrackingError
    from aidebt_core.runs import feature_importances

    manifest = build_manifest(_run(metrics={"feature_importance.x": 0.2, "auc": 0.9}), "e")
    assert feature_importances(manifest) == {"x": 0.2}   # no file: from metrics
    with pytest.raises(TrackingError, match="remote"):
        feature_importances(replace(manifest, artifact_uri="s3://bucket/run"))
