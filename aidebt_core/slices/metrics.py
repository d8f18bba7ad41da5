"""Slice metrics: load labelled rows as compact arrays, then size, metric, confidence interval and
slice-vs-rest p-value for any partition of the rows.

Proportions (accuracy, error rate, precision, recall, positive rate) get Wilson intervals and a
two-proportion z-test; F1, ROC AUC, mean score, MAE and RMSE get Poisson-bootstrap percentile
intervals, and their slice-vs-rest test is a z-test on bootstrap standard errors (Welch t-test
for the row-wise means: mean score, MAE, MSE behind RMSE).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aidebt_core.data import ROWS, Table, is_numeric_type, quote_ident
from aidebt_core.errors import OptionError, SchemaError
from aidebt_core.slices import intervals as iv
from aidebt_core.slices.encode import Encoding

CHUNK_ENTRIES = 20_000_000   # bootstrap weights drawn per chunk (80 MB of float32)
CACHE_ENTRIES = 50_000_000   # weights kept per data set for reuse across slices (200 MB)
_WEIGHTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class MetricSpec:
    name: str
    label: str
    kind: str                     # "proportion" | "bootstrap"
    task: str                     # "classification" | "regression"
    needs_score: bool = False
    binary: bool = False          # needs a positive class
    higher_is_better: bool | None = True
    loss: str = "misclassification"   # the row-wise error discovery ranks slices by


METRICS = {m.name: m for m in (
    MetricSpec("accuracy", "accuracy", "proportion", "classification"),
    MetricSpec("error_rate", "error rate", "proportion", "classification",
               higher_is_better=False),
    MetricSpec("precision", "precision", "proportion", "classification", binary=True),
    MetricSpec("recall", "recall", "proportion", "classification", binary=True),
    MetricSpec("f1", "F1", "bootstrap", "classification", binary=True),
    MetricSpec("positive_rate", "predicted positive rate", "proportion", "classification",
               binary=True, higher_is_better=None),
    MetricSpec("roc_auc", "ROC AUC", "bootstrap", "classification", needs_score=True,
               binary=True, loss="brier"),
    MetricSpec("mean_score", "mean score", "bootstrap", "classification", needs_score=True,
               higher_is_better=None, loss="brier"),
    MetricSpec("mae", "MAE", "bootstrap", "regression", higher_is_better=False,
               loss="absolute_error"),
    MetricSpec("rmse", "RMSE", "bootstrap", "regression", higher_is_better=False,
               loss="squared_error"),
)}


def metric_spec(name: str) -> MetricSpec:
    if name not in METRICS:
        raise OptionError(f"Unknown metric '{name}'. Metrics: {', '.join(METRICS)}.")
    return METRICS[name]


@dataclass(frozen=True, eq=False)
class SliceData:
    """Labelled rows as arrays: codes per sliced column, and what the metric needs."""

    label: str
    encodings: tuple[Encoding, ...]
    codes: dict[str, np.ndarray]
    y: np.ndarray                 # classification: 1 = positive class (binary) else class index
    pred: np.ndarray | None
    score: np.ndarray | None
    correct: np.ndarray | None    # classification: prediction == target
    binary: bool
    positive: str | None
    rows_total: int
    rows_unlabelled: int

    @property
    def n(self) -> int:
        return int(self.y.size)

    def encoding(self, column: str) -> Encoding:
        for enc in self.encodings:
            if enc.column == column:
                return enc
        raise SchemaError(f"Column '{column}' was not encoded for slicing.")


def load(table: Table, encodings: Sequence[Encoding], target: str, metric: str,
         prediction: str | None = None, score: str | None = None,
         positive: str | None = None) -> SliceData:
    """Fetch codes and labels of the rows where the target (and prediction/score) are known."""
    spec = metric_spec(metric)
    if spec.needs_score and not score:
        raise SchemaError(f"The metric '{metric}' needs a score column (predicted probability).")
    if not spec.needs_score and not prediction:
        raise SchemaError(f"The metric '{metric}' needs a prediction column.")
    needed = [c for c in (target, prediction, score) if c]
    table.require_columns(needed)
    types = table.column_types
    if score and not is_numeric_type(types[score]):
        raise SchemaError(f"Score column '{score}' of {table.label} is not numeric.")
    if spec.task == "regression":
        for col in (target, prediction):
            if not is_numeric_type(types[col]):
                raise SchemaError(f"'{metric}' is a regression metric but '{col}' is not numeric.")
    parts, params = [], {}
    for i, enc in enumerate(encodings):
        expr, p = enc.code_sql(f"k{i}")
        parts.append(f"CAST({expr} AS SMALLINT) AS {quote_ident(f'c{i}')}")
        params |= p
    kinds = {}
    for alias, col in (("y", target), ("p", prediction), ("s", score)):
        if col:
            numeric = is_numeric_type(types[col]) or types[col].upper() == "BOOLEAN"
            cast = "DOUBLE" if numeric else "VARCHAR"
            kinds[alias] = numeric
            parts.append(f"CAST({quote_ident(col)} AS {cast}) AS {alias}")
    known = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in needed)
    total, unlabelled = table.execute(
        f"SELECT count(*), count(*) FILTER (WHERE NOT ({known})) FROM {ROWS}").fetchone()
    if total == unlabelled:
        raise SchemaError(f"{table.label} has no rows where {', '.join(needed)} are all known "
                          f"({total:,} rows, all missing one of them).")
    arrays = table.execute(f"SELECT {', '.join(parts)} FROM {ROWS} WHERE {known}",
                           params).fetchnumpy()
    codes = {enc.column: np.asarray(arrays[f"c{i}"], dtype=np.int16)
             for i, enc in enumerate(encodings)}
    s = np.asarray(arrays["s"], dtype=np.float64) if score else None
    if spec.task == "regression":
        y = np.asarray(arrays["y"], dtype=np.float64)
        p = np.asarray(arrays["p"], dtype=np.float64)
        return SliceData(table.label, tuple(encodings), codes, y, p, s, None, False, None,
                         int(total), int(unlabelled))
    y, p, correct, binary, pos = _classes(arrays, kinds, target, positive, spec, table.label)
    return SliceData(table.label, tuple(encodings), codes, y, p, s, correct, binary, pos,
                     int(total), int(unlabelled))


def _classes(arrays, kinds, target, positive, spec, label):
    """Map target/prediction to class indices; binary tasks get 1 = positive class."""
    y_raw = np.asarray(arrays["y"])
    p_raw = np.asarray(arrays["p"]) if "p" in arrays else None
    if p_raw is not None and kinds["y"] != kinds["p"]:
        # One side numeric, the other text: compare as text, with 1.0 written as "1".
        y_raw = np.array([_class_name(v) for v in y_raw], dtype=object)
        p_raw = np.array([_class_name(v) for v in p_raw], dtype=object)
    classes = np.unique(y_raw if p_raw is None else np.concatenate([y_raw, p_raw]))
    y_classes = np.unique(y_raw)
    if positive is not None:
        names = [_class_name(c) for c in classes]
        if str(positive) not in names:
            raise SchemaError(f"Positive class '{positive}' does not occur in '{target}' "
                              f"(values: {', '.join(names[:10])}).")
        pos = classes[names.index(str(positive))]
    elif kinds["y"] and set(np.asarray(classes, dtype=float)) <= {0.0, 1.0}:
        ones = classes[np.asarray(classes, dtype=float) == 1.0]
        # Only 0 present: the positive class 1 simply does not occur.
        pos = ones[0] if ones.size else (1.0 if classes.dtype.kind in "fiub" else "1")
    elif len(classes) == 2:
        pos = min(classes, key=lambda c: (int(np.sum(y_raw == c)), str(c)))
    else:
        pos = None
    binary = pos is not None and len(classes) <= 2
    if spec.binary and not binary:
        raise SchemaError(f"'{spec.name}' needs a two-class target; '{target}' has "
                          f"{len(classes)} classes. Pick accuracy or error_rate, or name the "
                          "positive class.")
    if spec.name in ("roc_auc", "recall", "f1") and len(y_classes) < 2:
        raise SchemaError(f"'{target}' in {label} has only one class "
                          f"({_class_name(y_classes[0])}); {spec.label} is undefined.")
    if binary:
        y = (y_raw == pos).astype(np.int8)
        p = None if p_raw is None else (p_raw == pos).astype(np.int8)
    else:
        y = np.searchsorted(classes, y_raw).astype(np.int32)
        p = None if p_raw is None else np.searchsorted(classes, p_raw).astype(np.int32)
    correct = None if p is None else (y == p)
    return y, p, correct, binary, None if pos is None else _class_name(pos)


def _class_name(value) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def row_loss(data: SliceData, loss: str) -> np.ndarray:
    """Per-row error used by discovery: misclassification, Brier, absolute or squared error."""
    if loss == "misclassification":
        return (~data.correct).astype(np.float64)
    if loss == "brier":
        return (data.score - data.y) ** 2
    diff = data.y - data.pred
    return np.abs(diff) if loss == "absolute_error" else diff * diff


# ---------------------------------------------------------------- evaluation of a partition

@dataclass(frozen=True)
class GroupStats:
    """Per group (arrays of length n_groups): size, metric, interval, p-value vs the rest."""

    size: np.ndarray
    metric: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    se: np.ndarray
    trials: np.ndarray            # proportion denominator (e.g. predicted positives), else size


def _proportion_parts(data: SliceData, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(numerator, denominator) indicators per row for a proportion metric."""
    one = np.ones(data.n)
    if name == "accuracy":
        return data.correct.astype(float), one
    if name == "error_rate":
        return (~data.correct).astype(float), one
    if name == "positive_rate":
        return data.pred.astype(float), one
    hit = (data.y == 1) & (data.pred == 1)
    if name == "precision":
        return hit.astype(float), data.pred.astype(float)
    return hit.astype(float), data.y.astype(float)  # recall


