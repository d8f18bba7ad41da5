"""Per-column drift, reference vs current: which columns drifted, how much, by which measure.

Numeric columns get KS (p-value), Wasserstein distance normed by the reference std and PSI;
categorical ones chi-square (p-value), Jensen–Shannon distance and PSI; all figures are always
computed, and the method (`aidebt_core.drift.methods`) only chooses which one decides
"drifted"; a method with a statistic of its own (a plug-in) is computed by its own function.
Each compared column's binned distribution is cut from the same values, for the charts.

The main thread runs the SQL (DuckDB parallelises it); sorting and the numeric statistics of
each column run in a worker thread while the next column is read (numpy releases the GIL).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from aidebt_core.data import Table
from aidebt_core.drift import collect, methods, stats
from aidebt_core.drift.distribution import Distribution, from_counts, from_samples
from aidebt_core.drift.options import DriftOptions
from aidebt_core.drift.result import NOT_TESTABLE, TYPE_CHANGED, ColumnDrift, DriftResult
from aidebt_core.errors import SchemaError
from aidebt_core.schema import Schema, infer_schema

OUTPUT_ROLES = ("prediction", "score")
BIG_SIDE = 3_000_000  # above this many rows a side, one numeric column at a time (memory)


def default_columns(schema: Schema, include_outputs: bool = False) -> list[str]:
    """The features (input data drift), optionally with the model's outputs (prediction and
    score: prediction drift). Ids, timestamps and the target only when named explicitly."""
    return schema.features + (schema.with_role(*OUTPUT_ROLES) if include_outputs else [])


def resolve_columns(reference: Table, current: Table, schema: Schema,
                    columns: Sequence[str] | None = None,
                    exclude: Sequence[str] | None = None, include_outputs: bool = False
                    ) -> tuple[list[str], list[str], list[str]]:
    """(columns to analyse, only in reference, only in current); unknown names are refused."""
    ref_cols, cur_cols = reference.columns, current.columns
    shared = [c for c in ref_cols if c in cur_cols]
    if not shared:
        raise SchemaError(f"{reference.label} and {current.label} share no column names; "
                          "they cannot be compared. Reference columns: "
                          f"{', '.join(ref_cols[:20])}; current columns: "
                          f"{', '.join(cur_cols[:20])}.")
    for given in (columns, exclude):
        unknown = [c for c in given or () if c not in ref_cols and c not in cur_cols]
        if unknown:
            raise SchemaError(f"Unknown column(s) {', '.join(map(repr, unknown))}. "
                              f"Columns are: {', '.join(shared)}.")
    if columns:
        absent = [c for c in columns if c not in shared]
        if absent:
            side = {c: (current.label if c in ref_cols else reference.label) for c in absent}
            raise SchemaError("Column(s) present on one side only: " + ", ".join(
                f"'{c}' (missing from {side[c]})" for c in absent) + ".")
        chosen = list(dict.fromkeys(columns))
    else:
        chosen = [c for c in default_columns(schema, include_outputs) if c in shared]
    chosen = [c for c in chosen if c not in set(exclude or ())]
    if not chosen:
        raise SchemaError("No columns left to compare (check --columns/--exclude and roles).")
    only_ref = tuple(c for c in ref_cols if c not in cur_cols)
    only_cur = tuple(c for c in cur_cols if c not in ref_cols)
    return chosen, list(only_ref), list(only_cur)


def column_kind(schema: Schema, name: str, dtype: str, forced_categorical: Sequence[str]) -> str:
    """'numeric' or 'categorical' (booleans, text, binary predictions and forced columns)."""
    if name in forced_categorical:
        return "categorical"
    role = schema[name].role if name in schema.names else ""
    if collect.type_family(dtype) != "numeric" or role in ("categorical", "boolean"):
        return "categorical"
    if role == "prediction" and schema[name].distinct <= 20:
        return "categorical"
    return "numeric"


def analyse_drift(reference: Table, current: Table, schema: Schema | None = None,
                  columns: Sequence[str] | None = None, exclude: Sequence[str] | None = None,
                  categorical: Sequence[str] = (), options: DriftOptions | None = None,
                  include_outputs: bool = False) -> DriftResult:
    """Compare every chosen column of `current` against `reference` (by default the features;
    `include_outputs` adds the prediction/score columns)."""
    options = options or DriftOptions()
    schema = schema or infer_schema(reference)
    chosen, only_ref, only_cur = resolve_columns(reference, current, schema, columns, exclude,
                                                 include_outputs)
    unknown_thresholds = [c for c, _ in options.column_thresholds if c not in chosen]
    if unknown_thresholds:
        raise SchemaError(f"Per-column threshold(s) for column(s) not analysed: "
                          f"{', '.join(map(repr, unknown_thresholds))}.")
    unknown_forced = [c for c in categorical if c not in chosen]
    if unknown_forced:
        raise SchemaError(f"--categorical names column(s) not analysed: "
                          f"{', '.join(map(repr, unknown_forced))}.")
    ref_types, cur_types = reference.column_types, current.column_types
    kinds = {n: column_kind(schema, n, ref_types[n], categorical) for n in chosen}
    rows = (collect.row_total(reference), collect.row_total(current))
    known = {c.name: c.distinct for c in schema.columns}
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="aidebt-drift") as pool:
        limit = 1 if max(rows) > BIG_SIDE else 2
        items: list[tuple | ColumnDrift | Future] = []
        pending: deque[Future] = deque()
        for name in chosen:
            distinct = known[name] if name in known and kinds[name] == "numeric" else (
                collect.approx_distinct(reference, name) if kinds[name] == "numeric" else 0)
            out = _column(reference, current, name, kinds[name], ref_types[name],
                          cur_types[name], rows, distinct, options)
            if callable(out):
                while len(pending) >= limit:  # bound memory: few columns in flight
                    pending.popleft().result()
                future = pool.submit(out)
                pending.append(future)
                out = future
            items.append(out)
        done = [i.result() if isinstance(i, Future) else i for i in items]
    done = [d if isinstance(d, tuple) else (d, None) for d in done]
    return DriftResult(rows[0], rows[1], tuple(c for c, _ in done), options, tuple(only_ref),
                       tuple(only_cur), tuple(d for _, d in done if d is not None),
                       (reference.label, current.label))


def _base(name: str, kind: str, ref_type: str, cur_type: str, rows: tuple[int, int],
          missing: tuple[int, int], options: DriftOptions) -> dict:
    miss_ref = missing[0] / rows[0] if rows[0] else float("nan")
    miss_cur = missing[1] / rows[1] if rows[1] else float("nan")
    return dict(name=name, kind=kind, missing_share_reference=miss_ref,
                missing_share_current=miss_cur,
                missing_changed=bool(abs(miss_cur - miss_ref) >= options.missing_threshold),
                dtype_reference=ref_type, dtype_current=cur_type)


def _column(reference: Table, current: Table, name: str, kind: str, ref_type: str,
            cur_type: str, rows: tuple[int, int], distinct: int, options: DriftOptions
            ) -> ColumnDrift | tuple | Callable[[], tuple]:
    """A finished result (with its distribution when compared), or (numeric columns) a
    function finishing it off the main thread; all SQL runs here, on the calling thread."""
    fam_ref, fam_cur = collect.type_family(ref_type), collect.type_family(cur_type)
    comparable_as_text = kind == "categorical" and {fam_ref, fam_cur} <= {"numeric", "text"}
    if fam_ref != fam_cur and not comparable_as_text:
        missing = (collect.null_count(reference, name), collect.null_count(current, name))
        n_ref, n_cur = rows[0] - missing[0], rows[1] - missing[1]
        method = options.method_for(kind, n_ref, n_cur)
        base = _base(name, kind, ref_type, cur_type, rows, missing, options)
        base.update(method=method, threshold=options.threshold_for(name, method),
                    statistic=None, p_value=None, reference_count=n_ref, current_count=n_cur)
        if n_ref == 0 or n_cur == 0:  # an all-missing side has no real type
            empty = "reference" if n_ref == 0 else "current"
            return ColumnDrift(**base, drifted=False, status=NOT_TESTABLE,
                               note=f"no usable values in {empty}")
        return ColumnDrift(**base, drifted=True, status=TYPE_CHANGED,
                           note=f"type changed: {ref_type} in reference, {cur_type} in current")
    if fam_ref == "temporal" and fam_cur == "temporal":
        missing = (collect.null_count(reference, name), collect.null_count(current, name))
        base = _base(name, kind, ref_type, cur_type, rows, missing, options)
        method = options.method_for(kind, rows[0] - missing[0], rows[1] - missing[1])
        return ColumnDrift(**base, method=method, statistic=None, p_value=None,
                           threshold=options.threshold_for(name, method), drifted=False,
                           reference_count=rows[0] - missing[0],
                           current_count=rows[1] - missing[1], status=NOT_TESTABLE,
                           note="a timestamp differs between periods by construction; "
                                "chunk by it instead (drift over time)")
    notes = [f"stored as {ref_type} in reference, {cur_type} in current"] \
        if ref_type != cur_type else []
    if kind == "numeric":
        grouped = distinct <= collect.GROUP_BY_MAX_DISTINCT
        raw_ref = collect.read_numeric(reference, name, grouped, rows[0])
        raw_cur = collect.read_numeric(current, name, grouped, rows[1])

        def finish() -> tuple[ColumnDrift, Distribution | None]:
            ref, cur = collect.numeric_column(raw_ref), collect.numeric_column(raw_cur)
            base = _base(name, kind, ref_type, cur_type, rows, (ref.missing, cur.missing),
                         options)
            if ref.infs + cur.infs:
                notes.append(f"{ref.infs + cur.infs} infinite value(s) left out")
            return _decide(base, ref.sample, cur.sample, None, notes, options)
        return finish
    aligned = collect.aligned_counts(reference, current, name, options.max_categories)
    base = _base(name, kind, ref_type, cur_type, rows,
                 (aligned.reference_nulls, aligned.current_nulls), options)
    if aligned.folded:
        notes.append(f"high cardinality: the {options.max_categories:,} most frequent values "
                     "per side kept, the rest folded into '(other)'")
    return _decide(base, None, None, aligned, notes, options)


def choose_method(base: dict, n_ref: int, n_cur: int, notes: list[str], options: DriftOptions
                  ) -> tuple[methods.Method, ColumnDrift | None]:
    """The column's method and threshold (written into `base` with the counts), and its
    not-testable verdict when a side has no usable values (else None). Shared with the
    verdicts computed from profiles (profiles/drift.py)."""
    method = methods.get(options.method_for(base["kind"], n_ref, n_cur))
    threshold = options.threshold_for(base["name"], method.name)
    base.update(method=method.name, threshold=threshold, reference_count=n_ref,
                current_count=n_cur)
    if n_ref and n_cur:
        return method, None
    empty = " and ".join(s for s, n in (("reference", n_ref), ("current", n_cur)) if n == 0)
    return method, ColumnDrift(**base, statistic=None, p_value=None, drifted=False,
                               status=NOT_TESTABLE,
                               note="; ".join([*notes, f"no usable values in {empty}"]))


def _decide(base: dict, ref: stats.Sample | None, cur: stats.Sample | None,
            aligned: collect.AlignedCounts | None, notes: list[str], options: DriftOptions
            ) -> tuple[ColumnDrift, Distribution | None]:
    """Compute the measures and the verdict of one column (numeric samples or counts)."""
    if aligned is None:
        n_ref, n_cur = ref.n, cur.n
    else:
        n_ref, n_cur = int(aligned.reference.sum()), int(aligned.current.sum())
    method, untestable = choose_method(base, n_ref, n_cur, notes, options)
    if untestable is not None:
        return untestable, None
    kind, threshold = base["kind"], base["threshold"]
    if aligned is None:
        ref, cur = ref.sorted(), cur.sorted()
        measures = stats.numeric_measures(ref, cur)
        if measures["reference_std"] == 0:
            notes.append("constant in reference: Wasserstein cannot be normed")
        new, vanished = (), ()
        dist = from_samples(base["name"], ref, cur)
        sides = (ref, cur)
    else:
        chi2, p, dof = stats.chi2_two_sample(aligned.reference, aligned.current)
        measures = {"chi2": chi2, "chi2_p_value": p, "chi2_dof": dof,
                    "jensenshannon": stats.jensen_shannon(aligned.reference, aligned.current),
                    "psi": stats.psi_from_counts(aligned.reference, aligned.current),
                    "categories": len(aligned.categories)}
        new, vanished = tuple(aligned.new), tuple(aligned.vanished)
        dist = from_counts(base["name"], aligned.categories, aligned.reference,
                           aligned.current)
        sides = (aligned.reference, aligned.current)
    # The p-value shown beside any method is the kind's test (KS / chi-square).
    p_key = methods.auto_method(kind, methods.SMALL).p_value_measure
    if method.measure not in measures:  # a method of its own (a plug-in): compute it
        statistic, own_p = method.compute(kind, *sides)
        measures[method.measure] = statistic
        p_value = own_p if own_p is not None else measures.get(p_key)
    else:
        statistic = measures[method.measure]
        p_value = measures[method.p_value_measure or p_key]
    drifted = method.drifted(statistic, p_value, threshold)
    return ColumnDrift(**base, statistic=statistic, p_value=p_value, drifted=drifted,
                       note="; ".join(notes), new_categories=new, vanished_categories=vanished,
                       new_categories_count=len(new), vanished_categories_count=len(vanished),
                       measures=measures), dist


# The same base fields and verdict for counts read from profiles (aidebt_core/profiles/drift.py).
column_base, decide_column = _base, _decide
