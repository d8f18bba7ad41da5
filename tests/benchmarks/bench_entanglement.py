"""Benchmark the entanglement matrix against a naive pandas loop, in the same run.

    python tests/benchmarks/bench_entanglement.py [--rows 1000000] [--data DIR]

Generates `--rows` rows × 40 mixed columns (26 numeric, 5 of them with 5 % missing, some
skewed; 14 categorical with 3–40 levels, some with 5 % missing), entangled through six latent
factors, as Parquet. Contenders, each in its own process (wall time and peak RSS of the child):
- `aidebt entanglement DATA --format json`, end to end with its defaults (above 250,000 rows
  a seeded Bernoulli sample of ≈250,000 rows, stated in the output);
- `aidebt_core` association matrix with the defaults, and on all rows (`max_rows=None`);
- the naive reference: pandas reads the file, `df.corr()` for the numeric pairs, then a
  per-pair loop: `pd.crosstab` + `scipy.stats.chi2_contingency` for bias-corrected Cramér's V,
  and a `groupby` per numeric × categorical pair for η.
The all-rows aidebt matrix and the naive one must agree cell by cell; the script prints the
largest difference. Results go to tests/benchmarks/results/entanglement.md.
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

NAIVE = r'''
import json, math, sys, time
t0 = time.perf_counter()
import numpy as np, pandas as pd
from scipy import stats
t1 = time.perf_counter()
df = pd.read_parquet(sys.argv[1])
num = [c for c in df.columns if c.startswith("num")]
cat = [c for c in df.columns if c.startswith("cat")]
out = {}
corr = df[num].corr()
for a in num:
    for b in num:
        if a != b:
            out[f"{a}|{b}"] = float(corr.loc[a, b])
def v(x, y):
    t = pd.crosstab(x, y).to_numpy()
    chi2 = stats.chi2_contingency(t, correction=False)[0]
    n, (r, k) = t.sum(), t.shape
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    return math.sqrt(phi2 / min(k - (k - 1) ** 2 / (n - 1) - 1, r - (r - 1) ** 2 / (n - 1) - 1))
for i, a in enumerate(cat):
    for b in cat[i + 1:]:
        out[f"{a}|{b}"] = out[f"{b}|{a}"] = v(df[a], df[b])
for a in num:
    for b in cat:
        part = df[[a, b]].dropna()
        means = part.groupby(b)[a].transform("mean")
        grand = part[a].mean()
        eta = math.sqrt(((means - grand) ** 2).sum() / ((part[a] - grand) ** 2).sum())
        out[f"{a}|{b}"] = out[f"{b}|{a}"] = eta
print(json.dumps({"compute_s": time.perf_counter() - t1, "values": out}))
'''

CORE = r'''
import json, sys, time
t0 = time.perf_counter()
from aidebt_core.data import connect, open_table
from aidebt_core.entanglement import association_matrix
from aidebt_core.workspace import Workspace
t1 = time.perf_counter()
ws = Workspace.at(sys.argv[2])
con = connect(ws)
table = open_table(con, ws, sys.argv[1])
kinds = {c: "numeric" if c.startswith("num") else "categorical" for c in table.columns}
max_rows = None if sys.argv[3] == "all" else int(sys.argv[3])
m = association_matrix(table, kinds, max_rows=max_rows)
values = {f"{a}|{b}": float(m.values[i, j]) for i, a in enumerate(m.columns)
          for j, b in enumerate(m.columns) if i != j}
print(json.dumps({"compute_s": time.perf_counter() - t1, "rows_used": m.rows_used,
                  "values": values}))
'''


def generate(rows: int, path: Path, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(rows, 6))
    cols = {}
    for k in range(26):
        v = latent[:, k % 6] * (0.3 + 0.1 * (k % 5)) + rng.normal(size=rows)
        if k % 7 == 3:
            v = np.exp(v)
        if k % 5 == 4:
            v[rng.random(rows) < 0.05] = np.nan
        cols[f"num_{k:02d}"] = v
    for k in range(14):
        levels = [3, 5, 8, 12, 20, 40][k % 6]
        z = latent[:, k % 6]
        codes = np.clip(((z + 3) / 6 * levels).astype(int) + rng.integers(-1, 2, rows), 0,
                        levels - 1)
        s = pd.array(np.array([f"L{i}" for i in range(levels)])[codes], dtype="string")
        if k % 4 == 1:
            s[rng.random(rows) < 0.05] = pd.NA
        cols[f"cat_{k:02d}"] = s
    pd.DataFrame(cols).to_parquet(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data", help="folder for the generated file (kept between runs)")
    args = parser.parse_args()
    folder = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="aidebt_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"entanglement_{args.rows}.parquet"
    if not data.exists():
        t = time.perf_counter()
        generate(args.rows, data)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t:.1f} s",
              file=sys.stderr)
    python = str(ROOT / ".venv" / "bin" / "python")
    cli = [str(ROOT / ".venv" / "bin" / "aidebt"), "entanglement", str(data), "--format",
           "json"]
    contenders = {
        "aidebt entanglement (CLI, defaults)": cli,
        "aidebt_core matrix (defaults)": [python, "-c", CORE, data.name, str(folder), "250000"],
        "aidebt_core matrix (all rows)": [python, "-c", CORE, data.name, str(folder), "all"],
        "pandas corr + crosstab loop (naive)": [python, "-c", NAIVE, str(data)],
    }
    runs = {name: check(measure(cmd), name) for name, cmd in contenders.items()}
    cli_out = json.loads(runs["aidebt entanglement (CLI, defaults)"]["out"])
    full = json.loads(runs["aidebt_core matrix (all rows)"]["out"])
    sampled = json.loads(runs["aidebt_core matrix (defaults)"]["out"])
    naive = json.loads(runs["pandas corr + crosstab loop (naive)"]["out"])
    diff_full = max(abs(full["values"][k] - naive["values"][k]) for k in naive["values"])
    diff_sample = max(abs(sampled["values"][k] - naive["values"][k]) for k in naive["values"])
    used = {"aidebt entanglement (CLI, defaults)": cli_out["rows_used"],
            "aidebt_core matrix (defaults)": sampled["rows_used"],
            "aidebt_core matrix (all rows)": full["rows_used"],
            "pandas corr + crosstab loop (naive)": args.rows}
    computes = {"aidebt_core matrix (defaults)": sampled["compute_s"],
                "aidebt_core matrix (all rows)": full["compute_s"],
                "pandas corr + crosstab loop (naive)": naive["compute_s"]}
    rows = []
    for name, info in runs.items():
        rows.append({"tool": name, "rows_used": used[name], "wall_s": info["wall"],
                     "cpu_s": info["cpu"], "compute_s": computes.get(name),
                     "peak_rss_mb": info["rss"]})
        print(f"{name:<38} wall {info['wall']:6.2f} s  cpu {info['cpu']:6.2f} s  "
              f"{info['rss']:7.0f} MB", file=sys.stderr)
    load = os.getloadavg()[0]
    text = (f"# entanglement benchmark ({time.strftime('%Y-%m-%d %H:%M')} UTC, "
            f"{os.cpu_count()} CPUs, load average {load:.1f}: shared machine, noisy)\n\n"
            f"{args.rows:,} rows × 40 columns (26 numeric, 14 categorical with 3–40 levels, "
            "missing values in 9), full 40 × 40 matrix: Pearson, bias-corrected Cramér's V, "
            "correlation ratio η.\n"
            "wall = whole process incl. Python start-up and imports; cpu = user + system time "
            "of the process (less sensitive to the machine's load); compute = after imports."
            "\n\n" + markdown_table(rows) + "\n\n"
            f"max |aidebt − naive| over all {len(naive['values'])} off-diagonal cells: all rows "
            f"{diff_full:.2e}; default ≈250k-row sample {diff_sample:.2e} (sampling error).\n")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "entanglement.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
