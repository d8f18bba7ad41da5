"""Association measures on encoded arrays: Pearson, Spearman, Cramér's V, Theil's U, η.

Numeric columns are float arrays with NaN for missing values; categorical columns are integer
codes with -1 for missing. Every measure uses the rows where both columns are present
(pairwise-complete), like `pandas.DataFrame.corr`.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse, stats

CHUNK_ROWS = 65_536  # rows per block when accumulating sums: bounds the working memory


def _blocks(n: int):
    for start in range(0, n, CHUNK_ROWS):
        yield slice(start, min(start + CHUNK_ROWS, n))


def column_means(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over present values and present count per column, block by block (no big copy)."""
    p = x.shape[1]
    total, count = np.zeros(p), np.zeros(p)
    size = min(CHUNK_ROWS, max(x.shape[0], 1))
    values_buf, missing_buf = np.empty((size, p)), np.empty((size, p), dtype=bool)
    for rows in _blocks(x.shape[0]):
        m = rows.stop - rows.start
        values, missing = values_buf[:m], missing_buf[:m]
        np.copyto(values, x[rows])
        np.isnan(values, out=missing)
        np.copyto(values, 0.0, where=missing)
        total += values.sum(axis=0)
        count += m - missing.sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0), count


class Moments:
    """Row blocks laid out as [x − mean (0 if missing) | its square | present (0/1) of the
    columns that have gaps | 1], so one product per block gives every sum a measure needs.

    The buffer is reused from block to block: fresh large allocations page-fault on every
    block, which costs more than the arithmetic.
    """

    def __init__(self, x: np.ndarray):
        self.x = np.asarray(x, dtype=np.float64)
        self.n, self.p = self.x.shape
        self.means, self.count = column_means(self.x)
        self.gaps = np.flatnonzero(self.count < self.n)
        self.g = len(self.gaps)
        self.width = 2 * self.p + self.g + 1

    def blocks(self):
        """Yield (row slice, block) — the block is only valid until the next one."""
        p, g = self.p, self.g
        size = min(CHUNK_ROWS, max(self.n, 1))
        buf = np.empty((size, self.width))
        buf[:, -1] = 1.0
        missing_buf = np.empty((size, p), dtype=bool)
        for rows in _blocks(self.n):
            m = rows.stop - rows.start
            block, missing = buf[:m], missing_buf[:m]
            values = block[:, :p]
            np.subtract(self.x[rows], self.means, out=values)
            np.isnan(values, out=missing)
            np.copyto(values, 0.0, where=missing)
            np.multiply(values, values, out=block[:, p:2 * p])
            if g:
                np.logical_not(missing[:, self.gaps], out=missing[:, :g])
                np.copyto(block[:, 2 * p:2 * p + g], missing[:, :g])
            yield rows, block

    def pair_sums(self, gram: np.ndarray):
        """From Σ blockᵀ·block: pairwise-complete (n, Σx_i, Σx_i², Σx_i·x_j), each p × p,
        where [i, j] sums over the rows where both x_i and x_j are present."""
        p, g, gaps = self.p, self.g, self.gaps
        cross = gram[:p, :p]
        total, squares = gram[:p, -1], gram[p:2 * p, -1]
        s = np.repeat(total[:, None], p, axis=1)
        q = np.repeat(squares[:, None], p, axis=1)
        n = np.repeat(self.count[:, None], p, axis=1)
        if g:
            # Partner column j has gaps: sum only over the rows where x_j is present.
            s[:, gaps] = gram[:p, 2 * p:2 * p + g]
            q[:, gaps] = gram[p:2 * p, 2 * p:2 * p + g]
            n[:, gaps] = np.repeat(self.count[gaps][None, :], p, axis=0)
            n[np.ix_(gaps, gaps)] = gram[2 * p:2 * p + g, 2 * p:2 * p + g]
        return n, s, q, cross


