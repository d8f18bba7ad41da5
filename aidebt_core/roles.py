"""Column roles a user gives: the workspace roles file, role flags, and what results report.

Precedence is decided here and nowhere else: flags (or the dashboard's URL) > the roles file
`aidebt.yaml` in the workspace > inference (aidebt_core.schema). The file format:

    default: loans.parquet            # data set the dashboard opens first (optional)
    datasets:
      loans.parquet:                  # a source spec as the sidebar lists it
        timestamp: timestamp          # optional
        reference_end: 2019-04-01     # optional, date or full timestamp
        roles: {repaid: target, y_pred_proba: score, id: id, notes: ignore}

Every data result reports the roles it used (`roles_payload`) and the columns it left out with
the reason (`excluded_columns`), so nothing is dropped silently.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType

import yaml

from aidebt_core.errors import AidebtError, SchemaError
from aidebt_core.safeload import load_document
from aidebt_core.schema import ROLES, Schema

ROLES_FILE = "aidebt.yaml"
# The names users write (CLI_CONTRACT.md); the schema's feature kinds are accepted as well.
CONTRACT_ROLES = ("feature", "target", "prediction", "score", "timestamp", "id", "ignore")
ACCEPTED_ROLES = tuple(dict.fromkeys((*CONTRACT_ROLES, *ROLES)))
_DATASET_KEYS = ("timestamp", "reference_end", "roles")
_TOP_KEYS = ("default", "datasets")


@dataclass(frozen=True)
class DatasetDefaults:
    """What the roles file says about one data set (all empty for a data set it does not list)."""

    roles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    timestamp: str | None = None
    reference_end: str | None = None


@dataclass(frozen=True)
class RolesFile:
    """The workspace roles file as read (empty when there is none)."""

    path: Path | None = None
    default: str | None = None
    datasets: Mapping[str, DatasetDefaults] = field(
        default_factory=lambda: MappingProxyType({}))

    def dataset(self, spec: str) -> DatasetDefaults:
        return self.datasets.get(str(spec), DatasetDefaults())


def read_roles_file(folder: str | Path) -> RolesFile:
    """`folder/aidebt.yaml`, validated; a missing file is an empty RolesFile."""
    path = Path(folder).expanduser() / ROLES_FILE
    if not path.is_file():
        return RolesFile()
    document = load_document(path)
    data = _check_document(document, path)
    datasets = {name: _dataset(entry, path, name)
                for name, entry in (data.get("datasets") or {}).items()}
    default = data.get("default")
    return RolesFile(path=path, default=None if default is None else str(default),
                     datasets=MappingProxyType(datasets))


def write_dataset_roles(folder: str | Path, dataset: str, roles: Mapping[str, str]) -> Path:
    """Set one data set's `roles` in `folder/aidebt.yaml`, keeping everything else in the file.

    The file is written to a temporary file next to it and renamed over it, so a reader never
    sees half a file. YAML comments in an existing file are not kept.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise AidebtError(f"Cannot save roles: '{folder}' is not a folder.")
    path = folder / ROLES_FILE
    clean = {str(column): normalise_role(role, f"{path.name}: data set '{dataset}', column "
                                         f"'{column}'") for column, role in roles.items()}
    document: dict = {}
    if path.is_file():
        document = dict(_check_document(load_document(path), path))
    datasets = dict(document.get("datasets") or {})
    entry = dict(datasets.get(str(dataset)) or {})
    entry["roles"] = clean
    datasets[str(dataset)] = entry
    document["datasets"] = datasets
    text = yaml.safe_dump(_plain(document), sort_keys=False, allow_unicode=True)
    handle, temp = tempfile.mkstemp(prefix=".aidebt-roles-", suffix=".yaml", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise AidebtError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    return path


def normalise_role(role: object, where: str) -> str:
    """A role name as written by a user, checked; `where` says which file/flag it came from."""
    text = str(role).strip().lower() if isinstance(role, str) else ""
    if text not in ACCEPTED_ROLES:
        raise SchemaError(f"{where}: unknown role {role!r}. Roles: "
                          f"{', '.join(CONTRACT_ROLES)} (or numeric, categorical, boolean).")
    return text


def parse_role_options(pairs: Sequence[str]) -> dict[str, str]:
    """`--role COL=ROLE` values -> {COL: ROLE}; the last one wins for a repeated column."""
    out = {}
    for pair in pairs or ():
        column, sep, role = str(pair).rpartition("=")
        if not sep or not column.strip():
            raise SchemaError(f"--role '{pair}' is not COLUMN=ROLE (e.g. --role repaid=target).")
        out[column.strip()] = normalise_role(role, f"--role '{pair}'")
    return out


def flag_roles(target: str | None = None, prediction: str | None = None,
               score: str | None = None, timestamp: str | None = None,
               id_column: str | None = None, role_options: Sequence[str] = ()) -> dict[str, str]:
    """The roles given on the command line: the named flags, then `--role COL=ROLE` pairs
    (a pair naming the same column as a flag must agree with it)."""
    named = {}
    for role, column in (("target", target), ("prediction", prediction), ("score", score),
                         ("timestamp", timestamp), ("id", id_column)):
        if column:
            if column in named and named[column] != role:
                raise SchemaError(f"Column '{column}' is given as --{named[column]} and "
                                  f"--{role}; a column has one role.")
            named[column] = role
    pairs = parse_role_options(role_options)
    for column, role in pairs.items():
        if column in named and named[column] != role:
            raise SchemaError(f"--role {column}={role} contradicts --{named[column]} "
                              f"{column}.")
    return {**pairs, **named}


def resolve_schema(inferred: Schema, file_roles: Mapping[str, str] | None = None,
                   flags: Mapping[str, str] | None = None, file_label: str = ROLES_FILE
                   ) -> Schema:
    """The one place roles are decided: inference, overridden by the roles file, overridden by
    flags. Unknown columns, unknown roles and roles a column's type cannot hold are refused
    with a message that says where they came from."""
    schema = inferred
    for given, source in ((file_roles, file_label), (flags, "command-line flags")):
        if given:
            schema = schema.with_roles(given, source=source)
    return schema


# ------------------------------------------------------------------ what results report

def roles_payload(schema: Schema) -> dict:
    """The contract's `"roles"` object: the roles an analysis used."""
    return {"target": schema.first("target"), "prediction": schema.first("prediction"),
            "score": schema.first("score"), "timestamp": schema.first("timestamp"),
            "id": schema.with_role("id"), "features": schema.features}


def exclusion_reason(schema: Schema, column: str) -> str:
    """Why a column of this role is not analysed as a feature."""
    col = schema[column]
    if col.nested:
        return f"nested type {col.dtype}"
    if col.role == "timestamp" and column != schema.first("timestamp"):
        return "time column (not the time axis)"
    return {
        "id": "id",
        "timestamp": "time axis",
        "target": "target",
        "prediction": "model output: prediction",
        "score": "model output: score",
        "ignore": "role ignore",
    }.get(col.role, "not selected")


def excluded_columns(schema: Schema, used: Iterable[str],
                     reasons: Mapping[str, str] | None = None,
                     also: Iterable[str] = ()) -> list[dict]:
    """`[{"column", "reason"}]` for every column of `schema` (plus `also`, e.g. columns present
    in one data set only) that the analysis did not use. `reasons` gives a reason for some
    columns (e.g. "--exclude", "only in reference"); the rest get their role's reason."""
    used_set = set(used)
    reasons = dict(reasons or {})
    names = list(dict.fromkeys([*schema.names, *also]))
    out = []
    for name in names:
        if name in used_set:
            continue
        reason = reasons.get(name) or (exclusion_reason(schema, name) if name in schema.names
                                       else "not analysed")
        out.append({"column": name, "reason": reason})
    return out


def excluded_line(excluded: Sequence[Mapping[str, str]]) -> str:
    """The human form: `excluded: id (id), repaid (target), ...`."""
    if not excluded:
        return "excluded: none"
    return "excluded: " + ", ".join(f"{e['column']} ({e['reason']})" for e in excluded)


# ------------------------------------------------------------------ file validation

def _check_document(document, path: Path) -> Mapping:
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise AidebtError(f"{path}: expected a mapping with 'default' and 'datasets', found "
                          f"{type(document).__name__}.")
    unknown = [str(k) for k in document if k not in _TOP_KEYS]
    if unknown:
        raise AidebtError(f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; known: "
                          f"{', '.join(_TOP_KEYS)}.")
    datasets = document.get("datasets")
    if datasets is not None and not isinstance(datasets, Mapping):
        raise AidebtError(f"{path}: 'datasets' must map data set names to their settings.")
    default = document.get("default")
    if default is not None and not isinstance(default, str):
        raise AidebtError(f"{path}: 'default' must be a data set name.")
    return document


def _dataset(entry, path: Path, name) -> DatasetDefaults:
    where = f"{path.name}: data set '{name}'"
    if entry is None:
        return DatasetDefaults()
    if not isinstance(entry, Mapping):
        raise AidebtError(f"{where} must be a mapping with {', '.join(_DATASET_KEYS)}.")
    unknown = [str(k) for k in entry if k not in _DATASET_KEYS]
    if unknown:
        raise AidebtError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; known: "
                          f"{', '.join(_DATASET_KEYS)}.")
    roles = entry.get("roles") or {}
    if not isinstance(roles, Mapping):
        raise AidebtError(f"{where}: 'roles' must map column names to roles.")
    clean = {str(column): normalise_role(role, f"{where}, column '{column}'")
             for column, role in roles.items()}
    timestamp = entry.get("timestamp")
    if timestamp is not None and not isinstance(timestamp, str):
        raise AidebtError(f"{where}: 'timestamp' must be a column name.")
    return DatasetDefaults(roles=MappingProxyType(clean), timestamp=timestamp,
                           reference_end=_text_time(entry.get("reference_end"), where))


def _text_time(value, where: str) -> str | None:
    """YAML reads an unquoted 2019-04-01 as a date: keep it as the text a user typed."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str | int):
        return str(value)
    raise AidebtError(f"{where}: 'reference_end' must be a date or a timestamp.")


def _plain(value):
    """Plain dicts/lists/strings for yaml.safe_dump (dates stay dates, as they were read)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


__all__ = ["ACCEPTED_ROLES", "CONTRACT_ROLES", "ROLES_FILE", "DatasetDefaults", "RolesFile",
           "excluded_columns", "excluded_line", "exclusion_reason", "flag_roles",
           "normalise_role", "parse_role_options", "read_roles_file", "resolve_schema",
           "roles_payload", "write_dataset_roles"]
