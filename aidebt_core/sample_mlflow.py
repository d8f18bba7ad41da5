"""The sample scenario's MLflow store: runs whose reproducibility manifests vary on purpose.

Writes a SQLite tracking store at OUTDIR/mlflow.db with artifacts under OUTDIR/mlartifacts:
experiment and registered model `credit-default` (three versions, aliases `production` and
`challenger`) plus two smaller models, `churn` and `fraud`, so a portfolio has something to
show. Each run leaves out a documented part of its manifest; `write_mlflow_store` returns
that ground truth. Run ids and creation times vary between generations; everything else,
including the back-dated run start times, is fixed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from aidebt_core.sample import (
    CHALLENGER_FEATURES,
    PRODUCTION_FEATURES,
    SampleModels,
    _model_input,
)

DB_NAME = "mlflow.db"
ARTIFACT_DIR = "mlartifacts"
# The manifest fields `aidebt_core.runs` requires by default, in display order.
REQUIRED_FIELDS = ("git_commit", "data_digest", "features", "params", "seed", "metrics",
                   "model", "environment")
PIP_REQUIREMENTS = ["scikit-learn==1.9.0", "pandas==3.1.0", "numpy==2.4.0"]
TRAINING_END_TAG = "training_data_end"
# Types the generator's own models contain; trusted because we just created these files.
SKOPS_TRUSTED = ["numpy.dtype", "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]
REPO_URL = "https://git.example.com/lending/credit-models.git"


@dataclass(frozen=True)
class _Plan:
    """One run to log, and which parts of its manifest it leaves out."""

    experiment: str
    run_name: str
    start: str                       # ISO time the run started (back-dated)
    minutes: int                     # run duration
    commit: str | None
    dirty: str | None
    params: dict[str, str]
    seed: dict[str, str] = field(default_factory=dict)
    dataset: str | None = None       # key of the frame logged as a training input
    eval_dataset: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    model: str | None = None         # "flavor" (MLmodel + environment) or "pickle" (bare file)
    features: list[str] | None = None
    features_as: str = "signature"   # or "param"
    training_end: str | None = None
    status: str = "FINISHED"
    register: tuple[str, tuple[str, ...]] | None = None   # (model name, aliases)
    note: str = ""


def write_mlflow_store(outdir: str | Path, models: SampleModels) -> dict:
    """Write OUTDIR/mlflow.db + OUTDIR/mlartifacts; return the ground truth (JSON-safe).

    The SQLite file is built under a temporary name and moved into place in one step, so a
    reader never opens a half-written store; artifacts of the previous store are removed only
    after the new database has replaced the old one.
    """
    out = Path(outdir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    artifacts = out / ARTIFACT_DIR
    artifacts.mkdir(exist_ok=True)
    frames, fitted, small_metrics = _frames_and_models(models)
    plans = _plans(models, small_metrics)
    fd, tmp_name = tempfile.mkstemp(prefix=".mlflow-", suffix=".db.tmp", dir=out)
    os.close(fd)
    tmp_db = Path(tmp_name)
    tmp_db.unlink()
    from threadpoolctl import threadpool_limits

    try:
        with threadpool_limits(1), _quiet_mlflow(f"sqlite:///{tmp_db}") as client:
            keep, digests = _log_all(client, plans, frames, fitted, artifacts)
        os.replace(tmp_db, out / DB_NAME)
    finally:
        tmp_db.unlink(missing_ok=True)
    _prune_artifacts(artifacts, keep)
    return _truth(plans, digests)


@contextmanager
def _quiet_mlflow(uri: str):
    """Point the fluent API at `uri` for the duration, silencing MLflow's logging."""
    import logging

    import mlflow
    from mlflow import MlflowClient

    previous_tracking = os.environ.get("MLFLOW_TRACKING_URI")
    loggers = [logging.getLogger(n) for n in ("mlflow", "alembic", "alembic.runtime.migration")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield MlflowClient(tracking_uri=uri, registry_uri=uri)
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(previous_tracking or "")
        mlflow.set_registry_uri(previous_tracking or "")
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _frames_and_models(models: SampleModels) -> tuple[dict, dict, dict]:
    """Training frames and fitted models for every run, including the small churn/fraud ones."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    train = models.training_frame
    month = train["applied_at"].dt.month
    frames = {
        "applications_h1": train,
        "applications_q1": train[month <= 3],
        "applications_m6": train[month == 6],
    }
    churn, fraud = _small_frame("churn", 3_000, 11), _small_frame("fraud", 4_000, 12)
    frames["churn"], frames["fraud"] = churn, fraud
    fitted = {"production": models.production, "challenger": models.challenger,
              "churn": RandomForestClassifier(n_estimators=40, max_depth=5, random_state=11),
              "fraud": LogisticRegression(max_iter=300)}
    metrics = {}
    for key in ("churn", "fraud"):
        metrics[key] = _fit_small(fitted[key], frames[key])
    return frames, fitted, metrics


def _fit_small(model, frame: pd.DataFrame) -> dict[str, float]:
    """Fit on the first 80 % of rows; ROC AUC and accuracy on the last 20 %."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    cut = int(len(frame) * 0.8)
    x, y = frame.drop(columns="label"), frame["label"]
    model.fit(x.iloc[:cut], y.iloc[:cut])
    score = model.predict_proba(x.iloc[cut:])[:, 1]
    return {"roc_auc": round(float(roc_auc_score(y.iloc[cut:], score)), 6),
            "accuracy": round(float(accuracy_score(y.iloc[cut:], score >= 0.5)), 6)}


def _small_frame(kind: str, n: int, seed: int) -> pd.DataFrame:
    """A small labelled table for the portfolio's other two models."""
    rng = np.random.default_rng([seed, 2025])
    if kind == "churn":
        frame = pd.DataFrame({
            "tenure_months": rng.integers(1, 72, n),
            "monthly_charges": rng.normal(65, 20, n).round(2),
            "support_calls": rng.poisson(1.5, n),
            "contract_months": rng.choice([1, 12, 24], n, p=[0.5, 0.3, 0.2]),
        })
        logit = (-1.0 - 0.04 * frame.tenure_months + 0.02 * (frame.monthly_charges - 65)
                 + 0.5 * frame.support_calls - 0.06 * frame.contract_months)
    else:
        frame = pd.DataFrame({
            "amount": rng.lognormal(4, 1, n).round(2),
            "hour": rng.integers(0, 24, n),
            "merchant_risk": rng.beta(2, 8, n).round(3),
            "card_age_days": rng.integers(1, 3_000, n),
        })
        logit = (-4.0 + 0.4 * np.log(frame.amount) + 4.0 * frame.merchant_risk
                 - 0.0005 * frame.card_age_days + 0.6 * (frame.hour < 6))
    frame["label"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return frame


def _commit(n: int) -> str:
    return f"{n:08x}" * 5


def _plans(models: SampleModels, small: dict[str, dict[str, float]]) -> list[_Plan]:
    prod, chal = models.production_metrics, models.challenger_metrics
    lr = models.production.named_steps["model"]
    hgb = models.challenger.named_steps["model"]
    lr_params = {"model_type": "LogisticRegression", "C": str(lr.C),
                 "max_iter": str(lr.max_iter), "decision_threshold": "0.3"}
    hgb_params = {"model_type": "HistGradientBoostingClassifier",
                  "max_iter": str(hgb.max_iter), "learning_rate": str(hgb.learning_rate),
                  "decision_threshold": "0.3"}
    return [
        _Plan("credit-default", "logreg-notebook", "2025-04-02T10:15:00", 12,
              commit=None, dirty=None, params=lr_params, seed={"seed": "42"},
              dataset="applications_q1", metrics={k: round(v - 0.01, 6) for k, v in prod.items()
                                                  if k in ("roc_auc", "accuracy")},
              model="flavor", features=PRODUCTION_FEATURES, training_end="2025-03-31",
              register=("credit-default", ()),
              note="first model, trained in a notebook outside git"),
        _Plan("credit-default", "logreg-prod", "2025-07-03T08:30:00", 18,
              commit=_commit(0xC0FFEE01), dirty="false", params=lr_params,
              seed={"seed": "42"}, dataset="applications_h1", eval_dataset="applications_m6",
              metrics=prod, model="flavor", features=PRODUCTION_FEATURES,
              training_end="2025-06-30", register=("credit-default", ("production",)),
              note="complete manifest: the production model"),
        _Plan("credit-default", "hgb-challenger", "2025-07-20T14:05:00", 25,
              commit=_commit(0xC0FFEE02), dirty="true", params=hgb_params, seed={},
              dataset=None, metrics=chal, model="flavor", features=CHALLENGER_FEATURES,
              training_end="2025-06-30", register=("credit-default", ("challenger",)),
              note="challenger: random_state not logged, no dataset input, dirty tree"),
        _Plan("credit-default", "logreg-retrain", "2025-09-01T06:00:00", 3,
              commit=_commit(0xC0FFEE03), dirty="false", params=lr_params,
              seed={"seed": "42"}, dataset="applications_h1", metrics={}, model=None,
              features=PRODUCTION_FEATURES, features_as="param", training_end="2025-08-31",
              status="FAILED", note="scheduled retrain that failed: no metrics, no model"),
        _Plan("churn", "churn-rf", "2025-05-12T09:00:00", 6,
              commit=_commit(0xC4A11001), dirty="false",
              params={"model_type": "RandomForestClassifier", "n_estimators": "40",
                      "max_depth": "5"},
              seed={"random_state": "11"}, dataset="churn", metrics=small["churn"],
              model="pickle", features=["tenure_months", "monthly_charges", "support_calls",
                                        "contract_months"],
              features_as="param", training_end="2025-04-30",
              register=("churn", ("production",)),
              note="model saved as a bare pickle: no MLmodel file, no environment"),
        _Plan("fraud", "fraud-logreg", "2024-11-20T16:45:00", 4,
              commit=None, dirty=None,
              params={"model_type": "LogisticRegression", "max_iter": "300"}, seed={},
              dataset=None, metrics=small["fraud"], model="flavor",
              features=["amount", "hour", "merchant_risk", "card_age_days"],
              training_end="2024-10-31", register=("fraud", ("production",)),
              note="legacy model: no commit, no seed, no dataset digest"),
    ]


def _log_all(client, plans: list[_Plan], frames: dict, fitted: dict,
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
            importances = _importances(plan, fitted, frames)
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


def _log_model(plan: _Plan, fitted: dict, frames: dict, run_id: str) -> str | None:
    """Log the run's model: as an MLflow flavor with environment, or as a bare pickle."""
    import pickle

    import mlflow
    from mlflow.models import infer_signature

    if plan.model is None:
        return None
    key = _model_key(plan)
    model = fitted[key]
    if plan.model == "pickle":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.pkl"
            path.write_bytes(pickle.dumps(model))
            mlflow.log_artifact(str(path), artifact_path="model")
        return None
    x = _inputs(key, frames, plan.features)
    signature = infer_signature(x.head(200), model.predict_proba(x.head(200))[:, 1])
    info = mlflow.sklearn.log_model(model, name="model", signature=signature,
                                    pip_requirements=PIP_REQUIREMENTS,
                                    skops_trusted_types=SKOPS_TRUSTED)
    return info.model_id


def _model_key(plan: _Plan) -> str:
    if plan.experiment != "credit-default":
        return plan.experiment
    return "challenger" if plan.params["model_type"].startswith("Hist") else "production"


def _inputs(key: str, frames: dict, features: list[str] | None) -> pd.DataFrame:
    if key in ("churn", "fraud"):
        return frames[key].drop(columns="label")
    return _model_input(frames["applications_m6"], list(features or []))


def _importances(plan: _Plan, fitted: dict, frames: dict) -> dict[str, float] | None:
    """Importances per input feature, summing to 1, read from the fitted model itself:
    |coefficient| x spread of the encoded column for the logistic model, split gain for
    the boosted trees. Deterministic and instant (no re-scoring)."""
    if plan.model != "flavor" or plan.experiment != "credit-default":
        return None
    pipe = fitted[_model_key(plan)]
    features = list(plan.features or [])
    encoded = list(pipe.named_steps["features"].get_feature_names_out())
    classifier = pipe.named_steps["model"]
    if hasattr(classifier, "coef_"):
        sample = _model_input(frames["applications_m6"].iloc[:5_000], features)
        spread = pipe.named_steps["features"].transform(sample).astype(float).std(axis=0)
        weights = np.abs(classifier.coef_[0]) * spread
    else:
        weights = np.zeros(len(encoded))
        for iteration in classifier._predictors:
            for tree in iteration:
                split = tree.nodes[tree.nodes["is_leaf"] == 0]
                np.add.at(weights, split["feature_idx"], split["gain"])
    totals = dict.fromkeys(features, 0.0)
    for name, weight in zip(encoded, weights, strict=True):
        owner = max((f for f in features if name == f or name.startswith(f + "_")), key=len)
        totals[owner] += float(weight)
    total = sum(totals.values()) or 1.0
    return {f: round(v / total, 6) for f, v in totals.items()}


def _register(client, plan: _Plan, run_id: str, model_id: str | None) -> None:
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


def _prune_artifacts(artifacts: Path, keep: set[str]) -> None:
    """Remove artifact folders of earlier generations that the new store no longer refers to."""
    for experiment in artifacts.iterdir():
        if not experiment.is_dir():
            continue
        for child in experiment.iterdir():
            if child.name == "models" and child.is_dir():
                for model in child.iterdir():
                    if f"{experiment.name}/models/{model.name}" not in keep:
                        shutil.rmtree(model, ignore_errors=True)
            elif f"{experiment.name}/{child.name}" not in keep:
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()


def _truth(plans: list[_Plan], digests: dict[str, str]) -> dict:
    """Per run what the manifest lacks, the registry layout and the planted diff."""
    runs, registry = [], {}
    for plan in plans:
        missing = []
        if not plan.commit:
            missing.append("git_commit")
        if not plan.dataset:
            missing.append("data_digest")
        if not plan.features:
            missing.append("features")
        if not plan.params:
            missing.append("params")
        if not plan.seed:
            missing.append("seed")
        if not plan.metrics:
            missing.append("metrics")
        if not plan.model:
            missing.append("model")
        if plan.model != "flavor":
            missing.append("environment")
        present = len(REQUIRED_FIELDS) - len(missing)
        runs.append({
            "experiment": plan.experiment, "run_name": plan.run_name, "status": plan.status,
            "start_time": plan.start + "Z", "missing": missing,
            "completeness": round(present / len(REQUIRED_FIELDS), 6),
            "git_commit": plan.commit, "git_dirty": plan.dirty,
            "seed": next(iter(plan.seed.values()), None),
            "params": {**plan.params, **plan.seed},
            "metrics": sorted(plan.metrics), "training_data_end": plan.training_end,
            "datasets": {context: {"name": key, "digest": digests[key]}
                         for key, context in ((plan.dataset, "training"),
                                              (plan.eval_dataset, "evaluation")) if key},
            "feature_importances": plan.model == "flavor" and plan.experiment == "credit-default",
            "note": plan.note,
        })
        if plan.register:
            name, aliases = plan.register
            entry = registry.setdefault(name, {"versions": [], "aliases": {}})
            version = len(entry["versions"]) + 1
            entry["versions"].append({"version": version, "run_name": plan.run_name})
            for alias in aliases:
                entry["aliases"][alias] = version
    for name, entry in registry.items():
        production = entry["aliases"].get("production")
        if production is None:
            continue
        prod_run = entry["versions"][production - 1]["run_name"]
        entry["production_run"] = prod_run
        start = next(p.start for p in plans if p.run_name == prod_run)
        entry["newer_runs_than_production"] = sorted(
            p.run_name for p in plans if p.experiment == name and p.start > start)
    a, b = (next(p for p in plans if p.run_name == n) for n in ("logreg-prod", "hgb-challenger"))
    pa, pb = {**a.params, **a.seed}, {**b.params, **b.seed}
    keys = set(pa) | set(pb)
    return {
        "tracking_uri": f"sqlite:///{DB_NAME}",
        "database": DB_NAME,
        "artifact_root": ARTIFACT_DIR,
        "required_fields": list(REQUIRED_FIELDS),
        "training_end_tag": TRAINING_END_TAG,
        "experiments": sorted({p.experiment for p in plans}),
        "runs": runs,
        "registered_models": registry,
        "planted_diff": {
            "runs": [a.run_name, b.run_name],
            "params_differ": sorted(k for k in keys if pa.get(k) != pb.get(k)),
            "params_same": sorted(k for k in keys if pa.get(k) == pb.get(k)),
            "git_commit_differs": True,
            "data_digest": "hgb-challenger logged no dataset input",
            "features_only_in_b": sorted(set(CHALLENGER_FEATURES) - set(PRODUCTION_FEATURES)),
        },
        "feature_importances_file": "feature_importances.json",
    }