def pearson_matrix(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete Pearson r between the columns of `x`, and the row count of each pair.

    Sums of centred values come from one Gram product per row block (see `Moments`), so
    1M rows × 40 columns needs a few tens of MB beyond the data. r is NaN where a pair has
    fewer than three complete rows or one side does not vary on them.
    """
    moments = Moments(x)
    gram = np.zeros((moments.width, moments.width))
    for _, block in moments.blocks():
        gram += block.T @ block
    return pearson_from_sums(*moments.pair_sums(gram))


def pearson_from_sums(n: np.ndarray, s: np.ndarray, q: np.ndarray, cross: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r from pairwise-complete sums (each p × p; values shifted by any constant per
    column): n[i, j] rows where both are present, s[i, j] = Σx_i and q[i, j] = Σx_i² over
    them, cross[i, j] = Σx_i·x_j. Shared by the row path and profiles (profiles/cross.py)."""
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
    flat = (a.astype(np.intp) + 1) * (kb + 1) + (b.astype(np.intp) + 1)
    counts = np.bincount(flat, minlength=(ka + 1) * (kb + 1)).reshape(ka + 1, kb + 1)
    return counts[1:, 1:]


def contingency_tables(codes: np.ndarray, levels: list[int]):
    """Yield (i, j, table) for every pair i ≤ j of categorical columns, reusing one index
    buffer (a fresh 8-byte-per-row array per pair would page-fault each time)."""
    n, c = codes.shape
    flat = np.empty(n, dtype=np.intp)
    shifted = np.empty(n, dtype=np.intp)
    for i in range(c):
        np.add(codes[:, i], 1, out=shifted)
        for j in range(i, c):
            kb = levels[j] + 1
            np.multiply(shifted, kb, out=flat)
            np.add(flat, codes[:, j], out=flat, casting="unsafe")
            np.add(flat, 1, out=flat)
            counts = np.bincount(flat, minlength=(levels[i] + 1) * kb)
            yield i, j, counts.reshape(levels[i] + 1, kb)[1:, 1:]


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


def correlation_ratios(x: np.ndarray, codes: np.ndarray, levels: list[int]
                       ) -> tuple[np.ndarray, np.ndarray]:
    """η (correlation ratio) of every numeric column of `x` against every categorical column.

    η² = between-group sum of squares / total sum of squares, over rows where both are
    present. Per row block and categorical column, one sparse one-hot product with the
    `Moments` block gives the group counts, sums and sums of squares of every numeric column.
    Returns (η, complete-row counts), both numeric × categorical; η is NaN where x does not
    vary or fewer than three rows are complete.
    """
    moments = Moments(x)
    codes = np.asarray(codes)
    p, g, c = moments.p, moments.g, codes.shape[1]
    groups = [np.zeros((k, moments.width)) for k in levels]
    for rows, block in moments.blocks():
        for j in range(c):
            code = codes[rows, j]
            keep = code >= 0
            indptr = np.concatenate([[0], np.cumsum(keep)])
            onehot = sparse.csr_matrix((np.ones(int(indptr[-1])), code[keep], indptr),
                                       shape=(len(code), levels[j]))
            groups[j] += onehot.T @ block
    eta = np.full((p, c), np.nan)
    n_out = np.zeros((p, c), dtype=np.int64)
    for j in range(c):
        per_group = groups[j]
        counts = np.repeat(per_group[:, -1:], p, axis=1)
        counts[:, moments.gaps] = per_group[:, 2 * p:2 * p + g]
        eta[:, j], n_out[:, j] = eta_from_sums(counts, per_group[:, :p], per_group[:, p:2 * p])
    return eta, n_out


def eta_from_sums(counts: np.ndarray, sums: np.ndarray, squares: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """η per numeric column from per-group sums (groups × numeric columns: rows where both
    are present, Σx, Σx²; x shifted by any constant per column). Shared with profiles."""
    n = counts.sum(axis=0)
    total = sums.sum(axis=0)
    sq_total = squares.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        grand = total * total / n
        ss_total = sq_total - grand
        ss_between = (sums * sums / np.where(counts > 0, counts, 1)).sum(axis=0) - grand
        eta = np.sqrt(np.clip(ss_between / ss_total, 0.0, 1.0))
    flat = ss_total <= sq_total * 1e-12
    return np.where((n >= 3) & ~flat, eta, np.nan), n.round().astype(np.int64)


def correlation_ratio(x: np.ndarray, codes: np.ndarray, levels: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """η of each numeric column of `x` against one categorical `codes` (see
    `correlation_ratios`)."""
    eta, n = correlation_ratios(x, np.asarray(codes).reshape(-1, 1), [levels])
    return eta[:, 0], n[:, 0]


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
