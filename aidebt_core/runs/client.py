"""Reach an MLflow tracking store (SQLite file, file store, or server) and read it in bulk.

`open_store(uri)` checks that the store is there before anything else: a missing SQLite file
is refused (MLflow would silently create an empty one) and an unreachable server fails in a
few seconds instead of MLflow's default minutes of retries. Reads are paged and batched so
that thousands of runs take one query per page, not one per run.

Reading never changes the user's store (see `aidebt_core.runs.readonly`): MLflow migrates an
older SQLite schema in place and creates folders in a file store when it opens them, so
such stores are read through a temporary copy or overlay, and a database server whose schema
differs from this MLflow's is refused.
"""

from __future__ import annotations

import json
import os
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from aidebt_core.errors import TrackingError

PROBE_TIMEOUT_SECONDS = 3.0
PAGE_SIZE = 1000
# Applied to MLflow's own HTTP client unless the user has set them: fail in seconds, not minutes.
_HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
                  "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}


def resolve_tracking_uri(uri: str) -> str:
    """Normalise what a user may type: a URI, a .db file, or a folder holding one."""
    text = (uri or "").strip()
    if not text:
        raise TrackingError("No MLflow tracking URI given: use sqlite:///path/mlflow.db, "
                            "a folder with mlflow.db or mlruns/, or http://host:port.")
    scheme = urlparse(text).scheme.lower()
    if scheme in ("http", "https"):
        return text.rstrip("/")
    if scheme == "sqlite":
        path = _sqlite_path(text)
        if path is None:
            raise TrackingError(f"Tracking URI '{text}' has no database path (an in-memory "
                                "database has no runs); give sqlite:///path/to/mlflow.db.")
        if not path.is_file():
            raise TrackingError(f"No MLflow database at '{path}': check the tracking URI "
                                "(aidebt does not create an empty store).")
        return text
    if scheme == "file":
        from aidebt_core.runs.readonly import check_file_store

        path = Path(unquote(urlparse(text).path))
        if not path.is_dir():
            raise TrackingError(f"No MLflow file store at '{path}'.")
        check_file_store(path)
        return path.resolve().as_uri()
    if scheme and len(scheme) > 1:  # databricks, postgresql, mysql, ...: let MLflow decide
        return text
    path = Path(text).expanduser()
    if path.is_file():
        return _sqlite_uri(path)
    if path.is_dir():
        if (path / "mlflow.db").is_file():
            return _sqlite_uri(path / "mlflow.db")
        if (path / "mlruns").is_dir():
            return (path / "mlruns").resolve().as_uri()
        from aidebt_core.runs.readonly import check_file_store

        try:
            check_file_store(path)
        except TrackingError:
            raise TrackingError(f"'{path}' holds no MLflow store (no mlflow.db, no mlruns/, no "
                                "experiment folders).") from None
        return path.resolve().as_uri()
    raise TrackingError(f"Tracking URI '{text}' is neither a URI nor an existing path.")


def _sqlite_path(uri: str) -> Path | None:
    """The file SQLAlchemy (hence MLflow) will open for this URI; None for in-memory."""
    from sqlalchemy.engine import make_url

    try:
        database = make_url(uri).database
    except Exception as exc:  # noqa: BLE001 - sqlalchemy.exc.ArgumentError and friends
        raise TrackingError(f"'{uri}' is not a valid SQLite URI ({exc}).") from exc
    if not database or database == ":memory:":
        return None
    return Path(database)


def _sqlite_uri(path: Path) -> str:
    """sqlite:/// URI for a file. Characters SQLAlchemy would misread (#, ?, %) are
    percent-encoded, only then: MLflow makes the encoded folder name as an empty directory."""
    plain = f"sqlite:///{path.resolve().as_posix()}"
    if _sqlite_path(plain) == path.resolve():
        return plain
    return f"sqlite:///{quote(path.resolve().as_posix(), safe='/')}"


def _probe_sqlite(path: Path) -> None:
    """A readable SQLite file with MLflow's tables, or a TrackingError saying which it is not."""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master "
                                                "WHERE type = 'table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise TrackingError(f"'{path}' is not a readable SQLite database ({exc}).") from exc
    if not {"experiments", "runs"} <= tables:
        raise TrackingError(f"'{path}' is a SQLite database but not an MLflow tracking store "
                            "(no experiments/runs tables).")


