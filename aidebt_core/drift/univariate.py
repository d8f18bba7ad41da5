"""Per-column drift, reference vs current: which columns drifted, how much, by which measure.

Numeric columns get KS (p-value), Wasserstein distance normed by the reference std and PSI;
categorical ones chi-square (p-value), Jensen–Shannon distance and PSI; all figures are always
computed, and `method` only chooses which one decides "drifted". `auto` uses the test on small
samples (below `small_sample` non-missing values on a side) and the effect size above, where
every p-value is tiny.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aidebt_core.data import Table
from aidebt_core.drift import collect, stats
from aidebt_core.errors import SchemaError
from aidebt_core.jsonsafe import jsonable
from aidebt_core.schema import Schema, infer_schema

METHODS = ("auto", "ks", "chi2", "psi", "wasserstein", "jensenshannon")
P_VALUE_METHODS = ("ks", "chi2")
DEFAULT_THRESHOLDS = {"ks": 0.05, "chi2": 0.05, "psi": 0.2, "wasserstein": 0.1,
                      "jensenshannon": 0.1}
# The same question asked of the other kind of column: a test, a distance, or PSI.
_COUNTERPART = {"numeric": {"ks": "ks", "chi2": "ks", "wasserstein": "wasserstein",
                            "jensenshannon": "wasserstein", "psi": "psi"},
                "categorical": {"ks": "chi2", "chi2": "chi2", "wasserstein": "jensenshannon",
                                "jensenshannon": "jensenshannon", "psi": "psi"}}
OUTPUT_ROLES = ("prediction", "score")
OK, NOT_TESTABLE, TYPE_CHANGED = "ok", "not testable", "type changed"
MAX_LISTED_CATEGORIES = 50


@dataclass(frozen=True)
class DriftOptions:
    """How drift is decided. `threshold` applies to the chosen method (under `auto`, to the
    effect size; the p-value threshold is `p_threshold`); `column_thresholds` override it."""

    method: str = "auto"
    threshold: float | None = None
    p_threshold: float = 0.05
    column_thresholds: tuple[tuple[str, float], ...] = ()
    drift_share: float = 0.5
    missing_threshold: float = 0.05
    small_sample: int = 1000
    max_categories: int = 10_000
    top_k: int = 1000

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise SchemaError(f"Unknown drift method '{self.method}'. Use one of "
                              f"{', '.join(METHODS)}.")
        for name, value in [("threshold", self.threshold), ("drift share", self.drift_share),
                            *self.column_thresholds]:
            if value is not None and not (np.isfinite(value) and value >= 0):
                raise SchemaError(f"The {name} threshold must be a number ≥ 0, not {value!r}.")
        if not 0 < self.drift_share <= 1:
            raise SchemaError(f"The drift share must lie in (0, 1], not {self.drift_share}.")

    def method_for(self, kind: str, n_ref: int, n_cur: int) -> str:
        if self.method == "auto":
            small = min(n_ref, n_cur) < self.small_sample
            test, effect = ("ks", "wasserstein") if kind == "numeric" else ("chi2",
                                                                            "jensenshannon")
            return test if small else effect
        return _COUNTERPART[kind][self.method]

    def threshold_for(self, column: str, method: str) -> float:
        overrides = dict(self.column_thresholds)
        if column in overrides:
            return float(overrides[column])
        if method in P_VALUE_METHODS:
            if self.method == "auto" or self.threshold is None:
                return self.p_threshold
            return float(self.threshold)
        return float(self.threshold) if self.threshold is not None else DEFAULT_THRESHOLDS[method]


@dataclass(frozen=True)
class ColumnDrift:
    """Every drift figure for one column; `statistic`/`p_value` are those of `method`."""

    name: str
    kind: str
    method: str
    statistic: float | None
    p_value: float | None
    threshold: float
    drifted: bool
    missing_share_reference: float
    missing_share_current: float
    missing_changed: bool
    reference_count: int
    current_count: int
    status: str = OK
    note: str = ""
    dtype_reference: str = ""
    dtype_current: str = ""
    new_categories: tuple[str, ...] = ()
    vanished_categories: tuple[str, ...] = ()
    measures: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def missing_change(self) -> float:
        return self.missing_share_current - self.missing_share_reference

    def to_dict(self) -> dict:
        return jsonable({
            "name": self.name, "kind": self.kind, "method": self.method,
            "statistic": self.statistic, "p_value": self.p_value, "threshold": self.threshold,
            "drifted": self.drifted,
            "missing_share_reference": self.missing_share_reference,
            "missing_share_current": self.missing_share_current,
            "new_categories": list(self.new_categories[:MAX_LISTED_CATEGORIES]),
            "new_categories_count": len(self.new_categories),
            "vanished_categories": list(self.vanished_categories[:MAX_LISTED_CATEGORIES]),
            "missing_changed": self.missing_changed, "status": self.status, "note": self.note,
            "reference_count": self.reference_count, "current_count": self.current_count,
            "dtype_reference": self.dtype_reference, "dtype_current": self.dtype_current,
            "measures": dict(self.measures),
        })


@dataclass(frozen=True)
class DriftResult:
    """Drift of every analysed column and the dataset-level verdict."""

    reference_rows: int
    current_rows: int
    columns: tuple[ColumnDrift, ...]
    options: DriftOptions
    only_in_reference: tuple[str, ...] = ()
    only_in_current: tuple[str, ...] = ()

    @property
    def testable(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.status != NOT_TESTABLE]

    @property
    def drifted_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.drifted]

    @property
    def drifted_share(self) -> float:
        testable = self.testable
        return sum(c.drifted for c in testable) / len(testable) if testable else 0.0

    @property
    def dataset_drift(self) -> bool:
        return bool(self.testable) and self.drifted_share >= self.options.drift_share

    @property
    def missing_changed(self) -> list[str]:
        return [c.name for c in self.columns if c.missing_changed]

    @property
    def worst(self) -> ColumnDrift | None:
        """The drifted column furthest past its threshold (by ratio), else None."""
        def excess(c: ColumnDrift) -> float:
            if c.statistic is None or not np.isfinite(c.statistic):
                return np.inf
            if c.method in P_VALUE_METHODS:
                return c.threshold / max(c.p_value or 0.0, 1e-300)
            return c.statistic / c.threshold if c.threshold else np.inf
        drifted = [c for c in self.columns if c.drifted]
        return max(drifted, key=excess) if drifted else None

    def column(self, name: str) -> ColumnDrift:
        for c in self.columns:
            if c.name == name:
                return c
        raise SchemaError(f"No drift result for column '{name}'.")

    def to_frame(self) -> pd.DataFrame:
        rows = [{"column": c.name, "kind": c.kind, "method": c.method, "statistic": c.statistic,
                 "p_value": c.p_value, "threshold": c.threshold, "drifted": c.drifted,
                 "missing_reference": c.missing_share_reference,
                 "missing_current": c.missing_share_current, "missing_change": c.missing_change,
                 "new_categories": ", ".join(c.new_categories[:10])
                 + (" …" if len(c.new_categories) > 10 else ""),
                 "status": c.status, "note": c.note} for c in self.columns]
        return pd.DataFrame(rows, columns=["column", "kind", "method", "statistic", "p_value",
                                           "threshold", "drifted", "missing_reference",
                                           "missing_current", "missing_change",
                                           "new_categories", "status", "note"])

    def to_dict(self) -> dict:
        """The CLI contract's JSON document (extended with notes, measures and summaries)."""
        return jsonable({
            "reference_rows": self.reference_rows, "current_rows": self.current_rows,
            "dataset_drift": self.dataset_drift, "drifted_share": self.drifted_share,
            "drift_share_threshold": self.options.drift_share,
            "method": self.options.method,
            "drifted_columns": self.drifted_columns,
            "missing_changed": self.missing_changed,
            "only_in_reference": list(self.only_in_reference),
            "only_in_current": list(self.only_in_current),
            "columns": [c.to_dict() for c in self.columns],
        })


