"""What the user picked: workspace, reference and current data, roles and MLflow store.

A `Selection` is small, frozen and hashable, so the dashboard can cache results keyed on it,
share it through URL query params, and the CLI can build the same thing from arguments.
`Selection.open()` turns it into DuckDB tables inside a sandboxed connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb

from aidebt_core.data import Table, connect, open_table, split_on_timestamp
from aidebt_core.errors import AidebtError
from aidebt_core.schema import Schema, infer_schema
from aidebt_core.workspace import Workspace, default_sample_dir

SPLIT, FILES = "split", "files"
SAMPLE_SOURCE, SAMPLE_TIMESTAMP = "applications.parquet", "applied_at"
SAMPLE_SPLIT_AT = "2025-07-01"
# Query-param names: short, stable, and the only state a shared link carries.
_PARAMS = {"workspace": "ws", "mode": "mode", "source": "src", "split_column": "ts",
           "split_at": "at", "reference": "ref", "current": "cur", "tracking_uri": "mlflow"}


def sqlite_tracking_uri(folder: Path) -> str:
    return f"sqlite:///{(folder / 'mlflow.db').as_posix()}"


@dataclass(frozen=True)
class Selection:
    """Reference and current data: one source split on a timestamp, or two sources."""

    workspace: str
    mode: str = SPLIT
    source: str = ""
    split_column: str = ""
    split_at: str = ""
    reference: str = ""
    current: str = ""
    tracking_uri: str = ""
    roles: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.mode not in (SPLIT, FILES):
            raise AidebtError(f"Unknown data mode '{self.mode}': use '{SPLIT}' or '{FILES}'.")

    @property
    def role_overrides(self) -> dict[str, str]:
        return dict(self.roles)

    def with_roles(self, overrides: Mapping[str, str]) -> Selection:
        return replace(self, roles=tuple(sorted(overrides.items())))

    @property
    def sources(self) -> tuple[str, ...]:
        """The data specs this selection reads."""
        return (self.source,) if self.mode == SPLIT else (self.reference, self.current)

    def describe(self) -> str:
        if self.mode == SPLIT:
            return f"{self.source} split on {self.split_column} at {self.split_at}"
        return f"{self.reference} vs {self.current}"

    def to_query_params(self) -> dict[str, str]:
        return {short: getattr(self, name) for name, short in _PARAMS.items()
                if getattr(self, name)}

    @classmethod
    def from_query_params(cls, params: Mapping[str, str], default: Selection) -> Selection:
        """The default with whatever a shared link carries laid over it."""
        given = {name: str(params[short]) for name, short in _PARAMS.items() if short in params}
        return replace(default, **given) if given else default

    def open(self) -> OpenedData:
        """Open the sources in a fresh sandboxed connection (close it, or use `with`)."""
        workspace = Workspace.at(self.workspace)
        con = connect(workspace)
        try:
            if self.mode == SPLIT:
                if not self.source:
                    raise AidebtError("Pick a data source to split into reference and current.")
                if not self.split_column or not self.split_at:
                    raise AidebtError("Pick a timestamp column and a split date.")
                combined = open_table(con, workspace, self.source)
                reference, current = split_on_timestamp(combined, self.split_column,
                                                         self.split_at)
                timestamp = self.split_column
            else:
                if not self.reference or not self.current:
                    raise AidebtError("Pick both a reference and a current data source.")
                reference = open_table(con, workspace, self.reference)
                current = open_table(con, workspace, self.current)
                combined = None
                timestamp = None
            schema = infer_schema(reference).with_roles(
                {k: v for k, v in self.roles if k in reference.column_types})
            if timestamp is None:
                timestamp = schema.first("timestamp")
            return OpenedData(self, workspace, con, reference, current, combined, schema,
                              timestamp)
        except BaseException:
            con.close()
            raise


@dataclass(frozen=True, eq=False)
class OpenedData:
    """Open tables for one selection; a context manager that closes the connection."""

    selection: Selection
    workspace: Workspace
    con: duckdb.DuckDBPyConnection
    reference: Table
    current: Table
    combined: Table | None
    schema: Schema
    timestamp: str | None

    @property
    def tracking_uri(self) -> str:
        return self.selection.tracking_uri

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> OpenedData:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sample_selection(sample_dir: str | Path | None = None) -> Selection:
    """The sample scenario: applications split at 2025-07-01, with its MLflow store."""
    folder = Path(sample_dir).resolve() if sample_dir else default_sample_dir()
    return Selection(workspace=str(folder), mode=SPLIT, source=SAMPLE_SOURCE,
                     split_column=SAMPLE_TIMESTAMP, split_at=SAMPLE_SPLIT_AT,
                     tracking_uri=sqlite_tracking_uri(folder))
