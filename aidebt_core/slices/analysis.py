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

import numpy as np

from aidebt_core.errors import OptionError, SchemaError
from aidebt_core.slices import breakdown as bd
from aidebt_core.slices import intervals as iv
from aidebt_core.slices.define import Predicate, SliceDef
from aidebt_core.slices.discovery import search
from aidebt_core.slices.encode import fit_encodings
from aidebt_core.slices.metrics import SliceData, load, metric_spec
from aidebt_core.slices.thresholds import MIN_GAP

if TYPE_CHECKING:  # keep drift (and pandas) out of the computation's imports
    import pandas as pd

    from aidebt_core.data import Table
    from aidebt_core.drift.identity import Identity

SIGNIFICANCE = 0.05   # default FDR level: "significant" means q below it (--alpha-fdr)
RELATIVE_GAP = ("mae", "rmse")  # metrics in the target's unit: the minimum gap is a share
CANDIDATES = 2        # the search proposes this many times top_k; significance-first cut
GAP_LABEL = "calibration gap (observed rate − mean score)"


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
    alpha_fdr: float = SIGNIFICANCE
    # What the discovered slices show: the metric, or with the calibration objective the gap
    # between observed rate and mean score (and its overall value).
    found_label: str | None = None
    found_overall: float | None = None
    min_gap: float = MIN_GAP  # "significant" also needs a gap this large (see `material`)

    @property
    def calibration(self) -> bool:
        return self.search.get("objective") == "calibration"

    @property
    def shown_label(self) -> str:
        return self.found_label or self.metric_label

    @property
    def shown_overall(self) -> float:
        return self.overall.metric if self.found_overall is None else self.found_overall

    @property
    def fingerprint(self) -> str:
        """Options (metric, breakdown, search settings) + the caller's input identity."""
        from aidebt_core.drift.identity import fingerprint

        return fingerprint("slices", {"metric": self.metric, "by": list(self.by),
                                      "search": self.search}, self.inputs)

    def with_inputs(self, inputs: Identity) -> SliceResult:
        return replace(self, inputs=tuple(inputs))

    def weak(self) -> list[bd.SliceStat]:
        """Discovered slices significantly worse than overall: q below the FDR level and the
        shown measure worse by at least the minimum gap (for the calibration gap: further
        from zero)."""
        return [s for s in self.found if s.significant]

    @property
    def rule(self) -> str:
        """What 'significantly worse' means here, for sentences: 'BH q < 0.05, at least 0.02
        worse'."""
        gap = (f"at least {self.min_gap:.0%} worse" if self.metric in RELATIVE_GAP
               and not self.calibration else f"at least {self.min_gap:g} worse")
        return f"BH q < {self.alpha_fdr:g}" + (f", {gap}" if self.min_gap > 0 else "")

    def sentence(self, stat: bd.SliceStat) -> str:
        """'channel = mobile and account_age_days < 90: accuracy 0.71 vs 0.88 overall, 3.1% of
        rows' (calibration: observed rate, mean score and their gap)."""
        if stat.observed is not None:
            return (f"{stat.slice.describe()}: observed rate {stat.observed:.3g} vs mean score "
                    f"{stat.mean_score:.3g} (gap {stat.metric:+.3g}, {self.shown_overall:+.3g} "
                    f"overall), {stat.share:.1%} of rows")
        return (f"{stat.slice.describe()}: {self.metric_label} {stat.metric:.3g} vs "
                f"{self.overall.metric:.3g} overall, {stat.share:.1%} of rows")

    def verdict(self) -> str:
        """One sentence: how many discovered slices are significantly worse, or that none is."""
        weak = self.weak()
        what = "calibration gap" if self.calibration else self.metric_label
        if not weak:
            return (f"No slice is significantly worse than overall on {what} "
                    f"({self.rule}); the slices listed are not findings.")
        return (f"{len(weak)} slice(s) significantly worse than overall on {what} "
                f"({self.rule}).")

    def to_frame(self) -> pd.DataFrame:
        """The discovered slices: significant ones first, then by score."""
        return bd.frame(self.found, calibration=self.calibration)

    def to_dict(self) -> dict:
        from aidebt_core.jsonsafe import jsonable

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
                "worst_gap": abs(weak[0].metric - self.shown_overall) if weak else 0.0,
                "sentences": [self.sentence(s) for s in weak],
                "verdict": self.verdict(),
            },
            "search": self.search, "notes": list(self.notes),
            "metric_label": self.metric_label, "alpha_fdr": self.alpha_fdr,
            "min_gap": self.min_gap,
            "objective": self.search.get("objective"),
            "slices_show": self.shown_label, "slices_overall": self.shown_overall,
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
                   identity_from(data.get("inputs")),
                   float(data.get("alpha_fdr", SIGNIFICANCE)),
                   data.get("slices_show") if data.get("objective") == "calibration" else None,
                   _num(data["slices_overall"]) if data.get("objective") == "calibration"
                   else None, float(data.get("min_gap", MIN_GAP)))


