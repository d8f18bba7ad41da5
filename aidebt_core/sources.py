"""Which data sources a workspace holds: a bounded, link-safe walk of its folder, with the
tables inside DuckDB files and, for files that cannot be read, why.

Separate from `workspace.py` because listing DuckDB tables opens a sandboxed connection
(`data.py`), and `data.py` itself needs the workspace's boundary."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from aidebt_core.data import list_duckdb_tables
from aidebt_core.workspace import DATA_FORMATS, GLOB_CHARS, TABLE_SEPARATOR, Workspace

# Bounds on the source listing: a workspace is a data folder, not a disk to crawl.
MAX_SCAN_ENTRIES = 20_000
MAX_SCAN_DEPTH = 6
SKIPPED_FOLDERS = {"mlruns", "mlartifacts", "node_modules", "__pycache__", "site-packages",
                   "venv"}


def list_sources(workspace: Workspace) -> list[str]:
    """Readable data files (relative names) and `file.duckdb::table` entries."""
    return list(scan_sources(workspace).sources)


@dataclass(frozen=True)
class SourceScan:
    """What a bounded walk of a workspace found: readable sources, unreadable files and why."""

    sources: tuple[str, ...]
    unreadable: tuple[tuple[str, str], ...] = ()  # (relative name, reason)
    truncated: bool = False  # the walk stopped at MAX_SCAN_ENTRIES or MAX_SCAN_DEPTH


def scan_sources(workspace: Workspace) -> SourceScan:
    """Walk the workspace for data files without leaving it or trusting any one file.

    Symlinks that point out of the folder are skipped (a link must not widen the boundary),
    hidden and tool folders (.git, .venv, .aidebt, mlruns…) are not entered, and the walk is
    bounded so a huge folder cannot stall the page. A file that cannot be read is reported with
    its reason instead of failing the whole listing.
    """
    files, truncated = _data_files(workspace)
    sources: list[str] = []
    unreadable: list[tuple[str, str]] = []
    for file in files:
        name = file.relative_to(workspace.folder).as_posix()
        problem = _unreadable_reason(file)
        if problem is None and DATA_FORMATS[file.suffix.lower()] == "duckdb":
            try:
                sources += [f"{name}{TABLE_SEPARATOR}{t}" for t in list_duckdb_tables(
                    workspace, name)]
            except Exception as exc:  # noqa: BLE001 - one bad file must not hide the others
                problem = _first_line(exc)
        elif problem is None:
            sources.append(name)
        if problem is not None:
            unreadable.append((name, problem))
    spark, problem = _spark_sources(workspace)
    if problem is not None:
        unreadable.append(problem)
    return SourceScan(tuple(sources + spark), tuple(unreadable), truncated)


def _spark_sources(workspace: Workspace) -> tuple[list[str], tuple[str, str] | None]:
    """The spark: sources the workspace's aidebt-spark.yaml lists (aidebt_core/engines/
    spark_workspace.py), or the file's problem."""
    from aidebt_core.engines.spark_workspace import SPARK_FILE, read_workspace_spark

    try:
        return list(read_workspace_spark(workspace.folder).sources), None
    except Exception as exc:  # noqa: BLE001 - a bad file must not hide the data files
        return [], (SPARK_FILE, _first_line(exc))


def _data_files(workspace: Workspace) -> tuple[list[Path], bool]:
    if workspace.root.is_file():
        return [workspace.root], False
    folder = workspace.folder
    found: list[Path] = []
    seen = 0
    truncated = False
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        depth = len(here.relative_to(folder).parts)
        if depth >= MAX_SCAN_DEPTH:
            truncated = truncated or bool(dirnames)
            dirnames.clear()
        dirnames[:] = sorted(d for d in dirnames if not _skipped_folder(d))
        for name in sorted(filenames):
            seen += 1
            if seen > MAX_SCAN_ENTRIES:
                return sorted(found), True
            path = here / name
            if path.suffix.lower() not in DATA_FORMATS or name.startswith("."):
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(folder):
                continue  # a link out of the workspace is not part of it
            found.append(path)
    return sorted(found), truncated


def _skipped_folder(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_FOLDERS


def _unreadable_reason(path: Path) -> str | None:
    """Why a data file cannot be read, from cheap checks (name, open, size, magic bytes)."""
    if GLOB_CHARS & set(path.name):
        # the readers would take `sales[2024].csv` as a pattern and read another file
        return "its name contains * ? or [, which read as a pattern; rename the file"
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        return f"cannot be opened ({exc.strerror or exc})"
    if size == 0:
        return "empty (0 bytes)"
    if DATA_FORMATS[path.suffix.lower()] == "parquet" and head != b"PAR1":
        return "not a Parquet file (no PAR1 magic bytes)"
    return None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def describe_sources(workspace: Workspace) -> list[dict]:
    """Each data source with its format, file size and, for unreadable files, the problem."""
    scan = scan_sources(workspace)
    rows = []
    for source in scan.sources:
        if source.startswith("spark:"):  # read by Spark where it lives: no local file
            rows.append({"source": source, "format": "spark", "size_mb": None, "problem": ""})
            continue
        path = workspace.folder / source.partition(TABLE_SEPARATOR)[0]
        rows.append({"source": source, "format": DATA_FORMATS[path.suffix.lower()],
                     "size_mb": path.stat().st_size / 1e6, "problem": ""})
    for name, reason in scan.unreadable:
        path = workspace.folder / name
        size = path.stat().st_size / 1e6 if path.exists() else 0.0
        rows.append({"source": name, "format": DATA_FORMATS.get(path.suffix.lower(), "spark"),
                     "size_mb": size, "problem": reason})
    return rows


def open_source(con, workspace, spec: str):
    """A data source by its spec: a Spark source the workspace lists (aidebt-spark.yaml), a
    saved profile (`.aidebt`, inside the workspace) as a ProfileTable, anything else as
    `data.open_table` opens it. Here, not in profiles/ or engines/, since it joins the two."""
    from aidebt_core.data import open_table
    from aidebt_core.errors import DataSourceError
    from aidebt_core.profiles.model import is_profile_path
    from aidebt_core.profiles.source import open_profile

    if str(spec).strip().startswith("spark:"):  # only the workspace's aidebt-spark.yaml ones
        from aidebt_core.engines.spark_workspace import open_workspace_spark

        return open_workspace_spark(con, workspace, spec)
    if is_profile_path(spec):
        path = workspace.resolve(str(spec).strip())
        if not path.is_file():
            raise DataSourceError(f"'{spec}': no such profile file.")
        return open_profile(con, path, str(spec))
    return open_table(con, workspace, spec)

