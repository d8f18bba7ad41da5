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
# Bounds on the source listing: a workspace is a data folder, not a disk to crawl.
MAX_SCAN_ENTRIES = 20_000
MAX_SCAN_DEPTH = 6
SKIPPED_FOLDERS = {"mlruns", "mlartifacts", "node_modules", "__pycache__", "site-packages",
                   "venv"}
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

    def list_sources(self) -> list[str]:
        """Readable data files (relative names) and `file.duckdb::table` entries."""
        return list(scan_sources(self).sources)


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
    from aidebt_core.data import list_duckdb_tables  # local: data imports workspace

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
    return SourceScan(tuple(sources), tuple(unreadable), truncated)


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
        path = workspace.folder / source.partition(TABLE_SEPARATOR)[0]
        rows.append({"source": source, "format": DATA_FORMATS[path.suffix.lower()],
                     "size_mb": path.stat().st_size / 1e6, "problem": ""})
    for name, reason in scan.unreadable:
        path = workspace.folder / name
        size = path.stat().st_size / 1e6 if path.exists() else 0.0
        rows.append({"source": name, "format": DATA_FORMATS[path.suffix.lower()],
                     "size_mb": size, "problem": reason})
    return rows


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
