"""Slice discovery and breakdown from profiles: the "slices" section's cell counts instead
of rows (docs/profiles.md "Slices from profiles").

`slices_route(data, options)` is the Slices analysis when `route.decide` says profiles (a
saved profile, a Spark source, or a table above the row switch), else None. It returns the
`SliceResult` of the exact path: the same slices, sizes, metric values, intervals and q-values
on the same data, for the metrics that cell counts determine — accuracy, error rate,
precision, recall, F1 (delta-method interval), positive rate — with the error or the
calibration objective. What differs:
- ROC AUC, mean score, MAE and RMSE per slice need each row (refused with one line);
- above 100,000 labelled rows the exact path searches a row sample first, the cells count
  every row (the sizes and scores reported are exact on both);
- the redundancy check of two slices over more than 3 distinct columns uses an upper bound
  on their common rows (profiles/slice_search.py).
`with_section(...)` adds the section to a profile (`aidebt profile ... --for slices`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from aidebt_core.errors import DataSourceError, OptionError, SchemaError

if TYPE_CHECKING:   # imported where used: `aidebt slices` below the switch never needs them
    from aidebt_core.profiles.slice_cells import Config
    from aidebt_core.profiles.slice_search import Cells

SECTION = "slices"   # SECTION

METRICS = ("accuracy", "error_rate", "precision", "recall", "f1", "positive_rate")
PROPORTION = {"accuracy": ("correct", "n"), "error_rate": ("errors", "n"),
              "positive_rate": ("p1", "n"), "precision": ("tp", "p1"), "recall": ("tp", "y1")}
REPROFILE = ("re-profile it with `aidebt profile SOURCE --for slices --out NAME.aidebt` "
             "(add --target/--prediction)")


# ------------------------------------------------------------------------------ config

def _as_float(text) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def resolve_classes(confusion, metric: str, target: str, positive: str | None,
                    numeric: bool) -> str | None:
    """The positive class as `slices.metrics._classes` picks it, from label × prediction
    counts ((label text, prediction text, rows), NULLs as None); None for multiclass."""
    y_counts: dict[str, int] = {}
    classes: set[str] = set()
    for label, pred, n in confusion:
        if label is None or pred is None:
            continue
        y_counts[label] = y_counts.get(label, 0) + int(n)
        classes.update((label, pred))
    names = sorted(classes)
    if positive is not None:
        match = [c for c in names if c == str(positive) or (
            numeric and _as_float(c) is not None and _as_float(c) == _as_float(positive))]
        if not match:
            raise SchemaError(f"Positive class '{positive}' does not occur in '{target}' "
                              f"(values: {', '.join(names[:10])}).")
        pos = match[0]
    elif numeric and classes and all(_as_float(c) in (0.0, 1.0) for c in classes):
        pos = next((c for c in names if _as_float(c) == 1.0), "1")
    elif len(classes) == 2:
        pos = min(names, key=lambda c: (y_counts.get(c, 0), c))
    else:
        pos = None
    binary = pos is not None and len(classes) <= 2
    from aidebt_core.slices.metrics import metric_spec

    spec = metric_spec(metric)
    if spec.binary and not binary:
        raise SchemaError(f"'{spec.name}' needs a two-class target; '{target}' has "
                          f"{len(classes)} classes. Pick accuracy or error_rate, or name the "
                          "positive class.")
    if metric in ("recall", "f1") and len(y_counts) < 2:
        raise SchemaError(f"'{target}' has only one class; {spec.label} is undefined.")
    return pos if binary else None


def _numeric_labels(types, target, prediction) -> bool:
    from aidebt_core.data import is_numeric_type

    def num(c):
        return c is None or is_numeric_type(types[c]) or types[c].upper() == "BOOLEAN"

    return num(target) and num(prediction)


def make_config(profiles: Sequence, columns: Sequence[str], types, *, target: str,
                prediction: str | None, score: str | None, ctx=None, metric: str = "accuracy",
                positive: str | None = None, max_order: int = 3, bins: int = 10,
                max_values: int = 20, edges=None) -> tuple[Config, list[str]]:
    """The section config from whole-side column profiles (reference first) and, for the
    binned numeric columns, the reference's SqlContext."""
    from aidebt_core.profiles.fit_slices import fit
    from aidebt_core.profiles.slice_cells import MAX_CELLS, Config, bounded_order

    encodings, notes = fit(profiles, columns, types, ctx=ctx, bins=bins,
                           max_values=max_values, user_edges=edges)
    numeric = _numeric_labels(types, target, prediction)
    confusion = []
    whole = profiles[-1]     # classes as the searched (current) side has them
    if whole.performance is not None:
        confusion = whole.performance.confusion
    pos = resolve_classes(confusion, metric, target, positive, numeric)
    config = Config(tuple(encodings), max_order, target, prediction, score, pos, numeric,
                    bins, max_values)
    order = bounded_order(config)
    if order < max_order:
        notes.append(f"{len(encodings)} columns of up to {config.pad} codes: slices from "
                     f"profiles are counted up to {order} conditions (at order {max_order} a "
                     f"chunk could hold over {MAX_CELLS:,} cells).")
        config = replace(config, max_order=order)
    return config, notes


