"""A run's reproducibility manifest, and how complete it is.

The manifest gathers what it takes to retrain a model and get the same one: code version
(git commit), training data snapshot (dataset digest), feature list, hyper-parameters, random
seed, evaluation metrics, the model artifact and its environment. Completeness is the share
of the required fields present; every missing field comes with the MLflow call that fixes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from aidebt_core.errors import OptionError
from aidebt_core.jsonsafe import jsonable


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    fix: str


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("git_commit", "Git commit",
              "Train from a git checkout so MLflow tags the run, or "
              "`mlflow.set_tag('mlflow.source.git.commit', sha)`"),
    FieldSpec("data_digest", "Training data snapshot (digest)",
              "`mlflow.log_input(mlflow.data.from_pandas(df, source=path), "
              "context='training')`"),
    FieldSpec("features", "Feature list",
              "Log the model with a signature: `log_model(..., signature=infer_signature(X, "
              "y))`, or `mlflow.log_param('features', ','.join(X.columns))`"),
    FieldSpec("params", "Hyper-parameters", "`mlflow.log_params(model.get_params())`"),
    FieldSpec("seed", "Random seed",
              "`mlflow.log_param('seed', seed)` and pass the seed to every random generator"),
    FieldSpec("metrics", "Evaluation metrics", "`mlflow.log_metrics({'roc_auc': auc, ...})`"),
    FieldSpec("model", "Model artifact",
              "`mlflow.sklearn.log_model(model, name='model')` (or the flavor you use)"),
    FieldSpec("environment", "Environment (requirements / conda / python_env)",
              "Log the model through an MLflow flavor (writes requirements.txt, conda.yaml, "
              "python_env.yaml) or `mlflow.log_artifact('requirements.txt')`"),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)
DEFAULT_REQUIRED = FIELD_NAMES
FIELD_BY_NAME = {f.name: f for f in FIELDS}

SEED_KEYS = ("seed", "random_seed", "random_state", "rng_seed", "numpy_seed", "torch_seed")
FEATURE_KEYS = ("features", "feature_names", "feature_list", "feature_columns", "columns")
TRAINING_END_KEYS = ("training_data_end", "train_end_date", "data_end_date", "train_end")
ENV_FILES = ("requirements.txt", "conda.yaml", "python_env.yaml", "environment.yml",
             "environment.yaml", "pyproject.toml", "uv.lock", "poetry.lock", "Pipfile.lock")
MODEL_SUFFIXES = (".pkl", ".pickle", ".joblib", ".skops", ".onnx", ".pt", ".pth", ".h5",
                  ".keras", ".cbm", ".ubj", ".bst", ".lgb", ".safetensors")
IMPORTANCE_FILES = ("feature_importances.json", "feature_importance.json",
                    "feature_importances.csv", "feature_importance.csv")
IMPORTANCE_METRIC_PREFIXES = ("feature_importance.", "importance.", "fi.")


def required_fields(names: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Validate a user's required-field list (None = all fields)."""
    if names is None:
        return DEFAULT_REQUIRED
    wanted = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    unknown = [n for n in wanted if n not in FIELD_BY_NAME]
    if unknown or not wanted:
        raise OptionError(f"Unknown manifest field(s) {', '.join(map(repr, unknown)) or '(none)'}"
                          f"; choose from {', '.join(FIELD_NAMES)}.")
    return wanted


@dataclass(frozen=True)
class DatasetRef:
    name: str
    digest: str
    context: str
    source: str

    def to_dict(self) -> dict:
        return {"name": self.name, "digest": self.digest, "context": self.context,
                "source": self.source}


