"""Survival function of the two-sided one-sample KS statistic, `scipy.stats.kstwo.sf(x, n)`.

scipy's `ks_2samp` gives large samples the p-value `kstwo.sf(d, round(n1*n2/(n1+n2)))`. That
value comes from `scipy.stats._ksstats._kolmogn`; the branches used for large n are
reproduced here operation by operation (Simard & L'Ecuyer's choice of method; Pelz & Good's
approximation, port of scipy's BSD-licensed code), so the CLI need not import `scipy.stats`
(half a second) just to print p-values. The few branches that need the Durbin matrix
(small n·x^1.5) defer to scipy itself. Tests check equality with scipy across all branches.
"""

from __future__ import annotations

import numpy as np

_SQRT2PI = np.sqrt(2 * np.pi)
_LOG_2PI = np.log(2 * np.pi)
_MIN_LOG = -708
_SQRT3 = np.sqrt(3)
_PI_SQUARED = np.pi ** 2
_SMIRNOV_UNDERFLOW = 400.0  # n x^2 from which 2 exp(-2 n x^2) < 5e-324
_PI_FOUR = np.pi ** 4
_PI_SIX = np.pi ** 6
_STIRLING_COEFFS = [-2.955065359477124183e-2, 6.4102564102564102564e-3,
                    -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                    -5.952380952380952381e-4, 7.9365079365079365079e-4,
                    -2.7777777777777777778e-3, 8.3333333333333333333e-2]


def kstwo_sf(x: float, n: int) -> float:
    """P(D_n > x) for the two-sided KS statistic of n values; equals `kstwo.sf(x, n)`."""
    n, x = int(n), float(x)
    if x >= 1.0:
        return 0.0
    t = n * x
    if x <= 0.0 or t <= 0.5:
        return 1.0
    if n <= 140:
        return _scipy_sf(x, n)
    if t <= 1.0:
        prob = np.exp(_log_nfactorial_div_n_pow_n(n) + n * np.log(2 * t - 1))
        return _clip(1.0 - prob)
    if t >= n - 1:
        return _clip(2 * (1.0 - x) ** n)
    nxsquared = t * x
    if x >= 0.5:
        # 2 smirnov(n, x) <= 2 exp(-2 n x^2) (Dvoretzky-Kiefer-Wolfowitz): below the smallest
        # double from n x^2 = 400 on, so scipy returns 0 there (a test checks) and a far-moved
        # column need not import scipy.special.
        return 0.0 if nxsquared >= _SMIRNOV_UNDERFLOW else _smirnov_sf(n, x)
    if nxsquared >= 370.0:
        return 0.0
    if nxsquared >= 2.2:
        return _smirnov_sf(n, x)
    if nxsquared >= 18.0:
        return 0.0
    if n <= 100000 and n * x ** 1.5 <= 1.4:
        return _scipy_sf(x, n)  # Durbin matrix: rare for two-sample drift sizes
    return _clip(_pelz_good_sf(n, x))


def _smirnov_sf(n: int, x: float) -> float:
    # scipy.special (~0.2 s to import) only in this middle range: a drift run whose columns
    # are all far apart (p = 0) or close (Pelz-Good) never imports it.
    from scipy.special import smirnov

    return _clip(2 * smirnov(n, x))


def _scipy_sf(x: float, n: int) -> float:
    from scipy import stats

    return float(np.clip(stats.kstwo.sf(x, n), 0, 1))


def _clip(p) -> float:
    return float(np.clip(p, 0.0, 1.0))


def _log_nfactorial_div_n_pow_n(n):
    rn = 1.0 / n
    return np.log(n) / 2 - n + _LOG_2PI / 2 + rn * np.polyval(_STIRLING_COEFFS, rn / n)


def _pelz_good_sf(n: int, x: float) -> float:
    """Pelz–Good approximation of P(D_n > x), as scipy computes it: 1 - the CDF."""
    z = np.sqrt(n) * x
    zsquared, zthree, zfour, zsix = z**2, z**3, z**4, z**6
    qlog = -_PI_SQUARED / 8 / zsquared
    if qlog < _MIN_LOG:  # the CDF underflows to 0
        return 1.0
    q = np.exp(qlog)
    k1a = -zsquared
    k1b = _PI_SQUARED / 4
    k2a = 6 * zsix + 2 * zfour
    k2b = (2 * zfour - 5 * zsquared) * _PI_SQUARED / 4
    k2c = _PI_FOUR * (1 - 2 * zsquared) / 16
    k3d = _PI_SIX * (5 - 30 * zsquared) / 64
    k3c = _PI_FOUR * (-60 * zsquared + 212 * zfour) / 16
    k3b = _PI_SQUARED * (135 * zfour - 96 * zsix) / 4
    k3a = -30 * zsix - 90 * z**8
    k0to3 = np.zeros(4)
    maxk = int(np.ceil(16 * z / np.pi))
    for k in range(maxk, 0, -1):  # Horner scheme over odd m = 2k - 1
        m = 2 * k - 1
        msquared, mfour, msix = m**2, m**4, m**6
        qpower = np.power(q, 8 * k)
        coeffs = np.array([1.0,
                           k1a + k1b * msquared,
                           k2a + k2b * msquared + k2c * mfour,
                           k3a + k3b * msquared + k3c * mfour + k3d * msix])
        k0to3 *= qpower
        k0to3 += coeffs
    k0to3 *= q
    k0to3 *= _SQRT2PI
    k0to3 /= np.array([z, 6 * zfour, 72 * z**7, 6480 * z**10])
    q = np.exp(-_PI_SQUARED / 2 / zsquared)
    ks = np.arange(maxk, 0, -1)
    ksquared = ks ** 2
    sqrt3z = _SQRT3 * z
    kspi = np.pi * ks
    qpwers = q ** ksquared
    k2extra = np.sum(ksquared * qpwers)
    k2extra *= _PI_SQUARED * _SQRT2PI / (-36 * zthree)
    k0to3[2] += k2extra
    k3extra = np.sum((sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qpwers)
    k3extra *= _PI_SQUARED * _SQRT2PI / (216 * zsix)
    k0to3[3] += k3extra
    powers_of_n = np.power(n * 1.0, np.arange(len(k0to3)) / 2.0)
    k0to3 /= powers_of_n
    return 1.0 - sum(k0to3)  # scipy computes the CDF here and returns 1 - CDF
