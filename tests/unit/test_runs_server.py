"""A real `mlflow server` on a free localhost port with a temporary backend: runs, datasets,
logged models and aliases are read through the REST API exactly as from the SQLite file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from aidebt_core.runs import model_reproducibility, open_store, read_registry, read_runs
from tests.local_server import local_server

# MLflow's own hints while logging the fixture runs (dataset source, integer schema).
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("server")
    # No job runner: it is a second process importing MLflow, useless for reading runs.
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true",
               MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
    with local_server(lambda port: [
            str(Path(sys.executable).with_name("mlflow")), "server", "--host", "127.0.0.1",
            "--port", str(port), "--workers", "1",
            "--backend-store-uri", f"sqlite:///{root / 'backend.db'}",
            "--artifacts-destination", str(root / "artifacts")],
            "/health", root / "server.log", timeout=90, env=env, cwd=root) as url:
        yield url


@pytest.fixture(scope="module")
def logged(server):
    """Log one complete run and one bare run to the server through MLflow's own client."""
    import mlflow
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    client = MlflowClient(tracking_uri=server, registry_uri=server)
    experiment = client.create_experiment("served")
    frame = pd.DataFrame({"x1": [0.0, 1.0, 2.0, 3.0], "x2": [1.0, 0.0, 1.0, 0.0],
                          "y": [0, 0, 1, 1]})
    model = LogisticRegression().fit(frame[["x1", "x2"]], frame["y"])
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(server)
    try:
        run = client.create_run(experiment, run_name="served-complete",
                                tags={"mlflow.source.git.commit": "f" * 40})
        with mlflow.start_run(run_id=run.info.run_id):
            mlflow.log_params({"C": "1.0", "seed": "5"})
            mlflow.log_metric("auc", 0.9)
            dataset = mlflow.data.from_pandas(frame, source="train.csv", name="train",
                                              targets="y")
            mlflow.log_input(dataset, context="training")
            from mlflow.models import infer_signature

            info = mlflow.sklearn.log_model(
                model, name="model", pip_requirements=["scikit-learn"],
                signature=infer_signature(frame[["x1", "x2"]], frame["y"]))
        bare = client.create_run(experiment, run_name="served-bare")
        client.log_param(bare.info.run_id, "C", "2.0")
        client.set_terminated(bare.info.run_id)
    finally:
        mlflow.set_tracking_uri(previous)
    client.create_registered_model("served-model")
    version = client.create_model_version("served-model", info.model_uri,
                                          run_id=run.info.run_id, model_id=info.model_id)
    client.set_registered_model_alias("served-model", "production", version.version)
    return {"digest": dataset.digest, "run_id": run.info.run_id}


def test_runs_are_read_from_a_running_server(server, logged):
    table = read_runs(server, ["served"])
    complete = table.by_id("served-complete")
    assert complete.run_id == logged["run_id"]
    assert complete.missing == () and complete.completeness == 1.0
    assert [(d.name, d.digest, d.context) for d in complete.datasets] == \
        [("train", logged["digest"], "training")]
    assert complete.features == ("x1", "x2")
    assert "requirements.txt" in complete.environment_files
    bare = table.by_id("served-bare")
    assert bare.missing == ("git_commit", "data_digest", "features", "seed", "metrics",
                            "model", "environment")


def test_registry_and_audit_summary_through_the_server(server, logged):
    registry = read_registry(open_store(server))
    assert registry.resolve("served-model", "production").run_id == logged["run_id"]
    (item,) = model_reproducibility(server)
    assert item.model == "served-model" and item.completeness == 1.0
