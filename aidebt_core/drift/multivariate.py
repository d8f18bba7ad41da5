"""Multivariate drift: PCA reconstruction error per chunk, fitted on the reference.

Numeric columns are imputed (reference median) and standardised, categorical ones one-hot
encoded (the reference's most frequent values, the rest in one column); a PCA keeping
`variance` of the reference's variance is fitted on a reference sample. A row's error is the
distance between it and its reconstruction; a chunk's error is the mean over its rows. The
reference rows are scored out of sample (two PCAs with that many components, each fitted on
one half of them and scoring the other half; new rows get the mean of both), since a PCA
rebuilds its own fitting rows better than new ones. When
the relations between columns change (a correlation breaks) the reconstruction gets worse even
if every column's own distribution stays put, which the per-column tests cannot see.

Band: the reference chunks' mean error ± k·s, chunks above it alert. s is the larger of the
reference chunks' own std (real variation between periods) and the sampling std of a chunk's
mean error without drift, σ_row·√(1/m + 1/M) (σ_row: the std of the reference rows' errors,
m: the rows scored in that chunk — each chunk its own, so a 200-row month gets the wider
band its noise needs —, M: reference rows scored; a chunk's mean over thousands of rows is
close to normal, so k = 3 is a 0.135 % false-alert rate per chunk). Chunks below the
minimum size (`too_small`) never alert and do not enter the reference spread. The
std of a few reference chunks alone is too uncertain — and, those rows being partly the PCA's
own fitting rows, too small — and used to make single-chunk false alerts.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from aidebt_core.chunks import CHUNK_COLUMN, MIN_CHUNK_ROWS, Chunking, ChunkPlan, plan_chunks
from aidebt_core.data import Table, quote_ident
from aidebt_core.drift.chunk_info import ChunkInfo, chunk_infos, chunks_from_dict, chunks_to_dict
from aidebt_core.drift.identity import Identity, fingerprint, identity_from
from aidebt_core.errors import SchemaError
from aidebt_core.jsonsafe import jsonable

MAX_CATEGORIES = 10        # one-hot columns per categorical feature (+1 for the rest)
FIT_ROWS = 20_000          # reference rows the PCA is fitted on
ROWS_PER_CHUNK = 5_000     # rows sampled per chunk to score it
# Thousands of rows, tens of encoded columns: the eigenvectors of the small covariance matrix
# give the same components as a full SVD of the rows, 2.5x cheaper (three fits per run).
PCA_SOLVER = "covariance_eigh"


@dataclass(frozen=True, eq=False)
class MultivariateResult:
    chunks: tuple[ChunkInfo, ...]
    errors: np.ndarray          # mean reconstruction error per chunk
    lower: float                # band of a typical current chunk (for a band to draw)
    upper: float
    components: int
    explained_variance: float
    columns: tuple[str, ...]
    row_std: float              # std of the reference rows' errors (sets the sampling noise)
    uppers: np.ndarray          # each chunk's own upper threshold (its size sets its noise)
    lowers: np.ndarray
    settings: tuple[tuple[str, object], ...] = ()   # chunking, timestamp, variance, ...
    inputs: Identity = ()       # set by the caller: see `aidebt_core.drift.identity`

    @property
    def fingerprint(self) -> str:
        return fingerprint("multivariate drift", {"columns": list(self.columns),
                                                  **dict(self.settings)}, self.inputs)

    def with_inputs(self, inputs: Identity) -> MultivariateResult:
        return replace(self, inputs=tuple(inputs))

    @property
    def judged(self) -> np.ndarray:
        return np.array([not c.too_small for c in self.chunks], dtype=bool)

    @property
    def alerts(self) -> np.ndarray:
        """Chunks reconstructed worse than their band allows (a lower error means data more
        typical of the reference, not drift, so only the upper side alerts); never a chunk
        that is too small to judge."""
        with np.errstate(invalid="ignore"):
            return (self.errors > self.uppers) & self.judged

    def first_alert(self) -> str | None:
        for chunk, alert in zip(self.chunks, self.alerts, strict=True):
            if alert and chunk.period == "current":
                return chunk.label
        return None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"chunk": [c.label for c in self.chunks],
                             "period": [c.period for c in self.chunks],
                             "rows": [c.rows for c in self.chunks],
                             "partial": [c.partial for c in self.chunks],
                             "too_small": [c.too_small for c in self.chunks],
                             "reconstruction_error": self.errors,
                             "lower": self.lowers, "upper": self.uppers,
                             "alert": self.alerts})

    def to_dict(self) -> dict:
        return jsonable({"columns": list(self.columns), "components": self.components,
                         "explained_variance": self.explained_variance,
                         "lower": self.lower, "upper": self.upper, "row_std": self.row_std,
                         "threshold_note": "upper: a typical current chunk's threshold; each "
                                           "chunk's own (its size sets its noise) in chunks",
                         "first_alert": self.first_alert(),
                         "chunks": self.to_frame().to_dict(orient="records"),
                         "chunk_info": chunks_to_dict(self.chunks),
                         "settings": dict(self.settings),
                         "inputs": [list(i) for i in self.inputs],
                         "fingerprint": self.fingerprint})

    @classmethod
    def from_dict(cls, data: Mapping) -> MultivariateResult:
        def column(key: str) -> np.ndarray:
            return np.array([np.nan if c[key] is None else c[key] for c in data["chunks"]],
                            dtype=float)

        def number(key: str) -> float:
            return np.nan if data[key] is None else float(data[key])

        return cls(chunks_from_dict(data["chunk_info"]), column("reconstruction_error"),
                   number("lower"), number("upper"), int(data["components"]),
                   number("explained_variance"), tuple(data["columns"]), number("row_std"),
                   column("upper"), column("lower"), tuple(data.get("settings", {}).items()),
                   identity_from(data.get("inputs")))


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
    # Rank rows inside their chunk by a seeded hash of their values and return them in that
    # order: the same sample on every run (a row position, `row_number() OVER ()`, follows
    # the parallel scan's order and is not repeatable); equal rows are interchangeable.
    query = (f"SELECT {CHUNK_COLUMN}, {cols} FROM (SELECT *, row_number() OVER (PARTITION BY "
             f"{CHUNK_COLUMN} ORDER BY hash(row($seed, {cols}))) AS aidebt_rank FROM "
             f"({plan.sub_query()})) WHERE aidebt_rank <= $n "
             f"ORDER BY {CHUNK_COLUMN}, aidebt_rank")
    return table.df(query, {"seed": int(seed), "n": int(per_chunk)})


def _cross_fit(pca_class, pca, encoder: _Encoder, ref_rows: pd.DataFrame, seed: int):
    """Two PCAs with `pca`'s number of components, each fitted on one half of the reference
    rows (a seeded split), so every reference row can be scored by a model that never saw it:
    rows a PCA was fitted on are rebuilt better than new rows, which put the reference band
    below where new chunks without drift land. Too few rows: `pca` alone (in-sample)."""
    half = np.random.default_rng(seed).random(len(ref_rows)) < 0.5
    k = pca.n_components_
    if min(half.sum(), (~half).sum()) <= k + 1:
        return [pca], half
    models = []
    for part in (ref_rows[half], ref_rows[~half]):
        part = part.sample(n=min(FIT_ROWS // 2, len(part)), random_state=seed)
        models.append(pca_class(n_components=k, svd_solver=PCA_SOLVER, random_state=seed)
                      .fit(encoder.transform(part)))
    return models, half


def _one_blas_thread(fn):
    """Run `fn` with BLAS on one thread: the matrices here are small (thousands of rows ×
    tens of columns), and two BLAS threads on a busy 2-core server spent 5× the CPU spinning
    for each other (PCA fits of the sample: 0.12 s CPU on two threads, 0.03 s on one)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="blas"):
            return fn(*args, **kwargs)
    return wrapper


