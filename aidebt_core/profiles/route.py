"""When an analysis reads profiles instead of rows, and the profiles it reads.

A side is read through profiles when it is a saved profile (`.aidebt`), or when either side
has more than `profile_rows()` rows (default 20M; `--profile-rows N` or AIDEBT_PROFILE_ROWS),
unless exact reads are forced (`--exact` or AIDEBT_EXACT=1). A table side is profiled with
the plan of the other side's saved profile, or with a plan made from the reference.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from aidebt_core.errors import OptionError
from aidebt_core.profiles.source import ProfileTable

DEFAULT_PROFILE_ROWS = 20_000_000
ENV_ROWS, ENV_EXACT = "AIDEBT_PROFILE_ROWS", "AIDEBT_EXACT"


@dataclass(frozen=True)
class EngineSettings:
    """What the command line said: a row threshold and/or --exact."""

    profile_rows: int | None = None
    exact: bool = False


SETTINGS: ContextVar[EngineSettings | None] = ContextVar("aidebt_engine_settings",
                                                         default=None)


def _settings() -> EngineSettings:
    return SETTINGS.get() or EngineSettings()


def profile_rows() -> int:
    """Rows a side may have before the DuckDB path switches to profiles."""
    given = _settings().profile_rows
    if given is not None:
        return given
    raw = os.environ.get(ENV_ROWS, "").strip()
    if not raw:
        return DEFAULT_PROFILE_ROWS
    try:
        value = int(float(raw))
    except ValueError:
        value = 0
    if value < 1:
        raise OptionError(f"{ENV_ROWS}={raw!r}: give a whole number of rows ≥ 1.")
    return value


def exact_forced() -> bool:
    return _settings().exact or os.environ.get(ENV_EXACT, "") not in ("", "0", "false")


@dataclass(frozen=True)
class Decision:
    """Whether to use profiles, and the row counts that decided it (None: not counted)."""

    use: bool
    rows: tuple[int | None, int | None] = (None, None)
    reason: str = ""


def decide(reference, current) -> Decision:
    """Profiles for a saved profile on either side; else above the row threshold unless
    exact reads are forced (which is then reported on stderr with its cost)."""
    if isinstance(reference, ProfileTable) or isinstance(current, ProfileTable):
        return Decision(True, reason="a source is a saved profile")
    # A Spark source (aidebt_core/engines/spark_table.py; duck-typed: profiles must not
    # import engines) is always read through profiles computed by Spark.
    if any(getattr(t, "engine", "") == "spark" for t in (reference, current)):
        return Decision(True, reason="a source is read by Spark")
    from aidebt_core.data import row_count

    rows = (row_count(reference), row_count(current) if current is not None else None)
    limit = profile_rows()
    big = max(r or 0 for r in rows) > limit
    if big and exact_forced():
        _EXACT_STARTED.append((time.perf_counter(), rows, limit))
        return Decision(False, rows, "--exact")
    return Decision(big, rows, f"more than {limit:,} rows a side" if big else "")


_EXACT_STARTED: list = []


def report_exact_cost() -> None:
    """On stderr: what forcing exact reads cost (wall time, peak RSS), once per command."""
    if not _EXACT_STARTED:
        return
    started, rows, limit = _EXACT_STARTED.pop(0)
    _EXACT_STARTED.clear()
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"--exact: exact reads of {max(r or 0 for r in rows):,} rows a side took "
          f"{time.perf_counter() - started:.1f} s, peak memory {peak:,.0f} MB (profiles are "
          f"used above {limit:,} rows without --exact)", file=sys.stderr)


def side_profiles(reference, current, schema, *, columns: Sequence[str] | None = None,
                  categorical: Sequence[str] = (), timestamp: str | None = None,
                  chunk: str | None = None, target: str | None = None,
                  prediction: str | None = None, score: str | None = None):
    """(reference profile, current profile) under one plan: a saved profile's plan when a
    side is one (the reference's first), else a plan made from the reference table."""
    from aidebt_core.profiles import duckdb_engine as engine

    def engine_of(table):   # a Spark table brings its own profiler (same signatures)
        return table.profiler() if hasattr(table, "profiler") else engine

    saved = [t.profile for t in (reference, current) if isinstance(t, ProfileTable)]
    if saved:
        plan = saved[0].plan
        if columns:   # a table side computes only what will be compared (--exclude works)
            from dataclasses import replace

            plan = replace(plan, columns=tuple(c for c in plan.columns if c.name in columns))
    else:
        planner = engine_of(reference)
        kinds = planner.profile_kinds(reference, schema, columns, categorical, timestamp)
        plan = planner.plan_profile(reference, kinds, timestamp=timestamp, chunk=chunk,
                                    target=target, prediction=prediction, score=score)
    return tuple(t.profile if isinstance(t, ProfileTable) else
                 engine_of(t).compute_profile(_only_planned(t, plan), plan)
                 for t in (reference, current))


def _only_planned(table, plan):
    """A table side must hold every column the plan profiles (a clear message otherwise)."""
    from aidebt_core.errors import SchemaError

    types = table.column_types
    missing = [n for n in plan.names if n not in types]
    if missing:
        raise SchemaError(f"{table.label} lacks column(s) {', '.join(map(repr, missing))} "
                          "that the other side's profile holds; profile both with the same "
                          "columns.")
    from aidebt_core.data import is_numeric_type

    changed = [c.name for c in plan.columns if c.kind == "numeric"
               and not is_numeric_type(types[c.name]) and types[c.name].upper() != "BOOLEAN"]
    if changed:
        raise SchemaError(f"Type changed: {', '.join(map(repr, changed))} numeric in the "
                          f"profile, {', '.join(types[c] for c in changed)} in {table.label}; "
                          "compare with --exclude, or fix the column's type.")
    return table


def drift_route(reference, current, schema, columns, exclude, categorical, options,
                include_outputs):
    """The drift result from profiles when `decide` says so, else None (exact path)."""
    decision = decide(reference, current)
    if not decision.use:
        return None
    from aidebt_core.drift.univariate import column_kind, resolve_columns
    from aidebt_core.profiles.drift import drift_from_profiles
    from aidebt_core.schema import infer_schema

    schema = schema or infer_schema(reference)
    chosen, only_ref, only_cur = resolve_columns(reference, current, schema, columns,
                                                 exclude, include_outputs)
    saved = isinstance(reference, ProfileTable) or isinstance(current, ProfileTable)
    if saved:
        profiled = set(next(t for t in (reference, current)
                            if isinstance(t, ProfileTable)).profile.plan.names)
        chosen = [c for c in chosen if c in profiled]
    types = reference.column_types
    forced = [c for c in categorical if c in chosen]
    kinds_needed = {c: column_kind(schema, c, types[c], forced) for c in chosen}
    ref_p, cur_p = side_profiles(reference, current, schema, columns=chosen,
                                 categorical=forced, timestamp=schema.first("timestamp"))
    for name, kind in kinds_needed.items():
        planned = ref_p.plan.column(name).kind
        if planned != kind and not saved:
            raise OptionError(f"Column {name!r}: planned as {planned}, asked as {kind}.")
    result = drift_from_profiles(ref_p, cur_p, chosen, options=options)
    from dataclasses import replace

    # The labels name the sources in charts and reports: say which side is a profile.
    return replace(result, labels=(source_label(reference), source_label(current)),
                   only_in_reference=tuple(only_ref), only_in_current=tuple(only_cur))


def source_label(table) -> str:
    """A source's name, with "(profile)" when it is a saved profile."""
    if isinstance(table, ProfileTable):
        return f"{table.label} (profile)"
    return table.label


def drift_run(data, options):
    """The registry's drift `run`: profiles when `decide` says so, else the exact entry."""
    from dataclasses import fields

    from aidebt_core.drift.entry import run
    from aidebt_core.drift.options import DriftOptions

    columns = getattr(options, "columns", None)
    plain = DriftOptions(**{f.name: getattr(options, f.name) for f in fields(DriftOptions)})
    routed = drift_route(data.reference, data.current, data.schema,
                         None if columns is None else list(columns), None, (), plain, False)
    return routed if routed is not None else run(data, options)


def performance_route(reference, current, target, *, score=None, prediction=None,
                      timestamp=None, chunking="month", metric=None, k=None, min_rows=None,
                      min_labels=None):
    """The performance result from profiles when `decide` says so, else None (exact path).
    Profiles chunk by calendar period; a row-count chunking keeps the exact path."""
    decision = decide(reference, current)
    if not decision.use:
        return None
    from aidebt_core.profiles.performance import performance_from_profiles

    saved = [t for t in (reference, current) if isinstance(t, ProfileTable)]
    period = str(chunking)
    if saved:
        chunked = saved[0].profile.plan.chunk
        if chunked is None or (period and period != chunked):
            raise OptionError(f"{saved[0].label} is profiled "
                              f"{'by ' + chunked if chunked else 'without chunks'}; "
                              f"performance by {period} needs a profile made with "
                              f"--timestamp T --chunk {period}.")
    elif period not in ("day", "week", "month", "quarter", "year"):
        return None   # chunks of N rows need row order: exact path
    ref_p, cur_p = side_profiles(reference, current, None, columns=[
        c for c in (target, score, prediction) if c], timestamp=timestamp, chunk=period,
        target=target, prediction=prediction, score=score)
    from dataclasses import replace

    result = performance_from_profiles(ref_p, cur_p, metric=metric, k=k, min_rows=min_rows,
                                       min_labels=min_labels)
    return replace(result, target=target, score=score, prediction=prediction)


def performance_run(data, options):
    """The registry's performance `run`: profiles when `decide` says so, else the entry."""
    from aidebt_core.performance.entry import output_columns, run

    if options.roles_from_schema:
        target, score, prediction = output_columns(data.schema)
        timestamp = data.timestamp
    else:
        target, score, prediction, timestamp = (options.target, options.score,
                                                options.prediction, options.timestamp)
    routed = performance_route(data.reference, data.current, target, score=score,
                               prediction=prediction, timestamp=timestamp,
                               chunking=options.chunk, metric=options.metric, k=options.k,
                               min_rows=options.min_rows, min_labels=options.min_labels)
    return routed if routed is not None else run(data, options)