def _probe_http(uri: str) -> None:
    """One short request to the REST API; connection errors and 4xx/5xx become TrackingError."""
    url = f"{uri}/api/2.0/mlflow/experiments/search"
    body = json.dumps({"max_results": 1}).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    user, password = (os.environ.get("MLFLOW_TRACKING_USERNAME"),
                      os.environ.get("MLFLOW_TRACKING_PASSWORD"))
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    elif user and password:
        import base64

        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {basic}")
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_SECONDS) as response:
            payload = response.read(1_000_000)
    except urllib.error.HTTPError as exc:
        hint = " (the server needs credentials: set MLFLOW_TRACKING_USERNAME/PASSWORD or " \
               "MLFLOW_TRACKING_TOKEN)" if exc.code in (401, 403) else ""
        raise TrackingError(f"MLflow server at '{uri}' answered HTTP {exc.code}{hint}; is this "
                            "the tracking server's base URL?") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TrackingError(f"Cannot reach the MLflow server at '{uri}' ({reason}); check that "
                            "it is running and the host/port are right.") from exc
    try:
        json.loads(payload or b"{}")
    except ValueError as exc:
        raise TrackingError(f"'{uri}' answered, but not like an MLflow tracking server.") from exc


@dataclass
class Store:
    """An opened tracking store: the resolved URI and an `MlflowClient` bound to it.

    `client_uri` is what the client really reads (a temporary copy or overlay when the store
    could not be read in place without changing it); `note` says why, or is empty.
    `folder` is the folder of a SQLite store's database: relative artifact locations (the
    sample store records `mlartifacts/...` so its folder can move) are read against it.
    """

    uri: str
    client: object
    client_uri: str = ""
    note: str = ""
    folder: Path | None = None

    def local(self, uri: str | None) -> Path | None:
        """The local folder behind an artifact location; None for remote artifact stores."""
        path = local_path(uri)
        if path is not None and not path.is_absolute() and self.folder is not None:
            return self.folder / path
        return path

    def absolute_uri(self, uri: str) -> str:
        """`uri` with a relative local location made absolute (as a file: URI)."""
        path = local_path(uri)
        if path is None or path.is_absolute() or self.folder is None:
            return uri
        return (self.folder / path).resolve().as_uri()

    # -- experiments and runs -------------------------------------------------------------
    def experiments(self) -> list:
        from mlflow.entities import ViewType

        return _paged(lambda token: self.client.search_experiments(
            view_type=ViewType.ACTIVE_ONLY, max_results=PAGE_SIZE, page_token=token))

    def experiment_ids(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """{id: name} for the named experiments (all when `names` is None)."""
        experiments = {e.experiment_id: e.name for e in self.experiments()}
        if names is None:
            return experiments
        wanted = list(names)
        unknown = [n for n in wanted if n not in experiments.values()]
        if unknown:
            raise TrackingError(f"No experiment named {', '.join(map(repr, unknown))} in "
                                f"{self.uri}; known: {', '.join(sorted(experiments.values()))}.")
        return {i: n for i, n in experiments.items() if n in wanted}

    def runs(self, experiment_ids: list[str], max_runs: int | None = None) -> list:
        if not experiment_ids:
            return []
        return _paged(lambda token: self.client.search_runs(
            experiment_ids, max_results=PAGE_SIZE, page_token=token,
            order_by=["attributes.start_time DESC"]), limit=max_runs)

    def get_run(self, run_id: str):
        return _call(lambda: self.client.get_run(run_id), f"run '{run_id}'")

    def get_logged_model(self, model_id: str):
        return _call(lambda: self.client.get_logged_model(model_id), f"model '{model_id}'")

    def logged_models(self, experiment_ids: list[str]) -> dict[str, list]:
        """{source run id: [LoggedModel]}; {} for servers that predate logged models."""
        if not experiment_ids:
            return {}
        try:
            models = _paged(lambda token: self.client.search_logged_models(
                experiment_ids, max_results=PAGE_SIZE, page_token=token))
        except TrackingError:
            return {}
        by_run: dict[str, list] = {}
        for model in models:
            if model.source_run_id:
                by_run.setdefault(model.source_run_id, []).append(model)
        return by_run

    # -- registry ---------------------------------------------------------------------------
    def registered_models(self) -> list:
        return _paged(lambda token: self.client.search_registered_models(
            max_results=PAGE_SIZE, page_token=token))

    def model_versions(self) -> list:
        return _paged(lambda token: self.client.search_model_versions(
            max_results=PAGE_SIZE, page_token=token))

    # -- artifacts --------------------------------------------------------------------------
    def list_run_artifacts(self, run, path: str | None = None) -> list[tuple[str, bool]]:
        """[(relative path, is_dir)] under a run's artifacts; local stores read the disk."""
        local = self.local(run.info.artifact_uri)
        if local is not None:
            return _list_local(local, path)
        infos = _call(lambda: self.client.list_artifacts(run.info.run_id, path),
                      f"artifacts of run {run.info.run_id}")
        return [(i.path, i.is_dir) for i in infos]

    def list_model_artifacts(self, model) -> list[tuple[str, bool]]:
        local = self.local(model.artifact_location)
        if local is not None:
            return _list_local(local, None)
        infos = _call(lambda: self.client.list_logged_model_artifacts(model.model_id),
                      f"artifacts of model {model.model_id}")
        return [(i.path, i.is_dir) for i in infos]

    def read_run_text(self, run, path: str, max_bytes: int = 2_000_000) -> str | None:
        """A small text artifact of a run, or None if it is not there."""
        local = self.local(run.info.artifact_uri)
        if local is not None:
            return _read_local_text(local, path, max_bytes)
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            try:
                file = self.client.download_artifacts(run.info.run_id, path, tmp)
            except Exception:  # noqa: BLE001 - absent artifact: MLflow raises several kinds
                return None
            return Path(file).read_bytes()[:max_bytes].decode("utf-8", "replace")

    def read_model_text(self, model, path: str, max_bytes: int = 2_000_000) -> str | None:
        local = self.local(model.artifact_location)
        if local is not None:
            return _read_local_text(local, path, max_bytes)
        import tempfile

        import mlflow.artifacts

        with tempfile.TemporaryDirectory() as tmp:
            try:
                file = mlflow.artifacts.download_artifacts(
                    artifact_uri=f"{model.artifact_location.rstrip('/')}/{path}",
                    dst_path=tmp, tracking_uri=self.client_uri or self.uri)
            except Exception:  # noqa: BLE001 - absent artifact
                return None
            return Path(file).read_bytes()[:max_bytes].decode("utf-8", "replace")


def open_store(uri: str) -> Store:
    """Resolve, probe and connect; raise `TrackingError` (quickly) if the store is not usable."""
    from aidebt_core.runs import readonly

    resolved = resolve_tracking_uri(uri)
    scheme = urlparse(resolved).scheme.lower()
    client_uri, note, folder = resolved, "", None
    if scheme == "sqlite":
        path = _sqlite_path(resolved)
        folder = path.resolve().parent
        _probe_sqlite(path)
        copy, note = readonly.sqlite_for_reading(path)
        if copy is not None:
            client_uri = _sqlite_uri(copy)
    elif scheme in ("http", "https"):
        for key, value in _HTTP_DEFAULTS.items():
            os.environ.setdefault(key, value)
        _probe_http(resolved)
    elif scheme == "file":
        # MLflow 3 refuses file stores unless opted in; aidebt only reads, so old stores stay
        # auditable.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        client_uri = readonly.file_store_overlay(Path(unquote(urlparse(resolved).path))
                                                 ).as_uri()
    elif scheme.split("+")[0] in readonly.SERVER_DATABASES:
        readonly.check_server_schema(resolved)
    from mlflow import MlflowClient

    client = _call(lambda: MlflowClient(tracking_uri=client_uri, registry_uri=client_uri),
                   "the tracking store")
    return Store(resolved, client, client_uri, note, folder)


