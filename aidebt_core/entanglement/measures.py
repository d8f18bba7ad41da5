"""Association measures on encoded arrays: Pearson, Spearman, Cramér's V, Theil's U, η.

Numeric columns are float arrays with NaN for missing values; categorical columns are integer
codes with -1 for missing. Every measure uses the rows where both columns are present
(pairwise-complete), like `pandas.DataFrame.corr`.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse, stats

CHUNK_ROWS = 131_072  # rows per block when accumulating sums: bounds the working memory


def _center(x: np.ndarray) -> np.ndarray:
    """Each column minus its mean over present values (keeps the sums below well-conditioned)."""
    with np.errstate(invalid="ignore"):
        means = np.nanmean(x, axis=0) if x.shape[0] else np.zeros(x.shape[1])
    return x - np.where(np.isfinite(means), means, 0.0)


def pearson_matrix(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete Pearson r between the columns of `x`, and the row count of each pair.

    Sums are accumulated over row blocks as matrix products, so 1M rows × 40 columns needs
    a few tens of MB, not copies of the whole array. r is NaN where a pair has fewer than
    three complete rows or one side does not vary on them.
    """
    x = np.asarray(x, dtype=np.float64)
    p = x.shape[1]
    xc = _center(x)
    n = np.zeros((p, p))
    s = np.zeros((p, p))
    q = np.zeros((p, p))
    cross = np.zeros((p, p))
    for start in range(0, xc.shape[0], CHUNK_ROWS):
        block = xc[start:start + CHUNK_ROWS]
        present = ~np.isnan(block)
        values = np.where(present, block, 0.0)
        if present.all():
            rows = float(block.shape[0])
            n += rows
            s += values.sum(axis=0)[:, None]
            q += (values * values).sum(axis=0)[:, None]
        else:
            mask = present.astype(np.float64)
            n += mask.T @ mask
            s += values.T @ mask          # s[i, j]: sum of x_i where x_i and x_j are present
            q += (values * values).T @ mask
        cross += values.T @ values
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = cross - s * s.T / n
        var_a = q - s * s / n
        var_b = var_a.T
        r = cov / np.sqrt(var_a * var_b)
        # A side that does not vary (relative to its scale) leaves r undefined, not ±inf.
        scale = np.maximum(q, q.T) * 1e-12
        flat = (var_a <= scale) | (var_b <= scale)
    r = np.where((n >= 3) & ~flat, np.clip(r, -1.0, 1.0), np.nan)
    return r, n.round().astype(np.int64)


