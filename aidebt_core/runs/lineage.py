"""Lineage: registered model → version (and aliases) → source run → data digests, and a
per-model summary of the aliased run's reproducibility that the audit pre-fills from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from aidebt_core.errors import TrackingError
from aidebt_core.jsonsafe import jsonable
from aidebt_core.runs.client import Store, open_store
from aidebt_core.runs.reader import RunsTable, read_runs
from aidebt_core.runs.registry import Registry, read_registry
from aidebt_core.runs.staleness import (
    DEFAULT_AGE_BUDGET_DAYS,
    DEFAULT_DATA_BUDGET_DAYS,
    ModelStaleness,
    staleness,
)


@dataclass(frozen=True)
class LineageEdge:
    model: str
    version: int
    aliases: tuple[str, ...]
    run_id: str | None
    run_name: str
    experiment: str
    completeness: float | None
    dataset: str
    digest: str
    context: str


@dataclass(frozen=True)
class Lineage:
    edges: tuple[LineageEdge, ...]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{**e.__dict__, "aliases": ", ".join(e.aliases)} for e in self.edges],
                            columns=list(LineageEdge.__dataclass_fields__))

    def to_dict(self) -> list[dict]:
        return [jsonable(e.__dict__) for e in self.edges]


def lineage(registry: Registry, runs: RunsTable) -> Lineage:
    """One edge per (model version, dataset input); a version whose run logged no dataset
    gets one edge with an empty digest, so the gap shows."""
    by_id = {m.run_id: m for m in runs.manifests}
    edges = []
    for model in registry.models:
        for version in model.versions:
            manifest = by_id.get(version.run_id or "")
            common = {"model": model.name, "version": version.version,
                      "aliases": version.aliases, "run_id": version.run_id,
                      "run_name": manifest.run_name if manifest else "",
                      "experiment": manifest.experiment if manifest else "",
                      "completeness": manifest.completeness if manifest else None}
            datasets = manifest.datasets if manifest else ()
            if not datasets:
                edges.append(LineageEdge(**common, dataset="", digest="", context=""))
            for d in datasets:
                edges.append(LineageEdge(**common, dataset=d.name, digest=d.digest,
                                         context=d.context))
    return Lineage(tuple(edges))


@dataclass(frozen=True)
class ModelReproducibility:
    """What the audit needs per registered model: the aliased run's manifest and staleness."""

    model: str
    alias: str
    version: int | None
    run_id: str | None
    run_name: str
    completeness: float | None
    missing: tuple[str, ...]
    present: dict[str, bool]
    staleness: ModelStaleness

    def to_dict(self) -> dict:
        return jsonable({"model": self.model, "alias": self.alias, "version": self.version,
                         "run_id": self.run_id, "run_name": self.run_name,
                         "completeness": self.completeness, "missing": list(self.missing),
                         "present": self.present, "staleness": self.staleness.to_dict()})


def model_reproducibility(store: Store | str | None, *, alias: str = "production",
                          required: list[str] | tuple[str, ...] | None = None,
                          now: datetime | None = None,
                          age_budget_days: float = DEFAULT_AGE_BUDGET_DAYS,
                          data_budget_days: float = DEFAULT_DATA_BUDGET_DAYS,
                          runs: RunsTable | None = None,
                          registry: Registry | None = None
                          ) -> tuple[ModelReproducibility, ...]:
    """Per registered model, the completeness and gaps of the run behind `alias` (else the
    latest version), with its staleness. `store` may be None when `runs` and `registry`
    were read already."""
    if runs is None or registry is None:
        if store is None:
            raise TrackingError("model_reproducibility needs a store or the runs and registry.")
        store = open_store(store) if isinstance(store, str) else store
        runs = runs or read_runs(store, required=required)
        registry = registry or read_registry(store)
    stale = staleness(registry, runs, alias=alias, now=now, age_budget_days=age_budget_days,
                      data_budget_days=data_budget_days)
    by_id = {m.run_id: m for m in runs.manifests}
    result = []
    for item in stale.models:
        manifest = by_id.get(item.run_id or "")
        result.append(ModelReproducibility(
            model=item.model, alias=alias, version=item.version, run_id=item.run_id,
            run_name=item.run_name,
            completeness=manifest.completeness if manifest else None,
            missing=manifest.missing if manifest else tuple(runs.required),
            present=dict(manifest.present) if manifest else {}, staleness=item))
    return tuple(result)