def _additive_parts(data: SliceData, name: str) -> list[np.ndarray]:
    """Row-wise sufficient statistics whose group sums determine the metric."""
    if name == "f1":
        return [((data.y == 1) & (data.pred == 1)).astype(float), data.pred.astype(float),
                data.y.astype(float)]
    if name == "mean_score":
        return [data.score, np.ones(data.n)]
    diff = data.y - data.pred
    return [np.abs(diff) if name == "mae" else diff * diff, np.ones(data.n)]


def _from_sums(name: str, sums: list[np.ndarray]) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        if name == "f1":
            tp, pp, ap = sums
            return np.where(pp + ap > 0, 2 * tp / (pp + ap), np.nan)
        value = sums[0] / sums[1]
        return np.sqrt(value) if name == "rmse" else value


def evaluate(data: SliceData, group: np.ndarray, n_groups: int, metric: str,
             confidence: float = 0.95, n_boot: int = 200, seed: int = 0) -> GroupStats:
    """Metric of each group g (rows with group == g) and a test of group vs all other rows.

    Rows with group < 0 belong to no group but still count in "the rest".
    """
    spec = metric_spec(metric)
    inside = group >= 0
    gi = np.where(inside, group, n_groups)  # bucket n_groups collects rows outside every group
    size = np.bincount(gi, minlength=n_groups + 1)[:n_groups]
    if spec.kind == "proportion":
        num, den = _proportion_parts(data, metric)
        k = np.bincount(gi, weights=num, minlength=n_groups + 1)[:n_groups]
        n = np.bincount(gi, weights=den, minlength=n_groups + 1)[:n_groups]
        low, high = iv.wilson_interval(k, n, confidence)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = k / n
            se = np.sqrt(value * (1 - value) / n)
        p = iv.two_proportion_p(k, n, num.sum() - k, den.sum() - n)
        return GroupStats(size, value, low, high, p, se, n)
    if metric == "roc_auc":
        return _evaluate_auc(data, gi, n_groups, size, confidence, n_boot, seed)
    parts = _additive_parts(data, metric)
    sums = [np.bincount(gi, weights=x, minlength=n_groups + 1)[:n_groups] for x in parts]
    totals = [x.sum() for x in parts]
    value = _from_sums(metric, sums)
    rest = _from_sums(metric, [t - s for t, s in zip(totals, sums, strict=True)])
    reps, rest_reps = _bootstrap_sums(data, metric, parts, gi, n_groups, n_boot, seed)
    low, high, se = _intervals(reps, confidence)
    if metric == "f1":
        rest_se = _intervals(rest_reps, confidence)[2]
        p = iv.normal_diff_p(value, se, rest, rest_se)
    else:  # Welch t-test on the row values (score, |error|, squared error)
        x = parts[0]
        sq = np.bincount(gi, weights=x * x, minlength=n_groups + 1)[:n_groups]
        p = iv.welch_p(size, sums[0], sq, data.n - size, totals[0] - sums[0],
                       float((x * x).sum()) - sq)
    return GroupStats(size, value, low, high, p, se, size.astype(float))


