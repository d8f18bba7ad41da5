"""The model registry: registered models, their versions, aliases and source runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from aidebt_core.errors import TrackingError
from aidebt_core.jsonsafe import jsonable
from aidebt_core.runs.client import Store, open_store


@dataclass(frozen=True)
class ModelVersionInfo:
    model: str
    version: int
    run_id: str | None
    source: str
    status: str
    created: datetime | None
    aliases: tuple[str, ...]
    model_id: str | None

    def to_dict(self) -> dict:
        return jsonable(self.__dict__)


@dataclass(frozen=True)
class RegisteredModelInfo:
    name: str
    description: str
    versions: tuple[ModelVersionInfo, ...]       # newest version first
    aliases: tuple[tuple[str, int], ...]         # (alias, version), sorted by alias

    def version_for(self, alias: str) -> ModelVersionInfo | None:
        number = dict(self.aliases).get(alias)
        return next((v for v in self.versions if v.version == number), None)

    @property
    def latest(self) -> ModelVersionInfo | None:
        return self.versions[0] if self.versions else None

    def to_dict(self) -> dict:
        return jsonable({"name": self.name, "description": self.description,
                         "aliases": dict(self.aliases),
                         "versions": [v.to_dict() for v in self.versions]})


@dataclass(frozen=True)
class Registry:
    uri: str
    models: tuple[RegisteredModelInfo, ...]

    def get(self, name: str) -> RegisteredModelInfo:
        for model in self.models:
            if model.name == name:
                return model
        known = ", ".join(m.name for m in self.models) or "none"
        raise TrackingError(f"No registered model '{name}' in {self.uri} (registered: {known}).")

    def resolve(self, name: str, alias: str) -> ModelVersionInfo:
        """The version an alias points at (`models:/name@alias`)."""
        version = self.get(name).version_for(alias)
        if version is None:
            raise TrackingError(f"Registered model '{name}' has no alias '{alias}'.")
        return version

    def aliases_in_use(self) -> tuple[str, ...]:
        """Every alias any registered model carries, sorted."""
        return tuple(sorted({alias for m in self.models for alias, _ in m.aliases}))

    def require_alias(self, alias: str) -> None:
        """Refuse an alias no registered model carries (a typo would otherwise be judged on
        each model's latest version), naming the aliases that exist."""
        if alias not in self.aliases_in_use():
            known = ", ".join(self.aliases_in_use()) or "none"
            raise TrackingError(f"No registered model in {self.uri} has the alias '{alias}' "
                                f"(aliases in use: {known}).")

    def to_frame(self) -> pd.DataFrame:
        rows = [{"model": v.model, "version": v.version, "aliases": ", ".join(v.aliases),
                 "run_id": v.run_id or "", "status": v.status, "created": v.created,
                 "source": v.source} for m in self.models for v in m.versions]
        return pd.DataFrame(rows, columns=["model", "version", "aliases", "run_id", "status",
                                           "created", "source"])

    def to_dict(self) -> list[dict]:
        return [m.to_dict() for m in self.models]


def read_registry(store: Store | str) -> Registry:
    """Every registered model with its versions and aliases (two paged queries in all)."""
    store = open_store(store) if isinstance(store, str) else store
    models = store.registered_models()
    versions: dict[str, list] = {}
    for version in store.model_versions():
        versions.setdefault(version.name, []).append(version)
    result = []
    for model in sorted(models, key=lambda m: m.name):
        aliases = _aliases(model)
        by_version: dict[int, list[str]] = {}
        for alias, number in aliases:
            by_version.setdefault(number, []).append(alias)
        infos = tuple(
            ModelVersionInfo(
                model=model.name, version=int(v.version), run_id=v.run_id or None,
                source=v.source or "", status=str(v.status or ""),
                created=_time(v.creation_timestamp),
                aliases=tuple(sorted(by_version.get(int(v.version), []))),
                model_id=getattr(v, "model_id", None))
            for v in sorted(versions.get(model.name, []), key=lambda v: -int(v.version)))
        result.append(RegisteredModelInfo(model.name, model.description or "", infos, aliases))
    return Registry(store.uri, tuple(result))


def _aliases(model) -> tuple[tuple[str, int], ...]:
    raw = getattr(model, "aliases", None) or {}
    if isinstance(raw, dict):
        pairs = raw.items()
    else:  # older clients: a list of RegisteredModelAlias(alias, version)
        pairs = ((a.alias, a.version) for a in raw)
    return tuple(sorted((str(a), int(v)) for a, v in pairs))


def _time(millis) -> datetime | None:
    return None if millis is None else datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
