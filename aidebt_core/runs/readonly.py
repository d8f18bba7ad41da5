"""Open MLflow stores without changing them: aidebt only reads other people's stores.

Opening a store through MLflow is not a pure read:

- SQLite: when a table of the installed MLflow's schema is missing (an older store), MLflow
  migrates the file in place (new tables, a new `alembic_version`, pending jobs cancelled),
  after which an older MLflow server can no longer use it; when the default experiment is
  missing, it creates one. Such a store is read from a temporary copy; a store at exactly the
  installed schema, with every table and the default experiment, is read in place (plain
  reads do not write). A schema this MLflow does not know (written by a newer MLflow) is
  refused with both versions named.
- File store: MLflow creates `.trash/` (and `models/` for the registry) in the root, and
  `file:///etc` would get an `/etc/.trash`. A folder that does not look like an MLflow store
  is refused without listing it; a real one is read through an overlay folder of symlinks,
  where those folders are created instead.
- Database servers (PostgreSQL, MySQL, SQL Server) cannot be copied: a schema other than the
  installed MLflow's is refused before MLflow connects.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from functools import lru_cache
from pathlib import Path

from aidebt_core.errors import TrackingError

SERVER_DATABASES = ("postgresql", "mysql", "mssql")
MAX_FILE_STORE_ENTRIES = 100_000     # an overlay links each top-level entry; a store has few
_META_PEEK_BYTES = 65_536
_COPIES: dict[tuple, tuple[tempfile.TemporaryDirectory, Path]] = {}
_OVERLAYS: dict[tuple, tuple[tempfile.TemporaryDirectory, Path]] = {}


@lru_cache(maxsize=1)
def _schema() -> tuple[str, frozenset[str], frozenset[str]]:
    """(head revision, every known revision, tables MLflow expects) of the installed MLflow."""
    from alembic.script import ScriptDirectory
    from mlflow.store.db import utils

    script = ScriptDirectory.from_config(utils._get_alembic_config(db_url=""))
    heads = script.get_heads()
    if len(heads) != 1:
        raise TrackingError(f"The installed MLflow has {len(heads)} schema heads; cannot tell "
                            "which schema a store should have.")
    revisions = frozenset(r.revision for r in script.walk_revisions())
    return heads[0], revisions, frozenset(utils.Base.metadata.tables)


def _mlflow_version() -> str:
    import mlflow

    return mlflow.__version__


def sqlite_state(path: Path) -> tuple[str | None, frozenset[str], bool]:
    """(alembic revision or None, table names, default experiment present), read-only."""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            tables = frozenset(r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"))
            revision = None
            if "alembic_version" in tables:
                row = con.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
            default = con.execute("SELECT 1 FROM experiments WHERE experiment_id = 0"
                                  ).fetchone() is not None
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise TrackingError(f"'{path}' is not a readable SQLite database ({exc}).") from exc
    return revision, tables, default


def sqlite_for_reading(path: Path) -> tuple[Path | None, str]:
    """(None, "") when MLflow can read `path` in place without writing to it, else (a
    temporary copy to read instead, a note saying why). Refuses schemas MLflow cannot read."""
    try:
        head, known, expected = _schema()
    except Exception:  # noqa: BLE001 - MLflow's internals moved: do not guess, read a copy
        return _reading_copy(path), (f"'{path}' is read from a temporary copy (the installed "
                                     "MLflow's schema could not be determined).")
    revision, tables, default = sqlite_state(path)
    if revision is not None and revision not in known:
        raise TrackingError(
            f"'{path}' has MLflow schema {revision}, which the installed MLflow "
            f"{_mlflow_version()} (schema {head}) does not know: it was written by a newer "
            "MLflow. Upgrade mlflow to read it; the file was left as it is.")
    if revision == head and expected <= tables and default:
        return None, ""
    why = (f"has MLflow schema {revision or 'none'} where the installed MLflow "
           f"{_mlflow_version()} expects {head}" if revision != head
           else "lacks tables or the default experiment that MLflow would add")
    return _reading_copy(path), (f"'{path}' {why}: read from a temporary copy, so the file "
                                 "itself is not migrated or changed.")


def _reading_copy(path: Path) -> Path:
    """A private copy of the database (consistent, WAL included), one per file version."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if key in _COPIES:
        return _COPIES[key][1]
    folder = tempfile.TemporaryDirectory(prefix="aidebt-mlflow-copy-")
    copy = Path(folder.name) / path.name
    try:
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    except sqlite3.Error as exc:
        folder.cleanup()
        raise TrackingError(f"Cannot copy '{path}' for reading: {exc}.") from exc
    try:
        _migrate_quietly(copy)
    except Exception as exc:  # noqa: BLE001 - alembic/MLflow errors of many kinds
        folder.cleanup()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrackingError(f"'{path}' cannot be read by the installed MLflow "
                            f"{_mlflow_version()}, even from a copy: {first[:300]}") from None
    _COPIES[key] = (folder, copy)
    return copy


