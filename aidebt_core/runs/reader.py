"""Read every run of a tracking store into manifests: one paged query per 1,000 runs.

Artifacts are looked at only where the run's metadata cannot answer: the top level of a
logged model (for the MLmodel signature and environment files) and, for runs without a
logged model, the run's own artifact folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from aidebt_core.errors import TrackingError
from aidebt_core.jsonsafe import jsonable
from aidebt_core.runs.client import Store, local_path, open_store
from aidebt_core.runs.diff import RunDiff, diff_runs
from aidebt_core.runs.manifest import (
    FIELD_NAMES,
    IMPORTANCE_FILES,
    IMPORTANCE_METRIC_PREFIXES,
    Manifest,
    build_manifest,
    required_fields,
)

MAX_SUBDIRS = 8


@dataclass(frozen=True)
class RunsTable:
    """The manifests of the runs read, newest first, and the required-field list used."""

    uri: str
    experiments: tuple[str, ...]
    manifests: tuple[Manifest, ...]
    required: tuple[str, ...]

    def by_id(self, run_id: str) -> Manifest:
        for manifest in self.manifests:
            if manifest.run_id == run_id or manifest.run_name == run_id:
                return manifest
        raise TrackingError(f"No run '{run_id}' among the {len(self.manifests)} runs read "
                            f"from {self.uri}.")

    def to_frame(self) -> pd.DataFrame:
        """One row per run: identity, completeness, what is missing, and a flag per field."""
        columns = ["experiment", "run_name", "run_id", "status", "start_time", "completeness",
                   "missing", "git_commit", "seed", "data_digest", "n_params", "n_metrics",
                   "model", *(f"has_{n}" for n in FIELD_NAMES)]
        rows = []
        for m in self.manifests:
            digests = ", ".join(d.digest for d in m.datasets if d.digest)
            rows.append({
                "experiment": m.experiment, "run_name": m.run_name, "run_id": m.run_id,
                "status": m.status, "start_time": m.start_time,
                "completeness": m.completeness, "missing": ", ".join(m.missing),
                "git_commit": (m.git_commit or "")[:10], "seed": m.seed or "",
                "data_digest": digests, "n_params": len(m.hyper_params),
                "n_metrics": len(m.metrics), "model": m.model_uri or "",
                **{f"has_{n}": m.present[n] for n in FIELD_NAMES}})
        frame = pd.DataFrame(rows, columns=columns)
        frame["start_time"] = pd.to_datetime(frame["start_time"], utc=True)
        return frame

    def to_dict(self) -> list[dict]:
        return [m.to_dict() for m in self.manifests]

    def summary(self) -> dict:
        values = [m.completeness for m in self.manifests]
        return jsonable({
            "runs": len(values), "complete": sum(v == 1.0 for v in values),
            "mean_completeness": sum(values) / len(values) if values else None,
            "missing_counts": {n: sum(n in m.missing for m in self.manifests)
                               for n in self.required}})


def read_runs(store: Store | str, experiments: list[str] | None = None, *,
              required: list[str] | tuple[str, ...] | None = None,
              max_runs: int | None = None, inspect_artifacts: bool = True) -> RunsTable:
    """Manifests of the runs in `experiments` (all active experiments when None)."""
    store = open_store(store) if isinstance(store, str) else store
    need = required_fields(required)
    ids = store.experiment_ids(experiments)
    runs = store.runs(sorted(ids), max_runs=max_runs)
    models = store.logged_models(sorted(ids)) if runs else {}
    manifests = []
    for run in runs:
        run_models = models.get(run.info.run_id, [])
        listing, run_listing, signature = {}, None, ()
        if inspect_artifacts:
            for model in run_models:
                listing[model.model_id] = store.list_model_artifacts(model)
            with_mlmodel = [m for m in run_models
                            if any(p == "MLmodel" for p, _ in listing[m.model_id])]
            if with_mlmodel:
                signature = _signature_inputs(store.read_model_text(with_mlmodel[0], "MLmodel"))
            if not with_mlmodel:
                run_listing = _run_listing(store, run)
                mlmodel = next((p for p, d in run_listing if p.endswith("MLmodel") and not d),
                               None)
                if mlmodel:
                    signature = _signature_inputs(store.read_run_text(run, mlmodel))
        manifest = build_manifest(
            run, ids.get(run.info.experiment_id, run.info.experiment_id), models=run_models,
            model_listing=listing, run_listing=run_listing, signature_inputs=signature,
            required=need)
        manifests.append(replace(manifest, artifact_uri=store.absolute_uri(manifest.artifact_uri)))
    return RunsTable(store.uri, tuple(sorted(ids.values())), tuple(manifests), need)


def _run_listing(store: Store, run) -> list[tuple[str, bool]]:
    """The run's top-level artifacts plus the files one folder down (where models live)."""
    top = store.list_run_artifacts(run)
    entries = list(top)
    for path, _ in [e for e in top if e[1]][:MAX_SUBDIRS]:
        entries.extend(store.list_run_artifacts(run, path))
    return entries


