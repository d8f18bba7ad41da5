"""`aidebt sample OUTDIR`: write the sample scenario (data, ground truth, MLflow store)."""

from __future__ import annotations

import sys
import time


def register(sub) -> None:
    parser = sub.add_parser("sample", help="write the sample scenario to OUTDIR")
    parser.add_argument("outdir", help="folder to write (created if missing); a folder holding "
                        "files the sample did not write is refused")
    parser.add_argument("--no-mlflow", action="store_true", help="skip the MLflow store")
    parser.add_argument("--force", action="store_true",
                        help="write next to files the sample did not write (never over them); "
                             "the sample's own earlier files are replaced")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from aidebt_core.sample import write_sample

    started = time.perf_counter()
    truth = write_sample(args.outdir, with_mlflow=not args.no_mlflow, force=args.force)
    print(f"wrote the sample scenario to {args.outdir} ({len(truth['files'])} data files) in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0