# ------------------------------------------------------------------------------ metrics

def _sums(d: dict, metric: str) -> list[np.ndarray]:
    if metric == "f1":
        return [np.asarray(d["tp"], float), np.asarray(d["p1"], float),
                np.asarray(d["y1"], float)]
    num, den = PROPORTION[metric]
    return [np.asarray(d[num], float), np.asarray(d[den], float)]


def evaluate(groups: dict, totals: dict, metric: str, confidence: float = 0.95):
    """`slices.metrics.evaluate` from counts: each group (arrays of sums) against the rest
    (totals minus the group)."""
    from aidebt_core.slices import intervals as iv
    from aidebt_core.slices.metrics import GroupStats, f1_se, stats_from_sums

    size = np.asarray(groups["n"], dtype=np.int64)
    g = _sums(groups, metric)
    t = [float(x) for x in _sums(totals, metric)]
    if metric != "f1":
        k, n = g
        low, high = iv.wilson_interval(k, n, confidence)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = k / n
            se = np.sqrt(value * (1 - value) / n)
        p = iv.two_proportion_p(k, n, t[0] - k, t[1] - n)
        return GroupStats(size, value, low, high, p, se, n)
    z = iv.z_value(confidence)
    value = stats_from_sums(metric, g)
    rest = [a - b for a, b in zip(t, g, strict=True)]
    se, rest_se = f1_se(*g), f1_se(*rest)
    p = iv.normal_diff_p(value, se, stats_from_sums(metric, rest), rest_se)
    low, high = np.clip(value - z * se, 0, 1), np.clip(value + z * se, 0, 1)
    return GroupStats(size, value, low, high, p, se, size.astype(float))


def _one(d: dict) -> dict:
    return {k: np.array([v]) for k, v in d.items()}


def _box(cells: Cells, sdef, pad: int) -> dict:
    """Rows and sums of one slice (its conditions as code sets, a run of codes each)."""
    cols = [cells.index[p.column] for p in sdef.predicates]
    d = cells.sums(cols, pad)
    idx = tuple(np.array(sorted(p.codes)) for p in sdef.predicates)
    mesh = np.ix_(*idx)
    return {k: float(v[mesh].sum()) for k, v in d.items()}


# ------------------------------------------------------------------------------ analysis

