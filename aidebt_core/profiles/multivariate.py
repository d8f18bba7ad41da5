"""Multivariate drift from profiles: PCA reconstruction error per chunk from moments.

The "cross" section (profiles/cross.py) holds, per chunk, the complete-case moments of the
numeric columns: rows where every one is finite, their sums and sums of products. From
them, exactly (no row is read):

* the reference's mean μ and std σ per column, and the correlation matrix R of the
  standardised columns z = (x − μ) / σ; the PCA keeps the fewest leading eigenvectors V of R
  that explain at least `variance` of it (as sklearn's `PCA(n_components=variance)`), and
  Q = I − V Vᵀ projects on what the PCA cannot rebuild;
* a chunk c with mean μ_c and covariance Σ_c (population) has, over its complete rows, a
  mean squared reconstruction error E‖Q z‖² = tr(Q S_c Q) + ‖Q m_c‖², S_c = D Σ_c D,
  m_c = D (μ_c − μ), D = diag(1/σ). The chunk's value is its root (RMS error).

A reference chunk is scored by a PCA (and standardisation) fitted on the other reference
chunks (sums subtract), so it is out of sample as new chunks are. Band: the reference chunks'
mean ± k·s with s the larger of their std and a chunk's sampling noise, the latter for
Gaussian rows: Var‖Qz‖² = 2 tr((Q R Q)²), per row, scaled by √(1/m + 1/M) and carried to the
root by the delta method — an approximation, stated in `settings`.

What differs from `drift.multivariate` (rows): numeric columns only (one-hot categoricals
would need their joint counts over the complete rows, which the section does not hold),
complete rows instead of median-imputed ones, every row instead of a 5,000-row sample per
chunk and one PCA on all reference rows instead of two cross-fitted halves, and the RMS
error instead of the mean error norm (a mean of norms needs each row). Each value is
exact for what it measures; the two paths' values are close but not equal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aidebt_core.chunks import MIN_CHUNK_ROWS, Chunking, plan_chunks
from aidebt_core.drift.multivariate import MultivariateResult, typical_spread
from aidebt_core.errors import SchemaError
from aidebt_core.profiles import cross
from aidebt_core.profiles.over_time import (
    ViewUnavailable,
    _chunk_infos,
    check_chunked_period,
)
from aidebt_core.profiles.periods import dated_chunks, period_chunks
from aidebt_core.profiles.source import reads_rows

STATISTIC = "root mean squared reconstruction error (complete rows, from moments)"


@dataclass(frozen=True)
class Moments:
    """Complete-case moments of p numeric columns (shifted sums, as the section keeps them)."""

    n: int
    sums: np.ndarray       # p
    products: np.ndarray   # p × p

    def __add__(self, other: Moments) -> Moments:
        return Moments(self.n + other.n, self.sums + other.sums,
                       self.products + other.products)

    def __sub__(self, other: Moments) -> Moments:
        return Moments(self.n - other.n, self.sums - other.sums,
                       self.products - other.products)

    def mean_cov(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean (shifted) and population covariance."""
        mean = self.sums / self.n
        return mean, self.products / self.n - np.outer(mean, mean)


def moments_of(section: cross.Section, config: cross.Config, index: Sequence[int]) -> Moments:
    p = len(config.numeric)
    products = np.zeros((p, p))
    for k, (i, j) in enumerate(cross.triangle_of(p)):
        products[i, j] = products[j, i] = section.complete_products[k]
    idx = np.asarray(index, dtype=np.int64)
    return Moments(int(section.complete_rows),
                   np.asarray(section.complete_sums, dtype=np.float64)[idx],
                   products[np.ix_(idx, idx)])


@dataclass(frozen=True)
class _Pca:
    mean: np.ndarray      # shifted units
    scale: np.ndarray     # 1 / std
    residual: np.ndarray  # Q
    components: int
    explained: float
    row_std: float        # Gaussian std of a row's ‖Qz‖, delta method
    rms: float            # the fitting rows' own RMS error


