"""`aidebt drift REFERENCE CURRENT`: per-column data drift, as ../shared/CLI_CONTRACT.md says.

Exit 1 with `--fail-on-drift` when the dataset drifted (share of drifted columns ≥ the drift
share) or, with `--fail-on-drift=any`, when any column drifted.
"""

from __future__ import annotations

from aidebt_core.commands import _types as types
from aidebt_core.commands._args import add_data_arguments, add_format_option, parse_columns
from aidebt_core.commands._drift_time import add_time_arguments, over_time_section
from aidebt_core.drift.methods import choices as method_choices


def register(sub) -> None:
    parser = sub.add_parser("drift", help="per-column data drift between two data sets",
                            description="Compare CURRENT against REFERENCE column by column.")
    add_data_arguments(parser)
    add_time_arguments(parser)
    parser.add_argument("--columns", help="only these columns (a,b,c)")
    parser.add_argument("--exclude", help="leave these columns out (a,b)")
    parser.add_argument("--categorical", help="treat these columns as categorical (a,b)")
    parser.add_argument("--with-outputs", action="store_true",
                        help="also compare the model outputs (prediction/score columns)")
    # The choices are the method registry's file names: listing them imports no numpy.
    parser.add_argument("--method", default="auto", choices=method_choices(),
                        help="auto: test below 1,000 values, effect size above (default)")
    parser.add_argument("--threshold", type=types.number(0.0),
                        help="drift threshold for the method "
                        "(p-value for the tests, ks/chi2; distance for the others; under auto "
                        "the distance, default 0.1)")
    parser.add_argument("--column-threshold", action="append", default=[], metavar="COL=X",
                        help="per-column threshold override (repeatable)")
    parser.add_argument("--drift-share", type=types.positive_share, default=0.5,
                        help="dataset drift when at least this share of columns drifted")
    parser.add_argument("--fail-on-drift", nargs="?", const="dataset",
                        choices=("dataset", "any"),
                        help="exit 1 if the dataset drifted (or, with =any, any column), "
                        "or, with --chunk, a column alerts in the last --recent chunks")
    parser.add_argument("--report", metavar="OUT.html", help="also write an HTML report")
    add_format_option(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    from aidebt_core.commands._common import emit, open_inputs, print_excluded, write_report
    from aidebt_core.drift import DriftOptions, analyse_drift
    from aidebt_core.drift.identity import input_identity
    from aidebt_core.drift.options import parse_column_thresholds

    options = DriftOptions(method=args.method, threshold=args.threshold,
                           column_thresholds=parse_column_thresholds(args.column_threshold),
                           drift_share=args.drift_share)
    exclude = parse_columns(args.exclude) or []
    with open_inputs(args) as inputs:
        reference, current = inputs.reference, inputs.current
        inputs.require_flat(parse_columns(args.columns))
        from aidebt_core.profiles.route import drift_route  # saved profiles, large sides

        result = drift_route(reference, current, inputs.schema, parse_columns(args.columns),
                             exclude, parse_columns(args.categorical) or (), options,
                             args.with_outputs) or analyse_drift(
            reference, current, inputs.schema, columns=parse_columns(args.columns),
            exclude=exclude, categorical=parse_columns(args.categorical) or (),
            options=options, include_outputs=args.with_outputs)
        result = result.with_inputs(_identity(inputs.sources, args, input_identity))
        over = over_time_section(reference, current, result, inputs.timestamp, args)
        if args.report:  # from the results alone: the report reads no data
            from aidebt_core.reports.drift import drift_report

            write_report(drift_report(result, over.trend, over.multivariate), args.report)
        used = [c.name for c in result.columns]
        roles = inputs.payload(used, {c: "--exclude" for c in exclude}
                               | {c: "not in --columns" for c in inputs.schema.features
                                  if args.columns and c not in used and c not in exclude})
    # The JSON document only when it is printed: to_dict() of every column's distributions
    # costs ~0.07 s of a 100k-row run that prints the table.
    payload = ({**result.to_dict(), **roles, **over.payload} if args.format == "json"
               else None)
    emit(args, payload, _human_table(result))
    print_excluded(args, roles["excluded"])
    if args.format != "json":
        print(f"\n{len(result.drifted_columns)} of {len(result.columns)} columns drifted "
              f"({result.drifted_share:.0%}); dataset drift: "
              f"{'yes' if result.dataset_drift else 'no'} "
              f"(threshold {result.options.drift_share:.0%})")
        for side, names in (("reference", result.only_in_reference),
                            ("current", result.only_in_current)):
            if names:
                print(f"only in {side} (not compared): {', '.join(names)}")
        if over.text:
            print(over.text)
    if args.fail_on_drift and over.failed:
        return 1
    if args.fail_on_drift == "any" and result.drifted_columns:
        return 1
    if args.fail_on_drift == "dataset" and result.dataset_drift:
        return 1
    return 0


def _identity(sources, args, input_identity):
    """What the results were computed from: each source file's path, size and modification
    time, and the split options (a source that is not a local path is kept as text)."""
    from pathlib import Path

    paths = [s for s in sources if Path(s).exists()]
    extra = [s for s in sources if s not in paths]
    extra += [f"{name}={getattr(args, name, None)}" for name in ("reference_end",
                                                                 "reference_rows")]
    return input_identity(paths, extra)


TABLE_COLUMNS = ("column", "kind", "method", "statistic", "p_value", "threshold", "drifted",
                 "missing_change", "new_categories", "status")


def _human_table(result):
    """The per-column table as text, without importing pandas (a third of a second of a small
    run); only cells of a kind `plain_table` does not handle go through pandas."""
    rows = result.rows()
    text = plain_table(rows, TABLE_COLUMNS)
    if text is not None:
        return text
    import pandas as pd

    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def plain_table(rows: list[dict], columns) -> str | None:
    """`rows` as `DataFrame(rows)[columns].to_string(index=False)` prints them under the
    options `_common.emit` sets ({:.4g} floats), character for character; None when a column
    holds values whose pandas type this does not reproduce (e.g. numpy integers, bool mixed
    with numbers).

    Each column is typed as pandas infers it from the values: all None, all text, all bool,
    all int, or numbers with None (float, None shown as NaN). Cells and headers are
    right-aligned to the column's width; numeric (and bool) headers get pandas' leading space;
    tabs and newlines in text show escaped."""
    if not rows:
        return None
    cells = []
    for name in columns:
        values = [row[name] for row in rows]
        formatted = _column_cells(values)
        if formatted is None:
            return None
        text, numeric = formatted
        header = f" {name}" if numeric else name
        width = max(len(header), *(len(t) for t in text))
        cells.append([header.rjust(width), *(t.rjust(width) for t in text)])
    return "\n".join(" ".join(line) for line in zip(*cells, strict=True))


def _column_cells(values: list) -> tuple[list[str], bool] | None:
    """(formatted cells, whether pandas counts the column as numeric) or None."""
    if all(v is None for v in values):  # an object column
        return ["None"] * len(values), False
    if all(isinstance(v, str) for v in values):
        return [v.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
                for v in values], False
    if all(isinstance(v, bool) for v in values):
        return [str(v) for v in values], True
    if any(isinstance(v, bool) for v in values):
        return None
    if all(isinstance(v, int) for v in values):
        return [f"{v:d}" for v in values], True
    numbers = [v for v in values if v is not None]
    if numbers and all(isinstance(v, int | float) for v in numbers):
        return ["NaN" if v is None or v != v else f"{float(v):.4g}" for v in values], True
    return None
