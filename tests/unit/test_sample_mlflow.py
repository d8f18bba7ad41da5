"""The sample MLflow store: what the generator promises in ground_truth.json is what the
SQLite file and the artifact folder hold (read with sqlite3 and the file system, not MLflow),
and a fresh generation reproduces the same truth, quietly, replacing the old store."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from threadpoolctl import threadpool_limits

from aidebt_core.sample import generate_applications, train_models
from aidebt_core.sample_mlflow import write_mlflow_store


@pytest.fixture(scope="module")
def db(sample_dir, ground_truth):
    con = sqlite3.connect(f"file:{sample_dir / ground_truth['mlflow']['database']}?mode=ro",
                          uri=True)
    yield con
    con.close()


def _tags(db, run_id: str) -> dict[str, str]:
    return dict(db.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,)))


def test_runs_hold_exactly_the_planted_manifest_parts(db, ground_truth):
    truth = ground_truth["mlflow"]
    runs = {name: (run_id, exp) for run_id, name, exp in db.execute(
        "SELECT r.run_uuid, r.name, e.name FROM runs r JOIN experiments e "
        "ON r.experiment_id = e.experiment_id")}
    assert set(runs) == {r["run_name"] for r in truth["runs"]}
    for planted in truth["runs"]:
        run_id, experiment = runs[planted["run_name"]]
        assert experiment == planted["experiment"]
        tags = _tags(db, run_id)
        assert tags.get("mlflow.source.git.commit") == planted["git_commit"]
        params = dict(db.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run_id,)))
        seed = params.get("seed", params.get("random_state"))
        assert seed == planted["seed"]
        assert ("seed" in planted["missing"]) == (seed is None)
        digests = {ctx: digest for digest, ctx in db.execute(
            "SELECT d.digest, t.value FROM inputs i JOIN datasets d "
            "ON i.source_id = d.dataset_uuid JOIN input_tags t ON t.input_uuid = i.input_uuid "
            "WHERE i.destination_id = ? AND t.name = 'mlflow.data.context'", (run_id,))}
        assert digests == {c: d["digest"] for c, d in planted["datasets"].items()}
        assert ("data_digest" in planted["missing"]) == (not digests)
        metrics = {k for (k,) in db.execute(
            "SELECT key FROM latest_metrics WHERE run_uuid = ?", (run_id,))}
        assert sorted(metrics) == planted["metrics"]


def test_three_manifest_shapes_and_a_portfolio(ground_truth):
    runs = {r["run_name"]: r for r in ground_truth["mlflow"]["runs"]}
    complete = [n for n, r in runs.items() if not r["missing"]]
    assert complete == ["logreg-prod"]
    assert any(set(r["missing"]) == {"seed", "data_digest"} for r in runs.values())
    assert any(r["missing"] == ["git_commit"] for r in runs.values())
    assert set(ground_truth["mlflow"]["registered_models"]) == {"credit-default", "churn",
                                                                "fraud"}


def test_registry_aliases_and_model_files_on_disk(db, sample_dir, ground_truth):
    truth = ground_truth["mlflow"]
    aliases = {(m, a): v for a, v, m in db.execute(
        "SELECT alias, version, name FROM registered_model_aliases")}
    expected = {(m, a): v for m, e in truth["registered_models"].items()
                for a, v in e["aliases"].items()}
    assert aliases == expected
    assert expected[("credit-default", "production")] != expected[("credit-default",
                                                                    "challenger")]
    runs = {r["run_name"]: r for r in truth["runs"]}
    for model, version, storage in db.execute(
            "SELECT name, version, storage_location FROM model_versions"):
        folder = sample_dir / storage.removeprefix(f"file://{sample_dir}/")
        assert folder.is_dir() and folder.is_relative_to(sample_dir / truth["artifact_root"])
        run_name = truth["registered_models"][model]["versions"][version - 1]["run_name"]
        has_env = (folder / "requirements.txt").is_file() and (folder / "conda.yaml").is_file()
        assert has_env == ("environment" not in runs[run_name]["missing"]), run_name


def test_regeneration_is_deterministic_quiet_replaces_the_old_store_and_can_move(
        tmp_path, ground_truth, capfd, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    stale = out / "mlartifacts" / "credit-default" / "0123456789abcdef"
    stale.mkdir(parents=True)
    (stale / "leftover.txt").write_text("from an older generation")
    # Models fitted on every 10th application keep the test fast; only the digests of the
    # credit-default training frames (which are then smaller) may differ from the sample's.
    # One thread: OpenMP oversubscription makes the boosted trees 20x slower on a busy box.
    applications = generate_applications()
    with threadpool_limits(1):
        models = train_models(applications.iloc[::10].reset_index(drop=True))
    capfd.readouterr()
    truth = write_mlflow_store(out, models)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
    expected = ground_truth["mlflow"]
    assert _without_credit_digests(truth) == _without_credit_digests(expected)
    churn = next(r for r in truth["runs"] if r["run_name"] == "churn-rf")
    assert churn == next(r for r in expected["runs"] if r["run_name"] == "churn-rf")
    assert not stale.exists()
    assert sorted(p.name for p in out.iterdir()) == ["mlartifacts", "mlflow.db"]
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlruns").exists()
    _moved_store_still_reads(out, tmp_path / "elsewhere" / "sample copy", truth)


def _moved_store_still_reads(out, moved, truth):
    """Artifact locations are relative to the store's folder: after the folder moves (the old
    path is gone), runs, model files and logged importances are read from the new place."""
    from aidebt_core.runs import feature_importances, read_runs
    from aidebt_core.runs.client import open_store
    from aidebt_core.sample_mlflow import ARTIFACT_COLUMNS

    con = sqlite3.connect(out / truth["database"])
    try:
        locations = [v for table, column in ARTIFACT_COLUMNS
                     for (v,) in con.execute(f"SELECT {column} FROM {table}")]
    finally:
        con.close()
    assert locations and all(v.startswith(f"{truth['artifact_root']}/") for v in locations)
    moved.parent.mkdir()
    shutil.move(out, moved)
    assert not out.exists()
    store = open_store(str(moved / truth["database"]))
    table = read_runs(store)
    assert {m.run_name for m in table.manifests} == {r["run_name"] for r in truth["runs"]}
    expected = {r["run_name"]: r for r in truth["runs"]}
    for manifest in table.manifests:
        assert manifest.artifact_uri.startswith((moved / truth["artifact_root"]).as_uri())
        # environment files and the model signature are read from the model's artifacts
        assert ("environment" in manifest.missing) == (
            "environment" in expected[manifest.run_name]["missing"]), manifest.run_name
    prod = table.by_id("logreg-prod")
    assert prod.features_source == "model signature"
    logged = json.loads(next(moved.rglob(f"{prod.run_id}/artifacts/"
                                         f"{truth['feature_importances_file']}")).read_text())
    assert feature_importances(prod) == pytest.approx(logged)
    assert feature_importances(store.get_run(prod.run_id), store) == pytest.approx(logged)


def _without_credit_digests(truth: dict) -> dict:
    runs = [{**r, "datasets": {c: d["name"] for c, d in r["datasets"].items()}}
            if r["experiment"] == "credit-default" else r for r in truth["runs"]]
    return {**truth, "runs": runs}
