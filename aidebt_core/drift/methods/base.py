"""What a drift method declares: its name, the column kinds it applies to, how it computes its
statistic, how it decides (p-value or distance threshold), its default threshold and labels.

No numpy at import time: the CLI builds its `--method` choices from this package while
printing `--version`; the statistics import `aidebt_core.drift.stats` when they run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

NUMERIC, CATEGORICAL = "numeric", "categorical"
KINDS = (NUMERIC, CATEGORICAL)
P_VALUE, DISTANCE = "p-value", "distance"
SMALL, LARGE = "small", "large"   # which side of `small_sample` `auto` picks a method for


@dataclass(frozen=True)
class Method:
    """One statistical test or distance.

    `numeric(reference, current)` takes two `stats.Sample`s (sorted), `categorical(reference,
    current)` two count vectors over the same categories; both return (statistic, p-value or
    None). `null(kind, reference)` gives the sampling-noise null drift over time needs
    (`noise.Null`; None: the method is not used over time). `measure` / `p_value_measure`
    name its figures among `ColumnDrift.measures` when the per-column pass computes them
    anyway (one sweep gives KS and Wasserstein); a method not found there is computed by its
    own function. `counterpart` is the method asked of the other kind of column; `auto`
    says whether `auto` picks it for small samples (a test) or large ones (an effect size).
    """

    name: str
    kinds: tuple[str, ...]
    rule: str
    default_threshold: float
    label: str
    help: str
    numeric: Callable | None = None
    categorical: Callable | None = None
    counterpart: str | None = None
    auto: str | None = None
    measure: str = ""
    p_value_measure: str | None = None
    null: Callable | None = None

    def __post_init__(self) -> None:
        if self.rule not in (P_VALUE, DISTANCE):
            raise ValueError(f"drift method {self.name!r}: rule must be {P_VALUE!r} or "
                             f"{DISTANCE!r}, not {self.rule!r}")
        if not self.kinds or set(self.kinds) - set(KINDS):
            raise ValueError(f"drift method {self.name!r}: kinds must be among {KINDS}")
        for kind in self.kinds:
            if getattr(self, kind) is None:
                raise ValueError(f"drift method {self.name!r} applies to {kind} columns but "
                                 f"has no {kind} statistic")
        if not self.measure:
            object.__setattr__(self, "measure", self.name)

    @property
    def by_p_value(self) -> bool:
        return self.rule == P_VALUE

    @property
    def over_time(self) -> bool:
        """Usable per chunk over time (it has a sampling-noise null)."""
        return self.null is not None

    def compute(self, kind: str, reference, current) -> tuple[float, float | None]:
        """(statistic, p-value or None) of two Samples (numeric) or count vectors."""
        return getattr(self, kind)(reference, current)

    def drifted(self, statistic: float | None, p_value: float | None, threshold: float) -> bool:
        """The decision: p < threshold for a test, statistic ≥ threshold for a distance."""
        if self.by_p_value:
            return p_value is not None and p_value < threshold
        return statistic is not None and statistic >= threshold

    def excess(self, statistic: float | None, p_value: float | None, threshold: float) -> float:
        """How far past its threshold a value is, 1 being the line and more meaning more
        drift: statistic / threshold for a distance, threshold / p for a test (p floored at
        1e-300); infinite when the statistic is missing or infinite or the threshold is 0."""
        if statistic is None or not math.isfinite(statistic):
            return math.inf
        if self.by_p_value:
            return threshold / max(p_value or 0.0, 1e-300)
        return statistic / threshold if threshold else math.inf

    def shown(self, statistic: float | None, p_value: float | None) -> str:
        """The value a chart prints beside the bar: the p-value of a test, else the statistic."""
        if self.by_p_value:
            return f"p = {p_value:.2g}" if p_value is not None else "p = ?"
        return f"{statistic:.3g}" if statistic is not None else "?"