def _weight_chunks(data: SliceData, n_boot: int, seed: int):
    """Poisson(1) bootstrap weights for every row, in chunks of replicates.

    Every slice of `data` is resampled with the same weights (one joint bootstrap), so they
    are drawn once and kept while `data` lives, unless that would exceed ~200 MB.
    """
    n = data.n
    step = max(1, min(n_boot, CHUNK_ENTRIES // max(n, 1)))
    cache = _WEIGHTS.setdefault(data, {})
    if (n_boot, seed) in cache:
        return cache[(n_boot, seed)]

    def draw():
        for start in range(0, n_boot, step):
            rng = np.random.default_rng([seed, start])
            # rows x replicates, so a slice's members are contiguous rows
            yield np.ascontiguousarray(iv.poisson_weights(rng, min(step, n_boot - start), n).T)

    if n * n_boot <= CACHE_ENTRIES:
        cache[(n_boot, seed)] = list(draw())
        return cache[(n_boot, seed)]
    return draw()


def _bootstrap_sums(data, metric, parts, gi, n_groups, n_boot, seed):
    """Poisson-bootstrap replicates of the metric per group and for each group's rest.

    Weighted sums are matrix-vector products (float32 BLAS) of the weight rows of a group's
    members with its statistics; the rest is the weighted total minus the group.
    """
    members = [np.flatnonzero(gi == g) for g in range(n_groups)]
    xs = [x.astype(np.float32) for x in parts]
    reps, rest = [], []
    cache = _WEIGHTS.setdefault(data, {})
    for i, w in enumerate(_weight_chunks(data, n_boot, seed)):
        key = ("totals", metric, n_boot, seed, i)  # the same for every slice of `data`
        totals = cache.get(key) or [(x @ w)[:, None] for x in xs]
        if (n_boot, seed) in cache:
            cache[key] = totals
        sums = [np.empty((w.shape[1], n_groups)) for _ in xs]
        for g, idx in enumerate(members):
            wg = w[idx]
            for out, x in zip(sums, xs, strict=True):
                out[:, g] = x[idx] @ wg
        reps.append(_from_sums(metric, sums))
        rest.append(_from_sums(metric, [t - s for t, s in zip(totals, sums, strict=True)]))
    return np.vstack(reps), np.vstack(rest)


def _intervals(reps: np.ndarray, confidence: float):
    bounds = np.array([iv.percentile_interval(reps[:, g], confidence)
                       for g in range(reps.shape[1])]).reshape(-1, 2)
    with np.errstate(invalid="ignore"):
        se = np.array([np.nanstd(reps[:, g], ddof=1) if np.isfinite(reps[:, g]).sum() > 1
                       else np.nan for g in range(reps.shape[1])])
    return bounds[:, 0], bounds[:, 1], se


def hanley_mcneil_se(auc, n_pos, n_neg) -> np.ndarray:
    """Standard error of ROC AUC (Hanley & McNeil 1982)."""
    a, n1, n2 = (np.asarray(x, dtype=float) for x in (auc, n_pos, n_neg))
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n2 - 1) * (q2 - a * a)) / (n1 * n2)
    return np.sqrt(np.maximum(var, 0))