def _num(value) -> float:
    return math.nan if value is None else float(value)


def _slice(conditions: Mapping[str, str]) -> SliceDef:
    return SliceDef(tuple(Predicate(str(c), str(label), ()) for c, label in conditions.items()))


def _stat(data: Mapping) -> bd.SliceStat:
    score, significant = data.get("score"), data.get("significant")
    observed, mean_score = data.get("observed_rate"), data.get("mean_score")
    return bd.SliceStat(_slice(data["slice"]), int(data["size"]), _num(data["share"]),
                        _num(data["metric"]), _num(data["ci_low"]), _num(data["ci_high"]),
                        _num(data["p_value"]), _num(data["q_value"]),
                        None if score is None else float(score),
                        None if significant is None else bool(significant),
                        None if observed is None else _num(observed),
                        None if mean_score is None else _num(mean_score))


def _change(data: Mapping) -> bd.Change:
    return bd.Change(_slice(data["slice"]), _stat(data["reference"]), _stat(data["current"]),
                     _num(data["change"]), _num(data["p_value"]), _num(data["q_value"]),
                     bool(data["worsened"]))


def default_features(table: Table, exclude: Sequence[str]) -> list[str]:
    """Feature columns by role (numeric, categorical, boolean), minus target/prediction/score."""
    from aidebt_core.schema import infer_schema

    return [c for c in infer_schema(table).features if c not in set(exclude)]


def analyse(current: Table, target: str, prediction: str | None = None,
            score: str | None = None, metric: str = "accuracy", reference: Table | None = None,
            by: Sequence[str] = (), features: Sequence[str] | None = None, max_order: int = 3,
            min_size: int | None = None, top_k: int = 10, bins: int = 10,
            max_values: int = 20, alpha: float = 0.95, positive: str | None = None,
            confidence: float = 0.95, n_boot: int = 200, seed: int = 0,
            edges: Mapping[str, Sequence[float]] | None = None,
            discover: bool = True, objective: str | None = "error",
            min_share: float | None = None, alpha_fdr: float = SIGNIFICANCE,
            min_gap: float = MIN_GAP) -> SliceResult:
    """Slices of `current` (encoded with bins fitted on `reference` when given).

    `objective` ranks discovered slices: "error" (default: the metric's row-wise error, as
    SliceLine, Slice Finder and Deepchecks rank) or "calibration" (observed rate far from the
    mean score; the slices then show that gap); see `discovery.search`. Discovered slices come
    significant first (q < `alpha_fdr` and worse than overall), then by score; q-values are
    Benjamini–Hochberg over every slice the search examined, on the measure shown.
    `min_share` (a fraction of the labelled current rows, at least 30 rows) overrides
    `min_size`. `min_gap`: a significant slice is also at least this much worse than overall
    on the measure shown (for MAE and RMSE this share of the overall value), so a tiny gap
    that a large sample makes significant is not flagged.
    """
    if not 0 < alpha_fdr < 1:
        raise OptionError(f"The FDR level must be between 0 and 1 (got {alpha_fdr}).")
    if not (math.isfinite(min_gap) and min_gap >= 0):
        raise OptionError(f"The minimum gap must be a number >= 0 (got {min_gap}).")
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
    # The minimum gap on the metric's scale (MAE / RMSE: a share of the overall value).
    gap = min_gap * abs(overall.metric) if metric in RELATIVE_GAP else min_gap
    ref_overall = bd.overall(ref, metric, **stat_kw) if ref is not None else None
    by_stats = ()
    if by:
        by_stats = tuple(bd.breakdown(cur, list(by), metric, keep_largest=True, **stat_kw))
        if len(by_stats) == bd.MAX_GROUPS:
            notes.append(f"Breaking down by {', '.join(by)} gives more than {bd.MAX_GROUPS} "
                         f"slices; the {bd.MAX_GROUPS} largest are shown.")
        by_stats = flag_breakdown(by_stats, alpha_fdr, overall.metric, spec.higher_is_better,
                                  gap)
    found, search_info, found_label, found_overall = (), {}, None, None
    if discover:
        if min_share is not None:
            min_size = max(30, math.ceil(min_share * cur.n))
        objective = objective or "error"
        result = search(cur, metric, features, max_order=max_order, min_size=min_size,
                        top_k=CANDIDATES * top_k, alpha=alpha, objective=objective)
        if objective == "calibration":
            found_label, found_overall = GAP_LABEL, float(np.mean(cur.y - cur.score))
            found = _calibration_stats(cur, result, confidence)
        else:
            metrics = bd.slice_stats(cur, [f.slice for f in result.found], metric, **stat_kw)
            found = [bd.SliceStat(f.slice, f.size, f.size / cur.n, float(st.metric[0]),
                                  float(st.ci_low[0]), float(st.ci_high[0]),
                                  float(st.p_value[0]), math.nan, f.score)
                     for f, st in zip(result.found, metrics, strict=True)]
        found, search_info = ranked_found(found, result, alpha_fdr, overall.metric,
                                          found_overall, spec.higher_is_better, gap, min_gap,
                                          top_k, objective, max_order, features)
        if not found:
            notes.append("No slice of at least "
                         f"{result.min_size:,} rows is worse than average.")
    changes = breakdown_changes = ()
    if ref is not None:
        changes = tuple(bd.compare(ref, cur, [s.slice for s in found], metric, **stat_kw))
        breakdown_changes = tuple(bd.compare(ref, cur, [s.slice for s in by_stats], metric,
                                             **stat_kw))
    return SliceResult(metric, spec.label, spec.higher_is_better, spec.loss, overall,
                       ref_overall, tuple(by), by_stats, tuple(found), changes,
                       breakdown_changes, search_info, tuple(notes), (), alpha_fdr,
                       found_label, found_overall, min_gap)