def analyse_cells(cur: Cells, ref: Cells | None, metric: str, *, by: Sequence[str] = (),
                  features: Sequence[str], max_order: int = 3, min_size: int | None = None,
                  top_k: int = 10, alpha: float = 0.95, confidence: float = 0.95,
                  objective: str = "error", min_share: float | None = None,
                  alpha_fdr: float = 0.05, notes: Sequence[str] = (), rows_total: int = 0,
                  min_gap: float | None = None):
    """`slices.analysis.analyse` on cell counts (same structure, same numbers)."""
    from aidebt_core.profiles.slice_search import search_cells
    from aidebt_core.slices import breakdown as bd
    from aidebt_core.slices.analysis import (
        CANDIDATES,
        GAP_LABEL,
        RELATIVE_GAP,
        SliceResult,
        flag_breakdown,
        ranked_found,
    )
    from aidebt_core.slices.discovery import OBJECTIVES, default_min_size
    from aidebt_core.slices.entry import MIN_GAP
    from aidebt_core.slices.metrics import metric_spec

    if metric not in METRICS:
        raise OptionError(f"'{metric}' per slice needs each row's "
                          f"{'score order' if metric == 'roc_auc' else 'values'}; from "
                          f"profiles the metrics are {', '.join(METRICS)}.")
    if not 0 < alpha_fdr < 1:
        raise OptionError(f"The FDR level must be between 0 and 1 (got {alpha_fdr}).")
    if max_order < 1:
        raise OptionError(f"max order must be 1, 2 or 3 (got {max_order}).")
    if max_order > cur.config.max_order:
        notes = [*notes, f"The profile counts slices of up to {cur.config.max_order} "
                         f"condition(s); searched up to {cur.config.max_order}, not {max_order}."]
        max_order = cur.config.max_order
    if objective not in OBJECTIVES:
        raise OptionError(f"Unknown objective '{objective}': use {' or '.join(OBJECTIVES)}.")
    if objective == "calibration" and (not cur.with_score or cur.config.positive is None):
        raise SchemaError("The calibration objective needs a score column and a two-class "
                          "target.")
    spec = metric_spec(metric)
    notes = list(notes)
    config = cur.config
    missing = [c for c in [*by, *features] if c not in cur.index]
    if missing:
        raise SchemaError(f"The profile's slices section does not encode "
                          f"{', '.join(map(repr, missing))}; {REPROFILE} with those columns.")
    if len(by) > config.max_order:
        raise OptionError(f"Break down by at most {config.max_order} columns from a profile.")
    pad = config.pad
    if cur.n == 0:
        raise SchemaError("The profile has no rows where the target and prediction are known.")
    if rows_total > cur.n:
        outputs = [c for c in (config.target, config.prediction, config.score) if c]
        notes.append(f"{rows_total - cur.n:,} of {rows_total:,} current rows have no "
                     f"{' / '.join(outputs)} and are left out.")
    overall_st = evaluate(_one(cur.totals), cur.totals, metric, confidence)
    overall = bd.Overall(float(overall_st.metric[0]), float(overall_st.ci_low[0]),
                         float(overall_st.ci_high[0]), cur.n)
    min_gap = MIN_GAP if min_gap is None else float(min_gap)
    if not (math.isfinite(min_gap) and min_gap >= 0):
        raise OptionError(f"The minimum gap must be a number >= 0 (got {min_gap}).")
    gap = min_gap * abs(overall.metric) if metric in RELATIVE_GAP else min_gap
    ref_overall = None
    if ref is not None:
        st = evaluate(_one(ref.totals), ref.totals, metric, confidence)
        ref_overall = bd.Overall(float(st.metric[0]), float(st.ci_low[0]),
                                 float(st.ci_high[0]), ref.n)
    by_stats = ()
    if by:
        by_stats = tuple(_breakdown(cur, list(by), metric, confidence))
        if len(by_stats) == bd.MAX_GROUPS:
            notes.append(f"Breaking down by {', '.join(by)} gives more than {bd.MAX_GROUPS} "
                         f"slices; the {bd.MAX_GROUPS} largest are shown.")
        by_stats = flag_breakdown(by_stats, alpha_fdr, overall.metric, spec.higher_is_better,
                                  gap)
    if min_share is not None:
        min_size = max(30, math.ceil(min_share * cur.n))
    min_size = default_min_size(cur.n) if min_size is None else int(min_size)
    if min_size < 1:
        raise OptionError("The minimum slice size must be at least 1 row.")
    if top_k < 1:
        raise OptionError("Ask for at least one slice (top-k >= 1).")
    if not 0 < alpha <= 1:
        raise OptionError(f"alpha must be in (0, 1] (got {alpha}).")
    loss = "calibration_gap" if objective == "calibration" else spec.loss
    result, bounded = search_cells(cur, features, objective, max_order, min_size,
                                   CANDIDATES * top_k, alpha, loss)
    found_label = found_overall = None
    if objective == "calibration":
        t = cur.totals
        found_label = GAP_LABEL
        found_overall = (t["r_pos"] - t["r_neg"]) / cur.n
        found = [_calibration_stat(cur, f, pad, confidence) for f in result.found]
    else:
        found = []
        for f in result.found:
            st = evaluate(_one(_box(cur, f.slice, pad)), cur.totals, metric, confidence)
            found.append(bd.SliceStat(f.slice, f.size, f.size / cur.n, float(st.metric[0]),
                                      float(st.ci_low[0]), float(st.ci_high[0]),
                                      float(st.p_value[0]), math.nan, f.score))
    found, search_info = ranked_found(found, result, alpha_fdr, overall.metric, found_overall,
                                      spec.higher_is_better, gap, min_gap, top_k, objective,
                                      max_order, features)
    if not found:
        notes.append(f"No slice of at least {result.min_size:,} rows is worse than average.")
    if bounded:
        notes.append(f"From profiles: {bounded} overlap check(s) between slices on more than "
                     f"{config.max_order} columns used an upper bound on their common rows.")
    changes = breakdown_changes = ()
    if ref is not None:
        changes = tuple(_compare(ref, cur, [s.slice for s in found], metric, confidence))
        breakdown_changes = tuple(_compare(ref, cur, [s.slice for s in by_stats], metric,
                                           confidence))
    return SliceResult(metric, spec.label, spec.higher_is_better, spec.loss, overall,
                       ref_overall, tuple(by), by_stats, tuple(found), changes,
                       breakdown_changes, search_info, tuple(notes), (), alpha_fdr,
                       found_label, found_overall, min_gap)


