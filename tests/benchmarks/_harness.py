"""Shared pieces of the benchmark scripts: run one contender and measure it, write a table.

`measure(cmd)` runs `cmd` under a small wrapper process, so `getrusage(RUSAGE_CHILDREN)` in
the wrapper sees only that contender: its peak RSS is its own, not the benchmark script's (or
an earlier contender's). `markdown_table(frame)` writes the results table.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
ERR_TAIL = 1500  # characters of the contender's stderr kept

# Runs in the wrapper process: argv[1] is a JSON dict of options, the rest the command.
# On timeout subprocess.run kills and reaps the child before raising, so its usage counts.
WRAPPER = r'''
import json, resource, subprocess, sys, time
opts = json.loads(sys.argv[1])
cap = opts["cap"]
limit = None if cap is None else (lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)))
t = time.perf_counter()
try:
    p = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=opts["timeout"],
                       preexec_fn=limit)
    rc, out, err = p.returncode, p.stdout, p.stderr[-opts["tail"]:]
except subprocess.TimeoutExpired:
    rc, out, err = None, "", f"timed out after {opts['timeout']:g} s"
w = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": w, "rss": r.ru_maxrss / 1024, "cpu": r.ru_utime + r.ru_stime,
                  "rc": rc, "out": out, "err": err}))
'''


def measure(cmd: Sequence[str], *, timeout: float | None = None,
            memory_cap_gb: float | None = None, env: Mapping[str, str] | None = None) -> dict:
    """Run `cmd` (from the repository root) in its own wrapper process and measure it.

    Returns {"wall": s, "rss": peak RSS in MB, "cpu": user + system s, "rc": exit code,
    "out": stdout, "err": the last 1,500 characters of stderr}. `timeout` (s) stops the
    contender: then rc is None and err says so. `memory_cap_gb` caps the contender's address
    space (RLIMIT_AS), so one that needs too much memory fails (usually rc 1, MemoryError)
    instead of starving the shared machine. `env` replaces the environment when given.
    The exit code is not checked here; see `check`.
    """
    cap = None if memory_cap_gb is None else int(memory_cap_gb * 2**30)
    opts = json.dumps({"timeout": timeout, "cap": cap, "tail": ERR_TAIL})
    proc = subprocess.run([sys.executable, "-c", WRAPPER, opts, *cmd], capture_output=True,
                          text=True, cwd=ROOT, env=None if env is None else dict(env))
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"measuring {list(cmd[:2])} failed: {proc.stderr[-ERR_TAIL:]}") from None


def check(info: dict, name: str, ok: Iterable[int] = (0,)) -> dict:
    """Stop the benchmark (SystemExit) unless the contender's exit code is in `ok`."""
    if info["rc"] not in tuple(ok):
        raise SystemExit(f"{name} failed: {info['err']}")
    return info


def markdown_table(frame: pd.DataFrame | Sequence[Mapping], *, thousands: bool = True) -> str:
    """A Markdown table of `frame` (or a list of row dicts): floats with 2 decimals, integers
    with thousands separators (unless `thousands=False`), None / NaN as empty cells."""
    frame = pd.DataFrame(frame).astype(object)

    def cell(v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        if isinstance(v, float):
            return f"{v:.2f}"
        if isinstance(v, int) and not isinstance(v, bool) and thousands:
            return f"{v:,}"
        return str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines)
