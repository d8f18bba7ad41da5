"""`aidebt performance DATA`: realized and estimated performance per chunk, concept drift.

Exit 1 with `--fail-on-alert` when a current chunk has a performance alert (worse than the
reference band) or a concept-drift alert (realized quality left the label-free estimate).
"""

from __future__ import annotations

from aidebt_core.commands import _types as types
from aidebt_core.commands._args import add_data_arguments, add_format_option
from aidebt_core.commands._drift_time import add_min_chunk_arguments, chunk_sizes

# Kept here so that building the parser does not import the analysis (numpy, DuckDB, sklearn)
# for every `aidebt` command; a test checks it matches aidebt_core.performance.METRIC_NAMES.
METRICS = ("roc_auc", "accuracy", "precision", "recall", "f1", "log_loss", "brier", "mae",
           "rmse")


def register(sub) -> None:
    parser = sub.add_parser(
        "performance", help="model performance over time, label-free estimate, concept drift",
        description="Realized metric per time chunk where labels exist, a confidence-based "
                    "estimate from the score where they don't, and realized minus estimated.")
    # Sources, split and roles: --target (0/1, or numeric for mae/rmse; empty where labels
    # have not arrived), --prediction (0/1 decisions), --score (probability), --timestamp.
    add_data_arguments(parser)
    parser.add_argument("--metric", choices=METRICS,
                        help="primary metric (default roc_auc with --score, else accuracy)")
    parser.add_argument("--chunk", default="month",
                        help="month (default), week, day, quarter, year, or a number of rows")
    parser.add_argument("--decision-threshold", type=types.share, default=0.5,
                        help="score threshold for 0/1 decisions when --prediction is not given")
    parser.add_argument("--k", type=types.positive, default=3.0,
                        help="band half-width in reference standard deviations (default 3)")
    add_min_chunk_arguments(parser, labels=True)
    parser.add_argument("--fail-on-alert", action="store_true",
                        help="exit 1 if a current chunk has a performance or concept-drift alert")
    parser.add_argument("--report", metavar="OUT.html", help="also write an HTML report")
    add_format_option(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    from aidebt_core.analyses import inputs_identity
    from aidebt_core.commands._common import emit, open_inputs, print_excluded, write_report
    from aidebt_core.performance import METRIC_NAMES, analyse_performance
    from aidebt_core.performance.entry import output_columns

    with open_inputs(args) as inputs:
        schema = inputs.schema
        target, score, prediction = output_columns(schema)
        from aidebt_core.profiles.route import performance_route  # saved profiles, large

        result = (performance_route(
            inputs.reference, inputs.current, target, score=score, prediction=prediction,
            timestamp=inputs.timestamp, chunking=args.chunk, metric=args.metric, k=args.k,
            **chunk_sizes(args)) or analyse_performance(
            inputs.reference, inputs.current, target, score=score, prediction=prediction,
            timestamp=inputs.timestamp, chunking=args.chunk, metric=args.metric,
            threshold=args.decision_threshold, k=args.k, **chunk_sizes(args)
        )).with_inputs(inputs_identity(inputs))
        # Features are not what performance measures; they are not reported as left out.
        roles = inputs.payload([target, score, prediction, inputs.timestamp, *schema.features])
    if args.report:
        from aidebt_core.reports.performance import performance_report

        write_report(performance_report(result), args.report)
    frame = result.to_frame()[["chunk", "period", "rows", "labelled_rows", "partial",
                               "too_small", "realized", "ci_low", "ci_high", "estimated",
                               "lower", "upper", "gap", "alert", "concept_alert", "note"]]
    emit(args, {**result.to_dict(), **roles}, frame)
    print_excluded(args, roles["excluded"])
    if args.format != "json":
        alerts = result.alerts()
        print(f"\n{METRIC_NAMES[result.metric]}: performance alerts in "
              f"{', '.join(alerts['performance']) or 'no chunk'}; concept drift in "
              f"{', '.join(alerts['concept_drift']) or 'no chunk'}; estimate only (no labels) "
              f"for {', '.join(alerts['unlabelled']) or 'no chunk'}.")
    return 1 if args.fail_on_alert and result.any_alert else 0