def _calibration_stat(cells: Cells, f, pad: int, confidence: float):
    """`analysis._calibration_stats` for one slice, from its residual sums."""
    from aidebt_core.slices import breakdown as bd
    from aidebt_core.slices import intervals as iv

    d = _box(cells, f.slice, pad)
    n = d["n"]
    total = d["r_pos"] - d["r_neg"]
    gap = total / n
    half = math.nan
    if n > 1:
        var = max(d["r_sq"] - n * gap * gap, 0.0) / (n - 1)
        half = iv.z_value(confidence) * math.sqrt(var) / math.sqrt(n)
    return bd.SliceStat(f.slice, f.size, f.size / cells.n, gap, gap - half, gap + half,
                        f.p_value, math.nan, f.score, None, d["y1"] / n, d["score"] / n)


def _breakdown(cells: Cells, columns: list[str], metric: str, confidence: float):
    """`breakdown.breakdown(..., keep_largest=True)` from the columns' joint cells."""
    from aidebt_core.slices import breakdown as bd
    from aidebt_core.slices import intervals as iv
    from aidebt_core.slices.define import Predicate, SliceDef

    encs = [cells.config.encodings[cells.index[c]] for c in columns]
    pad = cells.config.pad
    d = cells.sums([cells.index[c] for c in columns], pad)
    present = np.argwhere(d["n"] > 0)            # codes per column, row-major = code order
    groups = {k: v[tuple(present.T)] for k, v in d.items()}
    if len(present) > bd.MAX_GROUPS:
        keep = np.sort(np.argsort(-groups["n"], kind="stable")[:bd.MAX_GROUPS])
        present, groups = present[keep], {k: v[keep] for k, v in groups.items()}
    st = evaluate(groups, cells.totals, metric, confidence)
    q = iv.bh_qvalues(st.p_value)
    out = []
    for g, codes in enumerate(present):
        sdef = SliceDef(tuple(Predicate(e.column, e.code_label(int(c)), (int(c),))
                              for e, c in zip(encs, codes, strict=True)))
        out.append(bd._stat(sdef, st, g, cells.n, q[g]))
    return out


