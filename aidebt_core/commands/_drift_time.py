"""Time options shared by `aidebt drift` and `aidebt performance`, and drift over time for
`aidebt drift --chunk`: the `over_time` and `multivariate` JSON keys and table section that
../shared/CLI_CONTRACT.md describes, and the recent-chunks gate of `--fail-on-drift`.

`aidebt drift REF CUR --timestamp T --chunk month` chunks both sources; one source split with
`--reference-end` is chunked on both sides of the boundary (a month the boundary cuts appears
twice, the current part labelled '(current)'). Chunks below `--min-chunk-rows` are reported
as `too_small` and never alert, so they cannot fail the gate either.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aidebt_core.commands import _types as types
from aidebt_core.errors import AidebtError

if TYPE_CHECKING:  # chunks imports pandas: not while a parser is built (`aidebt drift -h`)
    from aidebt_core.chunks import Chunking

# aidebt_core.chunks' MIN_CHUNK_ROWS / MIN_CHUNK_LABELS for the help texts (tests keep them equal)
MIN_CHUNK_ROWS, MIN_CHUNK_LABELS = 300, 100
DEFAULT_RECENT = 1


def add_min_chunk_arguments(parser: argparse.ArgumentParser, labels: bool = False) -> None:
    """--min-chunk-rows (and, for metrics, --min-chunk-labels)."""
    parser.add_argument("--min-chunk-rows", type=types.positive_int, metavar="N",
                        help=f"chunks with fewer rows are shown as too small to judge and "
                        f"never alert (default {MIN_CHUNK_ROWS}: below it a share's 95 %% "
                        "interval is wider than ±5.7 points)")
    if labels:
        parser.add_argument("--min-chunk-labels", type=types.positive_int, metavar="N",
                            help=f"chunks with fewer labels make no realized-metric or "
                            f"concept-drift claim (default {MIN_CHUNK_LABELS})")


def add_time_arguments(parser: argparse.ArgumentParser) -> None:
    """--chunk, --recent and --min-chunk-rows for `aidebt drift` (and --timestamp when the
    role options have not added it already)."""
    if "--timestamp" not in parser._option_string_actions:
        parser.add_argument("--timestamp", metavar="COLUMN", help="the time column to chunk on")
    parser.add_argument("--chunk", metavar="PERIOD|N",
                        help="also follow drift over time: chunks of a month, week, day, "
                        "quarter or year of --timestamp, or of N rows; adds over_time and "
                        "multivariate to the output")
    parser.add_argument("--recent", type=types.positive_int, metavar="K",
                        help=f"with --chunk and --fail-on-drift: also fail when a column "
                        f"alerts in one of the last K judged chunks (default {DEFAULT_RECENT})")
    add_min_chunk_arguments(parser)


def chunk_sizes(args: argparse.Namespace) -> dict:
    """min_rows / min_labels keyword arguments from the parsed options (defaults filled in)."""
    out = {"min_rows": getattr(args, "min_chunk_rows", None) or MIN_CHUNK_ROWS}
    if hasattr(args, "min_chunk_labels"):
        out["min_labels"] = args.min_chunk_labels or MIN_CHUNK_LABELS
    return out


@dataclass(frozen=True)
class OverTimeSection:
    """What `--chunk` adds to `aidebt drift`: JSON keys, a table section, the gate's verdict."""

    payload: dict = field(default_factory=dict)
    text: str = ""
    recent_alerts: dict = field(default_factory=dict)   # column -> alerting recent chunks
    trend: object = None            # the OverTimeResult and MultivariateResult (for a report)
    multivariate: object = None

    @property
    def failed(self) -> bool:
        return bool(self.recent_alerts)


