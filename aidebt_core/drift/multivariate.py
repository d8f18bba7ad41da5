"""Multivariate drift: PCA reconstruction error per chunk, fitted on the reference.

Numeric columns are imputed (reference median) and standardised, categorical ones one-hot
encoded (the reference's most frequent values, the rest in one column); a PCA keeping
`variance` of the reference's variance is fitted on a reference sample. A row's error is the
distance between it and its reconstruction; a chunk's error is the mean over its rows. When
the relations between columns change (a correlation breaks) the reconstruction gets worse even
if every column's own distribution stays put, which the per-column tests cannot see. Band:
mean ± k·std of the reference chunks' errors; chunks above it alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aidebt_core.chunks import CHUNK_COLUMN, Chunking, ChunkPlan, plan_chunks
from aidebt_core.data import Table, quote_ident
from aidebt_core.drift.over_time import ChunkInfo
from aidebt_core.errors import SchemaError
from aidebt_core.jsonsafe import jsonable

MAX_CATEGORIES = 10        # one-hot columns per categorical feature (+1 for the rest)
FIT_ROWS = 20_000          # reference rows the PCA is fitted on
ROWS_PER_CHUNK = 5_000     # rows sampled per chunk to score it


@dataclass(frozen=True, eq=False)
class MultivariateResult:
    chunks: tuple[ChunkInfo, ...]
    errors: np.ndarray          # mean reconstruction error per chunk
    lower: float
    upper: float
    components: int
    explained_variance: float
    columns: tuple[str, ...]

    @property
    def alerts(self) -> np.ndarray:
        """Chunks reconstructed worse than the reference band allows (a lower error means data
        more typical of the reference, not drift, so only the upper side alerts)."""
        return self.errors > self.upper

    def first_alert(self) -> str | None:
        for chunk, alert in zip(self.chunks, self.alerts, strict=True):
            if alert and chunk.period == "current":
                return chunk.label
        return None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"chunk": [c.label for c in self.chunks],
                             "period": [c.period for c in self.chunks],
                             "rows": [c.rows for c in self.chunks],
                             "reconstruction_error": self.errors,
                             "lower": self.lower, "upper": self.upper, "alert": self.alerts})

    def to_dict(self) -> dict:
        return jsonable({"columns": list(self.columns), "components": self.components,
                         "explained_variance": self.explained_variance,
                         "lower": self.lower, "upper": self.upper,
                         "first_alert": self.first_alert(),
                         "chunks": self.to_frame().to_dict(orient="records")})


@dataclass(frozen=True, eq=False)
class _Encoder:
    numeric: tuple[str, ...]
    medians: np.ndarray
    means: np.ndarray
    stds: np.ndarray
    categories: dict[str, tuple[str, ...]]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        parts = []
        if self.numeric:
            x = frame[list(self.numeric)].to_numpy(dtype=float, na_value=np.nan)
            x = np.where(np.isfinite(x), x, self.medians)
            parts.append((x - self.means) / self.stds)
        for col, cats in self.categories.items():
            values = frame[col].astype("string").fillna("(missing)").to_numpy(dtype=object)
            onehot = np.column_stack([values == c for c in cats]
                                     + [~np.isin(values, cats)]).astype(float)
            parts.append(onehot)
        return np.hstack(parts)


def _fit_encoder(frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
                 ) -> _Encoder:
    x = frame[list(numeric)].to_numpy(dtype=float, na_value=np.nan) if numeric else \
        np.empty((len(frame), 0))
    x = np.where(np.isfinite(x), x, np.nan)
    medians = np.nan_to_num(np.nanmedian(x, axis=0)) if numeric else np.empty(0)
    filled = np.where(np.isnan(x), medians, x)
    means, stds = filled.mean(axis=0), filled.std(axis=0)
    stds = np.where(stds > 0, stds, 1.0)
    categories = {}
    for col in categorical:
        counts = frame[col].astype("string").fillna("(missing)").value_counts()
        categories[col] = tuple(counts.index[:MAX_CATEGORIES])
    return _Encoder(tuple(numeric), medians, means, stds, categories)


def _chunk_sample(table: Table, plan: ChunkPlan, columns: Sequence[str], per_chunk: int,
                  seed: int) -> pd.DataFrame:
    """Up to `per_chunk` rows of every chunk (a deterministic hash-ordered pick), in SQL."""
    cols = ", ".join(quote_ident(c) for c in columns)
    # Rank rows inside their chunk by a seeded hash of their position: a repeatable sample.
    query = (f"SELECT {CHUNK_COLUMN}, {cols} FROM (SELECT *, row_number() OVER (PARTITION BY "
             f"{CHUNK_COLUMN} ORDER BY hash(aidebt_pos + $seed)) AS aidebt_rank FROM "
             f"(SELECT *, row_number() OVER () AS aidebt_pos FROM ({plan.sub_query()}))) "
             "WHERE aidebt_rank <= $n")
    return table.df(query, {"seed": int(seed), "n": int(per_chunk)})


def multivariate_drift(reference: Table, current: Table, numeric: Sequence[str],
                       categorical: Sequence[str], chunking: Chunking | str,
                       timestamp: str | None = None, variance: float = 0.65,
                       sigmas: float = 3.0, rows_per_chunk: int = ROWS_PER_CHUNK,
                       seed: int = 0) -> MultivariateResult:
    """Reconstruction error of every chunk of both sides under a PCA fitted on the reference."""
    from sklearn.decomposition import PCA

    columns = [*numeric, *categorical]
    if len(columns) < 2:
        raise SchemaError("Multivariate drift needs at least two columns.")
    if not 0 < variance <= 1:
        raise SchemaError(f"The PCA variance share must lie in (0, 1], not {variance}.")
    chunking = Chunking.parse(chunking) if isinstance(chunking, str) else chunking
    plans = [plan_chunks(reference, chunking, timestamp), plan_chunks(current, chunking,
                                                                       timestamp)]
    ref_rows = _chunk_sample(reference, plans[0], columns, rows_per_chunk, seed)
    cur_rows = _chunk_sample(current, plans[1], columns, rows_per_chunk, seed)
    fit = ref_rows.sample(n=min(FIT_ROWS, len(ref_rows)), random_state=seed)
    encoder = _fit_encoder(fit, numeric, categorical)
    x_fit = encoder.transform(fit)
    if x_fit.shape[0] < 2:
        raise SchemaError("The reference has too few rows to fit multivariate drift.")
    pca = PCA(n_components=variance if variance < 1 else None, svd_solver="full",
              random_state=seed).fit(x_fit)

    def errors(frame: pd.DataFrame, chunks: int) -> np.ndarray:
        out = np.full(chunks, np.nan)
        if frame.empty:
            return out
        x = encoder.transform(frame)
        rebuilt = pca.inverse_transform(pca.transform(x))
        per_row = np.linalg.norm(x - rebuilt, axis=1)
        means = pd.Series(per_row).groupby(frame[CHUNK_COLUMN].to_numpy()).mean()
        out[means.index.to_numpy(dtype=int)] = means.to_numpy()
        return out

    ref_err = errors(ref_rows, len(plans[0].chunks))
    cur_err = errors(cur_rows, len(plans[1].chunks))
    if np.isfinite(ref_err).sum() >= 2:
        centre, spread = np.nanmean(ref_err), sigmas * np.nanstd(ref_err)
    else:
        centre, spread = float(np.nanmean(ref_err)), 0.1 * float(np.nanmean(ref_err))
    chunks = tuple(ChunkInfo(c.label, c.start, c.end, c.rows, period)
                   for plan, period in zip(plans, ("reference", "current"), strict=True)
                   for c in plan.chunks)
    return MultivariateResult(chunks, np.concatenate([ref_err, cur_err]),
                              float(centre - spread), float(centre + spread),
                              int(pca.n_components_),
                              float(pca.explained_variance_ratio_.sum()), tuple(columns))