def _fit(base: Moments, variance: float) -> _Pca:
    mean, cov = base.mean_cov()
    std = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    scale = np.where(std > 0, 1.0 / np.where(std > 0, std, 1.0), 1.0)
    corr = cov * np.outer(scale, scale)
    values, vectors = np.linalg.eigh(corr)
    order = np.argsort(values)[::-1]
    values, vectors = np.clip(values[order], 0.0, None), vectors[:, order]
    ratio = values / values.sum() if values.sum() > 0 else np.ones_like(values) / len(values)
    if variance >= 1:
        k = len(values)
    else:   # as sklearn: the smallest k whose cumulative ratio exceeds `variance`
        k = int(np.searchsorted(np.cumsum(ratio), variance, side="right") + 1)
        k = min(k, len(values))
    kept = vectors[:, :k]
    q = np.eye(len(values)) - kept @ kept.T
    qrq = q @ corr @ q
    mse = float(np.trace(qrq))
    rms = math.sqrt(max(mse, 0.0))
    row_std = math.sqrt(2 * float(np.sum(qrq * qrq))) / (2 * rms) if rms > 0 else 0.0
    return _Pca(mean, scale, q, k, float(ratio[:k].sum()), row_std, rms)


def chunk_error(pca: _Pca, chunk: Moments) -> float:
    """RMS of ‖Q z‖ over the chunk's complete rows: √(tr(Q S Q) + ‖Q m‖²)."""
    if chunk.n <= 0:
        return math.nan
    mean, cov = chunk.mean_cov()
    m = (mean - pca.mean) * pca.scale
    s = cov * np.outer(pca.scale, pca.scale)
    qm = pca.residual @ m
    mse = float(np.trace(pca.residual @ s @ pca.residual) + qm @ qm)
    return math.sqrt(max(mse, 0.0))


def multivariate_from_sections(ref_sections: Sequence[cross.Section],
                               cur_sections: Sequence[cross.Section], config: cross.Config,
                               numeric: Sequence[str], chunks, *, variance: float = 0.65,
                               sigmas: float = 3.0, settings: tuple = ()) -> MultivariateResult:
    """The per-chunk errors and band from the sections of the dated chunks of both sides
    (`chunks`: their ChunkInfos, reference first, in the same order)."""
    if len(numeric) < 2:
        raise ViewUnavailable("Multivariate drift from profiles needs at least two numeric "
                              "columns (categorical ones need the rows).")
    if not 0 < variance <= 1:
        raise SchemaError(f"The PCA variance share must lie in (0, 1], not {variance}.")
    index = [config.numeric.index(c) for c in numeric]
    ref = [moments_of(s, config, index) for s in ref_sections]
    cur = [moments_of(s, config, index) for s in cur_sections]
    whole = ref[0]
    for m in ref[1:]:
        whole = whole + m
    if whole.n < len(numeric) + 1:
        raise ViewUnavailable("The reference has too few complete rows to fit the PCA.")
    full = _fit(whole, variance)
    errors, noise_unit = [], []
    for m in ref:
        rest = whole - m
        pca = _fit(rest, variance) if rest.n > len(numeric) else full
        errors.append(chunk_error(pca, m))
        noise_unit.append(pca.row_std)
    errors += [chunk_error(full, m) for m in cur]
    noise_unit += [full.row_std] * len(cur)
    errors = np.array(errors, dtype=float)
    scored = np.array([m.n for m in (*ref, *cur)], dtype=float)
    with np.errstate(divide="ignore"):
        noise = np.array(noise_unit) * np.sqrt(1 / scored + 1 / whole.n)
    judged = np.array([not c.too_small for c in chunks], dtype=bool)
    n_ref = len(ref)
    ref_judged = errors[:n_ref][judged[:n_ref]]
    if np.isfinite(ref_judged).sum() >= 2:
        centre = float(np.nanmean(ref_judged))
        spread = sigmas * np.fmax(float(np.nanstd(ref_judged)), noise)
    else:
        centre = float(np.nanmean(errors[:n_ref]))
        spread = np.full(len(chunks), 0.1 * centre)
    typical = typical_spread(spread, judged, n_ref)
    settings = (*settings, ("variance", float(variance)), ("sigmas", float(sigmas)),
                ("numeric", tuple(numeric)), ("categorical", ()), ("source", "profiles"),
                ("statistic", STATISTIC))
    return MultivariateResult(tuple(chunks), errors, centre - typical, centre + typical,
                              full.components, full.explained, tuple(numeric), full.row_std,
                              centre + spread, centre - spread, settings)


# ---------------------------------------------------------------------------- the route

def _sections(profile, numeric: Sequence[str], label: str):
    config = profile.plan.section(cross.NAME) if hasattr(profile.plan, "section") else None
    if config is None or not set(numeric) <= set(config.numeric):
        raise ViewUnavailable(
            f"{label} was saved without the cross-column counts multivariate drift needs; "
            f"profile it again with `aidebt profile SOURCE --timestamp T --chunk PERIOD "
            "--for entanglement`.")
    out = []
    for chunk in dated_chunks(profile):
        section = chunk.section(cross.NAME)
        if section is None:
            raise ViewUnavailable(f"{label}: chunk {chunk.key} holds no cross-column counts.")
        out.append(section)
    return config, out


