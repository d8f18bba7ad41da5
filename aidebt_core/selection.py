"""What the user picked: workspace, reference and current data, roles and MLflow store.

A `Selection` is small, frozen and hashable, so the dashboard can cache results keyed on it,
share it through URL query params, and the CLI can build the same thing from arguments.
`Selection.open()` turns it into DuckDB tables inside a sandboxed connection.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass, field, replace
from pathlib import Path

import duckdb
import pandas as pd

from aidebt_core.data import (
    ROWS,
    Table,
    connect,
    open_table,
)
from aidebt_core.errors import AidebtError
from aidebt_core.roles import ROLES_FILE, DatasetDefaults, read_roles_file, resolve_schema
from aidebt_core.schema import FEATURE_ROLES, Schema, infer_schema
from aidebt_core.sources import list_sources, open_source
from aidebt_core.timeaxis import split_on_timestamp, time_candidates, timestamp_sql
from aidebt_core.workspace import TABLE_SEPARATOR, Workspace, default_sample_dir

SPLIT, FILES = "split", "files"
SAMPLE_SOURCE, SAMPLE_TIMESTAMP = "applications.parquet", "applied_at"
SAMPLE_SPLIT_AT = "2025-07-01"
# Query-param names: short, stable, and the only state a shared link carries.
_PARAMS = {"workspace": "ws", "mode": "mode", "source": "src", "split_column": "ts",
           "split_at": "at", "reference": "ref", "current": "cur", "tracking_uri": "mlflow"}


# Files only the sample scenario has together; their presence makes a folder "the sample".
_SAMPLE_MARKERS = ("ground_truth.json", SAMPLE_SOURCE)


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
    # The workspace roles file's roles for this data set as read by the dashboard (None: read
    # the file when opening). Part of the selection so results cached on it change on a save.
    file_roles: tuple[tuple[str, str], ...] | None = None

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

    @property
    def roles_source(self) -> str:
        """The data set whose roles apply: the split source, or the reference file."""
        return self.source if self.mode == SPLIT else self.reference

    def _schema(self, workspace: Workspace, reference: Table) -> Schema:
        """Inference, then the workspace roles file, then this selection's roles (URL/edits)."""
        given = {k: v for k, v in self.roles if k in reference.column_types}
        inferred = infer_schema(reference)
        if self.mode == SPLIT and self.split_column in reference.column_types:
            # The column the data is split on is the time axis, not a feature (an integer
            # year would otherwise "drift" by construction). It counts as inferred, so the
            # Data page does not list it as a user's change; explicit roles still win.
            inferred = Schema(tuple(
                replace(c, role="timestamp", inferred_role="timestamp")
                if c.name == self.split_column and c.role in FEATURE_ROLES else c
                for c in inferred.columns))
        file_roles = dict(self.file_roles) if self.file_roles is not None else \
            read_roles_file(workspace.folder).dataset(self.roles_source).roles
        return resolve_schema(inferred, file_roles=file_roles, flags=given,
                              file_label=f"{ROLES_FILE} in {workspace.folder}")

    def with_file_roles(self) -> Selection:
        """This selection with its data set's roles from the workspace roles file laid in."""
        folder = Workspace.at(self.workspace).folder
        roles = read_roles_file(folder).dataset(self.roles_source).roles
        return replace(self, file_roles=tuple(sorted(roles.items())))

    def input_files(self) -> tuple[Path, ...]:
        """Every file this selection reads: its data files (each file a glob matches) and the
        workspace roles file, whether or not it exists yet."""
        return input_files(self.workspace, self.sources)

    def fingerprint(self) -> str:
        """A digest of this selection and of the size, modification time and inode of every
        file it reads: rewriting, replacing, adding (to a glob) or removing a file changes it,
        so results cached on it are never read from an older version of the data."""
        return input_fingerprint(self.workspace, self.sources, astuple(self))

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
                # either may be a saved profile (.aidebt): see aidebt_core/profiles/source.py
                reference = open_source(con, workspace, self.reference)
                current = open_source(con, workspace, self.current)
                combined = None
                timestamp = None
            schema = self._schema(workspace, reference)
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


def is_sample_folder(folder: Path) -> bool:
    """Whether a folder holds the sample scenario (its constants apply only there)."""
    return all((folder / name).is_file() for name in _SAMPLE_MARKERS)