def drift_summary(result: DriftResult) -> dict:
    """A headline for other pages and the audit: share drifted, which, worst, new values."""
    worst = result.worst
    return jsonable({
        "columns_analysed": len(result.columns),
        "drifted_count": len(result.drifted_columns),
        "drifted_share": result.drifted_share,
        "dataset_drift": result.dataset_drift,
        "drifted_columns": result.drifted_columns,
        "worst_column": worst.name if worst else None,
        "worst_statistic": worst.statistic if worst else None,
        "worst_method": worst.method if worst else None,
        "missing_changed": result.missing_changed,
        "new_categories": {c.name: list(c.new_categories[:10]) for c in result.columns
                           if c.new_categories},
    })


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
    unknown_forced = [c for c in categorical if c not in chosen]
    if unknown_forced:
        raise SchemaError(f"--categorical names column(s) not analysed: "
                          f"{', '.join(map(repr, unknown_forced))}.")
    ref_types, cur_types = reference.column_types, current.column_types
    ref_profile, cur_profile = collect.profile(reference, chosen), collect.profile(current, chosen)
    results = []
    for name in chosen:
        kind = column_kind(schema, name, ref_types[name], categorical)
        results.append(_column(reference, current, name, kind, ref_types[name], cur_types[name],
                               ref_profile, cur_profile, options))
    return DriftResult(ref_profile.rows, cur_profile.rows, tuple(results), options,
                       tuple(only_ref), tuple(only_cur))


