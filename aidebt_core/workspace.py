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
    ".aidebt": "profile",   # a saved profile (aidebt_core/profiles), opened by open_source
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".duckdb": "duckdb",
    ".ddb": "duckdb",
}
TABLE_SEPARATOR = "::"
GLOB_CHARS = set("*?[")
# Never a workspace: these folders themselves (SYSTEM_FOLDERS) or anything under them
# (SYSTEM_TREES). The user's home folder itself is refused too.
SYSTEM_FOLDERS = ("/", "/home", "/root", "/var", "/tmp", "/opt", "/srv", "/mnt", "/media",
                  "/run", "/Users", "/private", "/Volumes")
SYSTEM_TREES = ("/etc", "/proc", "/sys", "/dev", "/usr", "/bin", "/sbin", "/lib", "/lib32",
                "/lib64", "/boot", "/private/etc", "/System", "/Library")


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


def refuse_system_root(path: str | Path) -> Path:
    """The resolved path, unless it is a system folder or a home folder itself.

    A served dashboard reads everything under its roots, so `/`, `/etc` or a whole home folder
    as a root would put the host's secrets one link away.
    """
    resolved = Path(path).expanduser().resolve()
    homes = {Path.home().resolve(), Path("~").expanduser().resolve()}
    exact = {Path(p).resolve() for p in SYSTEM_FOLDERS} | homes
    if resolved in exact or any(resolved == Path(p).resolve() or resolved.is_relative_to(
            Path(p).resolve()) for p in SYSTEM_TREES):
        raise SandboxError(f"'{path}' is a system or home folder and cannot be a workspace; "
                           "pick the folder that holds your data.")
    return resolved


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