def _signature_inputs(mlmodel_text: str | None) -> tuple[str, ...]:
    """Input column names from an MLmodel file's signature (empty if none or unnamed)."""
    if not mlmodel_text:
        return ()
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        spec = yaml.load(mlmodel_text, Loader=loader) or {}
        inputs = json.loads((spec.get("signature") or {}).get("inputs") or "[]")
    except (yaml.YAMLError, ValueError, TypeError, AttributeError, RecursionError):
        return ()  # an MLmodel from another machine: unreadable means no names
    if isinstance(inputs, dict):  # tensor-based signature: no column names
        return ()
    return tuple(str(c["name"]) for c in inputs if isinstance(c, dict) and c.get("name"))


def feature_importances(run_or_manifest, store: Store | str | None = None
                        ) -> dict[str, float] | None:
    """Feature importances the run logged (an artifact file or `feature_importance.*`
    metrics), largest first; None when the run logged none.

    `run_or_manifest` is an MLflow `Run` or a `Manifest`. Without `store`, the artifacts are
    read from the run's local artifact folder (SQLite and file stores); remote artifact
    stores need the `store`.
    """
    if store is None:
        artifact_uri = getattr(run_or_manifest, "artifact_uri", None) or \
            run_or_manifest.info.artifact_uri
        folder = local_path(artifact_uri)
        if folder is None:
            raise TrackingError(f"Artifacts at '{artifact_uri}' are remote: pass the tracking "
                                "store to read feature importances.")
        if not folder.is_absolute():  # relative to its store's folder, which a run cannot tell
            raise TrackingError(f"Artifacts at '{artifact_uri}' are relative to the tracking "
                                "store's folder: pass the store to read feature importances.")
        read = lambda name: _read_local(folder, name)  # noqa: E731
        metrics = getattr(run_or_manifest, "metrics", None)
        if metrics is None:
            metrics = run_or_manifest.data.metrics
    else:
        store = open_store(store) if isinstance(store, str) else store
        run_id = getattr(run_or_manifest, "run_id", None) or run_or_manifest.info.run_id
        run = store.get_run(run_id)
        read = lambda name: store.read_run_text(run, name)  # noqa: E731
        metrics = run.data.metrics
    for name in IMPORTANCE_FILES:
        text = read(name)
        if text is None:
            continue
        values = _parse_importances(text, name)
        if values:
            return dict(sorted(values.items(), key=lambda kv: -abs(kv[1])))
    found = {}
    for key, value in metrics.items():
        for prefix in IMPORTANCE_METRIC_PREFIXES:
            if key.startswith(prefix):
                found[key[len(prefix):]] = float(value)
    return dict(sorted(found.items(), key=lambda kv: -abs(kv[1]))) if found else None


def _read_local(folder: Path, name: str) -> str | None:
    target = folder / name
    return target.read_text(encoding="utf-8", errors="replace") if target.is_file() else None


def _parse_importances(text: str, name: str) -> dict[str, float]:
    if name.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError:
            return {}
        if isinstance(data, dict):
            return {str(k): float(v) for k, v in data.items() if _is_number(v)}
        if isinstance(data, list):
            return {str(d.get("feature")): float(d.get("importance")) for d in data
                    if isinstance(d, dict) and _is_number(d.get("importance"))}
        return {}
    import io

    try:
        frame = pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError):
        return {}
    if frame.shape[1] < 2:
        return {}
    return {str(k): float(v) for k, v in zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=True)
            if _is_number(v)}


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)


def read_requirements(manifest: Manifest, store: Store | str) -> str | None:
    """The requirements.txt logged with the run's model (or the run), or None."""
    store = open_store(store) if isinstance(store, str) else store
    path = next((p for p in manifest.environment_files
                 if p.split("/")[-1] == "requirements.txt"), None)
    if path is None:
        return None
    if manifest.model_id:
        model = store.get_logged_model(manifest.model_id)
        return store.read_model_text(model, path)
    return store.read_run_text(store.get_run(manifest.run_id), path)


def compare_runs(table: RunsTable, a: str, b: str, store: Store | str | None = None) -> RunDiff:
    """Diff two runs of `table` (by id or name), with their requirements when readable."""
    ma, mb = table.by_id(a), table.by_id(b)
    texts: tuple[str | None, str | None] = (None, None)
    if store is not None:
        store = open_store(store) if isinstance(store, str) else store
        texts = (read_requirements(ma, store), read_requirements(mb, store))
    return diff_runs(ma, mb, texts)