def _compare(ref: Cells, cur: Cells, slices, metric: str, confidence: float):
    """`breakdown.compare` from counts."""
    from aidebt_core.slices import breakdown as bd
    from aidebt_core.slices.metrics import metric_spec

    spec = metric_spec(metric)
    pad = cur.config.pad
    sides = []
    for cells in (ref, cur):
        rows = []
        for sdef in slices:
            st = evaluate(_one(_box(cells, sdef, pad)), cells.totals, metric, confidence)
            rows.append((bd._stat(sdef, st, 0, cells.n, float("nan")), st))
        sides.append(rows)
    p, q = bd.change_tests(*sides, spec.kind)
    out = []
    for (r, _), (c, _), pv, qv, sdef in zip(*sides, p, q, slices, strict=True):
        change = c.metric - r.metric
        bad = (change < 0) if spec.higher_is_better else (change > 0)
        worsened = bool(spec.higher_is_better is not None and bad and qv < 0.05)
        out.append(bd.Change(sdef, r, c, float(change), pv, float(qv), worsened))
    return out


# ------------------------------------------------------------------------------ sources

def _engine(table):
    from aidebt_core.profiles import duckdb_engine

    return table.profiler() if hasattr(table, "profiler") else duckdb_engine


def section_context(table, plan, whole: bool = True):
    """The SqlContext of a table side on its own engine (DuckDB, or Spark through the Spark
    engine's `sql_context`), keyed by chunk or as one chunk when `whole`."""
    from aidebt_core.profiles import cross
    from aidebt_core.profiles.model import ALL_ROWS

    key = f"'{ALL_ROWS}'" if whole else _engine(table).chunk_key_sql(table, plan)
    ctx = cross.sql_context(table, plan)
    if ctx is None:
        raise DataSourceError(f"{table.label}: its engine offers no SQL for slice counts.")
    return replace(ctx, key=key)


def count_section(table, plan, config: Config, whole: bool = True) -> dict:
    """{chunk key: Section} of a table side under `config` (one key, '' when `whole`)."""
    from aidebt_core.profiles import slice_cells

    return slice_cells.compute(section_context(table, plan, whole), plan, config)


def _whole(sections: dict, config: Config):
    from aidebt_core.profiles import slice_cells

    out = None
    for s in sections.values():
        out = s if out is None else out.merge(s)
    return out if out is not None else slice_cells.empty(bool(config.score))


def _column_profiles(tables, schema, columns, target, prediction, score):
    """Whole-side column profiles of table sides under one plan made from the first."""
    engine = _engine(tables[0])
    kinds = engine.profile_kinds(tables[0], schema, columns, (), None)
    plan = engine.plan_profile(tables[0], kinds, target=target, prediction=prediction,
                               score=score)
    return plan, [_engine(t).compute_profile(t, plan) for t in tables]


def fold_notes(config: Config, columns) -> list[str]:
    """The notes `fit_encodings` gave when the encodings were fitted (folded values)."""
    from aidebt_core.slices.encode import OTHER_LABEL

    out = []
    for enc in config.encodings:
        if enc.column in columns and enc.kind == "categorical" and enc.folded:
            total = len(enc.values) + enc.folded
            out.append(f"'{enc.column}' has {total:,} distinct values; the {len(enc.values)} "
                       f"most frequent are kept and the other {enc.folded:,} are grouped as "
                       f"'{OTHER_LABEL}'.")
    return out


