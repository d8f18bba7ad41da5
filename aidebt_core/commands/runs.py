"""`aidebt runs`: reproducibility manifests of MLflow runs, a run diff, or the registry view.

Exit 1 with `--fail-below X` when the run behind any registered model's `--alias`
(default production) has a manifest completeness below X.
"""

from __future__ import annotations

import argparse
import os
import sys

from aidebt_core.commands import _types as types
from aidebt_core.commands._args import add_format_option, parse_columns
from aidebt_core.errors import AidebtError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "runs", help="reproducibility manifests of MLflow runs (completeness, diff, registry)",
        description="Read runs from an MLflow tracking store and score how reproducible each "
                    "one is: git commit, dataset digest, features, params, seed, metrics, "
                    "model and environment.")
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"),
                        help="sqlite:///path/mlflow.db, a folder holding mlflow.db or mlruns/, "
                             "or http://host:port (default: $MLFLOW_TRACKING_URI)")
    parser.add_argument("--experiment", action="append",
                        help="experiment name (repeat for several; default: all)")
    parser.add_argument("--required", help="comma-separated manifest fields that count "
                        "(default: all: git_commit,data_digest,features,params,seed,metrics,"
                        "model,environment)")
    parser.add_argument("--alias", default="production",
                        help="registry alias judged by --fail-below and --registry")
    parser.add_argument("--fail-below", type=types.share, metavar="X",
                        help="exit 1 if any --alias run's completeness is below X (0..1)")
    parser.add_argument("--diff", nargs=2, metavar=("RUN_A", "RUN_B"),
                        help="compare two runs (id or name) instead of listing")
    parser.add_argument("--only-differences", action="store_true",
                        help="with --diff: show differing rows only")
    parser.add_argument("--registry", action="store_true",
                        help="per registered model: the aliased run's completeness and "
                             "staleness")
    parser.add_argument("--report", metavar="OUT.html", help="also write an HTML report")
    add_format_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from aidebt_core.commands._common import emit, write_report
    from aidebt_core.runs import (
        compare_runs,
        model_reproducibility,
        open_store,
        read_registry,
        read_runs,
    )

    if not args.tracking_uri:
        raise AidebtError("--tracking-uri is required (or set MLFLOW_TRACKING_URI).")
    store = open_store(args.tracking_uri)
    table = read_runs(store, args.experiment, required=parse_columns(args.required))
    registry = read_registry(store)
    if args.fail_below is not None:  # a gate judges the aliased versions, never a fallback
        registry.require_alias(args.alias)
    models = model_reproducibility(store, alias=args.alias, runs=table, registry=registry)
    if args.diff:
        diff = compare_runs(table, *args.diff, store=store)
        emit(args, diff.to_dict(), diff.to_frame(only_differences=args.only_differences))
    elif args.registry:
        frame = _registry_frame(models)
        emit(args, [m.to_dict() for m in models], frame)
    else:
        frame = table.to_frame()[["experiment", "run_name", "run_id", "status",
                                  "completeness", "missing"]]
        frame = frame.assign(run_id=frame["run_id"].str[:12],
                             completeness=frame["completeness"].map("{:.1%}".format))
        emit(args, table.to_dict(), frame if len(frame) else "no runs")
    if args.report:
        from aidebt_core.reports.runs import reproducibility_report

        write_report(reproducibility_report(table, registry, alias=args.alias), args.report)
    if args.fail_below is not None:
        judged = [m for m in models if registry.get(m.model).version_for(args.alias)]
        for m in models:
            if m not in judged:
                print(f"note: {m.model} has no '{args.alias}' alias; not judged",
                      file=sys.stderr)
        failing = [m for m in judged if (m.completeness or 0.0) < args.fail_below]
        for m in failing:
            print(f"{m.model} v{m.version} ({args.alias}): completeness "
                  f"{(m.completeness or 0):.0%} < {args.fail_below:.0%}; missing "
                  f"{', '.join(m.missing)}", file=sys.stderr)
        return 1 if failing else 0
    return 0


def _registry_frame(models):
    import pandas as pd

    return pd.DataFrame([{
        "model": m.model, "alias": m.alias, "version": m.version, "run": m.run_name,
        "completeness": None if m.completeness is None else f"{m.completeness:.1%}",
        "missing": ", ".join(m.missing), "age_days": m.staleness.age_days,
        "newer_runs": len(m.staleness.newer_runs), "stale": m.staleness.stale}
        for m in models])
