"""`aidebt entanglement DATA`: feature association matrix, redundant groups, ripple risk.

With `--current` (or `--timestamp T --reference-end DATE`, which splits DATA) also the
correlation change between reference and current; `--fail-on-change` then exits 1 when a
pair's association moved by more than `--change-threshold`.
"""

from __future__ import annotations

import sys

from aidebt_core.commands import _types as types
from aidebt_core.commands._args import add_data_arguments, add_format_option, parse_columns


def register(sub) -> None:
    parser = sub.add_parser(
        "entanglement", help="feature association, redundant groups and correlation change",
        description="Mixed-type association matrix of DATA's features (Pearson/Spearman, "
        "bias-corrected Cramér's V, correlation ratio, Theil's U), clustered; groups of "
        "redundant features; features ranked by importance × entanglement.")
    # One source: its features alone; with a current side (a second source, --current, or a
    # split) also the correlation change. The score is what importance is measured against.
    add_data_arguments(parser)
    parser.add_argument("--columns", help="only these feature columns (a,b,c)")
    parser.add_argument("--exclude", help="leave these columns out (a,b)")
    parser.add_argument("--categorical", help="treat these columns as categorical (a,b)")
    parser.add_argument("--method", default="auto",
                        choices=("auto", "pearson", "spearman", "cramers_v", "theils_u"),
                        help="auto: Pearson for numeric pairs, bias-corrected Cramér's V for "
                        "categorical pairs, correlation ratio for mixed pairs; spearman / "
                        "theils_u replace the numeric / categorical measure")
    parser.add_argument("--threshold", type=types.positive_share, default=0.8,
                        help="redundant group: every pair associated at least this (0.8)")
    parser.add_argument("--change-threshold", type=types.number(0.0, 2.0, low_open=True),
                        default=0.25,
                        help="flag pairs whose association moved by more than this (0.25)")
    parser.add_argument("--top-k", type=types.positive_int, default=50,
                        help="categories kept per column; the rest are folded (50)")
    parser.add_argument("--max-rows", type=types.integer(0), default=250_000,
                        help="above this many rows use a seeded uniform sample (250000; "
                        "0 = all rows)")
    parser.add_argument("--fail-on-change", action="store_true",
                        help="exit 1 if any pair's association changed past the threshold")
    parser.add_argument("--report", metavar="OUT.html", help="also write an HTML report")
    add_format_option(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    from aidebt_core.analyses import inputs_identity
    from aidebt_core.commands._common import emit, open_inputs, print_excluded, write_report
    from aidebt_core.entanglement import feature_kinds
    from aidebt_core.profiles.entanglement import analyse_routed

    categorical = {c: "categorical" for c in parse_columns(args.categorical) or ()}
    columns, exclude = parse_columns(args.columns), parse_columns(args.exclude) or []
    with open_inputs(args, need_current=False, extra_roles=categorical) as inputs:
        schema = inputs.schema
        inputs.require_flat(columns)
        result = analyse_routed(
            inputs.reference, inputs.current, schema, columns=columns, exclude=exclude,
            method=args.method, group_threshold=args.threshold,
            change_threshold=args.change_threshold, top_k=args.top_k,
            max_rows=args.max_rows or None).with_inputs(inputs_identity(inputs))
        used = list(feature_kinds(schema, columns, exclude))
        roles = inputs.payload(used, {c: "--exclude" for c in exclude}
                               | {c: "not in --columns" for c in schema.features
                                  if c not in used and c not in exclude})
    if args.report:
        from aidebt_core.reports.entanglement import entanglement_report

        write_report(entanglement_report(result), args.report)
    emit(args, {**result.to_dict(), **roles}, _human(result))
    print_excluded(args, roles["excluded"])
    if args.format != "json":
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
    if args.fail_on_change and result.change is not None and len(result.change.flagged):
        return 1
    return 0


def _human(result) -> str:
    pairs = result.reference.pairs().head(15)
    parts = [f"Strongest associations ({result.reference.rows_used:,} rows):",
             pairs[["a", "b", "value", "method"]].to_string(index=False, float_format="{:.3f}"
                                                             .format),
             "", f"Redundant groups (every pair ≥ {result.group_threshold:g}):"]
    parts += [f"  - {', '.join(g)}" for g in result.groups] or ["  (none)"]
    if result.change is not None:
        flagged = result.change.flagged
        parts += ["", f"Changed pairs (|Δ| > {result.change.threshold:g}): {len(flagged)}"]
        if len(flagged):
            parts.append(flagged[["a", "b", "method", "reference", "current", "delta",
                                  "p_value"]].to_string(index=False, float_format="{:.3g}"
                                                        .format))
    ripple = result.ripple.table.head(10)
    parts += ["", f"Ripple risk ({result.ripple.source}):",
              ripple.to_string(index=False, float_format="{:.3f}".format)]
    return "\n".join(parts)
