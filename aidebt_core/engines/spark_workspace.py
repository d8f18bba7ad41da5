"""Spark sources a workspace offers in the dashboard: the file `aidebt-spark.yaml` in the
workspace folder, written by whoever runs the server, never by a page or a link.

    # Spark sources the dashboard lists for this workspace (aidebt serve)
    remote: sc://spark-connect.internal:15002   # or master: local[2]; else SPARK_REMOTE
    sources:
      - spark:parquet:exports/applications_2024   # a relative path is under this folder
      - spark:main.credit.applications_2025

The sidebar lists these sources beside the files; a link can pick one of them and nothing
else (aidebt_app/context.py checks a link's value against the listing), and opening a
`spark:` spec that this file does not list is refused, so what Spark reads, and which server
reads it, is decided on the server.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from aidebt_core.engines.spark import (
    PATH_FORMATS,
    SparkOptions,
    SparkSpec,
    is_spark_spec,
    parse_spark_spec,
)
from aidebt_core.errors import DataSourceError, SandboxError

SPARK_FILE = "aidebt-spark.yaml"
_KEYS = ("remote", "master", "sources")


@dataclass(frozen=True)
class WorkspaceSpark:
    """What a workspace's aidebt-spark.yaml says (no sources when there is no file)."""

    folder: Path
    sources: tuple[str, ...] = ()
    remote: str | None = None
    master: str | None = None

    def options(self) -> SparkOptions:
        """The file's server, else the server process's SPARK_REMOTE."""
        return SparkOptions.resolve(self.remote, self.master)

    def spec(self, source: str) -> SparkSpec:
        """A listed source as Spark reads it: a relative path is under the workspace."""
        parsed = parse_spark_spec(source)
        location = parsed.location
        if parsed.format in PATH_FORMATS:
            raw = str(source).strip().split(":", 2)[2].strip()
            if not ("://" in raw or raw.startswith("file:") or Path(raw).expanduser()
                    .is_absolute()):
                location = str(self.folder / raw)
        return SparkSpec(parsed.format, location)


def read_workspace_spark(folder: str | Path) -> WorkspaceSpark:
    """The workspace's Spark sources; a malformed file is one error naming it."""
    from aidebt_core.safeload import load_document

    folder = Path(folder)
    path = folder / SPARK_FILE
    if not path.is_file():
        return WorkspaceSpark(folder)
    document = load_document(path)
    if document is None:
        return WorkspaceSpark(folder)
    if not isinstance(document, dict):
        raise DataSourceError(f"{path}: expected keys {', '.join(_KEYS)}.")
    unknown = [str(k) for k in document if k not in _KEYS]
    if unknown:
        raise DataSourceError(f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; "
                              f"known: {', '.join(_KEYS)}.")
    sources = document.get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise DataSourceError(f"{path}: 'sources' must be a list of spark:... specs.")
    for source in sources:
        if not is_spark_spec(source):
            raise DataSourceError(f"{path}: {source!r} is not a spark:... source.")
        try:
            parse_spark_spec(source)
        except DataSourceError as exc:
            raise DataSourceError(f"{path}: {exc}") from None
    text = {k: document.get(k) for k in ("remote", "master")}
    if not all(v is None or isinstance(v, str) for v in text.values()):
        raise DataSourceError(f"{path}: 'remote' and 'master' are URLs (text).")
    return WorkspaceSpark(folder, tuple(dict.fromkeys(s.strip() for s in sources)),
                          text["remote"], text["master"])


def open_workspace_spark(con, workspace, source: str):
    """`source` opened in Spark as a SparkTable, when the workspace's file lists it."""
    from aidebt_core.engines.spark_table import open_spark_table

    config = read_workspace_spark(workspace.folder)
    if str(source).strip() not in config.sources:
        raise SandboxError(f"'{source}' is not a Spark source of the workspace "
                           f"{workspace.folder}: the dashboard reads only the spark: sources "
                           f"listed in its {SPARK_FILE}.")
    table = open_spark_table(con, config.spec(source), config.options())
    return replace(table, label=str(source).strip())  # named as the sidebar lists it
