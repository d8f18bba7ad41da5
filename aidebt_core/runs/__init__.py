"""Reproducibility from MLflow: run manifests, completeness, run diffs, staleness, lineage."""

from aidebt_core.runs.client import Store, open_store, resolve_tracking_uri
from aidebt_core.runs.diff import DiffRow, RunDiff, diff_runs
from aidebt_core.runs.lineage import Lineage, ModelReproducibility, lineage, model_reproducibility
from aidebt_core.runs.manifest import (
    DEFAULT_REQUIRED,
    FIELD_BY_NAME,
    FIELD_NAMES,
    FIELDS,
    DatasetRef,
    Manifest,
    build_manifest,
    required_fields,
)
from aidebt_core.runs.reader import (
    RunsTable,
    compare_runs,
    feature_importances,
    read_requirements,
    read_runs,
)
from aidebt_core.runs.registry import ModelVersionInfo, RegisteredModelInfo, Registry, read_registry
from aidebt_core.runs.staleness import (
    ModelStaleness,
    StalenessReport,
    latest_activity,
    staleness,
)

__all__ = [
    "DEFAULT_REQUIRED", "FIELDS", "FIELD_BY_NAME", "FIELD_NAMES", "DatasetRef", "DiffRow",
    "Lineage", "Manifest", "ModelReproducibility", "ModelStaleness", "ModelVersionInfo",
    "RegisteredModelInfo", "Registry", "RunDiff", "RunsTable", "StalenessReport", "Store",
    "build_manifest", "compare_runs", "diff_runs", "feature_importances", "lineage",
    "model_reproducibility", "open_store", "read_registry", "read_requirements", "read_runs",
    "required_fields", "resolve_tracking_uri", "staleness", "latest_activity",
]