def local_path(uri: str | None) -> Path | None:
    """The folder behind a `file:` URI or plain path; None for remote artifact stores."""
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return Path(uri)
    return None


def _list_local(root: Path, path: str | None) -> list[tuple[str, bool]]:
    folder = root / path if path else root
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    prefix = f"{path.rstrip('/')}/" if path else ""
    return sorted((prefix + e.name, e.is_dir()) for e in entries)


def _paged(fetch, limit: int | None = None) -> list:
    """Follow page tokens until the end (or `limit` items)."""
    items: list = []
    token = None
    while True:
        page = _call(lambda t=token: fetch(t), "the tracking store")
        items.extend(page)
        token = getattr(page, "token", None)
        if not token or (limit is not None and len(items) >= limit):
            return items[:limit] if limit is not None else items


def _call(thunk, what: str):
    """Run an MLflow call; its exceptions become a TrackingError naming what was read."""
    try:
        return thunk()
    except TrackingError:
        raise
    except Exception as exc:  # noqa: BLE001 - MlflowException, RestException, requests errors
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrackingError(f"Reading {what} failed: {message[:300]}") from exc


def _read_local_text(folder: Path, path: str, max_bytes: int) -> str | None:
    """A text file under a local artifact folder; None if absent or if `path` escapes it."""
    target = (folder / path).resolve()
    if not target.is_relative_to(folder.resolve()) or not target.is_file():
        return None
    return target.read_bytes()[:max_bytes].decode("utf-8", "replace")
