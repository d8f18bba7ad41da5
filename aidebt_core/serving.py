"""What a served dashboard may read: the roots and tracking URIs the operator fixed at start.

`aidebt serve` builds a `ServeConfig` from its options (and a config file), checks it, and hands
it to the Streamlit process as JSON in `AIDEBT_SERVE_CONFIG`. The dashboard reads it back with
`ServeConfig.from_env()` and lets the sidebar and the URL choose only among these values: a
link can pick a root or a tracking URI the operator listed, never name a new one. That is what
keeps `?ws=/etc` from listing /etc and `?mlflow=http://elsewhere` from receiving the MLflow
token.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aidebt_core.errors import AidebtError, SandboxError
from aidebt_core.workspace import DATA_FORMATS, default_sample_dir, refuse_system_root

ENV = "AIDEBT_SERVE_CONFIG"
DEFAULT_HOST = "127.0.0.1"
MLFLOW_DB = "mlflow.db"
# Keys of a `--config FILE`; anything else is refused so a typo does not silently widen nothing.
CONFIG_KEYS = ("workspaces", "tracking_uris", "store", "host", "auth")


def sqlite_uri(path: Path) -> str:
    return f"sqlite:///{path.as_posix()}"


@dataclass(frozen=True)
class ServeConfig:
    """The operator's choices for one served dashboard (frozen at start)."""

    roots: tuple[Path, ...]
    tracking_uris: tuple[str, ...] = ()
    host: str = DEFAULT_HOST
    auth: Mapping[str, Any] | None = field(default=None, compare=False)
    store: Path | None = None

    # ------------------------------------------------------------------ building and passing

    @classmethod
    def build(cls, workspaces: Iterable[str | Path] = (), tracking_uris: Iterable[str] = (),
              config_file: str | Path | None = None, host: str | None = None,
              store: str | Path | None = None, auth: Mapping[str, Any] | None = None
              ) -> ServeConfig:
        """Check the operator's options (plus a config file) and fix them for the server.

        Roots must exist and must not be system or home folders; without any root the sample
        folder is the root. Without tracking URIs, each root's `mlflow.db` (if present) is one.
        Options given on the command line come before the config file's.
        """
        file = _read_config_file(config_file) if config_file else {}
        raw_roots = [*workspaces, *file.get("workspaces", ())]
        roots = tuple(dict.fromkeys(check_root(r) for r in raw_roots)) or (default_sample_dir(),)
        uris = [*tracking_uris, *file.get("tracking_uris", ())]
        if not uris:
            uris = [sqlite_uri(r / MLFLOW_DB) for r in roots if (r / MLFLOW_DB).is_file()]
        raw_store = store or file.get("store")
        return cls(roots=roots, tracking_uris=tuple(dict.fromkeys(check_tracking_uri(u)
                                                                  for u in uris)),
                   host=host or file.get("host") or DEFAULT_HOST,
                   auth=auth if auth is not None else file.get("auth"),
                   store=Path(raw_store).expanduser().resolve() if raw_store else None)

    def to_env(self) -> str:
        return json.dumps({"roots": [str(r) for r in self.roots],
                           "tracking_uris": list(self.tracking_uris), "host": self.host,
                           "auth": dict(self.auth) if self.auth is not None else None,
                           "store": str(self.store) if self.store else None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServeConfig:
        """The configuration `aidebt serve` passed, else the sample folder as the only root.

        The fallback is what `streamlit run app.py` and the AppTests get: the sample data and
        its MLflow store, nothing else.
        """
        environ = os.environ if environ is None else environ
        text = environ.get(ENV)
        if not text:
            sample = default_sample_dir()
            db = sample / MLFLOW_DB
            return cls(roots=(sample,), tracking_uris=(sqlite_uri(db),) if db.is_file() else ())
        try:
            raw = json.loads(text)
            roots = tuple(refuse_system_root(r) for r in raw["roots"])
            return cls(roots=roots, tracking_uris=tuple(raw.get("tracking_uris") or ()),
                       host=raw.get("host") or DEFAULT_HOST, auth=raw.get("auth"),
                       store=Path(raw["store"]) if raw.get("store") else None)
        except (ValueError, KeyError, TypeError) as exc:
            raise AidebtError(f"{ENV} is not a valid server configuration: {exc}") from None

    # ------------------------------------------------------------------ what a link may pick

    def root(self, requested: str | Path) -> Path:
        """The allowed root a link or the sidebar names; anything else is refused unopened."""
        text = str(requested).strip()
        for root in self.roots:
            if text in (str(root), root.as_posix()):
                return root
        # Compare lexically (no resolve): a refused path is never touched on disk.
        normalized = os.path.normpath(os.path.expanduser(text)) if text else ""
        for root in self.roots:
            if normalized == os.path.normpath(str(root)):
                return root
        raise SandboxError(f"Workspace '{text}' is not one of the folders this server was "
                           f"started with ({self.describe_roots()}). Pick one in the sidebar.")

    def tracking_uri(self, requested: str) -> str:
        """An allowed tracking URI; any other is refused and never contacted."""
        text = str(requested).strip()
        if text in self.tracking_uris:
            return text
        allowed = ", ".join(display_uri(u) for u in self.tracking_uris) or "none"
        raise SandboxError(f"Tracking URI '{text}' is not one this server was started with "
                           f"(allowed: {allowed}). Pick one in the sidebar.")

    def default_tracking_uri(self, root: Path) -> str:
        """The root's own `mlflow.db` when it is allowed, else the first allowed URI, else ''."""
        own = sqlite_uri(_folder(root) / MLFLOW_DB)
        if own in self.tracking_uris:
            return own
        return self.tracking_uris[0] if self.tracking_uris else ""

    def describe_roots(self) -> str:
        return ", ".join(str(r) for r in self.roots)


def display_uri(uri: str) -> str:
    """A tracking URI as shown to a viewer: any user:password in it replaced by ***."""
    parts = urlsplit(uri)
    if not parts.netloc or "@" not in parts.netloc:
        return uri
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


def check_root(raw: str | Path) -> Path:
    """A workspace root the operator gave: it exists, is a folder or DuckDB file, not a system
    folder."""
    path = Path(raw).expanduser()
    if not path.exists():
        raise AidebtError(f"Workspace '{raw}' does not exist. Give an existing folder or "
                          ".duckdb file.")
    resolved = refuse_system_root(path)
    if resolved.is_file() and DATA_FORMATS.get(resolved.suffix.lower()) != "duckdb":
        raise AidebtError(f"Workspace '{raw}' is a file; give a folder or a .duckdb file.")
    return resolved


def check_tracking_uri(raw: str) -> str:
    """A tracking URI the operator listed, refused when it names nothing usable."""
    text = str(raw).strip()
    if not text:
        raise AidebtError("An empty tracking URI was given; give sqlite:///path/mlflow.db, a "
                          "folder or http://host:port.")
    if text.rstrip("/") in ("sqlite:", "sqlite:/", "sqlite://"):
        raise AidebtError(f"Tracking URI '{text}' has no database path; give "
                          "sqlite:///path/mlflow.db.")
    return text


def _read_config_file(path: str | Path) -> dict:
    from aidebt_core.safeload import load_document

    path = Path(path).expanduser()
    document = load_document(path) or {}
    if not isinstance(document, dict):
        raise AidebtError(f"{path.name}: expected a mapping with keys {', '.join(CONFIG_KEYS)}.")
    unknown = sorted(set(document) - set(CONFIG_KEYS))
    if unknown:
        raise AidebtError(f"{path.name}: unknown key(s) {', '.join(map(str, unknown))}; known "
                          f"keys are {', '.join(CONFIG_KEYS)}.")
    config = dict(document)
    for key in ("workspaces", "tracking_uris"):
        value = config.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise AidebtError(f"{path.name}: '{key}' must be a list of strings.")
        config[key] = value
    # Relative folders in the file are relative to the file, not to where serve was started.
    base = path.resolve().parent
    config["workspaces"] = [str(base / Path(w).expanduser()) for w in config["workspaces"]]
    if config.get("store"):
        config["store"] = str(base / Path(str(config["store"])).expanduser())
    if config.get("auth") is not None and not isinstance(config["auth"], dict):
        raise AidebtError(f"{path.name}: 'auth' must be a mapping.")
    return config


def _folder(root: Path) -> Path:
    return root if root.is_dir() else root.parent