def default_selection(root: str | Path, tracking_uri: str = "") -> Selection:
    """Something valid to open a workspace on, taken from the workspace itself.

    The roles file's default data set, timestamp and reference end when it has them; else the
    first data set, its first time column and a split at the median time; without a time
    column, two data sets side by side (never the same file twice when there are two).
    """
    workspace = Workspace.at(root)
    if is_sample_folder(workspace.folder):
        return replace(sample_selection(workspace.folder), workspace=str(root),
                       tracking_uri=tracking_uri)
    empty = Selection(workspace=str(root), tracking_uri=tracking_uri)
    sources = list_sources(workspace)
    if not sources:
        return empty
    defaults = read_roles_file(workspace.folder)
    source = defaults.default if defaults.default in sources else sources[0]
    others = [s for s in sources if s != source]
    dataset = defaults.dataset(source)
    try:
        column, split_at = _time_split(workspace, source, dataset)
    except AidebtError:
        column, split_at = None, None
    if column and split_at:
        return replace(empty, mode=SPLIT, source=source, split_column=column, split_at=split_at)
    return replace(empty, mode=FILES, reference=source, current=others[0] if others else source)


def input_files(workspace: str | Path, specs: Iterable[str]) -> tuple[Path, ...]:
    """The files the data specs (paths, globs, `file.duckdb::table`) name, and the roles file.

    A spec that names no readable file raises the same `AidebtError` opening it would."""
    ws = Workspace.at(workspace)
    files = [file for spec in specs if spec.strip() and not spec.strip().startswith("spark:")
             for file in ws.expand(spec.strip().partition(TABLE_SEPARATOR)[0])]
    if any(spec.strip().startswith("spark:") for spec in specs):
        # A Spark source has no local file to stamp; the file that lists it does.
        from aidebt_core.engines.spark_workspace import SPARK_FILE

        files.append(ws.folder / SPARK_FILE)
    return (*dict.fromkeys(files), ws.folder / ROLES_FILE)


def input_fingerprint(workspace: str | Path, specs: Iterable[str], extra: object = ()) -> str:
    """A digest of `extra` (JSON-able) and the identity of every input file: path, size,
    modification time (ns) and inode; a missing file counts as missing."""
    stamps = []
    for path in input_files(workspace, specs):
        try:
            stat = path.stat()
        except FileNotFoundError:
            stamps.append((str(path), None))
            continue
        stamps.append((str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino))
    text = json.dumps([extra, stamps], default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def encode_roles(roles: Mapping[str, str]) -> str:
    """Role overrides as one URL value (JSON: any column name survives the round trip)."""
    return json.dumps(dict(sorted(roles.items())), ensure_ascii=False, separators=(",", ":"))


def decode_roles(text: str) -> dict[str, str]:
    """The overrides a link carries; anything but a JSON object of strings is refused."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # a link can nest brackets past the recursion limit
        value = None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in value.items()):
        raise AidebtError('The link\'s roles= value is not a list of column roles; expected '
                          'e.g. roles={"repaid":"target"}.')
    return value


def time_columns(table: Table) -> list[str]:
    """Columns usable as a time axis, best first."""
    return list(time_candidates(table))


def median_split(table: Table, column: str) -> str | None:
    """A split time with rows on both sides: the median, or the second distinct time when more
    than half the rows share the first; None when the column holds a single time."""
    ts = timestamp_sql(table, column)
    lowest, median = table.execute(
        f"SELECT min({ts}), quantile_disc({ts}, 0.5) FROM {ROWS}").fetchone()
    if median is None:
        return None
    if median == lowest:
        median = table.execute(f"SELECT min({ts}) FROM {ROWS} WHERE {ts} > $low",
                               {"low": lowest}).fetchone()[0]
        if median is None:
            return None
    return format_split(pd.Timestamp(median))


def format_split(when: pd.Timestamp) -> str:
    """`2025-07-01` at midnight, else `2025-07-01T12:00` (the URL's `at=` format)."""
    if when == when.normalize():
        return when.date().isoformat()
    return when.isoformat(timespec="seconds" if when.second else "minutes")


def _time_split(workspace: Workspace, source: str, dataset: DatasetDefaults
                ) -> tuple[str | None, str | None]:
    con = connect(workspace)
    try:
        table = open_table(con, workspace, source)
        candidates = time_columns(table)
        chosen = dataset.timestamp
        column = chosen if chosen in table.column_types else (candidates[0] if candidates
                                                              else None)
        if column is None:
            return None, None
        end = dataset.reference_end
        split_at = str(end) if end else median_split(table, column)
        if split_at is None:
            return None, None
        split_on_timestamp(table, column, split_at)  # refuses a split this data cannot take
        return column, split_at
    finally:
        con.close()
