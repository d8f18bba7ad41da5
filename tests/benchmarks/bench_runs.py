"""Benchmark reading 1,000 MLflow runs into the reproducibility table, against a naive loop.

    python tests/benchmarks/bench_runs.py [--runs 1000] [--store DIR]

Builds (once, kept in --store) a SQLite tracking store with `--runs` runs over 4 experiments:
20 params, 5 metrics and git tags each; half with a dataset input; a quarter with an MLflow 3
logged model (MLmodel with signature + environment files), a quarter with an MLflow-2-style
`model/` folder, the rest without a model. Each contender runs as its own process (wall time
and peak RSS of the child, imports included):

- aidebt: `read_runs(uri).to_frame()` (paged search_runs, bulk logged-model search, artifact
  listing on the local disk);
- naive: `search_runs` for the ids, then `client.get_run(id)` per run into a pandas frame
  (no artifact checks at all, so it knows less than aidebt);
- naive + artifacts: the same plus `client.list_artifacts(id)` per run.

The target is ≤ 5 s for 1,000 runs. Results go to tests/benchmarks/results/runs.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

# Run as a plain script (`python tests/benchmarks/bench_x.py`), not as a package module: put
# this folder on sys.path so the shared harness next to it can be imported.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import check, markdown_table, measure  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"

AIDEBT = r'''
import sys, time, json
t0 = time.perf_counter()
from aidebt_core.runs import read_runs
t1 = time.perf_counter()
table = read_runs(sys.argv[1])
frame = table.to_frame()
t2 = time.perf_counter()
print(json.dumps({"rows": len(frame), "import_s": t1 - t0, "read_s": t2 - t1,
                  "complete": int((frame["completeness"] == 1).sum())}))
'''

NAIVE = r'''
import sys, time, json
t0 = time.perf_counter()
import pandas as pd
from mlflow import MlflowClient
t1 = time.perf_counter()
client = MlflowClient(sys.argv[1])
ids = [e.experiment_id for e in client.search_experiments()]
run_ids, token = [], None
while True:
    page = client.search_runs(ids, max_results=1000, page_token=token)
    run_ids += [r.info.run_id for r in page]
    token = page.token
    if not token:
        break
rows = []
for run_id in run_ids:
    run = client.get_run(run_id)
    row = {"run_id": run_id, "commit": run.data.tags.get("mlflow.source.git.commit"),
           "n_params": len(run.data.params), "n_metrics": len(run.data.metrics),
           "digests": [d.dataset.digest for d in run.inputs.dataset_inputs]}
    if sys.argv[2] == "artifacts":
        row["artifacts"] = [a.path for a in client.list_artifacts(run_id)]
    rows.append(row)
frame = pd.DataFrame(rows)
t2 = time.perf_counter()
print(json.dumps({"rows": len(frame), "import_s": t1 - t0, "read_s": t2 - t1, "complete": None}))
'''

MLMODEL = """artifact_path: model
flavors:
  python_function: {loader_module: mlflow.sklearn, python_version: 3.11.7}
signature:
  inputs: '[{"type": "double", "name": "x1", "required": true}, {"type": "double", "name":
    "x2", "required": true}]'
  outputs: '[{"type": "double", "required": true}]'
"""


def build_store(folder: Path, runs: int) -> str:
    """Create the store once (it takes a while: one MLflow call per logged item)."""
    db = folder / "mlflow.db"
    uri = f"sqlite:///{db}"
    marker = folder / f"done-{runs}"
    if marker.exists():
        return uri
    from mlflow import MlflowClient
    from mlflow.entities import Dataset as DatasetEntity
    from mlflow.entities import DatasetInput, InputTag, Metric, Param, RunTag

    started = time.perf_counter()
    client = MlflowClient(tracking_uri=uri)
    model_dir = folder / "model_template"
    model_dir.mkdir(exist_ok=True)
    (model_dir / "MLmodel").write_text(MLMODEL)
    for name in ("requirements.txt", "conda.yaml", "python_env.yaml"):
        (model_dir / name).write_text("scikit-learn==1.9.0\n")
    (model_dir / "model.pkl").write_bytes(b"0" * 2048)
    experiments = [client.create_experiment(f"bench-{i}",
                                            artifact_location=(folder / "art" / str(i)).as_uri())
                   for i in range(4)]
    now = int(time.time() * 1000)
    for i in range(runs):
        experiment = experiments[i % 4]
        run = client.create_run(experiment, start_time=now - i * 60_000, run_name=f"run-{i}")
        run_id = run.info.run_id
        tags = [RunTag("mlflow.source.git.commit", f"{i:040x}")] if i % 5 else []
        params = [Param(f"param_{j}", str(j * i)) for j in range(19)]
        if i % 3:
            params.append(Param("seed", str(i)))
        metrics = [Metric(f"metric_{j}", i / (j + 1), now, 0) for j in range(5)]
        client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
        if i % 2 == 0:
            dataset = DatasetEntity(name=f"data-{i % 10}", digest=f"{i % 10:08x}",
                                    source_type="local", source='{"uri": "train.parquet"}')
            client.log_inputs(run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context",
                                                                      "training")])])
        if i % 4 == 1:
            model = client.create_logged_model(experiment, name="model", source_run_id=run_id)
            client.log_model_artifacts(model.model_id, str(model_dir))
            client.finalize_logged_model(model.model_id, "READY")
        elif i % 4 == 2:
            client.log_artifacts(run_id, str(model_dir), "model")
        client.set_terminated(run_id)
    marker.write_text("ok")
    print(f"built {runs} runs in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return uri


def contender(name: str, code: str, *args: str) -> dict:
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    info = check(measure([sys.executable, "-c", code, *args], env=env), name)
    result = json.loads(info["out"].strip().splitlines()[-1])
    row = {"tool": name, "runs": result["rows"], "wall_s": info["wall"],
           "read_s (after imports)": result["read_s"], "peak_rss_mb": info["rss"]}
    print(f"{name:<34} wall {info['wall']:6.2f} s  read {result['read_s']:6.2f} s  "
          f"{info['rss']:6.0f} MB", file=sys.stderr)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1_000)
    parser.add_argument("--store", help="folder for the generated store (kept between runs)")
    args = parser.parse_args()
    folder = Path(args.store) if args.store else Path(tempfile.gettempdir()) / \
        f"aidebt_bench_runs_{args.runs}"
    folder.mkdir(parents=True, exist_ok=True)
    uri = build_store(folder, args.runs)
    rows = [contender("aidebt read_runs + to_frame", AIDEBT, uri),
            contender("naive get_run loop", NAIVE, uri, "plain"),
            contender("naive get_run + list_artifacts loop", NAIVE, uri, "artifacts")]
    frame = pd.DataFrame(rows)
    RESULTS.mkdir(exist_ok=True)
    text = (f"# runs benchmark ({time.strftime('%Y-%m-%d %H:%M')} UTC, {os.cpu_count()} CPUs, "
            f"shared machine: noisy)\n\n{args.runs} runs in a SQLite store, 4 experiments; "
            "wall includes process start and imports. Target: ≤ 5 s for 1,000 runs.\n\n"
            + markdown_table(frame, thousands=False) + "\n")
    (RESULTS / "runs.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
