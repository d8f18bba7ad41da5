"""Benchmark `aidebt performance` against a naive pandas + scikit-learn loop, in the same run.

    python tests/benchmarks/bench_performance.py [--rows 1000000] [--data DIR]

Generates `--rows` loan-like rows over 12 months (reference months 1-6, labels missing in
month 12, calibrated scores with concept drift from month 10) as Parquet. Contenders, each in
its own process (wall time and peak RSS from getrusage of the child):
- `aidebt performance` end to end (CLI: start-up, imports, DuckDB read, all 7 metrics with
  CIs, CBPE estimate with leave-one-chunk-out calibration, bands, JSON out);
- the naive reference: pandas reads the four columns, groups by month, calls scikit-learn
  per chunk for all 7 metrics, fits sklearn's IsotonicRegression on the reference, and
  estimates each metric per chunk (expected AUC via sklearn's weighted AUC) — no CIs, no
  leave-one-out, so it does less work than aidebt.
Both print their per-chunk realized and estimated values; the script checks they agree.
Results go to tests/benchmarks/results/performance.md.
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
METRICS = ["roc_auc", "accuracy", "precision", "recall", "f1", "log_loss", "brier"]

BASELINE = r'''
import json, sys, time
t0 = time.perf_counter()
import numpy as np, pandas as pd
from sklearn import metrics as skm
from sklearn.isotonic import IsotonicRegression
t1 = time.perf_counter()
df = pd.read_parquet(sys.argv[1], columns=["applied_at", "defaulted", "score", "decision"])
month = df["applied_at"].dt.to_period("M")
ref = df[df["applied_at"] < "2024-07-01"]
iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(ref["score"],
                                                                   ref["defaulted"])
out = {}
for key, part in df.groupby(month):
    s, d = part["score"].to_numpy(), part["decision"].to_numpy()
    p = iso.predict(s)
    tp, fn = p[d == 1].sum(), p[d == 0].sum()
    fp, tn = (d == 1).sum() - tp, (d == 0).sum() - fn
    est = {"roc_auc": skm.roc_auc_score(np.r_[np.ones(len(s)), np.zeros(len(s))], np.r_[s, s],
                                        sample_weight=np.r_[p, 1 - p]),
           "accuracy": (tp + tn) / len(s), "precision": tp / (tp + fp), "recall": tp / (tp + fn),
           "f1": 2 * tp / (2 * tp + fp + fn),
           "log_loss": float(np.mean(-(p * np.log(s) + (1 - p) * np.log(1 - s)))),
           "brier": float(np.mean(p * (1 - s) ** 2 + (1 - p) * s ** 2))}
    lab = part[part["defaulted"].notna()]
    real = {}
    if len(lab):
        y, s, d = lab["defaulted"], lab["score"], lab["decision"]
        real = {"roc_auc": skm.roc_auc_score(y, s), "accuracy": skm.accuracy_score(y, d),
                "precision": skm.precision_score(y, d), "recall": skm.recall_score(y, d),
                "f1": skm.f1_score(y, d), "log_loss": skm.log_loss(y, s),
                "brier": skm.brier_score_loss(y, s)}
    out[str(key)] = {"realized": real, "estimated": {k: float(v) for k, v in est.items()}}
print(json.dumps({"compute_s": time.perf_counter() - t1, "chunks": out}))
'''

AIDEBT_CORE = r'''
import json, sys, time
t0 = time.perf_counter()
from aidebt_core.data import connect, open_table
from aidebt_core.performance import analyse_performance
from aidebt_core.timeaxis import split_on_timestamp
from aidebt_core.workspace import Workspace
t1 = time.perf_counter()
ws = Workspace.at(sys.argv[2])
con = connect(ws)
ref, cur = split_on_timestamp(open_table(con, ws, sys.argv[1]), "applied_at", "2024-07-01")
r = analyse_performance(ref, cur, "defaulted", score="score", prediction="decision",
                        timestamp="applied_at", chunking="month")
print(json.dumps({"compute_s": time.perf_counter() - t1, "result": r.to_dict()}))
'''


def generate(rows: int, path: Path, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    month = np.sort(rng.integers(1, 13, rows))
    start = pd.to_datetime({"year": 2024, "month": month, "day": 1})
    ts = start + pd.to_timedelta(rng.uniform(0, 28 * 86400, rows).astype(np.int64), unit="s")
    dti = rng.beta(2, 6, rows)
    base = rng.normal(-2.0, 1.0, rows)
    score = 1 / (1 + np.exp(-(base + 0.8 * dti)))
    true_logit = base + np.where(month >= 10, 3.0, 0.8) * dti
    y = (rng.uniform(size=rows) < 1 / (1 + np.exp(-true_logit))).astype(float)
    y[month == 12] = np.nan
    pd.DataFrame({"applied_at": ts, "debt_to_income": dti, "score": score.round(6),
                  "decision": (score >= 0.2).astype(np.int64), "defaulted": y}
                 ).to_parquet(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data", help="folder for the generated file (kept between runs)")
    args = parser.parse_args()
    folder = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="aidebt_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"perf_{args.rows}.parquet"
    if not data.exists():
        t = time.perf_counter()
        generate(args.rows, data)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t:.1f} s",
              file=sys.stderr)
    python = str(ROOT / ".venv" / "bin" / "python")
    cli = [str(ROOT / ".venv" / "bin" / "aidebt"), "performance", str(data), "--target",
           "defaulted", "--score", "score", "--prediction", "decision", "--timestamp",
           "applied_at", "--reference-end", "2024-07-01", "--format", "json"]
    contenders = {"aidebt performance (CLI)": cli,
                  "aidebt_core.analyse_performance": [python, "-c", AIDEBT_CORE, str(data),
                                                      str(folder)],
                  "pandas + sklearn (naive)": [python, "-c", BASELINE, str(data)]}
    # rc 1 (a --fail-on-* line crossed) is accepted as well as 0
    runs = {name: check(measure(cmd), name, ok=(0, 1)) for name, cmd in contenders.items()}
    core = json.loads(runs["aidebt_core.analyse_performance"]["out"])
    naive = json.loads(runs["pandas + sklearn (naive)"]["out"])
    cli_out = json.loads(runs["aidebt performance (CLI)"]["out"])
    diff = _max_difference(core["result"], naive["chunks"])
    rows = []
    for name, info in runs.items():
        compute = {"aidebt_core.analyse_performance": core["compute_s"],
                   "pandas + sklearn (naive)": naive["compute_s"]}.get(name)
        rows.append({"tool": name, "rows": args.rows, "chunks": len(cli_out["chunks"]),
                     "wall_s": info["wall"], "compute_s": compute,
                     "peak_rss_mb": info["rss"]})
        print(f"{name:<34} wall {info['wall']:6.2f} s  compute "
              f"{'' if compute is None else f'{compute:6.2f} s'}  {info['rss']:7.0f} MB",
              file=sys.stderr)
    frame = pd.DataFrame(rows)
    alerts = cli_out["alerts"]
    concept = {m: v["alerts"]["concept_drift"]
               for m, v in json.loads(runs["aidebt_core.analyse_performance"]["out"])["result"][
                   "metrics"].items()}
    RESULTS.mkdir(exist_ok=True)
    text = (f"# performance benchmark ({time.strftime('%Y-%m-%d %H:%M')} UTC, "
            f"{os.cpu_count()} CPUs, shared machine: noisy)\n\n"
            f"{args.rows:,} rows, 12 monthly chunks (6 reference), 7 metrics realized + "
            "estimated; aidebt also computes CIs and leave-one-chunk-out calibration.\n"
            "wall = whole process incl. Python start-up and imports; compute = after imports."
            "\n\n" + markdown_table(frame) + "\n\n"
            f"max |aidebt − naive| over all chunks and metrics: realized {diff[0]:.2e}, "
            f"estimated {diff[1]:.2e} (naive estimates use one calibrator for every chunk; "
            "aidebt's reference chunks use leave-one-chunk-out, so only current chunks are "
            "compared).\n\n"
            f"Chunks without labels: {alerts['unlabelled']}. Concept-drift alerts per metric "
            f"(planted from 2024-10): {concept}.\n")
    (RESULTS / "performance.md").write_text(text)
    print(text)


def _max_difference(result: dict, naive: dict) -> tuple[float, float]:
    real, est = 0.0, 0.0
    for metric in METRICS:
        for chunk in result["metrics"][metric]["chunks"]:
            theirs = naive[chunk["label"]]
            if chunk["realized"] is not None:
                real = max(real, abs(chunk["realized"] - theirs["realized"][metric]))
            if chunk["period"] == "current":
                est = max(est, abs(chunk["estimated"] - theirs["estimated"][metric]))
    return real, est


if __name__ == "__main__":
    main()
