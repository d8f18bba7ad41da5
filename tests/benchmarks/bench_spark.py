"""Benchmark drift on spark: sources through a local Spark Connect server: the aidebt
process's own peak RSS (goal < 500 MB whatever the row count) and the wall time Spark takes.

    python tests/benchmarks/bench_spark.py [--rows 10000000 [--rows 100000000 ...]]
        [--data DIR] [--keep] [--driver-memory 2g] [--duckdb-too]

The data are bench_profiles.py's (20 columns, 6 drifted; generated with DuckDB as Parquet,
reused from --data when there). The server (local[2], from the pip pyspark package, as the
tests start it but tuned for large data: code generation on, the full JIT) runs in its own
process, so `measure` sees only the aidebt command: `aidebt drift spark:parquet:REF
spark:parquet:CUR --spark-remote sc://... --format json`. The Spark server's own peak RSS
(VmHWM) is reported beside it. With --duckdb-too, the same files through DuckDB's profiles
(`--profile-rows 1`) for the flags and the wall time on one machine. Results:
tests/benchmarks/results/spark.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from _harness import check, markdown_table, measure  # noqa: E402
from bench_profiles import BYTES_PER_ROW, DRIFTED, generate  # noqa: E402

from tests.spark_fixtures import start_connect_server, stop_server  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
AIDEBT = str(Path(sys.executable).with_name("aidebt"))
RSS_GOAL_MB = 500


def server_peak_mb(pid: int) -> float | None:
    """The server JVM's peak resident memory (VmHWM), read before it stops."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def drift(ref: Path, cur: Path, *extra: str) -> dict:
    info = check(measure([AIDEBT, "drift", *map(str, (ref, cur)), "--format", "json", *extra],
                         timeout=7200), "aidebt drift")
    doc = json.loads(info["out"])
    info["drifted"] = ", ".join(sorted(doc["drifted_columns"]))
    info["rows"] = doc["reference_rows"]
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--duckdb-too", action="store_true")
    args = parser.parse_args()
    sizes = sorted(set(args.rows or [10_000_000]))
    folder = args.data or Path(tempfile.mkdtemp(prefix="aidebt-bench-spark-"))
    folder.mkdir(parents=True, exist_ok=True)
    need = sum(sizes) * BYTES_PER_ROW
    if need > shutil.disk_usage(folder).free * 0.8:
        raise SystemExit(f"needs ~{need / 1e9:.0f} GB in {folder}; give --rows smaller")
    rows_out = []
    url, proc, work = start_connect_server(small_data=False, driver_memory=args.driver_memory)
    try:
        for n in sizes:
            t = time.perf_counter()
            ref = generate(folder, n, False, f"ref_{n}")
            cur = generate(folder, n, True, f"cur_{n}")
            print(f"data: {n:,} + {n:,} rows in {time.perf_counter() - t:.0f} s",
                  file=sys.stderr)
            info = drift(f"spark:parquet:{ref}", f"spark:parquet:{cur}", "--spark-remote", url)
            rows_out.append({"path": "Spark Connect (local[2])", "rows a side": n,
                             "wall s": info["wall"], "aidebt peak RSS MB": info["rss"],
                             "Spark server peak RSS MB": server_peak_mb(proc.pid),
                             "drifted": info["drifted"]})
            print(rows_out[-1], file=sys.stderr)
            if args.duckdb_too:
                info = drift(ref, cur, "--profile-rows", "1")
                rows_out.append({"path": "DuckDB profiles (same files)", "rows a side": n,
                                 "wall s": info["wall"], "aidebt peak RSS MB": info["rss"],
                                 "Spark server peak RSS MB": None, "drifted": info["drifted"]})
                print(rows_out[-1], file=sys.stderr)
    finally:
        stop_server(proc)
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep and not args.data:
            shutil.rmtree(folder, ignore_errors=True)
    spark_rss = [r["aidebt peak RSS MB"] for r in rows_out if r["path"].startswith("Spark")]
    flags = {r["drifted"] for r in rows_out}
    text = (f"# drift on spark: sources through local Spark Connect (20 columns, 2 cores)\n\n"
            f"{markdown_table(rows_out)}\n\n"
            f"aidebt's own peak RSS below {RSS_GOAL_MB} MB on every Spark run: "
            f"{'yes' if max(spark_rss) < RSS_GOAL_MB else 'NO'}. Same drift flags on every "
            f"run: {'yes' if len(flags) == 1 else 'NO'} (planted: {', '.join(DRIFTED)}).\n")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "spark.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
