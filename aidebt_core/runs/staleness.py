"""How stale each registered model is: age of the aliased version, age of its training data,
and how many newer runs of the same experiment have been made since it was trained."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from aidebt_core.jsonsafe import jsonable
from aidebt_core.runs.manifest import Manifest
from aidebt_core.runs.reader import RunsTable
from aidebt_core.runs.registry import Registry

DEFAULT_AGE_BUDGET_DAYS = 180
DEFAULT_DATA_BUDGET_DAYS = 365


@dataclass(frozen=True)
class ModelStaleness:
    model: str
    alias: str
    version: int | None
    run_id: str | None
    run_name: str
    trained_at: datetime | None
    age_days: float | None
    version_created: datetime | None
    training_data_end: str | None
    data_age_days: float | None
    newer_runs: tuple[str, ...]
    age_budget_days: float
    data_budget_days: float
    note: str = ""

    @property
    def over_age_budget(self) -> bool:
        return self.age_days is not None and self.age_days > self.age_budget_days

    @property
    def over_data_budget(self) -> bool:
        return self.data_age_days is not None and self.data_age_days > self.data_budget_days

    @property
    def stale(self) -> bool:
        return self.over_age_budget or self.over_data_budget or self.version is None

    def to_dict(self) -> dict:
        return jsonable({**self.__dict__, "newer_run_count": len(self.newer_runs),
                         "over_age_budget": self.over_age_budget,
                         "over_data_budget": self.over_data_budget, "stale": self.stale})


@dataclass(frozen=True)
class StalenessReport:
    now: datetime                    # the date every age is measured to (see `basis`)
    models: tuple[ModelStaleness, ...]
    basis: str = "given"             # what `now` is: "given", or "today" when none was given
    unknown_alias: str | None = None  # set when no registered model carries the alias
    aliases_in_use: tuple[str, ...] = ()

    def get(self, model: str) -> ModelStaleness:
        return next(m for m in self.models if m.model == model)

    def to_frame(self) -> pd.DataFrame:
        rows = [{"model": m.model, "alias": m.alias, "version": m.version,
                 "run_name": m.run_name, "trained_at": m.trained_at, "age_days": m.age_days,
                 "age_budget_days": m.age_budget_days, "training_data_end": m.training_data_end,
                 "data_age_days": m.data_age_days, "newer_runs": len(m.newer_runs),
                 "stale": m.stale, "note": m.note} for m in self.models]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return jsonable({"now": self.now, "basis": self.basis,
                         "unknown_alias": self.unknown_alias,
                         "models": [m.to_dict() for m in self.models]})


def staleness(registry: Registry, runs: RunsTable, *, alias: str = "production",
              now: datetime | None = None, age_budget_days: float = DEFAULT_AGE_BUDGET_DAYS,
              data_budget_days: float = DEFAULT_DATA_BUDGET_DAYS) -> StalenessReport:
    """Per registered model, the version behind `alias` judged against an age budget (days
    since training) and a data budget (days since the training data ended), measured to `now`
    (a stated reference date: e.g. the end of the data being scored; today when None).

    A model without the alias is judged on its latest version, with a note, when other
    models carry the alias; when NO model carries it (a typo, "nosuchalias") nothing is
    judged: each model gets a note and the report names the alias in `unknown_alias`."""
    basis = "given" if now is not None else "today"
    now = now or datetime.now(UTC)
    by_id = {m.run_id: m for m in runs.manifests}
    in_use = tuple(registry.aliases_in_use())
    unknown = alias not in in_use and bool(registry.models)
    results = []
    for model in registry.models:
        version = model.version_for(alias)
        note = ""
        if not model.versions:
            note = "no versions"
        elif unknown:
            note = f"no registered model has the '{alias}' alias; not judged"
        elif version is None:
            version = model.latest
            note = f"no '{alias}' alias; judged on the latest version" if version else \
                "no versions"
        manifest = by_id.get(version.run_id) if version and version.run_id else None
        if version is not None and manifest is None:
            note = "; ".join(p for p in (note, "source run not among the runs read") if p)
        trained = manifest.start_time if manifest else None
        data_end = _date(manifest.training_data_end) if manifest else None
        results.append(ModelStaleness(
            model=model.name, alias=alias, version=version.version if version else None,
            run_id=version.run_id if version else None,
            run_name=manifest.run_name if manifest else "", trained_at=trained,
            age_days=_days(now, trained), version_created=version.created if version else None,
            training_data_end=manifest.training_data_end if manifest else None,
            data_age_days=_days(now, data_end),
            newer_runs=_newer(manifest, runs.manifests), age_budget_days=age_budget_days,
            data_budget_days=data_budget_days, note=note))
    return StalenessReport(now, tuple(results), basis, alias if unknown else None, in_use)


def latest_activity(runs: RunsTable) -> datetime | None:
    """The newest time a run in the store records (its start or end): a reference date in
    the store's own time frame, for stores whose runs are not recent (a sample, an archive).
    Registry versions are left out: their creation time is when they were registered, which
    for a generated or migrated store is today."""
    times = [t for m in runs.manifests for t in (m.start_time, m.end_time) if t is not None]
    return max(times, default=None)


def _newer(manifest: Manifest | None, manifests: tuple[Manifest, ...]) -> tuple[str, ...]:
    if manifest is None or manifest.start_time is None:
        return ()
    return tuple(m.run_name or m.run_id for m in sorted(
        (m for m in manifests if m.experiment_id == manifest.experiment_id
         and m.start_time is not None and m.start_time > manifest.start_time),
        key=lambda m: m.start_time))


def _days(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else (now - then).total_seconds() / 86_400


def _date(text: str | None) -> datetime | None:
    """A logged end date (e.g. '2025-06-30') as the end of that day, UTC; None if unreadable."""
    if not text:
        return None
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    if stamp == stamp.normalize():
        stamp = stamp + pd.Timedelta(days=1)
    return stamp.to_pydatetime()
