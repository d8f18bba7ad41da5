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
from pathlib import Path

from aidebt_core.sample_mlflow.plans import (
    REQUIRED_FIELDS,
    TRAINING_END_TAG,
    RunPlan,
    frames_and_models,
    run_plans,
)
from aidebt_core.sample_mlflow.writer import log_all
from aidebt_core.sample_models import CHALLENGER_FEATURES, PRODUCTION_FEATURES, SampleModels

DB_NAME = "mlflow.db"
ARTIFACT_DIR = "mlartifacts"


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
    frames, fitted, small_metrics = frames_and_models(models)
    plans = run_plans(models, small_metrics)
    fd, tmp_name = tempfile.mkstemp(prefix=".mlflow-", suffix=".db.tmp", dir=out)
    os.close(fd)
    tmp_db = Path(tmp_name)
    tmp_db.unlink()
    from threadpoolctl import threadpool_limits

    try:
        with threadpool_limits(1), _quiet_mlflow(f"sqlite:///{tmp_db}") as client:
            keep, digests = log_all(client, plans, frames, fitted, artifacts)
        _relative_artifact_paths(tmp_db, out)
        os.replace(tmp_db, out / DB_NAME)
    finally:
        tmp_db.unlink(missing_ok=True)
    _prune_artifacts(artifacts, keep)
    return _truth(plans, digests)


# Every column where MLflow records where artifacts live.
ARTIFACT_COLUMNS = (("experiments", "artifact_location"), ("runs", "artifact_uri"),
                    ("logged_models", "artifact_location"), ("model_versions", "storage_location"))


def _relative_artifact_paths(db: Path, out: Path) -> None:
    """Record artifact locations relative to the store's folder (`mlartifacts/...`), so a
    moved or copied sample folder keeps working: `aidebt_core.runs` reads a relative location
    against the folder of the database. MLflow writes absolute `file://` URIs; rewritten here
    once the runs are logged. The Default experiment's root (MLflow's ./mlruns of whatever
    folder the generator ran in) is pointed inside the sample folder as well."""
    import sqlite3

    prefix = out.as_uri() + "/"
    con = sqlite3.connect(db)
    try:
        with con:
            for table, column in ARTIFACT_COLUMNS:
                con.execute(f"UPDATE {table} SET {column} = substr({column}, ?) "
                            f"WHERE substr({column}, 1, ?) = ?",
                            (len(prefix) + 1, len(prefix), prefix))
            con.execute("UPDATE experiments SET artifact_location = ? WHERE name = 'Default'",
                        (f"{ARTIFACT_DIR}/0",))
    finally:
        con.close()


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


def _truth(plans: list[RunPlan], digests: dict[str, str]) -> dict:
    """Per run what the manifest lacks, the registry layout and the planted diff."""
    runs, registry = [], {}
    for plan in plans:
        logged = {"git_commit": plan.commit, "data_digest": plan.dataset,
                  "features": plan.features, "params": plan.params, "seed": plan.seed,
                  "metrics": plan.metrics, "model": plan.model,
                  "environment": plan.model == "flavor"}  # only an MLflow flavor has env files
        missing = [field for field, present in logged.items() if not present]
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

