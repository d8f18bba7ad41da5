"""`aidebt serve`: start the dashboard inside the boundary the operator fixes here.

The allowed data roots and tracking URIs are checked now (a bad one exits 2 before anything
listens) and passed to the Streamlit process as `AIDEBT_SERVE_CONFIG`; the dashboard lets a
browser choose only among them.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import replace
from pathlib import Path

from aidebt_core.commands import _types as types
from aidebt_core.commands._signin import add_signin_options, signin_from_args
from aidebt_core.errors import AidebtError
from aidebt_core.serving import DEFAULT_HOST, ENV, ServeConfig
from aidebt_core.signin import serve_environment
from aidebt_core.workspace import default_sample_dir

# Where aidebt_core sits: a source checkout's root (app.py, pages/ and pyproject.toml beside
# it), or site-packages when installed from the wheel.
CHECKOUT = Path(__file__).resolve().parents[2]
PACKAGED = "dashboard"  # the wheel's copy of app.py, pages/, .streamlit/ (setup.py) in aidebt_app


def dashboard_app() -> Path:
    """The `app.py` to serve: the checkout's own when running from source (so edits show at
    once), else the copy the wheel carries in `aidebt_app/dashboard/`."""
    source = CHECKOUT / "app.py"
    if source.is_file() and (CHECKOUT / "pages").is_dir() \
            and (CHECKOUT / "pyproject.toml").is_file():
        return source
    spec = importlib.util.find_spec("aidebt_app")  # finds it without importing streamlit
    folders = list(spec.submodule_search_locations or ()) if spec else []
    for folder in folders:
        packaged = Path(folder) / PACKAGED / "app.py"
        if packaged.is_file():
            return packaged
    raise AidebtError("The dashboard app is missing: neither a source checkout's app.py "
                      f"(at {source}) nor the installed copy in aidebt_app/{PACKAGED}/ was "
                      "found; reinstall aidebt (pip install --force-reinstall aidebt).")


def default_workspace() -> Path:
    """Without --workspace: $AIDEBT_SAMPLE_DIR, else the checkout's sample_data when running
    from source (`make run`), else ./sample_data in the current folder."""
    if os.environ.get("AIDEBT_SAMPLE_DIR") or dashboard_app().parent != CHECKOUT:
        return default_sample_dir()
    return CHECKOUT / "sample_data"


def register(sub) -> None:
    parser = sub.add_parser("serve", help="start the dashboard")
    parser.add_argument("--port", type=types.port, default=8501)
    parser.add_argument("--workspace", action="append", default=[], metavar="DIR",
                        help="a data folder or .duckdb file the dashboard may read "
                        "(repeatable; default: ./sample_data)")
    parser.add_argument("--tracking-uri", action="append", default=[], metavar="URI",
                        help="an MLflow tracking URI the dashboard may contact (repeatable; "
                        "default: each workspace's mlflow.db)")
    parser.add_argument("--config", metavar="FILE", help="YAML/JSON file with workspaces, "
                        "tracking_uris and store")
    parser.add_argument("--store", metavar="FILE", help="where saved audits go (default: "
                        ".aidebt/audits.sqlite in the first workspace, created on the first save)")
    add_signin_options(parser)  # --host and sign-in (aidebt_core/commands/_signin.py)
    parser.set_defaults(handler=run)


def build_config(args) -> ServeConfig:
    """The checked server configuration from the command line (exit 2 on any bad value)."""
    if not 1 <= args.port <= 65535:
        raise AidebtError(f"--port {args.port} is not a port number; use 1 to 65535.")
    workspaces = args.workspace
    if not workspaces and not args.config:
        # As before the boundary: the sample folder (or $AIDEBT_SAMPLE_DIR).
        sample = str(default_workspace())
        if not Path(sample).expanduser().exists():
            raise AidebtError(f"No --workspace given and no sample data at {sample}; give "
                              "--workspace DIR (your data folder) or run `aidebt sample "
                              f"{sample}`.")
        workspaces = [sample]
    return ServeConfig.build(workspaces=workspaces, tracking_uris=args.tracking_uri,
                             config_file=args.config, host=getattr(args, "host", None),
                             store=args.store)


def streamlit_argv(config: ServeConfig, port: int, app: Path | None = None) -> list[str]:
    app = app or dashboard_app()
    return [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
            "--server.address", config.host or DEFAULT_HOST, "--server.headless", "true",
            "--browser.gatherUsageStats", "false"]


def run(args) -> int:
    app = dashboard_app()
    config = build_config(args)
    # Sign-in: a non-loopback host without it exits 2 here; the app gets only the method.
    auth = signin_from_args(args, config.host, config.auth)
    config = replace(config, auth=auth.public_dict() if auth else None)
    auth_env, auth_argv = serve_environment(auth)
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", **auth_env)
    env[ENV] = config.to_env()
    os.chdir(app.parent)  # Streamlit reads .streamlit/config.toml from the working folder
    os.execve(sys.executable, streamlit_argv(config, args.port, app) + auth_argv, env)
    return 0  # not reached
