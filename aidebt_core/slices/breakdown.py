"""Metrics per slice for user-chosen columns, and per discovered slice, with intervals and
Benjamini–Hochberg q-values; plus the same slices compared between reference and current."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from aidebt_core.errors import SchemaError
from aidebt_core.slices import intervals as iv
from aidebt_core.slices.define import Predicate, SliceDef
from aidebt_core.slices.metrics import GroupStats, SliceData, evaluate, metric_spec

if TYPE_CHECKING:
    import pandas as pd

MAX_GROUPS = 200


@dataclass(frozen=True)
class SliceStat:
    """One slice: its definition, size and metric with interval and corrected significance."""

    slice: SliceDef
    size: int
    share: float
    metric: float
    ci_low: float
    ci_high: float
    p_value: float
    q_value: float
    score: float | None = None
    # q below the FDR level and worse than overall (None: not judged, e.g. a reference side)
    significant: bool | None = None
    # calibration objective: the slice's observed positive rate and mean score (metric = gap)
    observed: float | None = None
    mean_score: float | None = None

    def row(self) -> dict:
        out = {"slice": self.slice.describe(), "size": self.size, "share": self.share,
               "metric": self.metric, "ci_low": self.ci_low, "ci_high": self.ci_high,
               "p_value": self.p_value, "q_value": self.q_value,
               "significant": self.significant, "score": self.score}
        if self.observed is not None:
            out |= {"observed_rate": self.observed, "mean_score": self.mean_score}
        return out

    def to_dict(self) -> dict:
        out = {"slice": self.slice.as_dict(), "description": self.slice.describe(),
               "size": self.size, "share": self.share, "metric": self.metric,
               "ci_low": self.ci_low, "ci_high": self.ci_high, "p_value": self.p_value,
               "q_value": self.q_value, "significant": self.significant, "score": self.score}
        if self.observed is not None:
            out |= {"observed_rate": self.observed, "mean_score": self.mean_score,
                    "gap": self.metric}
        return out


@dataclass(frozen=True)
class Overall:
    metric: float
    ci_low: float
    ci_high: float
    rows: int


def overall(data: SliceData, metric: str, confidence: float = 0.95, n_boot: int = 200,
            seed: int = 0) -> Overall:
    st = evaluate(data, np.zeros(data.n, dtype=np.int64), 1, metric, confidence, n_boot, seed)
    return Overall(float(st.metric[0]), float(st.ci_low[0]), float(st.ci_high[0]), data.n)


def breakdown(data: SliceData, columns: Sequence[str], metric: str, confidence: float = 0.95,
              n_boot: int = 200, seed: int = 0, keep_largest: bool = False) -> list[SliceStat]:
    """One slice per combination of the columns' codes present in the data (more than
    MAX_GROUPS: an error, or with `keep_largest` the MAX_GROUPS largest)."""
    if not columns:
        raise SchemaError("Pick at least one column to break the metric down by.")
    encs = [data.encoding(c) for c in columns]
    combined = np.zeros(data.n, dtype=np.int64)
    for enc in encs:
        combined = combined * enc.n_codes + data.codes[enc.column]
    present, group = np.unique(combined, return_inverse=True)
    if present.size > MAX_GROUPS:
        if not keep_largest:
            raise SchemaError(f"Breaking down by {', '.join(columns)} gives {present.size:,} "
                              f"slices (limit {MAX_GROUPS}); use fewer columns, fewer bins or "
                              "fewer kept values.")
        # The largest groups (ties: first code); the rows of the others count as "the rest".
        sizes = np.bincount(group, minlength=present.size)
        keep = np.sort(np.argsort(-sizes, kind="stable")[:MAX_GROUPS])
        recode = np.full(present.size, -1, np.int64)
        recode[keep] = np.arange(keep.size)
        present, group = present[keep], recode[group]
    st = evaluate(data, group, present.size, metric, confidence, n_boot, seed)
    q = iv.bh_qvalues(st.p_value)
    out = []
    for g, code in enumerate(present):
        preds, rest = [], int(code)
        for enc in reversed(encs):
            c = rest % enc.n_codes
            rest //= enc.n_codes
            preds.append(Predicate(enc.column, enc.code_label(c), (c,)))
        out.append(_stat(SliceDef(tuple(reversed(preds))), st, g, data.n, q[g]))
    return out


def slice_stats(data: SliceData, slices: Sequence[SliceDef], metric: str,
                confidence: float = 0.95, n_boot: int = 200, seed: int = 0
                ) -> list[GroupStats]:
    """Metric, interval and slice-vs-rest p-value of (possibly overlapping) slices."""
    n_codes = {e.column: e.n_codes for e in data.encodings}
    # The same seed for every slice: they share one bootstrap of `data` (drawn once).
    return [evaluate(data, np.where(sdef.mask(data.codes, n_codes), 0, -1), 1, metric,
                     confidence, n_boot, seed) for sdef in slices]


def _stat(sdef: SliceDef, st, g: int, n: int, q: float, score=None) -> SliceStat:
    return SliceStat(sdef, int(st.size[g]), float(st.size[g]) / n if n else float("nan"),
                     float(st.metric[g]), float(st.ci_low[g]), float(st.ci_high[g]),
                     float(st.p_value[g]), float(q), score)


def frame(stats: Sequence[SliceStat], calibration: bool = False) -> pd.DataFrame:
    """One row per slice; with `calibration` the observed rate and mean score, and the metric
    column (the gap between them) named `gap`."""
    import pandas as pd

    cols = ["slice", "size", "share", "metric", "ci_low", "ci_high", "p_value", "q_value",
            "significant", "score"]
    if calibration:
        cols = [*cols[:3], "observed_rate", "mean_score", *cols[3:]]
    out = pd.DataFrame([s.row() for s in stats], columns=cols)
    return out.rename(columns={"metric": "gap"}) if calibration else out


# ---------------------------------------------------------------- reference vs current

@dataclass(frozen=True)
class Change:
    """The same slice in reference and current: metric, interval, change and its test."""

    slice: SliceDef
    reference: SliceStat
    current: SliceStat
    change: float
    p_value: float
    q_value: float
    worsened: bool

    def row(self) -> dict:
        return {"slice": self.slice.describe(),
                "reference_size": self.reference.size, "reference": self.reference.metric,
                "reference_low": self.reference.ci_low, "reference_high": self.reference.ci_high,
                "current_size": self.current.size, "current": self.current.metric,
                "current_low": self.current.ci_low, "current_high": self.current.ci_high,
                "change": self.change, "p_value": self.p_value, "q_value": self.q_value,
                "worsened": self.worsened}

    def to_dict(self) -> dict:
        return {"slice": self.slice.as_dict(), "description": self.slice.describe(),
                "reference": self.reference.to_dict(), "current": self.current.to_dict(),
                "change": self.change, "p_value": self.p_value, "q_value": self.q_value,
                "worsened": self.worsened}


def change_tests(ref, cur, kind: str) -> tuple[list[float], np.ndarray]:
    """p-values (two-proportion test, or normal difference of means) and BH q-values of each
    slice's change from reference to current; `ref`/`cur` are (SliceStat, its stats) pairs."""
    p = []
    for (r, rst), (c, cst) in zip(ref, cur, strict=True):
        if kind == "proportion":
            k1, n1 = rst.metric[0] * rst.trials[0], rst.trials[0]
            k2, n2 = cst.metric[0] * cst.trials[0], cst.trials[0]
            p.append(float(iv.two_proportion_p(np.nan_to_num(k2), n2, np.nan_to_num(k1), n1)))
        else:
            p.append(float(iv.normal_diff_p(c.metric, cst.se[0], r.metric, rst.se[0])))
    return p, iv.bh_qvalues(p)