def over_time_section(reference, current, result, timestamp: str | None,
                      args: argparse.Namespace) -> OverTimeSection:
    """Drift over time and multivariate drift of the columns `result` compared, when
    `--chunk` was given (else an empty section; --recent/--min-chunk-rows alone are refused)."""
    if not getattr(args, "chunk", None):
        for flag, value in (("--recent", args.recent), ("--min-chunk-rows", args.min_chunk_rows)):
            if value is not None:
                raise AidebtError(f"{flag} applies to chunks: add --chunk month|week|day|N.")
        return OverTimeSection()
    from aidebt_core.chunks import Chunking
    from aidebt_core.drift.multivariate import multivariate_drift
    from aidebt_core.drift.over_time import drift_over_time, over_time_method
    from aidebt_core.jsonsafe import jsonable

    chunking = Chunking.parse(args.chunk)
    if chunking.is_period and not timestamp:
        raise AidebtError(f"--chunk {chunking.kind} needs a time column: add --timestamp "
                          "COLUMN, or chunk by a number of rows (--chunk 5000).")
    recent = args.recent or DEFAULT_RECENT
    min_rows = chunk_sizes(args)["min_rows"]
    compared = [c for c in result.columns if c.status == "ok"]
    if not compared:
        raise AidebtError("No column could be compared, so there is nothing to follow over "
                          "time.")
    names = [c.name for c in compared]
    kinds = ["numeric" if c.kind == "numeric" else "categorical" for c in compared]
    from aidebt_core.profiles.over_time import ViewUnavailable, over_time_route

    try:   # from profiles when the sides are (or are large enough to be read as) profiles
        trend = over_time_route(reference, current, names, kinds, chunking, timestamp,
                                method=over_time_method(args.method), min_rows=min_rows)
    except ViewUnavailable as why:   # the per-column drift stands; say why there is no trend
        return _unavailable(str(why))
    trend = (trend or drift_over_time(reference, current, names, kinds, chunking, timestamp,
                                      method=over_time_method(args.method), min_rows=min_rows)
             ).with_inputs(result.inputs)
    mv = None
    unavailable = {}
    if len(names) >= 2:
        from aidebt_core.profiles.multivariate import multivariate_route

        numeric = [n for n, k in zip(names, kinds, strict=True) if k == "numeric"]
        categorical = [n for n, k in zip(names, kinds, strict=True) if k != "numeric"]
        try:   # from the profiles' moments when the route says profiles
            mv = multivariate_route(reference, current, numeric, categorical, chunking,
                                    timestamp, min_rows=min_rows) or multivariate_drift(
                reference, current, numeric, categorical, chunking, timestamp,
                min_rows=min_rows)
            mv = mv.with_inputs(result.inputs)
        except ViewUnavailable as why:
            unavailable["multivariate"] = f"not computed: {why}"
    found = trend.recent_alerts(recent)
    payload = {"over_time": _over_time_json(trend, chunking, recent, found),
               "multivariate": _multivariate_json(mv)}
    text = _text(trend, mv, chunking, recent, found)
    binned = [n for n, exact in zip(trend.columns, trend.exact or [True] * len(names),
                                    strict=True) if not exact]
    if binned:   # from profiles: say which values are approximate
        text += (f"\nFrom binned profiles (values approximate, JSON gives each one's bound): "
                 f"{', '.join(binned)}")
    if unavailable:
        payload["unavailable"] = unavailable
        text += "".join(f"\n{view}: {why}" for view, why in unavailable.items())
    return OverTimeSection(jsonable(payload), text, found, trend, mv)



def _unavailable(why: str) -> OverTimeSection:
    """No drift over time (nor multivariate drift) from these profiles: null keys and the
    reason, in JSON under `unavailable` and as one line of the table output."""
    reasons = {"over_time": why, "multivariate": why}
    return OverTimeSection({"over_time": None, "multivariate": None, "unavailable": reasons},
                           f"\nDrift over time: not computed: {why}")


def _over_time_json(trend, chunking: Chunking, recent: int, found: dict) -> dict:
    alerts = trend.alerts
    return {
        "chunking": str(chunking), "min_chunk_rows": trend.min_rows, "recent": recent,
        "threshold_source": trend.threshold_source,
        "chunks": [{"label": c.label, "start": c.start, "end": c.end, "rows": c.rows,
                    "period": c.period, "partial": c.partial, "too_small": c.too_small}
                   for c in trend.chunks],
        "columns": [{"name": name, "method": trend.methods[i],
                     "statistic": list(trend.values[i]),
                     "threshold": list(trend.chunk_thresholds[i]),
                     "alert": [bool(a) for a in alerts[i]],
                     "first_alert": trend.first_alert(name), **trend.exactness(i)}
                    for i, name in enumerate(trend.columns)],
        **({"note": trend.note} if trend.note else {}),
        "recent_chunks": [trend.chunks[j].label for j in trend.recent(recent)],
        "recent_alerts": found,
    }


def _multivariate_json(mv) -> dict | None:
    if mv is None:
        return None
    return {"columns": list(mv.columns), "components": mv.components,
            "error": list(mv.errors), "threshold": mv.upper,
            "chunk_thresholds": list(mv.uppers), "alert": [bool(a) for a in mv.alerts],
            **_from_profiles(mv),
            "first_alert": mv.first_alert()}


def _from_profiles(mv) -> dict:
    """What a multivariate result from profiles measured and left out (profiles/
    multivariate.py: RMS error of complete rows from moments, numeric columns only)."""
    settings = dict(mv.settings)
    if settings.get("source") != "profiles":
        return {}
    return {"source": "profiles", "statistic": settings["statistic"],
            "left_out": list(settings.get("left_out", ()))}


def _text(trend, mv, chunking: Chunking, recent: int, found: dict) -> str:
    """The table section: one row per chunk, then the recent-chunks verdict."""
    import pandas as pd

    alerts = trend.alerts
    rows = []
    for j, c in enumerate(trend.chunks):
        flagged = [trend.columns[i] for i in range(len(trend.columns)) if alerts[i, j]]
        row = {"chunk": c.label, "period": c.period, "rows": c.rows,
               "mark": ", ".join(m for m, on in (("partial", c.partial),
                                                  ("too small to judge", c.too_small)) if on),
               "alerting columns": ", ".join(flagged) or "-"}
        if mv is not None:
            row["multivariate"] = "alert" if mv.alerts[j] else (
                "not judged" if c.too_small else "ok")
        rows.append(row)
    with pd.option_context("display.max_rows", 1000, "display.width", 200,
                           "display.max_colwidth", 80):
        table = pd.DataFrame(rows).to_string(index=False)
    head = (f"\nDrift over time (chunks by {chunking}; chunks under {trend.min_rows} rows are "
            "too small to judge and never alert):")
    last = ", ".join(trend.chunks[j].label for j in trend.recent(recent)) or "none"
    verdict = (f"Alerts in the last {recent} judged chunk(s) ({last}): "
               + ("; ".join(f"{col} ({', '.join(labels)})" for col, labels in found.items())
                  if found else "none"))
    return "\n".join([head, table, verdict])