def saved_config(profile_table) -> Config:
    config = profile_table.profile.plan.section(SECTION)
    if config is None:
        raise OptionError(f"{profile_table.label} is a saved profile without slice counts: "
                          f"{REPROFILE}.")
    return config


def slices_run(data, options):
    """The registered Slices analysis (aidebt_core/analyses.py): from the profile's slice
    cells when the route says profiles, else from the rows (`slices.entry.run`)."""
    routed = slices_route(data, options)
    if routed is not None:
        return routed
    from aidebt_core.slices.entry import run

    return run(data, options)


def slices_route(data, options):
    """The Slices analysis from profiles when `route.decide` says so, else None."""
    from aidebt_core.profiles.route import decide
    from aidebt_core.profiles.source import ProfileTable
    from aidebt_core.slices.entry import default_metric

    reference, current = data.reference, data.current
    if current is None:
        reference, current = None, data.reference
    if not decide(reference if reference is not None else current,
                  current if reference is not None else None).use:
        return None
    from aidebt_core.profiles.slice_search import Cells

    schema = data.schema
    target = schema.first("target")
    prediction, score = schema.first("prediction"), schema.first("score")
    if not target:
        raise SchemaError("No column is the target (the labels): give --target COLUMN.")
    metric = options.metric or default_metric(schema)
    if metric not in METRICS:
        raise OptionError(f"Slices from profiles: '{metric}' per slice needs each row "
                          f"(ROC AUC, mean score, MAE, RMSE); pick --metric "
                          f"{' / '.join(METRICS)}.")
    if not prediction:
        raise SchemaError(f"Slices from profiles need a prediction column for {metric}.")
    features = list(schema.features if options.features is None else options.features)
    outputs = [c for c in (target, prediction, score) if c]
    sides = [t for t in (reference, current) if t is not None]
    saved = [t for t in sides if isinstance(t, ProfileTable)]
    notes: list[str] = []
    if saved:
        config = saved_config(saved[0])
        plan = saved[0].profile.plan
        side_cells = []
        for t in sides:
            if isinstance(t, ProfileTable):
                cfg = saved_config(t)
                if cfg.to_dict() != config.to_dict():
                    raise OptionError(f"{t.label} counts slices with other encodings than "
                                      f"{saved[0].label}; profile both with --like.")
                whole = t.profile.overall()
                side_cells.append((Cells(whole.section(SECTION), config), whole.rows))
            else:
                needed = [*config.columns, config.target, config.prediction, config.score]
                missing = [c for c in needed if c and c not in t.column_types]
                if missing:
                    raise SchemaError(f"{t.label} lacks column(s) "
                                      f"{', '.join(map(repr, missing))} that the slices of "
                                      f"{saved[0].label} are counted on.")
                sec = _whole(count_section(t, plan, config), config)
                side_cells.append((Cells(sec, config), _rows(t)))
        if options.positive is not None and str(options.positive) != str(config.positive) \
                and _as_float(options.positive) != _as_float(config.positive):
            raise OptionError(f"{saved[0].label} counts {config.positive!r} as the positive "
                              f"class (fixed when it was profiled), not {options.positive!r}.")
        notes += fold_notes(config, [*options.by, *features])
        if options.bins != config.bins or options.edges:
            notes.append(f"From a saved profile the slice bins are the profile's "
                         f"({config.bins} per numeric column).")
    else:
        columns = list(dict.fromkeys([*options.by, *features, *outputs]))
        plan, profiles = _column_profiles(sides, schema, columns, target, prediction, score)
        wholes = [p.overall() for p in profiles]
        ctx = section_context(sides[0], plan)
        types = sides[0].column_types
        config, notes = make_config(
            [_Whole(w, profiles[0].plan) for w in wholes],
            list(dict.fromkeys([*options.by, *features])), types, target=target,
            prediction=prediction, score=score, ctx=ctx, metric=metric,
            positive=options.positive, max_order=max(options.max_order, len(options.by)),
            bins=options.bins, edges=options.edges_map())
        side_cells = [(Cells(_whole(count_section(t, plan, config), config), config), w.rows)
                      for t, w in zip(sides, wholes, strict=True)]
    ref_cells = side_cells[0][0] if len(side_cells) == 2 else None
    cur_cells, rows_total = side_cells[-1]
    from aidebt_core.profiles.route import source_label

    result = analyse_cells(cur_cells, ref_cells, metric, by=options.by, features=features,
                           max_order=options.max_order, min_size=options.min_size,
                           top_k=options.top_k, alpha=options.alpha,
                           objective=options.objective, min_share=options.min_share,
                           alpha_fdr=options.alpha_fdr, notes=notes, rows_total=rows_total,
                           min_gap=getattr(options, "min_gap", None))
    labels = [source_label(t) for t in sides]
    return replace(result, notes=(*result.notes, f"Computed from profiles ({', '.join(labels)})."))