def compare(reference: SliceData, current: SliceData, slices: Sequence[SliceDef], metric: str,
            confidence: float = 0.95, n_boot: int = 200, seed: int = 0,
            level: float = 0.05) -> list[Change]:
    """Each slice's metric in reference and in current, and whether the change is significant
    (BH over the slices compared); `worsened` = significant change in the bad direction."""
    spec = metric_spec(metric)
    ref = [_with_rows(s, st, reference.n) for s, st in
           zip(slices, slice_stats(reference, slices, metric, confidence, n_boot, seed),
               strict=True)]
    cur = [_with_rows(s, st, current.n) for s, st in
           zip(slices, slice_stats(current, slices, metric, confidence, n_boot, seed + 7919),
               strict=True)]
    p, q = change_tests(ref, cur, spec.kind)
    out = []
    for (r, _), (c, _), pv, qv, sdef in zip(ref, cur, p, q, slices, strict=True):
        change = c.metric - r.metric
        bad = (change < 0) if spec.higher_is_better else (change > 0)
        worsened = bool(spec.higher_is_better is not None and bad and qv < level)
        out.append(Change(sdef, r, c, float(change), pv, float(qv), worsened))
    return out


def _with_rows(sdef: SliceDef, st, n: int):
    return _stat(sdef, st, 0, n, float("nan")), st
