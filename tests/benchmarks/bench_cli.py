"""Benchmark the CLI's start-up and a small drift end to end: before and after lazy loading.

    python tests/benchmarks/bench_cli.py [--repeats 7] [--rows 100000] [--before 3cbe38d]

BEFORE is the tree at commit `--before` (the last commit before lazy command loading),
extracted with `git archive` into a temporary folder; AFTER is this checkout. Both run with the
same interpreter and packages (this .venv), the tree chosen by PYTHONPATH (checked: each run's
`aidebt_core` comes from its tree), as `python -c "<aidebt's entry point>" ARGS`, which is what
the `aidebt` console script does. Runs alternate between the two trees, so a change in the
machine's load hits both. Also measured: the interpreter floor (`python -c pass`, and with
numpy or pandas imported). CPU (user + system) is reported beside wall time: on a shared,
loaded machine it moves much less than wall time. The drift case is `aidebt drift REF CUR`
on `--rows` + `--rows` rows x 20 columns (bench_drift's generator: 10 numeric, 10
categorical), table output and `--format json`.

Targets (issue 19): `--version` and `drift -h` <= 0.6 s; the 100k drift <= 0.7 s end to end.
Results: tests/benchmarks/results/cli.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import check, markdown_table, measure  # noqa: E402
from bench_drift import generate  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
ENTRY = "import sys\nfrom aidebt_core.cli import main\nsys.exit(main())\n"
TARGETS = {"--version": 0.6, "drift -h": 0.6, "slices -h": 0.6, "drift 100k": 0.7,
           "drift 100k json": 0.7}


def extract(commit: str, folder: Path) -> Path:
    """The packages of `commit` in `folder` (git archive: the repository is not touched)."""
    archive = subprocess.run(["git", "archive", commit, "aidebt_core", "aidebt_app"],
                             cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def env_for(tree: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(tree), MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    return env


def where_from(tree: Path) -> Path:
    # -P: no current folder on sys.path (as the console script), so PYTHONPATH picks the tree.
    code = "import aidebt_core; print(aidebt_core.__file__)"
    out = subprocess.run([sys.executable, "-P", "-c", code], env=env_for(tree),
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return Path(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--before", default="3cbe38d")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_cli_") as tmp:
        tmp = Path(tmp)
        (tmp / "before").mkdir()
        before = extract(opts.before, tmp / "before")
        trees = {"before": before, "after": ROOT}
        for name, tree in trees.items():
            assert where_from(tree).is_relative_to(tree), (name, where_from(tree))
        ref, cur = tmp / "reference.parquet", tmp / "current.parquet"
        generate(opts.rows, 1, False, ref)
        generate(opts.rows, 2, True, cur)
        cases = {"--version": ["--version"], "-h": ["-h"], "drift -h": ["drift", "-h"],
                 "slices -h": ["slices", "-h"],
                 f"drift {opts.rows // 1000}k": ["drift", str(ref), str(cur)],
                 f"drift {opts.rows // 1000}k json": ["drift", str(ref), str(cur),
                                                      "--format", "json"]}
        same_result(trees, ref, cur)
        floors = {"python -c pass": "pass", "python + numpy": "import numpy",
                  "python + pandas": "import pandas"}
        rows = []
        for label, code in floors.items():
            runs = [check(measure([sys.executable, "-c", code]), label)
                    for _ in range(opts.repeats)]
            rows.append(summary(label, "", runs))
        for label, args in cases.items():
            runs = {name: [] for name in trees}
            for _ in range(opts.repeats):  # alternate: load changes hit both trees
                for name, tree in trees.items():
                    runs[name].append(check(measure([sys.executable, "-P", "-c", ENTRY, *args],
                                                    env=env_for(tree)), f"{name} {label}"))
            for name in trees:
                rows.append(summary(label, name, runs[name]))
    text = report(rows, opts)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cli.md").write_text(text + "\n")


def same_result(trees: dict, ref: Path, cur: Path) -> None:
    """Both trees find the same drifted columns with the same statistics and p-values (to
    1e-9: the chi-square p-value is computed without scipy since H19b, equal to ~1e-12)."""
    found, figures = {}, {}
    for name, tree in trees.items():
        out = subprocess.run([sys.executable, "-P", "-c", ENTRY, "drift", str(ref), str(cur),
                              "--format", "json"], env=env_for(tree), capture_output=True,
                             text=True, cwd=ROOT)
        assert out.returncode == 0, out.stderr[-1500:]
        document = json.loads(out.stdout)
        found[name] = sorted(c["name"] for c in document["columns"] if c["drifted"])
        figures[name] = {(c["name"], key): c[key] for c in document["columns"]
                         for key in ("statistic", "p_value")}
    assert found["before"] == found["after"], found
    for key, before in figures["before"].items():
        after = figures["after"][key]
        assert (before is None) == (after is None), key
        assert before is None or math.isclose(before, after, rel_tol=1e-9, abs_tol=1e-300), \
            (key, before, after)


def summary(label: str, tree: str, runs: list[dict]) -> dict:
    walls = sorted(r["wall"] for r in runs)
    target = TARGETS.get(label)
    median = statistics.median(walls)
    return {"case": label, "tree": tree, "median s": median, "min s": walls[0],
            "max s": walls[-1], "median CPU s": statistics.median(r["cpu"] for r in runs),
            "peak RSS MB": max(r["rss"] for r in runs),
            "target s": target,
            "meets": "" if target is None or tree != "after" else
            ("yes" if median <= target else "no")}


def report(rows: list[dict], opts) -> str:
    load = os.getloadavg()
    return (f"# CLI start-up and small drift, before ({opts.before}) and after\n\n"
            f"{opts.repeats} runs each, alternating trees; load average at the end "
            f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} on {os.cpu_count()} cores. "
            f"Drift: {opts.rows:,} + {opts.rows:,} rows x 20 columns, Parquet, table output "
            "and --format json. PYTHONDONTWRITEBYTECODE="
            f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r} (when set, every run compiles "
            "aidebt's modules again; an installed wheel has them compiled).\n\n"
            + markdown_table(rows))


if __name__ == "__main__":
    main()
