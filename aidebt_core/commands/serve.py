"""`aidebt serve`: start the dashboard (the same as `streamlit run app.py`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from aidebt_core.errors import AidebtError

APP = Path(__file__).resolve().parents[2] / "app.py"


def register(sub) -> None:
    parser = sub.add_parser("serve", help="start the dashboard")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--workspace", help="data folder or .duckdb file to open first "
                        "(default: ./sample_data)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    if not APP.exists():
        raise AidebtError(f"The dashboard app is not at {APP}; run from a source checkout.")
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    if args.workspace:
        env["AIDEBT_SAMPLE_DIR"] = str(Path(args.workspace).expanduser().resolve())
    argv = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(args.port),
            "--browser.gatherUsageStats", "false"]
    os.chdir(APP.parent)
    os.execve(sys.executable, argv, env)
    return 0  # not reached
