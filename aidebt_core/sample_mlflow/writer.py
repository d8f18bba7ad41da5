"""Log the planned runs to an MLflow store through MLflow's own client and fluent API."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from aidebt_core.sample_mlflow.plans import (
    PIP_REQUIREMENTS,
    REPO_URL,
    SKOPS_TRUSTED,
    TRAINING_END_TAG,
    RunPlan,
    model_importances,
    model_inputs,
    model_key,
)


def log_all(client, plans: list[RunPlan], frames: dict, fitted: dict,
             artifacts: Path) -> tuple[set[str], dict[str, str]]:
    """Log every planned run; return the artifact sub-paths it references and the digests."""
    import mlflow

    experiments: dict[str, str] = {}
    keep: set[str] = set()
    digests: dict[str, str] = {}
    for name in dict.fromkeys(p.experiment for p in plans):
        location = artifacts / name
        experiments[name] = client.create_experiment(
            name, artifact_location=location.as_uri(),
            tags={"team": "risk" if name == "credit-default" else "growth"})
    for plan in plans:
        start = _millis(plan.start)
        tags = {"mlflow.user": "sample", "mlflow.source.type": "JOB",
                "mlflow.source.name": "train.py" if plan.commit else "notebook.ipynb"}
        if plan.commit:
            tags.update({"mlflow.source.git.commit": plan.commit,
                         "mlflow.source.git.branch": "main",
                         "mlflow.source.git.repoURL": REPO_URL})
        if plan.dirty is not None:
            tags["mlflow.source.git.dirty"] = plan.dirty
        if plan.training_end:
            tags[TRAINING_END_TAG] = plan.training_end
        if plan.note:
            tags["mlflow.note.content"] = plan.note
        run = client.create_run(experiments[plan.experiment], start_time=start, tags=tags,
                                run_name=plan.run_name)
        run_id = run.info.run_id
        keep.add(f"{plan.experiment}/{run_id}")
        with mlflow.start_run(run_id=run_id):
            params = {**plan.params, **plan.seed}
            if plan.features_as == "param" and plan.features:
                params["features"] = ",".join(plan.features)
            mlflow.log_params(params)
            if plan.metrics:
                mlflow.log_metrics({k: float(v) for k, v in plan.metrics.items()})
            for key, context in ((plan.dataset, "training"), (plan.eval_dataset, "evaluation")):
                if key:
                    dataset = _dataset(frames[key], key)
                    digests[key] = dataset.digest
                    mlflow.log_input(dataset, context=context)
            model_id = _log_model(plan, fitted, frames, run_id)
            if model_id:
                keep.add(f"{plan.experiment}/models/{model_id}")
            importances = model_importances(plan, fitted, frames)
            if importances:
                mlflow.log_dict(importances, "feature_importances.json")
        client.set_terminated(run_id, status=plan.status,
                              end_time=start + plan.minutes * 60_000)
        if plan.register:
            _register(client, plan, run_id, model_id)
    return keep, digests


def _dataset(frame: pd.DataFrame, key: str):
    """An MLflow pandas dataset with a content digest; the source names the sample file."""
    import mlflow

    sources = {"applications_h1": "applications.parquet?months=1-6",
               "applications_q1": "applications.parquet?months=1-3",
               "applications_m6": "applications.parquet?months=6",
               "churn": "churn_2025q1.parquet", "fraud": "fraud_2024.parquet"}
    data = frame.copy()
    for col in data.columns:
        if isinstance(data[col].dtype, pd.StringDtype):
            data[col] = data[col].astype(object)
        elif str(data[col].dtype) == "Int64":
            data[col] = data[col].astype("float64")
    target = "defaulted" if "defaulted" in data.columns else "label"
    return mlflow.data.from_pandas(data, source=sources[key], name=key, targets=target)


def _log_model(plan: RunPlan, fitted: dict, frames: dict, run_id: str) -> str | None:
    """Log the run's model: as an MLflow flavor with environment, or as a bare pickle."""
    import pickle

    import mlflow
    from mlflow.models import infer_signature

    if plan.model is None:
        return None
    key = model_key(plan)
    model = fitted[key]
    if plan.model == "pickle":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.pkl"
            path.write_bytes(pickle.dumps(model))
            mlflow.log_artifact(str(path), artifact_path="model")
        return None
    x = model_inputs(key, frames, plan.features)
    signature = infer_signature(x.head(200), model.predict_proba(x.head(200))[:, 1])
    info = mlflow.sklearn.log_model(model, name="model", signature=signature,
                                    pip_requirements=PIP_REQUIREMENTS,
                                    skops_trusted_types=SKOPS_TRUSTED)
    return info.model_id



def _register(client, plan: RunPlan, run_id: str, model_id: str | None) -> None:
    name, aliases = plan.register
    try:
        client.get_registered_model(name)
    except Exception:  # noqa: BLE001 - MLflow raises RestException/MlflowException variants
        client.create_registered_model(name, tags={"owner": "risk-ml"})
    if model_id:
        source = f"models:/{model_id}"
    else:
        source = f"{client.get_run(run_id).info.artifact_uri}/model"
    version = client.create_model_version(name, source, run_id=run_id, model_id=model_id,
                                          await_creation_for=0)
    for alias in aliases:
        client.set_registered_model_alias(name, alias, version.version)


def _millis(iso: str) -> int:
    return int(pd.Timestamp(iso, tz="UTC").value // 1_000_000)