@dataclass(frozen=True)
class Manifest:
    """Everything one run recorded about how it was made (read-only mappings inside)."""

    run_id: str
    run_name: str
    experiment: str
    experiment_id: str
    status: str
    start_time: datetime | None
    end_time: datetime | None
    user: str
    source_name: str
    git_commit: str | None
    git_branch: str | None
    git_repo: str | None
    git_dirty: bool | None
    datasets: tuple[DatasetRef, ...]
    features: tuple[str, ...]
    features_source: str
    params: dict[str, str]
    seed_key: str | None
    seed: str | None
    metrics: dict[str, float]
    artifact_uri: str
    model_uri: str | None
    model_id: str | None
    model_files: tuple[str, ...]
    environment_files: tuple[str, ...]
    training_data_end: str | None
    present: dict[str, bool]
    required: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(n for n in self.required if not self.present[n])

    @property
    def completeness(self) -> float:
        return sum(self.present[n] for n in self.required) / len(self.required)

    @property
    def hyper_params(self) -> dict[str, str]:
        """Params other than the seed and the feature list."""
        skip = {self.seed_key} | set(FEATURE_KEYS)
        return {k: v for k, v in self.params.items() if k not in skip}

    @property
    def label(self) -> str:
        return f"{self.experiment} / {self.run_name or self.run_id[:8]}"

    def field_value(self, name: str):
        """A short, JSON-safe value for one field (what the manifest card shows)."""
        values = {
            "git_commit": self.git_commit,
            "data_digest": [d.to_dict() for d in self.datasets if d.digest] or None,
            "features": list(self.features) or None,
            "params": self.hyper_params or None,
            "seed": self.seed,
            "metrics": self.metrics or None,
            "model": self.model_uri,
            "environment": list(self.environment_files) or None,
        }
        return values[name]

    def fields_frame(self) -> pd.DataFrame:
        """One row per field: present, required, value and how to fix a gap."""
        rows = []
        for spec in FIELDS:
            value = self.field_value(spec.name)
            rows.append({"field": spec.name, "label": spec.label,
                         "present": self.present[spec.name],
                         "required": spec.name in self.required,
                         "value": _short(value), "fix": "" if self.present[spec.name]
                         else spec.fix})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """The CLI contract's run entry, with the full field values."""
        return jsonable({
            "run_id": self.run_id, "run_name": self.run_name, "experiment": self.experiment,
            "status": self.status, "start_time": self.start_time,
            "completeness": self.completeness, "missing": list(self.missing),
            "fields": {n: {"present": self.present[n], "value": self.field_value(n)}
                       for n in FIELD_NAMES},
            "git": {"commit": self.git_commit, "branch": self.git_branch,
                    "repo": self.git_repo, "dirty": self.git_dirty},
            "datasets": [d.to_dict() for d in self.datasets],
            "artifact_uri": self.artifact_uri, "model_id": self.model_id,
            "training_data_end": self.training_data_end, "warnings": list(self.warnings),
        })


