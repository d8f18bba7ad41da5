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
    parser.add_argument("--objective", choices=("error", "calibration"), default="error",
                        help="rank slices by the metric's error (default) or by calibration "
                             "gap (observed rate vs mean score; needs --score)")
    parser.add_argument("--alpha-fdr", type=types.open_unit, default=0.05, metavar="Q",
                        help="significant = Benjamini–Hochberg q below Q and worse than "
                             "overall; significant slices are listed first (default 0.05)")
    # The default is aidebt_core.slices.entry.MIN_GAP (importing the slices package here
    # would load numpy); tests/unit/test_slices_min_gap.py keeps the two equal.
    parser.add_argument("--min-gap", type=types.number(0), default=0.02, metavar="GAP",
                        help="significant also needs the slice at least GAP worse than "
                             "overall on the metric's scale (a share of overall for mae/rmse; "
                             "default 0.02, 0 = any gap)")
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


def options_from(args, schema):
    """The command's flags as the analysis's options (the page maps its widgets onto the
    same `SlicesOptions`, so one set of defaults serves both)."""
    from aidebt_core.slices.entry import SlicesOptions, edges_option

    features = parse_columns(args.columns)
    return SlicesOptions(
        metric=args.metric, positive=args.positive, max_order=args.max_order,
        min_size=args.min_size, top_k=args.top_k, objective=args.objective,
        alpha=args.alpha, bins=args.bins, by=tuple(parse_columns(args.by) or ()),
        features=None if features is None else tuple(features),
        alpha_fdr=args.alpha_fdr, min_gap=args.min_gap,
        edges=edges_option(parse_edges(args.edges)))


def run(args) -> int:
    from aidebt_core.analyses import get
    from aidebt_core.commands._common import emit, open_inputs, print_excluded, write_report
    from aidebt_core.slices.entry import default_metric
    from aidebt_core.slices.metrics import METRICS

    with open_inputs(args, need_current=False) as inputs:
        schema = inputs.schema
        target = schema.first("target")
        prediction, score = schema.first("prediction"), schema.first("score")
        if not target:
            raise AidebtError("No column is the target (the labels): give --target COLUMN.")
        options = options_from(args, schema)
        metric = options.metric or default_metric(schema)
        if args.fail_on_slice is not None and METRICS[metric].higher_is_better is None:
            raise AidebtError(f"--fail-on-slice needs a metric with a better direction; "
                              f"'{metric}' has none.")
        features = list(options.features or schema.features)
        inputs.require_flat([*features, *options.by])
        result = get("slices").run_on(inputs, options)
        used = [*features, *options.by, target, prediction, score]
        roles = inputs.payload(used, {c: "not in --columns" for c in schema.features
                                      if c not in used})
    if args.report:
        from aidebt_core.reports.slices import slices_report

        write_report(slices_report(result), args.report)
    shown = ["slice", "size", *(["observed_rate", "mean_score", "gap"] if result.calibration
                                 else ["metric"]),
             "ci_low", "ci_high", "q_value", "significant", "score"]
    emit(args, {**result.to_dict(), **roles},
         None if args.format == "json" else result.to_frame()[shown])
    print_excluded(args, roles["excluded"])
    if args.format != "json":
        print(f"\noverall {result.metric_label}: {result.overall.metric:.4g} on "
              f"{result.overall.rows:,} rows; {result.verdict()} "
              f"{sum(c.worsened for c in result.changes)} worsened since reference.")
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
