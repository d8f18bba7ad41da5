"""`aidebt profile SOURCE --out NAME.aidebt`: write a saved profile (docs/profiles.md).

A saved profile holds counts and fine histograms, no rows; every data command and the
dashboard accept it as reference or current. `--like REF.aidebt` profiles SOURCE with the
plan of an earlier profile (same columns, grids, chunking), so the two can be compared or
merged; without it the plan is made from SOURCE itself.
"""

from __future__ import annotations

from aidebt_core.commands._args import add_format_option, add_role_arguments, parse_columns

# profiles.model.PERIODS (that module imports numpy: not at `aidebt profile -h`)
PERIODS = ("day", "week", "month", "quarter", "year")

HELP = "write a saved profile (counts and histograms, no rows) of a data source"

# --for ANALYSIS -> "module:function(table, profile, inputs, args) -> DatasetProfile" adding
# the profile section(s) that analysis reads (docs/profiles.md).
FOR_SECTIONS = {"slices": "aidebt_core.profiles.slices:add_for_profile",
                "entanglement": "aidebt_core.profiles.cross:with_section"}


def wanted_sections(values) -> list[str]:
    """The --for names (comma lists, repeatable), checked against FOR_SECTIONS."""
    from aidebt_core.errors import AidebtError

    names = [n.strip() for v in values or () for n in str(v).split(",") if n.strip()]
    unknown = [n for n in names if n not in FOR_SECTIONS]
    if unknown:
        raise AidebtError(f"--for {', '.join(unknown)}: known analyses are "
                          f"{', '.join(FOR_SECTIONS)}.")
    return list(dict.fromkeys(names))


def register(sub) -> None:
    parser = sub.add_parser("profile", help=HELP, description=HELP + ".")
    parser.add_argument("source", metavar="SOURCE",
                        help="CSV/Parquet/JSON, glob, file.duckdb::table, or spark:...")
    parser.add_argument("--out", required=True, metavar="NAME.aidebt",
                        help="the profile file to write (.aidebt)")
    parser.add_argument("--chunk", choices=PERIODS,
                        help="one profile per calendar period of --timestamp")
    parser.add_argument("--like", metavar="REF.aidebt",
                        help="use this profile's plan (columns, grids, chunking)")
    parser.add_argument("--columns", help="only these columns (a,b,c)")
    parser.add_argument("--categorical", help="treat these columns as categorical (a,b)")
    parser.add_argument("--for", dest="for_", action="append", metavar="ANALYSIS",
                        help="also count what these analyses need from a profile: "
                             f"{', '.join(FOR_SECTIONS)} (comma list or repeated)")
    parser.add_argument("--spark-remote", metavar="sc://HOST:PORT",
                        help="Spark Connect server for a spark: source (env SPARK_REMOTE)")
    parser.add_argument("--spark-master", metavar="URL",
                        help="Spark master for a spark: source (local[2], spark://host:7077)")
    add_role_arguments(parser)
    add_format_option(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    import argparse
    import sys
    import time
    from pathlib import Path

    from aidebt_core.commands._common import emit, open_inputs
    from aidebt_core.errors import AidebtError
    from aidebt_core.profiles import duckdb_engine
    from aidebt_core.profiles.model import SUFFIX, load, save
    from aidebt_core.profiles.source import ProfileTable

    out = Path(args.out).expanduser()
    if out.suffix.lower() != SUFFIX:
        raise AidebtError(f"--out {args.out}: a saved profile's name ends in {SUFFIX}.")
    if not out.parent.is_dir():
        raise AidebtError(f"--out {args.out}: no folder {out.parent}.")
    if args.chunk and not args.timestamp:
        raise AidebtError("--chunk needs --timestamp COLUMN.")
    started = time.perf_counter()
    spec = argparse.Namespace(**{**vars(args), "sources": [args.source], "current": None,
                                 "reference_end": None, "reference_rows": None})
    with open_inputs(spec, need_current=False) as inputs:
        table = inputs.reference
        # a Spark source brings its own profiler (the same functions, run by Spark)
        engine = table.profiler() if hasattr(table, "profiler") else duckdb_engine
        if isinstance(table, ProfileTable):
            raise AidebtError(f"{args.source} is already a saved profile.")
        if args.like:
            plan = load(Path(args.like).expanduser()).plan
        else:
            schema = inputs.schema
            kinds = engine.profile_kinds(table, schema, parse_columns(args.columns),
                                         parse_columns(args.categorical) or (),
                                         inputs.timestamp)
            plan = engine.plan_profile(
                table, kinds, timestamp=inputs.timestamp if args.chunk else None,
                chunk=args.chunk, target=schema.first("target"),
                prediction=schema.first("prediction"), score=schema.first("score"))
        wanted = wanted_sections(args.for_)
        profile = engine.compute_profile(table, plan)
        for name in wanted:   # (a --like plan's sections were computed with the profile)
            import importlib

            module, function = FOR_SECTIONS[name].split(":")
            profile = getattr(importlib.import_module(module), function)(
                table, profile, inputs, args)
    save(profile, out)
    seconds = time.perf_counter() - started
    columns = [{"name": c.name, "kind": c.kind,
                "counts": "values" if c.kind == "categorical" or c.exact else
                f"{c.grid.bins} bins"} for c in plan.columns]
    payload = {"out": str(out), "rows": profile.rows, "bytes": out.stat().st_size,
               "chunks": [c.key for c in profile.chunks], "columns": columns,
               "seconds": round(seconds, 3)}
    emit(args, payload, "\n".join(f"{c['name']:<30} {c['kind']:<12} {c['counts']}"
                                  for c in columns))
    if args.format != "json":
        print(f"\nprofile of {profile.rows:,} rows in {len(profile.chunks)} chunk(s) written "
              f"to {out} ({out.stat().st_size:,} bytes, {seconds:.1f} s)", file=sys.stderr)
    return 0