def _short(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        text = ", ".join(f"{k}={_fmt(v)}" for k, v in list(value.items())[:12])
        return text + (f", … (+{len(value) - 12})" if len(value) > 12 else "")
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return ", ".join(f"{d['name']}@{d['digest']} ({d['context']})" for d in value)
        text = ", ".join(map(str, value[:20]))
        return text + (f", … (+{len(value) - 20})" if len(value) > 20 else "")
    return str(value)


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _time(millis) -> datetime | None:
    if millis is None:
        return None
    return datetime.fromtimestamp(int(millis) / 1000, tz=UTC)


def _find_key(mapping: dict[str, str], keys: tuple[str, ...]) -> str | None:
    """The first key equal to one of `keys` or ending with `_<key>` / `__<key>` / `.<key>`."""
    lowered = {k.lower(): k for k in mapping}
    for key in keys:
        if key in lowered:
            return lowered[key]
    for key in keys:
        for low, original in sorted(lowered.items()):
            if low.endswith(("_" + key, "." + key, "/" + key)):
                return original
    return None


def _split_features(text: str) -> tuple[str, ...]:
    text = text.strip()
    if text.startswith("["):
        try:
            return tuple(str(v) for v in json.loads(text))
        except ValueError:
            pass
    return tuple(p.strip().strip("'\"") for p in text.strip("[]").split(",") if p.strip())


def build_manifest(run, experiment: str, *, models: list | None = None,
                   model_listing: dict[str, list[tuple[str, bool]]] | None = None,
                   run_listing: list[tuple[str, bool]] | None = None,
                   signature_inputs: tuple[str, ...] = (),
                   required: tuple[str, ...] = DEFAULT_REQUIRED) -> Manifest:
    """The manifest of one MLflow run, from the run and what its artifacts hold.

    `models` are the run's MLflow 3 logged models, `model_listing` their top-level artifact
    files by model id, `run_listing` the run's own top-level (and model/) artifact files,
    `signature_inputs` the input column names of the model signature, if one was read.
    """
    info, data = run.info, run.data
    tags, params = dict(data.tags), dict(data.params)
    metrics = {k: float(v) for k, v in data.metrics.items()}
    commit = tags.get("mlflow.source.git.commit") or None
    dirty_text = tags.get("mlflow.source.git.dirty")
    dirty = None if dirty_text is None else dirty_text.strip().lower() in ("true", "1", "yes")
    datasets = tuple(
        DatasetRef(name=d.dataset.name, digest=d.dataset.digest or "",
                   context=next((t.value for t in d.tags if t.key == "mlflow.data.context"), ""),
                   source=_source_uri(d.dataset.source))
        for d in (run.inputs.dataset_inputs if run.inputs else []))
    seed_key = _find_key(params, SEED_KEYS) or _find_key(
        {k: v for k, v in tags.items() if not k.startswith("mlflow.")}, SEED_KEYS)
    seed = params.get(seed_key, tags.get(seed_key)) if seed_key else None
    if seed is not None and seed.strip().lower() in ("", "none", "null"):
        seed = None
    feature_key = _find_key(params, FEATURE_KEYS)
    if signature_inputs:
        features, features_source = tuple(signature_inputs), "model signature"
    elif feature_key:
        features, features_source = _split_features(params[feature_key]), f"param {feature_key}"
    else:
        features, features_source = (), ""
    if not features:
        features_from_file = [p for p, _ in (run_listing or []) if p.split("/")[-1] in
                              ("features.json", "feature_names.json", "features.txt")]
        if features_from_file:
            features_source = f"artifact {features_from_file[0]}"

    model, model_files, env_files, model_uri = None, (), (), None
    for candidate in models or []:
        files = tuple(p for p, is_dir in (model_listing or {}).get(candidate.model_id, [])
                      if not is_dir)
        if model is None or ("MLmodel" in files and "MLmodel" not in model_files):
            model, model_files = candidate, files
    if model is not None:
        model_uri = model.model_uri or f"models:/{model.model_id}"
        env_files = tuple(f for f in model_files if f.split("/")[-1] in ENV_FILES)
    listing = [p for p, is_dir in (run_listing or []) if not is_dir]
    if model is None:
        mlmodels = [p for p in listing if p.split("/")[-1] == "MLmodel"]
        blobs = [p for p in listing if p.lower().endswith(MODEL_SUFFIXES)]
        chosen = (mlmodels or blobs or [None])[0]
        if chosen is not None:
            folder = chosen.rsplit("/", 1)[0] if "/" in chosen else ""
            model_uri = f"runs:/{info.run_id}/{folder or chosen}"
            model_files = tuple(p for p in listing if p.startswith(folder + "/") or not folder)
    env_files = env_files or tuple(p for p in listing if p.split("/")[-1] in ENV_FILES)

    training_end = None
    for source in (tags, params):
        key = _find_key(source, TRAINING_END_KEYS)
        if key:
            training_end = source[key]
            break
    hyper = {k: v for k, v in params.items() if k not in {seed_key, feature_key}}
    present = {
        "git_commit": bool(commit),
        "data_digest": any(d.digest for d in datasets),
        "features": bool(features) or features_source.startswith("artifact"),
        "params": bool(hyper),
        "seed": seed is not None,
        "metrics": bool(metrics),
        "model": model_uri is not None,
        "environment": bool(env_files),
    }
    warnings = []
    if dirty:
        warnings.append("The git working tree was dirty: the commit does not pin the code.")
    if info.status not in ("FINISHED", "RUNNING"):
        warnings.append(f"Run status is {info.status}.")
    if datasets and not any(d.context == "training" for d in datasets):
        warnings.append("No dataset input has context 'training'.")
    return Manifest(
        run_id=info.run_id, run_name=info.run_name or tags.get("mlflow.runName", ""),
        experiment=experiment, experiment_id=info.experiment_id, status=info.status,
        start_time=_time(info.start_time), end_time=_time(info.end_time),
        user=tags.get("mlflow.user", info.user_id or ""),
        source_name=tags.get("mlflow.source.name", ""), git_commit=commit,
        git_branch=tags.get("mlflow.source.git.branch"),
        git_repo=tags.get("mlflow.source.git.repoURL"), git_dirty=dirty, datasets=datasets,
        features=features, features_source=features_source, params=params, seed_key=seed_key,
        seed=seed, metrics=metrics, artifact_uri=info.artifact_uri, model_uri=model_uri,
        model_id=model.model_id if model is not None else None, model_files=model_files,
        environment_files=env_files, training_data_end=training_end, present=present,
        required=required, warnings=tuple(warnings))


def _source_uri(source: str) -> str:
    try:
        parsed = json.loads(source)
    except (TypeError, ValueError):
        return str(source or "")
    if isinstance(parsed, dict):
        return str(parsed.get("uri") or parsed.get("url") or parsed.get("path") or source)
    return str(source)