def _table_sections(table, plan, config: cross.Config | None, numeric: Sequence[str]):
    ctx = cross.sql_context(table, plan)
    if ctx is None:
        raise ViewUnavailable(f"{table.label}: this Spark engine offers no SQL context for "
                              "profile sections, so multivariate drift cannot run on it yet.")
    if config is None:
        config = cross.make_config(ctx, [(n, "numeric") for n in numeric])
    counted = cross.compute(ctx, plan, config)
    keys = sorted(k for k in counted if k not in ("", "(no timestamp)"))
    return config, keys, [counted[k] for k in keys]


def multivariate_route(reference, current, numeric: Sequence[str],
                       categorical: Sequence[str], chunking: Chunking | str,
                       timestamp: str | None, *, variance: float = 0.65, sigmas: float = 3.0,
                       min_rows: int = MIN_CHUNK_ROWS) -> MultivariateResult | None:
    """Multivariate drift from complete-case moments when `route.decide` says profiles
    (None: the rows path). Saved profiles need their "cross" section; table sides are
    counted now (one aggregate query each). Categorical columns are left out (said in the
    settings); a view that cannot be given raises ViewUnavailable."""
    from aidebt_core.profiles.model import ProfilePlan
    from aidebt_core.profiles.route import decide
    from aidebt_core.profiles.source import ProfileTable

    if not decide(reference, current).use:
        return None
    chunking = Chunking.parse(chunking) if isinstance(chunking, str) else chunking
    tables = (reference, current)
    if not chunking.is_period and all(reads_rows(t) for t in tables):
        return None
    check_chunked_period(chunking)
    saved = [t for t in tables if isinstance(t, ProfileTable)]
    config = None
    if saved:
        plan = saved[0].profile.plan
        if plan.chunk != chunking.kind:
            raise ViewUnavailable(
                f"{saved[0].label} is profiled "
                f"{'by ' + plan.chunk if plan.chunk else 'without chunks'}; multivariate drift "
                f"by {chunking.kind} needs a profile made with --chunk {chunking.kind}.")
        timestamp = plan.timestamp
        config, _ = _sections(saved[0].profile, numeric, saved[0].label)
    if not timestamp:
        raise ViewUnavailable(f"Multivariate drift by {chunking.kind} needs a time column.")
    plan = ProfilePlan((), timestamp, chunking.kind)
    sides, spans, profiles = [], [], []
    for table in tables:
        if isinstance(table, ProfileTable):
            own, sections = _sections(table.profile, numeric, table.label)
            if own != config:
                raise ViewUnavailable(f"{table.label}'s cross-column counts were made with "
                                      "another configuration than the other side's.")
            sides.append(sections)
            profiles.append(table.profile)
            spans.append(None)
            continue
        config, keys, sections = _table_sections(table, plan, config, numeric)
        sides.append(sections)
        profiles.append(_KeysOnly(keys, sections, table.label))
        spans.append(plan_chunks(table, chunking, timestamp, min_rows=min_rows).chunks
                     if reads_rows(table) else None)
    chunks = _chunk_infos(*(period_chunks(p, chunking.kind, min_rows, s)
                            for p, s in zip(profiles, spans, strict=True)), chunking)
    result = multivariate_from_sections(sides[0], sides[1], config, list(numeric), chunks,
                                        variance=variance, sigmas=sigmas,
                                        settings=(("chunking", str(chunking)),
                                                  ("timestamp", timestamp),
                                                  ("min_rows", int(min_rows)),
                                                  ("left_out", tuple(categorical))))
    return result


class _KeysOnly:
    """What `period_chunks` reads of a profile (dated chunk keys and rows), for a table side
    counted through its section only."""

    def __init__(self, keys, sections, label):
        from aidebt_core.profiles.model import ChunkProfile

        self.chunks = tuple(ChunkProfile(k, s.rows, ()) for k, s in zip(keys, sections,
                                                                          strict=True))
        self.source = label
        self.plan = None   # no time resolution: partial marks come from the rows' spans


__all__ = ["Moments", "STATISTIC", "chunk_error", "moments_of", "multivariate_from_sections",
           "multivariate_route"]
