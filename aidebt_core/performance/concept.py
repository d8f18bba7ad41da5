"""Alert thresholds from the reference chunks' variation, and the concept-drift decision.

Band for a metric: mean of the reference chunks ± k·σ, where σ is the larger of the
chunk-to-chunk standard deviation and the typical within-chunk standard error (so six lucky,
nearly equal reference chunks cannot make a band narrower than sampling noise). The
performance alert fires only on the worse side (a better model is not an incident).

Concept drift: realized − estimated per chunk. On reference chunks the estimate comes from a
calibrator fitted without that chunk (leave-one-chunk-out), so their gaps show honest
variation; the band is built from them the same way, and the alert is two-sided: whichever
way realized quality leaves the estimate, P(y | score) is no longer what it was on the
reference, which is what concept drift means (a change can make the model better as well as
worse; the sample's planted drift makes it worse: realized AUC falls below the estimate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aidebt_core.errors import SchemaError
from aidebt_core.performance.realized import LOWER_IS_BETTER, Z_INTERVAL

DEFAULT_K = 3.0


@dataclass(frozen=True)
class Band:
    """An acceptance band [lower, upper] and where it came from."""

    centre: float
    sigma: float
    k: float

    @property
    def lower(self) -> float:
        return self.centre - self.k * self.sigma

    @property
    def upper(self) -> float:
        return self.centre + self.k * self.sigma

    def outside(self, value: float) -> bool:
        return bool(np.isfinite(value) and (value < self.lower or value > self.upper))


def band_from_reference(values, half_widths, k: float = DEFAULT_K, what: str = "metric") -> Band:
    """Band from reference-chunk `values` and their CI half-widths (NaNs ignored)."""
    values = np.asarray(values, dtype=np.float64)
    half_widths = np.asarray(half_widths, dtype=np.float64)
    ok = np.isfinite(values)
    if ok.sum() < 2:
        raise SchemaError(f"Thresholds for the {what} need at least two reference chunks where it "
                          f"is defined (found {int(ok.sum())}); use a finer chunking or a longer "
                          "reference period.")
    spread = float(np.std(values[ok], ddof=1))
    se = half_widths[ok & np.isfinite(half_widths)] / Z_INTERVAL
    noise = float(np.sqrt(np.mean(se**2))) if len(se) else 0.0
    return Band(float(np.mean(values[ok])), max(spread, noise), k)


def worse_than_band(metric: str, value: float, band: Band) -> bool:
    """True when `value` lies beyond the band on the side where `metric` is worse."""
    if not np.isfinite(value):
        return False
    return value > band.upper if metric in LOWER_IS_BETTER else value < band.lower


def interval_worse_than_band(metric: str, estimate, band: Band) -> bool:
    """True when the whole confidence interval of `estimate` (value, low, high) lies beyond
    the band on the worse side; a point outside with an interval reaching in is not enough.
    Without an interval, the point decides."""
    low, high = estimate.low, estimate.high
    if not (np.isfinite(low) and np.isfinite(high)):
        return worse_than_band(metric, estimate.value, band)
    return low > band.upper if metric in LOWER_IS_BETTER else high < band.lower


def interval_outside(low: float, high: float, band: Band) -> bool:
    """True when [low, high] lies wholly outside the band (either side)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return False
    return high < band.lower or low > band.upper