def spearman_matrix(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete Spearman ρ (Pearson on average ranks), as `DataFrame.corr('spearman')`.

    Columns are ranked once; pairs whose complete rows differ from a column's own rows
    (because the other side has missing values) are re-ranked on those rows.
    """
    x = np.asarray(x, dtype=np.float64)
    p = x.shape[1]
    present = ~np.isnan(x)
    ranks = np.full_like(x, np.nan)
    for j in range(p):
        ranks[present[:, j], j] = stats.rankdata(x[present[:, j], j])
    rho, n = pearson_matrix(ranks)
    complete = present.all(axis=0)
    for i in range(p):
        for j in range(i + 1, p):
            if complete[i] and complete[j]:
                continue
            both = present[:, i] & present[:, j]
            if both.all() or both.sum() < 3:
                continue
            a, b = stats.rankdata(x[both, i]), stats.rankdata(x[both, j])
            value = pearson_matrix(np.column_stack([a, b]))[0][0, 1]
            rho[i, j] = rho[j, i] = value
    return rho, n


def contingency(a: np.ndarray, b: np.ndarray, ka: int, kb: int) -> np.ndarray:
    """Counts of (a, b) code pairs over rows where both are present (codes -1 are missing)."""
    # Shift so missing (-1) becomes code 0, count everything at once, then drop the
    # missing row and column.
    flat = (a.astype(np.int64) + 1) * (kb + 1) + (b.astype(np.int64) + 1)
    counts = np.bincount(flat, minlength=(ka + 1) * (kb + 1)).reshape(ka + 1, kb + 1)
    return counts[1:, 1:]


def _nonempty(table: np.ndarray) -> np.ndarray:
    table = np.asarray(table, dtype=np.float64)
    return table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]


def cramers_v(table: np.ndarray, bias_correction: bool = True) -> float:
    """Cramér's V of a contingency table; bias-corrected as in Bergsma (2013) by default.

    φ² = χ²/n; φ²₊ = max(0, φ² − (k−1)(r−1)/(n−1)); r̃ = r − (r−1)²/(n−1);
    k̃ = k − (k−1)²/(n−1); V = sqrt(φ²₊ / min(k̃−1, r̃−1)). NaN when a side is constant.
    """
    t = _nonempty(table)
    r, k = t.shape
    n = t.sum()
    if r < 2 or k < 2 or n < 2:
        return float("nan")
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / n
    chi2 = float(((t - expected) ** 2 / expected).sum())
    phi2 = chi2 / n
    if not bias_correction:
        return float(np.sqrt(phi2 / min(k - 1, r - 1)))
    phi2_plus = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    r_tilde = r - (r - 1) ** 2 / (n - 1)
    k_tilde = k - (k - 1) ** 2 / (n - 1)
    denom = min(k_tilde - 1, r_tilde - 1)
    if denom <= 0:
        return float("nan")
    return float(np.sqrt(phi2_plus / denom))


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def theils_u(table: np.ndarray) -> float:
    """Theil's U(row | column) = (H(row) − H(row | column)) / H(row), in [0, 1].

    The share of the row variable's uncertainty removed by knowing the column variable;
    asymmetric (transpose the table for the other direction). NaN when the row variable is
    constant.
    """
    t = np.asarray(table, dtype=np.float64)
    n = t.sum()
    if n == 0:
        return float("nan")
    p_xy = t / n
    h_x = _entropy(p_xy.sum(axis=1))
    if h_x <= 0:
        return float("nan")
    p_y = p_xy.sum(axis=0)
    nz = p_xy > 0
    h_x_given_y = float(-(p_xy[nz] * np.log((p_xy / p_y[None, :])[nz])).sum())
    return float(min(1.0, max(0.0, (h_x - h_x_given_y) / h_x)))


def correlation_ratio(x: np.ndarray, codes: np.ndarray, levels: int) -> tuple[np.ndarray,
                                                                                 np.ndarray]:
    """η (correlation ratio) of each numeric column of `x` against one categorical `codes`.

    η² = between-group sum of squares / total sum of squares, over rows where both are
    present. Group sums for all numeric columns come from one sparse product per row block.
    Returns (η per column, complete-row count per column); η is NaN where x does not vary
    or fewer than three rows are complete.
    """
    x = _center(np.asarray(x, dtype=np.float64))
    codes = np.asarray(codes)
    p = x.shape[1]
    counts = np.zeros((levels, p))
    sums = np.zeros((levels, p))
    squares = np.zeros((levels, p))
    for start in range(0, x.shape[0], CHUNK_ROWS):
        block = x[start:start + CHUNK_ROWS]
        c = codes[start:start + CHUNK_ROWS]
        keep = c >= 0
        block, c = block[keep], c[keep]
        onehot = sparse.csr_matrix((np.ones(len(c)), (np.arange(len(c)), c)),
                                   shape=(len(c), levels)).T.tocsr()
        present = ~np.isnan(block)
        values = np.where(present, block, 0.0)
        counts += onehot @ present.astype(np.float64)
        sums += onehot @ values
        squares += onehot @ (values * values)
    n = counts.sum(axis=0)
    total = sums.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        grand = total * total / n
        ss_total = squares.sum(axis=0) - grand
        ss_between = np.where(counts > 0, sums * sums / np.where(counts > 0, counts, 1), 0.0
                              ).sum(axis=0) - grand
        eta = np.sqrt(np.clip(ss_between / ss_total, 0.0, 1.0))
    flat = ss_total <= squares.sum(axis=0) * 1e-12
    eta = np.where((n >= 3) & ~flat, eta, np.nan)
    return eta, n.round().astype(np.int64)


def fisher_z_pvalue(r_a: float, n_a: int, r_b: float, n_b: int, spearman: bool = False
                    ) -> float:
    """Two-sided p-value that two independent correlations are equal (Fisher z test).

    Spearman's ρ uses the Fieller–Hartley–Pearson variance 1.06/(n−3).
    """
    if not (np.isfinite(r_a) and np.isfinite(r_b)) or n_a <= 3 or n_b <= 3:
        return float("nan")
    factor = 1.06 if spearman else 1.0
    limit = 1 - 1e-12
    z = (np.arctanh(np.clip(r_a, -limit, limit)) - np.arctanh(np.clip(r_b, -limit, limit)))
    se = np.sqrt(factor / (n_a - 3) + factor / (n_b - 3))
    return float(2 * stats.norm.sf(abs(z) / se))