def _column(reference: Table, current: Table, name: str, kind: str, ref_type: str,
            cur_type: str, ref_p: collect.SideProfile, cur_p: collect.SideProfile,
            options: DriftOptions) -> ColumnDrift:
    miss_ref, miss_cur = ref_p.missing_share(name), cur_p.missing_share(name)
    base = dict(name=name, kind=kind, missing_share_reference=miss_ref,
                missing_share_current=miss_cur,
                missing_changed=bool(abs(miss_cur - miss_ref) >= options.missing_threshold),
                dtype_reference=ref_type, dtype_current=cur_type)
    fam_ref, fam_cur = collect.type_family(ref_type), collect.type_family(cur_type)
    n_ref = ref_p.rows - ref_p.missing(name) - ref_p.infs.get(name, 0)
    n_cur = cur_p.rows - cur_p.missing(name) - cur_p.infs.get(name, 0)
    if fam_ref != fam_cur and not (kind == "categorical" and {fam_ref, fam_cur} <= {"numeric",
                                                                                   "text"}):
        method = options.method_for(kind, n_ref, n_cur)
        return ColumnDrift(**base, method="type", statistic=None, p_value=None,
                           threshold=options.threshold_for(name, method), drifted=True,
                           reference_count=n_ref, current_count=n_cur, status=TYPE_CHANGED,
                           note=f"type changed: {ref_type} in reference, {cur_type} in current")
    method = options.method_for(kind, n_ref, n_cur)
    threshold = options.threshold_for(name, method)
    if n_ref == 0 or n_cur == 0:
        empty = " and ".join(s for s, n in (("reference", n_ref), ("current", n_cur)) if n == 0)
        return ColumnDrift(**base, method=method, statistic=None, p_value=None,
                           threshold=threshold, drifted=False, reference_count=n_ref,
                           current_count=n_cur, status=NOT_TESTABLE,
                           note=f"no usable values in {empty}")
    notes = []
    if ref_type != cur_type:
        notes.append(f"stored as {ref_type} in reference, {cur_type} in current")
    infs = ref_p.infs.get(name, 0) + cur_p.infs.get(name, 0)
    if infs:
        notes.append(f"{infs} infinite value(s) left out")
    if kind == "numeric":
        measures, extra = _numeric_measures(reference, current, name, notes)
        new, vanished = (), ()
    else:
        high = max(ref_p.distinct[name], cur_p.distinct[name]) > options.max_categories
        aligned = collect.aligned_counts(reference, current, name, n_ref, n_cur, high,
                                         options.top_k)
        if aligned.folded:
            notes.append(f"high cardinality: top {options.top_k} values per side kept, "
                         "the rest folded into '(other)'")
        measures, extra = _categorical_measures(aligned)
        new, vanished = tuple(aligned.new), tuple(aligned.vanished)
    notes.extend(extra)
    statistic = measures[method]
    p_value = measures["ks_p_value" if kind == "numeric" else "chi2_p_value"]
    drifted = bool(p_value < threshold if method in P_VALUE_METHODS else statistic >= threshold)
    return ColumnDrift(**base, method=method, statistic=statistic, p_value=p_value,
                       threshold=threshold, drifted=drifted, reference_count=n_ref,
                       current_count=n_cur, note="; ".join(notes), new_categories=new,
                       vanished_categories=vanished, measures=measures)


def _numeric_measures(reference: Table, current: Table, name: str, notes: list[str]
                      ) -> tuple[dict, list[str]]:
    a = collect.sorted_values(reference, name)
    b = collect.sorted_values(current, name)
    pair = stats.ks_and_wasserstein(a, b)
    d, p = stats.ks_test(a, b, pair.ks_statistic)
    std = float(np.std(a))
    extra = []
    if std > 0:
        w_norm = pair.wasserstein / std
    else:
        w_norm = 0.0 if pair.wasserstein == 0 else np.inf
        extra.append("constant in reference: Wasserstein cannot be normed")
    return {"ks": d, "ks_p_value": p, "wasserstein": w_norm,
            "wasserstein_raw": pair.wasserstein, "psi": stats.psi_numeric(a, b),
            "reference_std": std}, extra


def _categorical_measures(aligned: collect.AlignedCounts) -> tuple[dict, list[str]]:
    chi2, p, dof = stats.chi2_two_sample(aligned.reference, aligned.current)
    return {"chi2": chi2, "chi2_p_value": p, "chi2_dof": dof,
            "jensenshannon": stats.jensen_shannon(aligned.reference, aligned.current),
            "psi": stats.psi_from_counts(aligned.reference, aligned.current),
            "categories": len(aligned.categories)}, []
