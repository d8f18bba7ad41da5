"""The slice analysis end to end: encode on reference, break down, discover, compare.

`SliceResult.to_dict`/`from_dict` round-trip it through JSON (a slice comes back as its
column -> condition labels, without the bin codes only the analysis used); `fingerprint`
hashes its options with the input identity the caller set (`with_inputs`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import pandas as pd

from aidebt_core.data import Table
from aidebt_core.errors import SchemaError
from aidebt_core.jsonsafe import jsonable
from aidebt_core.schema import infer_schema
from aidebt_core.slices import breakdown as bd
from aidebt_core.slices.define import Predicate, SliceDef
from aidebt_core.slices.discovery import search
from aidebt_core.slices.encode import fit_encodings
from aidebt_core.slices.metrics import load, metric_spec

if TYPE_CHECKING:  # `aidebt slices` imports this module to build the CLI: keep drift out
    from aidebt_core.drift.identity import Identity

SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class SliceResult:
    """Breakdown, discovered weak slices and reference-vs-current changes for one metric."""

    metric: str
    metric_label: str
    higher_is_better: bool | None
    loss: str
    overall: bd.Overall
    reference_overall: bd.Overall | None
    by: tuple[str, ...]
    breakdown: tuple[bd.SliceStat, ...]
    found: tuple[bd.SliceStat, ...]
    changes: tuple[bd.Change, ...]
    breakdown_changes: tuple[bd.Change, ...]
    search: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    inputs: Identity = ()   # set by the caller (with_inputs): what the data was read from

    @property
    def fingerprint(self) -> str:
        """Options (metric, breakdown, search settings) + the caller's input identity."""
        from aidebt_core.drift.identity import fingerprint

        return fingerprint("slices", {"metric": self.metric, "by": list(self.by),
                                      "search": self.search}, self.inputs)

    def with_inputs(self, inputs: Identity) -> SliceResult:
        return replace(self, inputs=tuple(inputs))

    def weak(self, level: float = SIGNIFICANCE) -> list[bd.SliceStat]:
        """Discovered slices significantly worse than the rest (q < level) on the metric."""
        better = self.higher_is_better
        return [s for s in self.found if s.q_value < level and better is not None
                and ((s.metric < self.overall.metric) if better
                     else (s.metric > self.overall.metric))]

    def sentence(self, stat: bd.SliceStat) -> str:
        """'channel = mobile and account_age_days < 90: accuracy 0.71 vs 0.88 overall, 3.1% of
        rows'."""
        return (f"{stat.slice.describe()}: {self.metric_label} {stat.metric:.3g} vs "
                f"{self.overall.metric:.3g} overall, {stat.share:.1%} of rows")

    def to_frame(self) -> pd.DataFrame:
        """The discovered slices, worst (highest score) first."""
        return bd.frame(self.found)

    def to_dict(self) -> dict:
        weak = self.weak()
        worsened = [c for c in self.changes if c.worsened]
        return jsonable({
            "metric": self.metric, "overall": self.overall.metric,
            "overall_ci": [self.overall.ci_low, self.overall.ci_high],
            "rows": self.overall.rows,
            "reference_overall": self.reference_overall.metric if self.reference_overall
            else None,
            "higher_is_better": self.higher_is_better, "loss": self.loss,
            "slices": [s.to_dict() for s in self.found],
            "breakdown": {"by": list(self.by), "slices": [s.to_dict() for s in self.breakdown]},
            "changes": [c.to_dict() for c in self.changes],
            "breakdown_changes": [c.to_dict() for c in self.breakdown_changes],
            "summary": {
                "weak_slices": len(weak),
                "worsened_slices": len(worsened),
                "worst_slice": weak[0].slice.describe() if weak else None,
                "worst_gap": abs(weak[0].metric - self.overall.metric) if weak else 0.0,
                "sentences": [self.sentence(s) for s in weak],
            },
            "search": self.search, "notes": list(self.notes),
            "metric_label": self.metric_label,
            "reference_overall_ci": (None if self.reference_overall is None else
                                     [self.reference_overall.ci_low,
                                      self.reference_overall.ci_high,
                                      self.reference_overall.rows]),
            "inputs": [list(i) for i in self.inputs], "fingerprint": self.fingerprint,
        })

    @classmethod
    def from_dict(cls, data: Mapping) -> SliceResult:
        """The result a `to_dict` document describes (NaN figures come back from null)."""
        from aidebt_core.drift.identity import identity_from

        low, high = data["overall_ci"]
        ref = data.get("reference_overall_ci")
        reference_overall = None if ref is None else bd.Overall(
            _num(data["reference_overall"]), _num(ref[0]), _num(ref[1]), int(ref[2]))
        return cls(data["metric"], data["metric_label"], data["higher_is_better"],
                   data["loss"], bd.Overall(_num(data["overall"]), _num(low), _num(high),
                                            int(data["rows"])),
                   reference_overall, tuple(data["breakdown"]["by"]),
                   tuple(_stat(s) for s in data["breakdown"]["slices"]),
                   tuple(_stat(s) for s in data["slices"]),
                   tuple(_change(c) for c in data["changes"]),
                   tuple(_change(c) for c in data["breakdown_changes"]),
                   dict(data.get("search") or {}), tuple(data.get("notes", ())),
                   identity_from(data.get("inputs")))


