"""Benchmark `aidebt drift` end to end against a naive pandas + scipy loop, in the same run.

    python tests/benchmarks/bench_drift.py [--rows 1000000] [--repeats 3] [--big]
        [--data DIR] [--evidently /path/to/venv-with-evidently/bin/python]

Generates a 20-column table (10 numeric, 10 categorical incl. one with ~5,000 values, nulls,
6 drifted columns), reference and current of `--rows` rows each, as Parquet. Each contender
runs as its own process, `--repeats` times; wall time and peak RSS (getrusage of the child)
are measured. `--big` adds a 10M + 10M run of aidebt alone (the pandas baseline, at ~0.9 GB
per 1M + 1M rows, would need ~9 GB there). Evidently conflicts with this project's pandas 3,
so it runs from a separate interpreter when given. Results: tests/benchmarks/results/drift.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

# Run as a plain script (`python tests/benchmarks/bench_x.py`), not as a package module: put
# this folder on sys.path so the shared harness next to it can be imported.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import check, markdown_table, measure  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
DRIFTED = ["n0", "n1", "n2", "c0", "c1", "c9"]

BASELINE = r'''
import sys, json
import numpy as np, pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon
ref = pd.read_parquet(sys.argv[1]); cur = pd.read_parquet(sys.argv[2])
out = []
for col in ref.columns:
    a, b = ref[col].dropna(), cur[col].dropna()
    if pd.api.types.is_numeric_dtype(a):
        a, b = a.to_numpy(float), b.to_numpy(float)
        ks = stats.ks_2samp(a, b)
        w = stats.wasserstein_distance(a, b) / np.std(a)
        out.append((col, float(ks.statistic), float(ks.pvalue), float(w), bool(w >= 0.1)))
    else:
        table = pd.concat([a.value_counts(), b.value_counts()], axis=1).fillna(0)
        chi2 = stats.chi2_contingency(table.T.to_numpy())
        js = jensenshannon(table.iloc[:, 0], table.iloc[:, 1])
        out.append((col, float(chi2.statistic), float(chi2.pvalue), float(js), bool(js >= 0.1)))
print(json.dumps(out))
'''


EVIDENTLY = r'''
import sys, json, re
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref = pd.read_parquet(sys.argv[1]); cur = pd.read_parquet(sys.argv[2])
snap = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
out = []
for m in snap.dict()["metrics"]:
    cfg = m["config"]
    if cfg.get("type", "").endswith("ValueDrift"):
        pvalue = "p_value" in cfg["method"] or "test" in cfg["method"].lower()
        value = float(m["value"])
        out.append((cfg["column"], value, value < cfg["threshold"] if pvalue
                    else value >= cfg["threshold"]))
print(json.dumps(out))
'''


def generate(rows: int, seed: int, drifted: bool, path: Path) -> None:
    """Write one side; `drifted` shifts n0-n2 and c0, c1, c9 (and nothing else)."""
    rng = np.random.default_rng(seed)
    data = {}
    for i in range(10):
        values = rng.normal(10 * i, 1 + i, rows)
        if drifted and i == 0:
            values = values + 0.5          # mean shift of half a std
        if drifted and i == 1:
            values = (values - 10) * 1.5 + 10  # wider spread
        if drifted and i == 2:
            values = values + rng.exponential(2.0, rows)  # skewed upwards
        if i % 3 == 0:
            values = values.round(1)       # ties, as real data has
        values[rng.random(rows) < 0.02 * (i % 4)] = np.nan
        data[f"n{i}"] = values
    for i in range(9):
        k = 3 + i
        p = np.arange(k, 0, -1, dtype=float)
        if drifted and i == 0:
            p = p[::-1].copy()             # shares reversed
        p /= p.sum()
        labels = np.array([f"v{j}" for j in range(k)], dtype=object)
        values = labels[rng.choice(k, rows, p=p)]
        if drifted and i == 1:
            values[rng.random(rows) < 0.25] = "brand_new"
        values[rng.random(rows) < 0.01 * (i % 3)] = None
        data[f"c{i}"] = values
    ranks = rng.zipf(1.3, rows) % 5000
    if drifted:
        ranks = (ranks + 40) % 5000        # the popular codes move
    data["c9"] = np.array([f"code{r:04d}" for r in range(5000)], dtype=object)[ranks]
    frame = pd.DataFrame(data)
    frame.to_parquet(path, index=False)


def run_pair(rows: int, folder: Path, baseline: bool, repeats: int,
             evidently: str | None = None) -> list[dict]:
    ref, cur = folder / f"ref_{rows}.parquet", folder / f"cur_{rows}.parquet"
    if not ref.exists():
        t = time.perf_counter()
        generate(rows, 1, False, ref)
        generate(rows, 2, True, cur)
        print(f"generated {rows:,}+{rows:,} rows in {time.perf_counter() - t:.1f} s",
              file=sys.stderr)
    exe = str(ROOT / ".venv" / "bin" / "aidebt")
    out = []
    contenders = [("aidebt drift", [exe, "drift", str(ref), str(cur), "--format", "json"])]
    if baseline:
        contenders.append(("pandas + scipy (naive)",
                           [sys.executable, "-c", BASELINE, str(ref), str(cur)]))
    if evidently:
        contenders.append(("Evidently 0.7 (DataDriftPreset)",
                           [evidently, "-c", EVIDENTLY, str(ref), str(cur)]))
    for name, cmd in contenders:
        walls, peaks = [], []
        for _ in range(1 if name.startswith("Evidently") else repeats):
            info = check(measure(cmd), name, ok=(0, 1))  # 1: a --fail-on-* line crossed
            walls.append(info["wall"])
            peaks.append(info["rss"])
        drifted = _drifted(name, info["out"])
        out.append({"rows": f"{rows:,} + {rows:,}", "tool": name,
                    "wall_s_median": float(np.median(walls)), "wall_s_best": min(walls),
                    "peak_rss_mb_median": float(np.median(peaks)), "runs": len(walls),
                    "drifted": ", ".join(drifted)})
        print(f"{rows:>10,} {name:<24} median {np.median(walls):6.2f} s (best {min(walls):.2f})"
              f"  {np.median(peaks):7.0f} MB  drifted={','.join(drifted)}", file=sys.stderr)
    return out


def _drifted(name: str, stdout: str) -> list[str]:
    if name.startswith("aidebt"):
        return sorted(json.loads(stdout)["drifted_columns"])
    return sorted(c for c, *_, flag in json.loads(stdout) if flag)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big", action="store_true", help="also 10M + 10M rows (aidebt only)")
    parser.add_argument("--data", help="folder for the generated files (kept between runs)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per contender")
    parser.add_argument("--evidently", metavar="PYTHON",
                        help="a Python with evidently 0.7 installed (e.g. a separate venv): "
                             "adds it as a contender, run once")
    args = parser.parse_args()
    folder = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="aidebt_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = run_pair(args.rows, folder, baseline=True, repeats=args.repeats,
                    evidently=args.evidently)
    if args.big:
        rows += run_pair(10_000_000, folder, baseline=False, repeats=1)
    load = os.getloadavg()[0]
    RESULTS.mkdir(exist_ok=True)
    text = (f"# drift benchmark ({time.strftime('%Y-%m-%d %H:%M')} UTC, {os.cpu_count()} CPUs, "
            f"load average {load:.1f} at the end: a shared machine, figures are noisy)\n\n"
            "Planted drift in: " + ", ".join(DRIFTED) + "\n\n" + markdown_table(rows) + "\n")
    (RESULTS / "drift.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
