"""Benchmark drift through profiles (the embedded DuckDB default above 20M rows a side)
against the exact path, in one run.

    python tests/benchmarks/bench_profiles.py [--rows 100000000] [--exact-rows 10000000]
        [--profile-rows-too 10000000] [--data DIR] [--keep] [--before REV]

Generates (with DuckDB, as Parquet, in a temporary folder unless --data) a reference and a
current table of 20 columns (10 numeric: normal, lognormal, heavy-tailed, zero-inflated,
integers; 10 categorical incl. one with ~5,000 values; NULLs; 6 drifted columns), then runs
`aidebt drift REF CUR --format json` as its own process:
- at `--rows` a side with the defaults (above 20M rows a side: profiles);
- at `--profile-rows-too` a side through profiles (`--profile-rows 1`), for scale;
- at `--exact-rows` a side with `--exact` (the old exact path), for comparison.
With `--before REV` the profiles run at `--profile-rows-too` is repeated with the code of git
revision REV (its `aidebt_core` extracted to a temporary folder), alternating with the current
code, for a before/after on the same machine load.
Wall time, CPU time (user + system: what the load of a shared machine changes least) and peak
RSS (getrusage of the child) per run, and the 1-minute load average when each run started;
the drift flags of the runs on the same data are compared. Results:
tests/benchmarks/results/profiles.md. Checks disk space first (about 45 bytes a row a side).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import check, markdown_table, measure  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
AIDEBT = str(Path(sys.executable).with_name("aidebt"))
BYTES_PER_ROW = 45   # Parquet, both sides' 20 columns, measured on 10M rows (with margin)
DRIFTED = ["n_normal", "n_lognormal", "n_zero_inflated", "c_channel", "c_region", "c_device"]


def generate(folder: Path, rows: int, drifted: bool, name: str) -> Path:
    """One side as Parquet, generated in DuckDB (no rows pass through Python)."""
    import duckdb

    s = 0.4 if drifted else 0.0
    u = "random()"
    normal = f"sqrt(-2 * ln(1 - {u})) * cos(2 * pi() * {u})"
    sql = f"""
    SELECT
      {normal} + {s} AS n_normal,
      exp(10 + 0.6 * ({normal}) + {s}) AS n_lognormal,
      tan(pi() * ({u} - 0.5)) AS n_cauchy,
      CASE WHEN {u} < {0.5 + s / 2} THEN 0 ELSE -ln(1 - {u}) * 100 END AS n_zero_inflated,
      CAST(floor({u} * 80) + 18 AS INTEGER) AS n_age,
      CAST(floor({u} * 121) AS INTEGER) AS n_tenure,
      CASE WHEN {u} < 0.05 THEN NULL ELSE {u} * 1000 END AS n_with_nulls,
      {u} AS n_uniform,
      CAST(floor(-ln(1 - {u}) * 3) AS BIGINT) AS n_counts,
      round({normal} * 50 + 650) AS n_points,
      (ARRAY['branch','web','phone','partner'])[CAST(floor({u} * {4 if drifted else 3}) AS INT)
        + 1] AS c_channel,
      'R' || CAST(floor(pow({u}, {1.5 if drifted else 1.0}) * 12) AS INT) AS c_region,
      CASE WHEN {u} < {0.3 if drifted else 0.5} THEN 'ios' ELSE 'android' END AS c_device,
      'P' || CAST(floor({u} * 5000) AS INT) AS c_postcode,
      (ARRAY['a','b','c','d','e'])[CAST(floor({u} * 5) AS INT) + 1] AS c_grade,
      CASE WHEN {u} < 0.1 THEN NULL ELSE 'yes' END AS c_flag,
      {u} < 0.4 AS c_homeowner,
      (ARRAY['s','m','l'])[CAST(floor({u} * 3) AS INT) + 1] AS c_size,
      CAST(floor({u} * 20) AS VARCHAR) AS c_branch,
      (ARRAY['x','y'])[CAST(floor({u} * 2) AS INT) + 1] AS c_xy
    FROM range({int(rows)})
    """
    path = folder / f"{name}.parquet"
    if path.exists():   # a kept --data folder: reuse what an earlier run generated
        return path
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")   # DuckDB draws it on stdout after 2 s
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)")
    con.close()
    return path


def run_drift(ref: Path, cur: Path, *extra: str, code: Path | None = None) -> dict:
    """`aidebt drift REF CUR --format json` in its own process (with `code`'s aidebt_core
    first on the path when given)."""
    cmd = [AIDEBT, "drift", str(ref), str(cur), "--format", "json", *extra]
    if code is not None:   # first on sys.path, before the checkout (the working directory)
        cmd = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(code)!r}); "
               "from aidebt_core.cli import main; sys.exit(main())", *cmd[1:]]
    load = os.getloadavg()[0]
    info = check(measure(cmd, timeout=3600), "aidebt drift")
    doc = json.loads(info["out"])
    info["load"] = load
    info["drifted"] = sorted(doc["drifted_columns"])
    info["binned"] = sum(1 for c in doc["columns"] if not c.get("exact", True))
    info["rows"] = doc["reference_rows"]
    return info


def extract(rev: str, folder: Path) -> Path:
    """`rev`'s aidebt_core in `folder` (git archive: the working tree is not touched)."""
    archive = subprocess.run(["git", "archive", rev, "aidebt_core"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def result_row(what: str, n: int, info: dict) -> dict:
    print(f"{what}: {n:,} rows a side: {info['wall']:.1f} s, CPU {info['cpu']:.1f} s, "
          f"{info['rss']:.0f} MB (load {info['load']:.1f})", file=sys.stderr)
    return {"path": what, "rows a side": n, "wall s": info["wall"], "CPU s": info["cpu"],
            "peak RSS MB": info["rss"], "load avg": info["load"],
            "binned columns": info["binned"], "drifted": ", ".join(info["drifted"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--exact-rows", type=int, default=10_000_000)
    parser.add_argument("--profile-rows-too", type=int, default=10_000_000)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--before", metavar="REV",
                        help="also run the --profile-rows-too case with revision REV's code")
    args = parser.parse_args()
    folder = args.data or Path(tempfile.mkdtemp(prefix="aidebt-bench-profiles-"))
    folder.mkdir(parents=True, exist_ok=True)
    sizes = sorted({args.rows, args.exact_rows, args.profile_rows_too})
    need = sum(sizes) * BYTES_PER_ROW
    free = shutil.disk_usage(folder).free
    if need > free * 0.8:
        raise SystemExit(f"needs ~{need / 1e9:.0f} GB in {folder}, {free / 1e9:.0f} GB free; "
                         "give --rows smaller or --data elsewhere")
    rows_out = []
    try:
        data = {}
        for n in sizes:
            t = time.perf_counter()
            data[n] = (generate(folder, n, False, f"ref_{n}"), generate(folder, n, True,
                                                                         f"cur_{n}"))
            print(f"generated {n:,} + {n:,} rows in {time.perf_counter() - t:.0f} s",
                  file=sys.stderr)
        runs = [("profiles (default: above 20M)", args.rows, ()),
                ("profiles (--profile-rows 1)", args.profile_rows_too, ("--profile-rows", "1")),
                ("exact (--exact)", args.exact_rows, ("--exact",))]
        if args.before:
            old = extract(args.before, Path(tempfile.mkdtemp(prefix="aidebt-before-")))
            n, extra = args.profile_rows_too, ("--profile-rows", "1")
            for turn in range(2):   # alternate, so both see the same load
                rows_out.append(result_row(f"profiles, before ({args.before})", n,
                                           run_drift(*data[n], *extra, code=old)))
                rows_out.append(result_row(f"profiles, after (turn {turn + 1})", n,
                                           run_drift(*data[n], *extra)))
            shutil.rmtree(old, ignore_errors=True)
        for what, n, extra in runs:
            if what.startswith("profiles (default") and n <= 20_000_000:
                extra = ("--profile-rows", "1")
            rows_out.append(result_row(what, n, run_drift(*data[n], *extra)))
    finally:
        if not args.keep and not args.data:
            shutil.rmtree(folder, ignore_errors=True)
    flags = {r["drifted"] for r in rows_out}
    table = markdown_table(rows_out)
    text = (f"# drift through profiles vs exact reads (20 columns, 2 cores)\n\n{table}\n\n"
            f"Same drift flags on every run: {'yes' if len(flags) == 1 else 'NO'} "
            f"(planted: {', '.join(sorted(DRIFTED))}). Load average: the machine's 1-minute "
            f"load when the run started (2 cores; above 2, other work shared them).\n")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "profiles.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