def _num(value) -> float:
    return math.nan if value is None else float(value)


def _slice(conditions: Mapping[str, str]) -> SliceDef:
    return SliceDef(tuple(Predicate(str(c), str(label), ()) for c, label in conditions.items()))


def _stat(data: Mapping) -> bd.SliceStat:
    score = data.get("score")
    return bd.SliceStat(_slice(data["slice"]), int(data["size"]), _num(data["share"]),
                        _num(data["metric"]), _num(data["ci_low"]), _num(data["ci_high"]),
                        _num(data["p_value"]), _num(data["q_value"]),
                        None if score is None else float(score))


def _change(data: Mapping) -> bd.Change:
    return bd.Change(_slice(data["slice"]), _stat(data["reference"]), _stat(data["current"]),
                     _num(data["change"]), _num(data["p_value"]), _num(data["q_value"]),
                     bool(data["worsened"]))


def default_features(table: Table, exclude: Sequence[str]) -> list[str]:
    """Feature columns by role (numeric, categorical, boolean), minus target/prediction/score."""
    return [c for c in infer_schema(table).features if c not in set(exclude)]


def analyse(current: Table, target: str, prediction: str | None = None,
            score: str | None = None, metric: str = "accuracy", reference: Table | None = None,
            by: Sequence[str] = (), features: Sequence[str] | None = None, max_order: int = 3,
            min_size: int | None = None, top_k: int = 10, bins: int = 10,
            max_values: int = 20, alpha: float = 0.95, positive: str | None = None,
            confidence: float = 0.95, n_boot: int = 200, seed: int = 0,
            edges: Mapping[str, Sequence[float]] | None = None,
            discover: bool = True, objective: str | None = None,
            min_share: float | None = None) -> SliceResult:
    """Slices of `current` (encoded with bins fitted on `reference` when given).

    `objective` ranks discovered slices: "calibration" (default when a score is given) or
    "error" (the metric's row-wise error); see `discovery.search`. `min_share` (a fraction of
    the labelled current rows, at least 30 rows) overrides `min_size`.
    """
    spec = metric_spec(metric)
    fit_on = reference if reference is not None else current
    outputs = [c for c in (target, prediction, score) if c]
    fit_on.require_columns(outputs)
    if features is None:
        features = default_features(fit_on, outputs)
    bad = [c for c in [*by, *features] if c in outputs]
    if bad:
        raise SchemaError(f"Cannot slice on the target/prediction/score column(s) "
                          f"{', '.join(bad)}.")
    columns = list(dict.fromkeys([*by, *features]))
    if not columns:
        raise SchemaError("No columns to slice on: pick columns or mark some as features.")
    encodings, notes = fit_encodings(fit_on, columns, bins=bins, max_values=max_values,
                                     user_edges=edges,
                                     also=current if reference is not None else None)
    kw = {"target": target, "metric": metric, "prediction": prediction, "score": score,
          "positive": positive}
    cur = load(current, encodings, **kw)
    ref = load(reference, encodings, **kw) if reference is not None else None
    if cur.rows_unlabelled:
        notes.append(f"{cur.rows_unlabelled:,} of {cur.rows_total:,} current rows have no "
                     f"{' / '.join(outputs)} and are left out.")
    stat_kw = {"confidence": confidence, "n_boot": n_boot, "seed": seed}
    overall = bd.overall(cur, metric, **stat_kw)
    ref_overall = bd.overall(ref, metric, **stat_kw) if ref is not None else None
    by_stats = tuple(bd.breakdown(cur, list(by), metric, **stat_kw)) if by else ()
    found, search_info = (), {}
    if discover:
        if min_share is not None:
            min_size = max(30, math.ceil(min_share * cur.n))
        if objective is None:
            objective = "calibration" if score and cur.binary else "error"
        result = search(cur, metric, features, max_order=max_order, min_size=min_size,
                        top_k=top_k, alpha=alpha, objective=objective)
        metrics = bd.slice_stats(cur, [f.slice for f in result.found], metric, **stat_kw)
        found = tuple(
            bd.SliceStat(f.slice, f.size, f.size / cur.n, float(st.metric[0]),
                         float(st.ci_low[0]), float(st.ci_high[0]), f.p_value, f.q_value,
                         f.score)
            for f, st in zip(result.found, metrics, strict=True))
        search_info = {"objective": objective, "loss": result.loss, "mean_error": result.mean_error,
                       "min_size": result.min_size, "alpha": result.alpha,
                       "max_order": max_order, "tests": result.tests,
                       "evaluated": result.evaluated, "pruned_blocks": result.pruned_blocks,
                       "columns": list(features)}
        if not found:
            notes.append("No slice of at least "
                         f"{result.min_size:,} rows is worse than average.")
    changes = breakdown_changes = ()
    if ref is not None:
        changes = tuple(bd.compare(ref, cur, [s.slice for s in found], metric, **stat_kw))
        breakdown_changes = tuple(bd.compare(ref, cur, [s.slice for s in by_stats], metric,
                                             **stat_kw))
    return SliceResult(metric, spec.label, spec.higher_is_better, spec.loss, overall,
                       ref_overall, tuple(by), by_stats, found, changes, breakdown_changes,
                       search_info, tuple(notes))
