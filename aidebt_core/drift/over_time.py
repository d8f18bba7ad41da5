"""Drift over time: each chunk (day/week/month or N rows) of both sides against the whole
reference, per column, with alert thresholds that a chunk without drift rarely crosses.

Per chunk and column: the effect size (Wasserstein normed by the reference std for numeric
columns, Jensen–Shannon distance for categorical ones; or PSI: any registered method with a
sampling-noise null, `aidebt_core.drift.methods`) and the missing share. A
reference chunk is compared with the rest of the reference (leave one out: against a
reference that contains it, it would look closer than any new chunk can).

Each chunk's threshold is the larger of two bounds:

* sampling noise: the (1 - α) quantile of the statistic for a chunk of that size drawn from
  the reference itself, α = Φ(-k) (k = 3: 0.135 % per column and chunk), from a seeded
  bootstrap of the reference's counts (`aidebt_core.drift.noise`);
* observed variation: mean + k·std of the reference chunks' own values, so that a column
  whose reference months really differ (seasonality) is not flagged for its usual swings.

The old band was the second bound alone; from a handful of reference chunks its std is so
uncertain that it often sat below plain sampling noise, which made single-chunk false alerts
on columns that never drifted. `thresholds` holds the threshold of a typical current chunk
(for a threshold line), `chunk_thresholds` every chunk's own. The missing share gets the band
mean ± k·max(std of the reference chunks, binomial std of a typical chunk's share). With fewer
than two reference chunks the univariate default threshold is used instead
(`threshold_source`).

Chunks with fewer than `min_rows` rows are `too_small`: their values are shown but they never
alert and do not shape the reference bands (a 200-row month's missing share or distance is
mostly noise). `partial` marks first/last periods the data does not cover to their edges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from aidebt_core.chunks import (
    CHUNK_COLUMN,
    MIN_CHUNK_ROWS,
    Chunking,
    ChunkPlan,
    plan_chunks,
)
from aidebt_core.data import Table, quote_ident
from aidebt_core.drift import methods, stats
from aidebt_core.drift.chunk_info import ChunkInfo, chunk_infos, chunks_from_dict, chunks_to_dict
from aidebt_core.drift.chunk_wasserstein import chunk_wasserstein
from aidebt_core.drift.collect import OTHER
from aidebt_core.drift.identity import Identity, fingerprint, identity_from
from aidebt_core.drift.noise import noise_thresholds, tail_probability
from aidebt_core.errors import SchemaError
from aidebt_core.jsonsafe import jsonable

MAX_CATEGORIES = 1000


def over_time_methods() -> tuple[str, ...]:
    """`auto` and the methods with a sampling-noise null (usable per chunk)."""
    return (methods.AUTO, *(m.name for m in methods.all_methods() if m.over_time))


def over_time_method(name: str) -> str:
    """The method drift over time uses when the per-column method is `name`: itself when it
    can be followed per chunk, else `auto` (a test's p-value is no per-chunk effect size)."""
    return name if name in over_time_methods() else methods.AUTO


def chunk_method(name: str, kind: str) -> methods.Method:
    """The method scoring `kind` chunks: `name` (or its counterpart), or the effect size."""
    method = methods.resolve(name, kind)
    return method if method.over_time else methods.auto_method(kind, methods.LARGE)


@dataclass(frozen=True, eq=False)
class OverTimeResult:
    """Columns × chunks matrices of drift values and missing shares, with reference bands."""

    chunks: tuple[ChunkInfo, ...]
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    methods: tuple[str, ...]
    values: np.ndarray          # drift value per column × chunk (NaN: nothing to compare)
    thresholds: np.ndarray      # per column: the threshold of a typical current chunk
    chunk_thresholds: np.ndarray  # per column × chunk: alert when the value exceeds it
    missing: np.ndarray         # missing share per column × chunk
    missing_low: np.ndarray     # per column band of the missing share
    missing_high: np.ndarray
    threshold_source: str       # "reference chunks" or "default"
    sigmas: float
    min_rows: int = MIN_CHUNK_ROWS
    chunking: str = ""
    timestamp: str | None = None
    method: str = methods.AUTO
    inputs: Identity = ()        # set by the caller: see `aidebt_core.drift.identity`
    # From profiles (aidebt_core.profiles.over_time): per column whether its values are
    # exact, and per column × chunk the bound of a binned value (NaN where exact); empty /
    # None on the rows, where every value is exact.
    exact: tuple[bool, ...] = ()
    bounds: np.ndarray | None = None
    note: str = ""

    @property
    def fingerprint(self) -> str:
        return fingerprint("drift over time", {
            "columns": list(self.columns), "kinds": list(self.kinds), "method": self.method,
            "chunking": self.chunking, "timestamp": self.timestamp, "sigmas": self.sigmas,
            "min_rows": self.min_rows}, self.inputs)

    def with_inputs(self, inputs: Identity) -> OverTimeResult:
        return replace(self, inputs=tuple(inputs))

    @property
    def method_labels(self) -> tuple[str, ...]:
        """Each column's method as the registry labels it (for chart axes)."""
        return tuple(methods.get(m).label for m in self.methods)

    @property
    def judged(self) -> np.ndarray:
        """Chunks large enough to alert on (not `too_small`)."""
        return np.array([not c.too_small for c in self.chunks], dtype=bool)

    @property
    def alerts(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return (self.values > self.chunk_thresholds) & self.judged

    @property
    def missing_alerts(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return ((self.missing > self.missing_high[:, None]) | (
                self.missing < self.missing_low[:, None])) & self.judged

    @property
    def ratios(self) -> np.ndarray:
        """Value ÷ the chunk's threshold (1 = the alert line; NaN where undefined)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.values / self.chunk_thresholds

    @property
    def current_mask(self) -> np.ndarray:
        return np.array([c.period == "current" for c in self.chunks])

    def recent(self, k: int) -> list[int]:
        """Indices of the last `k` current chunks that are judged (not too small)."""
        judged = np.flatnonzero(self.current_mask & self.judged)
        return [int(j) for j in judged[-k:]] if k > 0 else []

    def recent_alerts(self, k: int) -> dict[str, list[str]]:
        """Column -> labels of its alerting chunks among the last `k` judged current chunks
        (only columns with at least one)."""
        chunks = self.recent(k)
        alerts = self.alerts
        found = {col: [self.chunks[j].label for j in chunks if alerts[i, j]]
                 for i, col in enumerate(self.columns)}
        return {col: labels for col, labels in found.items() if labels}

    def first_alert(self, column: str, missing: bool = False) -> str | None:
        """Label of the first current chunk with an alert for `column` (None if none)."""
        i = self.columns.index(column)
        row = (self.missing_alerts if missing else self.alerts)[i] & self.current_mask
        hits = np.flatnonzero(row)
        return self.chunks[hits[0]].label if len(hits) else None

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per column and chunk."""
        rows = []
        alerts, missing_alerts = self.alerts, self.missing_alerts
        for i, col in enumerate(self.columns):
            for j, chunk in enumerate(self.chunks):
                rows.append({"column": col, "chunk": chunk.label, "period": chunk.period,
                             "partial": chunk.partial, "too_small": chunk.too_small,
                             "method": self.methods[i], "value": self.values[i, j],
                             "threshold": self.chunk_thresholds[i, j],
                             "alert": bool(alerts[i, j]),
                             "missing_share": self.missing[i, j],
                             "missing_alert": bool(missing_alerts[i, j])})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return jsonable({
            "chunks": chunks_to_dict(self.chunks),
            "threshold_source": self.threshold_source, "sigmas": self.sigmas,
            "min_rows": self.min_rows, "chunking": self.chunking,
            "timestamp": self.timestamp, "method": self.method,
            "inputs": [list(i) for i in self.inputs], "fingerprint": self.fingerprint,
            "columns": [{"name": col, "kind": self.kinds[i], "method": self.methods[i],
                         "threshold": self.thresholds[i], "values": self.values[i],
                         "chunk_thresholds": self.chunk_thresholds[i],
                         "alerts": self.alerts[i], "missing": self.missing[i],
                         "missing_low": self.missing_low[i],
                         "missing_high": self.missing_high[i],
                         "missing_alerts": self.missing_alerts[i],
                         "first_alert": self.first_alert(col),
                         "first_missing_alert": self.first_alert(col, missing=True),
                         **self.exactness(i)}
                        for i, col in enumerate(self.columns)],
            **({"note": self.note} if self.note else {}),
        })

    def exactness(self, i: int) -> dict:
        """`exact` and, for a binned column, `bound` per chunk (only from profiles)."""
        if not self.exact:
            return {}
        if self.exact[i]:
            return {"exact": True}
        return {"exact": False, "bound": None if self.bounds is None else self.bounds[i]}

    @classmethod
    def from_dict(cls, data: Mapping) -> OverTimeResult:
        cols = data["columns"]

        def rows(key: str) -> np.ndarray:
            return np.array([[np.nan if v is None else v for v in c[key]] for c in cols],
                            dtype=float).reshape(len(cols), len(data["chunks"]))

        def column(key: str) -> np.ndarray:
            return np.array([np.nan if c[key] is None else c[key] for c in cols], dtype=float)

        return cls(chunks_from_dict(data["chunks"]), tuple(c["name"] for c in cols),
                   tuple(c["kind"] for c in cols), tuple(c["method"] for c in cols),
                   rows("values"), column("threshold"), rows("chunk_thresholds"),
                   rows("missing"), column("missing_low"), column("missing_high"),
                   data["threshold_source"], float(data["sigmas"]), int(data["min_rows"]),
                   data.get("chunking", ""), data.get("timestamp"),
                   data.get("method", methods.AUTO), identity_from(data.get("inputs")),
                   tuple(bool(c["exact"]) for c in cols) if cols and "exact" in cols[0]
                   else (), _bounds_from(cols, len(data["chunks"])), data.get("note", ""))


def _bounds_from(cols: Sequence[Mapping], chunks: int) -> np.ndarray | None:
    if not any(c.get("bound") for c in cols):
        return None
    return np.array([[np.nan if v is None else v for v in (c.get("bound") or [None] * chunks)]
                     for c in cols], dtype=float).reshape(len(cols), chunks)


def check_options(method: str, columns: Sequence[str], sigmas: float) -> None:
    """The options drift over time refuses, from rows or from profiles alike."""
    if method not in over_time_methods():
        raise SchemaError(f"Unknown drift-over-time method '{method}'. Use one of "
                          f"{', '.join(over_time_methods())}.")
    if not columns:
        raise SchemaError("Pick at least one column to follow over time.")
    if not (np.isfinite(sigmas) and sigmas > 0):
        raise SchemaError(f"The band width must be a positive number of stds, not {sigmas}.")


def drift_over_time(reference: Table, current: Table, columns: Sequence[str],
                    kinds: Sequence[str], chunking: Chunking | str,
                    timestamp: str | None = None, method: str = "auto",
                    sigmas: float = 3.0, min_rows: int = MIN_CHUNK_ROWS) -> OverTimeResult:
    """Chunk both sides the same way and score every chunk of every column vs the reference."""
    check_options(method, columns, sigmas)
    chunking = Chunking.parse(chunking) if isinstance(chunking, str) else chunking
    plans = [plan_chunks(reference, chunking, timestamp, min_rows=min_rows),
             plan_chunks(current, chunking, timestamp, min_rows=min_rows)]
    chunks = chunk_infos(plans)
    n_ref = len(plans[0].chunks)
    values = np.full((len(columns), len(chunks)), np.nan)
    missing = np.full((len(columns), len(chunks)), np.nan)
    noise = np.full((len(columns), len(chunks)), np.nan)
    used = []
    # Every numeric column's values in one query per side (one per column and side cost
    # 18 round trips and sorts on the sample).
    numeric = [c for c, k in zip(columns, kinds, strict=True) if k == "numeric"]
    values_of = [_numeric_values(table, plan, numeric)
                 for table, plan in ((reference, plans[0]), (current, plans[1]))]
    for i, (col, kind) in enumerate(zip(columns, kinds, strict=True)):
        scorer = chunk_method(method, kind)
        if kind == "numeric":
            row, sizes, null = _numeric_row(values_of[0][col], values_of[1][col], scorer)
        else:
            row, sizes, null = _categorical_row(reference, current, plans, col, scorer)
        values[i] = row
        used.append(scorer.name)
        if n_ref >= 2:
            noise[i] = noise_thresholds(null, sizes, n_ref, tail_probability(sigmas), col)
    for side, (table, plan) in enumerate(zip((reference, current), plans, strict=True)):
        block = _missing_shares(table, plan, columns)
        offset = 0 if side == 0 else n_ref
        missing[:, offset:offset + len(plan.chunks)] = block
    rows = np.array([c.rows for c in chunks], dtype=float)
    judged = np.array([not c.too_small for c in chunks], dtype=bool)
    thresholds, chunk_thresholds, low, high, source = alert_bands(
        values, missing, noise, rows, n_ref, used, sigmas, judged)
    return OverTimeResult(chunks, tuple(columns), tuple(kinds), tuple(used), values,
                          thresholds, chunk_thresholds, missing, low, high, source,
                          float(sigmas), int(plans[0].min_rows), str(chunking), timestamp,
                          method)


def alert_bands(values: np.ndarray, missing: np.ndarray, noise: np.ndarray, rows: np.ndarray,
           n_ref: int, used: list[str], k: float, judged: np.ndarray):
    # Bands come from the judged reference chunks only: a too-small chunk's value is noise.
    ref_judged = np.flatnonzero(judged[:n_ref])
    cur_judged = n_ref + np.flatnonzero(judged[n_ref:])
    current = cur_judged if len(cur_judged) else (
        slice(n_ref, None) if values.shape[1] > n_ref else slice(None))
    if len(ref_judged) < 2:
        default = np.array([methods.get(m).default_threshold for m in used])
        spread = np.full(len(used), 0.05)
        centre = missing[:, ref_judged[0] if len(ref_judged) else 0] if n_ref else \
            np.zeros(len(used))
        chunk = np.repeat(default[:, None], values.shape[1], axis=1)
        return default, chunk, np.maximum(centre - spread, 0), \
            np.minimum(centre + spread, 1), "default"
    ref_values, ref_missing = values[:, ref_judged], missing[:, ref_judged]
    with np.errstate(invalid="ignore"):
        observed = np.nanmean(ref_values, axis=1) + k * np.nanstd(ref_values, axis=1)
        chunk = np.fmax(noise, observed[:, None])
        typical = np.nanmedian(chunk[:, current], axis=1)
        centre, spread = np.nanmean(ref_missing, axis=1), np.nanstd(ref_missing, axis=1)
        # The share's binomial std for a typical current chunk against the whole reference.
        n, total = np.median(rows[current]), rows[:n_ref].sum()
        binomial = np.sqrt(np.clip(centre * (1 - centre), 0, None) * (1 / n + 1 / total))
    # A column constant in the reference still needs a non-zero band to be usable.
    spread = np.maximum(k * np.fmax(spread, binomial), 0.005)
    return typical, chunk, np.maximum(centre - spread, 0.0), np.minimum(centre + spread, 1.0), \
        "reference chunks"



def _numeric_values(table: Table, plan: ChunkPlan, columns: Sequence[str]
                    ) -> dict[str, list[np.ndarray]]:
    """Finite values of each numeric column per chunk, each sorted, from one query."""
    if not columns:
        return {}
    cols = ", ".join(f"CAST({quote_ident(c)} AS DOUBLE) AS v{i}" for i, c in enumerate(columns))
    got = table.execute(f"SELECT {CHUNK_COLUMN} AS k, {cols} FROM ({plan.sub_query()})"
                        ).fetchnumpy()
    keys = np.asarray(got["k"], dtype=np.int64)
    out = {}
    for i, column in enumerate(columns):
        raw = got[f"v{i}"]
        values = (raw.astype(np.float64).filled(np.nan) if np.ma.isMaskedArray(raw)
                  else np.asarray(raw, dtype=np.float64))
        finite = np.isfinite(values)
        k, v = keys[finite], values[finite]
        order = np.lexsort((v, k))            # by chunk, then value: ORDER BY k, v
        k, v = k[order], v[order]
        bounds = np.searchsorted(k, np.arange(len(plan.chunks) + 1), side="left")
        out[column] = [v[bounds[j]:bounds[j + 1]] for j in range(len(plan.chunks))]
    return out


def _numeric_row(ref_chunks: list[np.ndarray], cur_chunks: list[np.ndarray],
                 method: methods.Method):
    def score(base: stats.Sample, chunk: np.ndarray) -> float:
        if base.n == 0 or len(chunk) == 0:
            return np.nan
        return method.numeric(base, stats.Sample(chunk))[0]

    def pooled(parts: list[np.ndarray]) -> stats.Sample:
        return stats.Sample(np.sort(np.concatenate(parts)) if parts else np.array([]))

    whole = pooled(ref_chunks)
    sizes = np.array([len(c) for c in ref_chunks + cur_chunks])
    # The effect size the page follows by default: every chunk in one vector pass
    # (chunk_wasserstein.py); other methods, or values near ±1e308, pair by pair.
    fast = chunk_wasserstein(ref_chunks, cur_chunks) if method.name == "wasserstein" else None
    if fast is not None:
        return fast, sizes, method.null("numeric", whole)
    out = [score(pooled(ref_chunks[:j] + ref_chunks[j + 1:]), chunk)
           for j, chunk in enumerate(ref_chunks)]
    out += [score(whole, chunk) for chunk in cur_chunks]
    return np.array(out), sizes, method.null("numeric", whole)


def _chunk_counts(table: Table, plan: ChunkPlan, column: str) -> pd.DataFrame:
    col = quote_ident(column)
    return table.df(f"SELECT {CHUNK_COLUMN} AS k, CAST({col} AS VARCHAR) AS v, count(*) AS n "
                    f"FROM ({plan.sub_query()}) WHERE {col} IS NOT NULL GROUP BY 1, 2")


def _categorical_row(reference, current, plans, column, method: methods.Method):
    ref_counts = _chunk_counts(reference, plans[0], column)
    cur_counts = _chunk_counts(current, plans[1], column)
    totals = pd.concat([ref_counts, cur_counts]).groupby("v")["n"].sum()
    keep = set(totals.sort_values(ascending=False, kind="stable").index[:MAX_CATEGORIES])
    categories = sorted(keep) + ([OTHER] if len(totals) > len(keep) else [])

    def matrix(frame: pd.DataFrame, chunks: int) -> np.ndarray:
        frame = frame.assign(v=frame["v"].where(frame["v"].isin(keep), OTHER))
        table = frame.pivot_table(index="k", columns="v", values="n", aggfunc="sum",
                                  fill_value=0)
        return table.reindex(index=range(chunks), columns=categories, fill_value=0).to_numpy()

    ref_m = matrix(ref_counts, len(plans[0].chunks))
    cur_m = matrix(cur_counts, len(plans[1].chunks))
    ref_total = ref_m.sum(axis=0)
    def score(base: np.ndarray, row: np.ndarray) -> float:
        return method.categorical(base, row)[0] if row.sum() and base.sum() else np.nan

    out = [score(ref_total - row, row) for row in ref_m]  # leave one out
    out += [score(ref_total, row) for row in cur_m]
    sizes = np.concatenate([ref_m.sum(axis=1), cur_m.sum(axis=1)])
    return np.array(out, dtype=float), sizes, method.null("categorical", ref_total)


def _missing_shares(table: Table, plan: ChunkPlan, columns: Sequence[str]) -> np.ndarray:
    """Missing share (NULL or NaN) of every column in every chunk of one side: one pass."""
    types = table.column_types
    parts = []
    for name in columns:
        col = quote_ident(name)
        nan = f" OR isnan({col})" if types[name].upper() in ("DOUBLE", "FLOAT", "REAL") else ""
        parts.append(f"count(*) FILTER (WHERE {col} IS NULL{nan}) / count(*)")
    rows = table.execute(f"SELECT {CHUNK_COLUMN}, {', '.join(parts)} FROM ({plan.sub_query()}) "
                         "GROUP BY 1 ORDER BY 1").fetchall()
    out = np.full((len(columns), len(plan.chunks)), np.nan)
    for row in rows:
        out[:, int(row[0])] = row[1:]
    return out
