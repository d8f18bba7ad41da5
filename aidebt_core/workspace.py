"""Where aidebt may read data: a workspace root plus the directories DuckDB is allowed to touch."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from aidebt_core.errors import DataSourceError, SandboxError

DATA_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".duckdb": "duckdb",
    ".ddb": "duckdb",
}
TABLE_SEPARATOR = "::"
GLOB_CHARS = set("*?[")


def default_sample_dir() -> Path:
    """The sample scenario's folder: $AIDEBT_SAMPLE_DIR, else ./sample_data next to the project."""
    env = os.environ.get("AIDEBT_SAMPLE_DIR")
    return Path(env).expanduser().resolve() if env else Path.cwd().resolve() / "sample_data"


@dataclass(frozen=True)
class Workspace:
    """A data folder (or DuckDB file) the user works in, and every directory reads may touch."""

    root: Path
    allowed_directories: tuple[Path, ...]

    @classmethod
    def at(cls, root: str | Path, extra_allowed: tuple[str | Path, ...] = ()) -> Workspace:
        """Open a workspace at a folder or a .duckdb file; reads are allowed under its folder."""
        path = Path(root).expanduser()
        if not path.exists():
            raise DataSourceError(f"Workspace '{root}' does not exist. Pick an existing folder "
                                  "or .duckdb file.")
        path = path.resolve()
        folder = path if path.is_dir() else path.parent
        allowed = [folder, *(Path(p).expanduser().resolve() for p in extra_allowed)]
        env_allowed = os.environ.get("AIDEBT_ALLOWED_DIRS", "")
        allowed += [Path(p).expanduser().resolve() for p in env_allowed.split(os.pathsep) if p]
        return cls(root=path, allowed_directories=tuple(dict.fromkeys(allowed)))

    @property
    def folder(self) -> Path:
        return self.root if self.root.is_dir() else self.root.parent

    def is_allowed(self, path: Path) -> bool:
        return any(path == d or path.is_relative_to(d) for d in self.allowed_directories)

    def resolve(self, raw: str | Path) -> Path:
        """The one place a user path becomes a real path: relative to the workspace, sandboxed."""
        text = str(raw).strip()
        if not text:
            raise DataSourceError("No data path given.")
        candidate = Path(text).expanduser()
        if not candidate.is_absolute():
            candidate = self.folder / candidate
        resolved = candidate.resolve()
        if not self.is_allowed(resolved):
            allowed = ", ".join(str(d) for d in self.allowed_directories)
            raise SandboxError(f"'{raw}' is outside the allowed data directories ({allowed}). "
                               "Move the file there or add its folder to AIDEBT_ALLOWED_DIRS.")
        return resolved

    def expand(self, raw: str) -> tuple[Path, ...]:
        """Resolve a path or glob to the existing files it names, all inside the sandbox."""
        if GLOB_CHARS & set(raw):
            pattern = raw if Path(raw).expanduser().is_absolute() else str(self.folder / raw)
            base = self.resolve(_glob_base(pattern))
            matches = sorted(Path(p).resolve() for p in glob.glob(
                str(base / Path(pattern).relative_to(_glob_base(pattern))), recursive=True))
            files = tuple(p for p in matches if p.is_file())
            if not files:
                raise DataSourceError(f"No files match '{raw}'.")
            for file in files:
                self.resolve(file)
            return files
        path = self.resolve(raw)
        if not path.exists():
            raise DataSourceError(f"File '{raw}' does not exist (looked for {path}).")
        if path.is_dir():
            raise DataSourceError(f"'{raw}' is a folder; name a data file or a glob such as "
                                  f"'{raw}/*.parquet'.")
        return (path,)

    def list_sources(self) -> list[str]:
        """Data files (relative names) and `file.duckdb::table` entries found in the workspace."""
        from aidebt_core.data import list_duckdb_tables  # local: data imports workspace

        if self.root.is_file():
            files = [self.root]
        else:
            files = sorted(p for p in self.root.rglob("*") if p.is_file()
                           and p.suffix.lower() in DATA_FORMATS and ".venv" not in p.parts
                           and "mlruns" not in p.parts and "mlartifacts" not in p.parts)
        sources: list[str] = []
        for file in files:
            name = str(file.relative_to(self.folder))
            if DATA_FORMATS[file.suffix.lower()] == "duckdb":
                sources += [f"{name}{TABLE_SEPARATOR}{t}" for t in list_duckdb_tables(self, name)]
            else:
                sources.append(name)
        return sources


def describe_sources(workspace: Workspace) -> list[dict]:
    """Each data source in the workspace with its format and file size (no data is read)."""
    rows = []
    for source in workspace.list_sources():
        path = workspace.folder / source.partition(TABLE_SEPARATOR)[0]
        rows.append({"source": source, "format": DATA_FORMATS[path.suffix.lower()],
                     "size_mb": path.stat().st_size / 1e6})
    return rows


def detect_format(path: Path) -> str:
    """The reader for a file, from its suffix."""
    fmt = DATA_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(DATA_FORMATS))
        raise DataSourceError(f"Cannot read '{path.name}': unknown file type '{path.suffix}'. "
                              f"Known types: {known}.")
    return fmt


def _glob_base(pattern: str) -> str:
    """The longest leading part of a glob pattern without wildcard characters."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if GLOB_CHARS & set(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "."
