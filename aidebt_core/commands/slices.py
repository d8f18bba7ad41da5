"""`aidebt slices DATA`: weak-slice discovery, breakdowns and reference-vs-current changes.

Exit 1 with `--fail-on-slice FLOOR` when a reported slice's metric is below the floor (above it
for error metrics such as error_rate, mae, rmse).
"""

from __future__ import annotations

import math

from aidebt_core.commands import _types as types
from aidebt_core.commands._args import add_data_arguments, add_format_option, parse_columns
from aidebt_core.errors import AidebtError

# The names of aidebt_core.slices.metrics.METRICS (that module imports numpy/scipy, and the parser
# is built without them); tests/unit/test_cli_startup.py keeps the two equal.
METRIC_NAMES = ("accuracy", "error_rate", "precision", "recall", "f1", "positive_rate",
                "roc_auc", "mean_score", "mae", "rmse")


def register(sub) -> None:
    parser = sub.add_parser(
        "slices", help="metric per slice with intervals, weak-slice discovery",
        description="Finds the slices (conjunctions of up to 3 conditions) where the model is "
                    "weakest, with confidence intervals and Benjamini–Hochberg q-values; with "
                    "--timestamp/--reference-end also compares them between periods.")
    # One source: slices are found in all of it; with a reference (a split or two sources)
    # they are found in the current data and compared with the reference.
    add_data_arguments(parser)
    parser.add_argument("--metric", choices=METRIC_NAMES,
                        help="default roc_auc with only --score, else accuracy")
    parser.add_argument("--positive", help="positive class of the target (default 1/true)")
    parser.add_argument("--columns", help="columns to search slices on (default: all features)")
    parser.add_argument("--by", help="also break the metric down by these columns")
    parser.add_argument("--max-order", type=types.integer(1, 3), default=3,
                        help="conditions per slice (default 3)")
    parser.add_argument("--min-size", type=types.positive_int,
                        help="minimum rows per slice (default 1%% of rows, at least 30)")
    parser.add_argument("--top-k", type=types.positive_int, default=10,
                        help="slices to report (default 10)")
    parser.add_argument("--objective", choices=("calibration", "error"),
                        help="rank slices by calibration gap (default with --score) or error")
    parser.add_argument("--alpha", type=types.positive_share, default=0.95,
                        help="SliceLine weight of error against size (default 0.95)")
    parser.add_argument("--bins", type=types.integer(2), default=10,
                        help="quantile bins per numeric column")
    parser.add_argument("--edges", metavar="COL=E1,E2;COL2=...",
                        help="your own bin edges for numeric columns, e.g. 'age=30,50;dti=0.4'")
    parser.add_argument("--fail-on-slice", type=types.finite, metavar="FLOOR",
                        help="exit 1 if a reported slice's metric is worse than FLOOR")
    parser.add_argument("--report", metavar="OUT.html", help="also write an HTML report")
    add_format_option(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    from aidebt_core.analyses import inputs_identity
    from aidebt_core.commands._common import emit, open_inputs, print_excluded, write_report
    from aidebt_core.slices import analyse
    from aidebt_core.slices.define import check_edges
    from aidebt_core.slices.metrics import METRICS

    with open_inputs(args, need_current=False) as inputs:
        schema = inputs.schema
        target = schema.first("target")
        prediction, score = schema.first("prediction"), schema.first("score")
        if not target:
            raise AidebtError("No column is the target (the labels): give --target COLUMN.")
        metric = args.metric or ("roc_auc" if score and not prediction else "accuracy")
        if args.fail_on_slice is not None and METRICS[metric].higher_is_better is None:
            raise AidebtError(f"--fail-on-slice needs a metric with a better direction; "
                              f"'{metric}' has none.")
        reference, current = inputs.reference, inputs.current
        if current is None:  # one unsplit source: find slices in all of it
            reference, current = None, inputs.reference
        features = parse_columns(args.columns) or schema.features
        inputs.require_flat([*features, *(parse_columns(args.by) or ())])
        edges = parse_edges(args.edges)
        check_edges(current, edges, [*features, *(parse_columns(args.by) or ())])
        result = analyse(current, target, prediction, score, metric,
                         reference=reference, by=parse_columns(args.by) or (),
                         features=features, max_order=args.max_order, min_size=args.min_size,
                         top_k=args.top_k, bins=args.bins, alpha=args.alpha,
                         positive=args.positive, objective=args.objective,
                         edges=edges).with_inputs(inputs_identity(inputs))
        used = [*features, *(parse_columns(args.by) or ()), target, prediction, score]
        roles = inputs.payload(used, {c: "not in --columns" for c in schema.features
                                      if c not in used})
    if args.report:
        from aidebt_core.reports.slices import slices_report

        write_report(slices_report(result), args.report)
    frame = result.to_frame()[["slice", "size", "metric", "ci_low", "ci_high", "q_value",
                               "score"]]
    emit(args, {**result.to_dict(), **roles}, frame)
    print_excluded(args, roles["excluded"])
    if args.format != "json":
        print(f"\noverall {result.metric_label}: {result.overall.metric:.4g} on "
              f"{result.overall.rows:,} rows; {len(result.weak())} slice(s) significantly "
              f"worse; {sum(c.worsened for c in result.changes)} worsened since reference.")
        for note in result.notes:
            print(f"note: {note}")
    return 1 if args.fail_on_slice is not None and failing(result, args.fail_on_slice) else 0


def parse_edges(text: str | None) -> dict[str, list[float]] | None:
    """'age=30,50;dti=0.4' -> {'age': [30.0, 50.0], 'dti': [0.4]}."""
    if not text:
        return None
    out = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        column, sep, values = part.partition("=")
        try:
            edges = [float(v) for v in values.split(",") if v.strip()]
        except ValueError:
            edges = []
        if not sep or not column.strip() or not edges:
            raise AidebtError(f"--edges: '{part}' is not COLUMN=EDGE,EDGE,... with numbers.")
        out[column.strip()] = edges
    return out


def failing(result, floor: float) -> list:
    """Reported slices (discovered and breakdown) whose metric is worse than `floor`."""
    better = result.higher_is_better
    return [s for s in (*result.found, *result.breakdown) if not math.isnan(s.metric)
            and (s.metric < floor if better else s.metric > floor)]