def _evaluate_auc(data, gi, n_groups, size, confidence, n_boot, seed) -> GroupStats:
    value = np.full(n_groups, np.nan)
    rest_value = value.copy()
    pos = data.y == 1
    n_pos = np.bincount(gi, weights=pos, minlength=n_groups + 1)[:n_groups]
    n_neg = size - n_pos
    live = [g for g in range(n_groups) if n_pos[g] and n_neg[g]]
    reps = {g: [] for g in live}
    members = {g: np.flatnonzero(gi == g) for g in live}
    for w in _weight_chunks(data, n_boot, seed):
        for g in live:
            idx = members[g]
            reps[g].append(iv.weighted_auc(data.score[idx], pos[idx], w[idx]))
    low, high = value.copy(), value.copy()
    for g in live:
        idx = members[g]
        value[g] = iv.weighted_auc(data.score[idx], pos[idx], np.ones(idx.size))[0]
        low[g], high[g] = iv.percentile_interval(np.concatenate(reps[g]), confidence)
        others = gi != g
        if pos[others].any() and (~pos[others]).any():
            rest_value[g] = iv.weighted_auc(data.score[others], pos[others],
                                            np.ones(int(others.sum())))[0]
    se = hanley_mcneil_se(value, n_pos, n_neg)
    rest_se = hanley_mcneil_se(rest_value, pos.sum() - n_pos, (~pos).sum() - n_neg)
    p = iv.normal_diff_p(value, se, rest_value, rest_se)
    return GroupStats(size, value, low, high, p, se, size.astype(float))
