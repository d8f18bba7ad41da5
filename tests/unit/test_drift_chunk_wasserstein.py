"""The one-pass chunk Wasserstein (drift over time) equals scipy pair by pair."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from aidebt_core.drift.chunk_wasserstein import chunk_wasserstein


def _expected(reference, current):
    out = []
    for j, chunk in enumerate(reference):
        rest = np.concatenate(reference[:j] + reference[j + 1:])
        out.append(_w(rest, chunk))
    whole = np.concatenate(reference)
    out += [_w(whole, chunk) for chunk in current]
    return np.array(out)


def _w(base, chunk):
    if len(base) == 0 or len(chunk) == 0:
        return np.nan
    w = stats.wasserstein_distance(base, chunk)
    std = np.std(base)
    return w / std if std > 0 else (0.0 if w == 0 else np.inf)


@pytest.mark.parametrize("decimals", [0, 1, 6])
def test_equals_scipy_with_ties_and_uneven_chunks(decimals):
    rng = np.random.default_rng(decimals)
    reference = [np.sort(np.round(rng.lognormal(3, 0.5, rng.integers(1, 80)), decimals))
                 for _ in range(7)]
    current = [np.sort(np.round(rng.lognormal(3.2, 0.6, rng.integers(1, 80)), decimals))
               for _ in range(5)]
    np.testing.assert_allclose(chunk_wasserstein(reference, current),
                               _expected(reference, current), rtol=1e-10, atol=1e-13)


def test_integer_days_with_an_empty_chunk_and_a_shifted_month():
    rng = np.random.default_rng(7)
    reference = [np.sort(rng.integers(300, 850, 40).astype(float)) for _ in range(4)]
    current = [np.array([]), np.sort(rng.integers(400, 900, 60).astype(float))]
    got = chunk_wasserstein(reference, current)
    assert np.isnan(got[4])
    np.testing.assert_allclose(got, _expected(reference, current), rtol=1e-10)
    assert got[5] > got[:4].max()   # the shifted chunk is the farthest


def test_constant_reference_gives_zero_or_infinity():
    reference = [np.full(5, 2.0), np.full(3, 2.0)]
    current = [np.full(4, 2.0), np.array([2.0, 3.0])]
    np.testing.assert_array_equal(chunk_wasserstein(reference, current), [0, 0, 0, np.inf])


def test_huge_values_fall_back_to_the_pairwise_path():
    assert chunk_wasserstein([np.array([1e306, 1.5e306])], [np.array([1e306])]) is None