@_one_blas_thread
def multivariate_drift(reference: Table, current: Table, numeric: Sequence[str],
                       categorical: Sequence[str], chunking: Chunking | str,
                       timestamp: str | None = None, variance: float = 0.65,
                       sigmas: float = 3.0, rows_per_chunk: int = ROWS_PER_CHUNK,
                       seed: int = 0, min_rows: int = MIN_CHUNK_ROWS) -> MultivariateResult:
    """Reconstruction error of every chunk of both sides under a PCA fitted on the reference."""
    from sklearn.decomposition import PCA

    columns = [*numeric, *categorical]
    if len(columns) < 2:
        raise SchemaError("Multivariate drift needs at least two columns.")
    if not 0 < variance <= 1:
        raise SchemaError(f"The PCA variance share must lie in (0, 1], not {variance}.")
    chunking = Chunking.parse(chunking) if isinstance(chunking, str) else chunking
    plans = [plan_chunks(reference, chunking, timestamp, min_rows=min_rows),
             plan_chunks(current, chunking, timestamp, min_rows=min_rows)]
    ref_rows = _chunk_sample(reference, plans[0], columns, rows_per_chunk, seed)
    cur_rows = _chunk_sample(current, plans[1], columns, rows_per_chunk, seed)
    fit = ref_rows.sample(n=min(FIT_ROWS, len(ref_rows)), random_state=seed)
    encoder = _fit_encoder(fit, numeric, categorical)
    x_fit = encoder.transform(fit)
    if x_fit.shape[0] < 2:
        raise SchemaError("The reference has too few rows to fit multivariate drift.")
    pca = PCA(n_components=variance if variance < 1 else None, svd_solver=PCA_SOLVER,
              random_state=seed).fit(x_fit)
    models, half = _cross_fit(PCA, pca, encoder, ref_rows, seed)

    def per_row(frame: pd.DataFrame, reference: bool) -> np.ndarray:
        x = encoder.transform(frame)
        err = [np.linalg.norm(x - m.inverse_transform(m.transform(x)), axis=1) for m in models]
        if len(err) == 1:
            return err[0]
        # Reference rows by the model that did not see them; new rows by both, averaged.
        return np.where(half, err[1], err[0]) if reference else (err[0] + err[1]) / 2

    def errors(frame: pd.DataFrame, chunks: int, reference: bool
               ) -> tuple[np.ndarray, np.ndarray]:
        out = np.full(chunks, np.nan)
        if frame.empty:
            return out, np.empty(0)
        rows = per_row(frame, reference)
        means = pd.Series(rows).groupby(frame[CHUNK_COLUMN].to_numpy()).mean()
        out[means.index.to_numpy(dtype=int)] = means.to_numpy()
        return out, rows

    ref_err, ref_rows_err = errors(ref_rows, len(plans[0].chunks), True)
    cur_err, _ = errors(cur_rows, len(plans[1].chunks), False)
    row_std = float(np.std(ref_rows_err))
    chunks = chunk_infos(plans)
    all_err = np.concatenate([ref_err, cur_err])
    scored = np.concatenate([_scored(ref_rows, len(plans[0].chunks)),
                             _scored(cur_rows, len(plans[1].chunks))])
    with np.errstate(divide="ignore"):
        noise = row_std * np.sqrt(1 / scored + 1 / len(ref_rows))   # per chunk, its own size
    judged = np.array([not c.too_small for c in chunks], dtype=bool)
    ref_judged = ref_err[judged[:len(ref_err)]]
    if np.isfinite(ref_judged).sum() >= 2:
        centre = float(np.nanmean(ref_judged))
        spread = sigmas * np.fmax(float(np.nanstd(ref_judged)), noise)
    else:
        centre = float(np.nanmean(ref_err))
        spread = np.full(len(chunks), 0.1 * centre)
    typical = typical_spread(spread, judged, len(ref_err))
    settings = (("chunking", str(chunking)), ("timestamp", timestamp),
                ("variance", float(variance)), ("sigmas", float(sigmas)),
                ("rows_per_chunk", int(rows_per_chunk)), ("seed", int(seed)),
                ("min_rows", int(plans[0].min_rows)), ("numeric", tuple(numeric)),
                ("categorical", tuple(categorical)))
    return MultivariateResult(chunks, all_err, centre - typical, centre + typical,
                              int(pca.n_components_),
                              float(pca.explained_variance_ratio_.sum()), tuple(columns),
                              row_std, centre + spread, centre - spread, settings)


def _scored(rows: pd.DataFrame, chunks: int) -> np.ndarray:
    """Rows scored per chunk (0 where a chunk has none)."""
    if rows.empty:
        return np.zeros(chunks)
    counts = rows.groupby(CHUNK_COLUMN).size()
    return counts.reindex(range(chunks), fill_value=0).to_numpy(dtype=float)


def typical_spread(spread: np.ndarray, judged: np.ndarray, n_ref: int) -> float:
    """The band half-width of a typical judged current chunk (else of any chunk)."""
    current = spread[n_ref:][judged[n_ref:]]
    pool = current[np.isfinite(current)] if len(current) else spread[np.isfinite(spread)]
    return float(np.median(pool)) if len(pool) else float("nan")
