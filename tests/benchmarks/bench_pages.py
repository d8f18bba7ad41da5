"""First render of every dashboard page on the sample scenario, in seconds (Streamlit AppTest).

    .venv/bin/python tests/benchmarks/bench_pages.py [--repeat 3] [--page pages/drift.py ...]

Each page is measured in its own Python process, two ways:
- "cold process": the page's first run in a fresh process (its imports included), as on a
  server's first visit to it;
- "cold cache": the median of `--repeat` further runs in that process, each after clearing
  `st.cache_data` and `st.cache_resource` (imports warm), i.e. what caching saves or costs.
The Audit and Scorecard pages read a temporary audit store holding the sample audits, and the
Audit page opens on a known model, so its first render measures the evidence pre-fill.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("app.py", "pages/data.py", "pages/drift.py", "pages/performance.py",
         "pages/slices.py", "pages/entanglement.py", "pages/reproducibility.py",
         "pages/audit.py", "pages/scorecard.py")
STATE = {"pages/audit.py": {"aud_model": "credit-default"}}
TIMEOUT = 600  # seconds for one page run


def _one_run(page: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT)
    for key, value in STATE.get(page, {}).items():
        at.session_state[key] = value
    start = time.perf_counter()
    at.run()
    took = time.perf_counter() - start
    if at.exception:
        raise SystemExit(f"{page}: {[e.value for e in at.exception]}")
    return took


def measure_page(page: str, repeat: int) -> dict:
    """In this process: the first run, then `repeat` runs on cleared caches."""
    import streamlit as st

    first = _one_run(page)
    again = []
    for _ in range(repeat):
        st.cache_data.clear()
        st.cache_resource.clear()
        again.append(_one_run(page))
    return {"page": page, "cold_process": first, "cold_cache": statistics.median(again),
            "runs": again}


def _sample_store() -> Path:
    """A temporary audit store with the sample audits (the sample folder is never written)."""
    sys.path.insert(0, str(ROOT))
    from aidebt_core.audit.sample_audits import write_sample_audits
    from aidebt_core.audit.store import workspace_store_path
    from tests.conftest import ensure_sample

    truth = json.loads((ensure_sample() / "ground_truth.json").read_text())
    folder = Path(tempfile.mkdtemp(prefix="aidebt-bench-pages-"))
    write_sample_audits(folder, truth)
    return workspace_store_path(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--page", action="append", help="only these pages (repeatable)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child: measure one page
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_page(args.one, args.repeat)))
        return
    from aidebt_core.audit.store import STORE_ENV

    env = dict(os.environ, **{STORE_ENV: str(_sample_store()),
                              "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"})
    env.pop("AIDEBT_SERVE_CONFIG", None)  # the sample folder as the only root
    rows = []
    for page in args.page or PAGES:
        proc = subprocess.run([sys.executable, __file__, "--one", page, "--repeat",
                               str(args.repeat)], capture_output=True, text=True, cwd=ROOT,
                              env=env)
        if proc.returncode:
            raise SystemExit(f"{page} failed:\n{proc.stderr[-3000:]}{proc.stdout[-2000:]}")
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        row = rows[-1]
        print(f"{page}: {row['cold_process']:.2f} s / {row['cold_cache']:.2f} s", file=sys.stderr)
    print(f"| page | cold process (s) | cold cache, median of {args.repeat} (s) |")
    print("|---|---:|---:|")
    for row in rows:
        print(f"| {row['page']} | {row['cold_process']:.2f} | {row['cold_cache']:.2f} |")
    total_process = sum(r["cold_process"] for r in rows)
    total_cache = sum(r["cold_cache"] for r in rows)
    print(f"| total | {total_process:.2f} | {total_cache:.2f} |")


if __name__ == "__main__":
    main()