def _rows(table) -> int:
    from aidebt_core.data import row_count

    return int(row_count(table) or 0)


class _Whole:
    """A side's merged chunk with its plan: what fit_slices and make_config read (columns,
    performance counts, and the plan's grids)."""

    def __init__(self, chunk, plan):
        self.chunk, self.plan = chunk, plan
        self.performance = chunk.performance

    def column(self, name):
        return self.chunk.column(name)


def with_section(table, profile, schema, *, columns: Sequence[str] | None = None,
                 max_order: int = 3, bins: int = 10, max_values: int = 20):
    """`profile` (of `table`) with the slices section added per chunk: encodings fitted on
    the table itself, as `aidebt slices` on the rows would fit them."""
    from aidebt_core.profiles import slice_cells

    target = schema.first("target")
    prediction, score = schema.first("prediction"), schema.first("score")
    if not target or not prediction:
        raise SchemaError("--for slices needs the labels and the model's prediction: give "
                          "--target COLUMN and --prediction COLUMN.")
    outputs = {target, prediction, score, profile.plan.timestamp}
    names = list(columns) if columns else [c for c in schema.features if c not in outputs
                                           and c in profile.plan.names]
    whole = profile.overall()
    missing = [c for c in names if c not in profile.plan.names]
    if missing:
        raise SchemaError(f"--for slices: the profile has no column(s) "
                          f"{', '.join(map(repr, missing))}.")
    ctx = section_context(table, profile.plan)
    config, _ = make_config([_Whole(whole, profile.plan)], names, table.column_types,
                            target=target, prediction=prediction, score=score, ctx=ctx,
                            max_order=max_order, bins=bins, max_values=max_values)
    plan = replace(profile.plan, sections=tuple(sorted(
        (*(c for c in profile.plan.sections if c.name != SECTION), config),
        key=lambda c: c.name)))
    counted = count_section(table, plan, config, whole=False)
    chunks = []
    for chunk in profile.chunks:
        section = counted.get(chunk.key, slice_cells.empty(bool(score)))
        others = tuple((n, s) for n, s in chunk.sections if n != SECTION)
        chunks.append(replace(chunk, sections=tuple(sorted(
            (*others, (SECTION, section)), key=lambda x: x[0]))))
    return replace(profile, plan=plan, chunks=tuple(chunks))


def add_for_profile(table, profile, inputs, args):
    """`aidebt profile ... --for slices`: the profile with the slices section (kept as it is
    when its plan, from --like, already counts it)."""
    from aidebt_core.profiles.model import DatasetProfile

    if profile.plan.section(SECTION) is not None:
        return profile
    out = with_section(table, profile, inputs.schema)
    assert isinstance(out, DatasetProfile)
    return out