def _migrate_quietly(copy: Path) -> None:
    """Let MLflow migrate the copy now, with its INFO lines silenced (they would read as if
    the user's store were being changed)."""
    import logging

    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    loggers = [logging.getLogger(n) for n in ("mlflow", "alembic")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        store = SqlAlchemyStore(f"sqlite:///{copy.as_posix()}", copy.parent.as_uri())
        store.engine.dispose()
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def check_file_store(path: Path) -> None:
    """Refuse a folder that does not look like an MLflow file store, without listing it.

    An MLflow file store has experiment folders (`0/`, `1/`, ...) each with a `meta.yaml`
    naming its `experiment_id`.
    """
    try:
        with os.scandir(path) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_FILE_STORE_ENTRIES:
                    break
                if entry.is_dir(follow_symlinks=False) and _is_experiment_meta(
                        Path(entry.path) / "meta.yaml"):
                    return
    except OSError as exc:
        raise TrackingError(f"Cannot read the file store '{path}' "
                            f"({exc.strerror or type(exc).__name__}).") from None
    raise TrackingError(f"'{path}' does not look like an MLflow file store (no experiment "
                        "folder with a meta.yaml); nothing was read or created there.")


def _is_experiment_meta(meta: Path) -> bool:
    try:
        if not meta.is_file() or meta.is_symlink():
            return False
        with open(meta, "rb") as handle:
            return b"experiment_id" in handle.read(_META_PEEK_BYTES)
    except OSError:
        return False


def file_store_overlay(path: Path) -> Path:
    """A temporary folder of symlinks to the store's entries, where MLflow may create its
    `.trash/` and `models/` folders without touching the store."""
    root = path.resolve()
    key = (str(root), root.stat().st_mtime_ns)
    if key in _OVERLAYS:
        return _OVERLAYS[key][1]
    folder = tempfile.TemporaryDirectory(prefix="aidebt-mlflow-overlay-")
    overlay = Path(folder.name) / "store"
    overlay.mkdir()
    with os.scandir(root) as entries:
        for count, entry in enumerate(entries):
            if count >= MAX_FILE_STORE_ENTRIES:
                folder.cleanup()
                raise TrackingError(f"'{path}' holds more than {MAX_FILE_STORE_ENTRIES:,} "
                                    "entries; that is not an MLflow file store.")
            (overlay / entry.name).symlink_to(entry.path)
    for name in (".trash", "models"):
        if not (overlay / name).exists():
            (overlay / name).mkdir()
    _OVERLAYS[key] = (folder, overlay)
    return overlay


def check_server_schema(uri: str) -> None:
    """Refuse a database server whose MLflow schema is not the installed one's (MLflow would
    migrate or reject it); read-only queries only."""
    import sqlalchemy

    try:
        head, known, expected = _schema()
    except Exception as exc:  # noqa: BLE001 - MLflow's internals moved
        raise TrackingError(f"Cannot tell which schema the installed MLflow expects ({exc}); "
                            f"not opening '{_redact(uri)}'.") from None
    try:
        engine = sqlalchemy.create_engine(uri)
        try:
            with engine.connect() as connection:
                tables = set(sqlalchemy.inspect(connection).get_table_names())
                revision = None
                if "alembic_version" in tables:
                    revision = connection.execute(sqlalchemy.text(
                        "SELECT version_num FROM alembic_version")).scalar()
        finally:
            engine.dispose()
    except Exception as exc:  # noqa: BLE001 - driver missing, unreachable, auth, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrackingError(f"Cannot read the MLflow database at '{_redact(uri)}': "
                            f"{first[:300]}") from None
    if revision != head or not expected <= tables:
        newer = revision is not None and revision not in known
        raise TrackingError(
            f"The MLflow database at '{_redact(uri)}' has schema {revision or 'none'}; the "
            f"installed MLflow {_mlflow_version()} expects {head}. "
            + ("Upgrade mlflow to read it." if newer else
               "aidebt does not migrate it; read it with the MLflow version that wrote it, or "
               "point aidebt at a copy."))


def _redact(uri: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(uri).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - malformed URI: show only its scheme
        return uri.split(":", 1)[0] + "://…"