def is_worse(value: float, overall: float, direction) -> bool:
    """Worse than overall: lower (higher is better), higher (lower is better), or for a
    calibration gap further from zero; never for a metric without a better direction."""
    if direction is None or math.isnan(value):
        return False
    if direction == "gap":
        return abs(value) > abs(overall)
    return value < overall if direction else value > overall


def material(value: float, overall: float, direction, gap: float) -> bool:
    """At least `gap` away from overall (for the calibration gap: at least `gap` further from
    zero than overall's), so the difference matters whatever the sample size."""
    if math.isnan(value):
        return False
    if direction == "gap":
        return abs(value) - abs(overall) >= gap
    return abs(value - overall) >= gap


def flag_breakdown(stats: Sequence[bd.SliceStat], alpha_fdr: float, overall: float,
                   higher_is_better, gap: float) -> tuple[bd.SliceStat, ...]:
    """A breakdown's q-values (BH over its groups) and significance flags: q below the level,
    worse than overall and by at least the minimum gap — for the rows and profiles paths."""
    q = iv.bh_qvalues([s.p_value for s in stats])
    return tuple(replace(s, q_value=float(qv), significant=bool(
        qv < alpha_fdr and is_worse(s.metric, overall, higher_is_better)
        and material(s.metric, overall, higher_is_better, gap)))
        for s, qv in zip(stats, q, strict=True))


def ranked_found(found: list[bd.SliceStat], result, alpha_fdr: float, overall: float,
                 found_overall: float | None, higher_is_better, gap: float, min_gap: float,
                 top_k: int, objective: str, max_order: int, features
                 ) -> tuple[list[bd.SliceStat], dict]:
    """The found slices ranked (significant first) and cut to `top_k`, with the search's
    description — one place for the rows path and the profiles path. Ranked on the metric
    against `overall`, or on the calibration gap against `found_overall` when given."""
    if found_overall is None:
        ranked = rank_slices(found, result.tests, alpha_fdr, overall, higher_is_better, gap)
    else:
        ranked = rank_slices(found, result.tests, alpha_fdr, found_overall, "gap", min_gap)
    info = {"objective": objective, "loss": result.loss, "mean_error": result.mean_error,
            "min_size": result.min_size, "alpha": result.alpha, "max_order": max_order,
            "tests": result.tests, "evaluated": result.evaluated,
            "pruned_blocks": result.pruned_blocks, "columns": list(features),
            "alpha_fdr": alpha_fdr}
    return ranked[:top_k], info


def rank_slices(stats: list[bd.SliceStat], tests: int, alpha_fdr: float, overall: float,
                direction, gap: float = 0.0) -> list[bd.SliceStat]:
    """q-values (BH over the `tests` slices examined; those not shown count as p = 1, which is
    conservative), the significance flag (q below the level, worse than overall by at least
    `gap`), and the order: significant first, then by score."""
    q = iv.bh_qvalues([s.p_value for s in stats], max(tests, len(stats)))
    out = [replace(s, q_value=float(qv),
                   significant=bool(qv < alpha_fdr and is_worse(s.metric, overall, direction)
                                    and material(s.metric, overall, direction, gap)))
           for s, qv in zip(stats, q, strict=True)]
    return sorted(out, key=lambda s: (not s.significant, -(s.score or 0.0)))


def _calibration_stats(data: SliceData, result, confidence: float) -> list[bd.SliceStat]:
    """Observed rate, mean score and their gap per found slice, with a normal interval of the
    gap (mean residual) and the search's Welch test of residuals (slice vs rest)."""
    n_codes = {e.column: e.n_codes for e in data.encodings}
    z = iv.z_value(confidence)
    residual = data.y - data.score
    out = []
    for f in result.found:
        mask = f.slice.mask(data.codes, n_codes)
        r = residual[mask]
        gap = float(r.mean())
        half = z * float(r.std(ddof=1)) / math.sqrt(r.size) if r.size > 1 else math.nan
        out.append(bd.SliceStat(f.slice, f.size, f.size / data.n, gap, gap - half, gap + half,
                                f.p_value, math.nan, f.score, None,
                                float(data.y[mask].mean()), float(data.score[mask].mean())))
    return out
