"""How drift is decided: the method, thresholds (global and per column) and the drift share.

The methods live in `aidebt_core.drift.methods`, one file each. `auto` uses the test (KS /
chi-square, p < 0.05) when a side has fewer than `small_sample` non-missing values, and the
effect size (Wasserstein normed by the reference std / Jensen–Shannon distance, ≥ 0.1) above,
where every p-value is tiny.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aidebt_core.drift import methods
from aidebt_core.errors import SchemaError


@dataclass(frozen=True)
class DriftOptions:
    """How drift is decided. `threshold` applies to the chosen method (under `auto`, to the
    effect size; the p-value threshold is `p_threshold`); `column_thresholds` override it."""

    method: str = "auto"
    threshold: float | None = None
    p_threshold: float = 0.05
    column_thresholds: tuple[tuple[str, float], ...] = ()
    drift_share: float = 0.5
    missing_threshold: float = 0.05
    small_sample: int = 1000
    max_categories: int = 10_000
    top_k: int = 1000

    def __post_init__(self) -> None:
        if self.method not in methods.choices():
            raise SchemaError(f"Unknown drift method '{self.method}'. Use one of "
                              f"{', '.join(methods.choices())}.")
        for name, value in [("threshold", self.threshold), ("drift share", self.drift_share),
                            *self.column_thresholds]:
            if value is not None and not (np.isfinite(value) and value >= 0):
                raise SchemaError(f"The {name} threshold must be a number ≥ 0, not {value!r}.")
        if not 0 < self.drift_share <= 1:
            raise SchemaError(f"The drift share must lie in (0, 1], not {self.drift_share}.")

    def method_for(self, kind: str, n_ref: int, n_cur: int) -> str:
        """The method deciding a `kind` column with these many values a side (the registry's
        counterpart when the chosen one does not apply to the kind; `auto` by size)."""
        small = min(n_ref, n_cur) < self.small_sample
        return methods.resolve(self.method, kind, small).name

    def threshold_for(self, column: str, method: str) -> float:
        overrides = dict(self.column_thresholds)
        if column in overrides:
            return float(overrides[column])
        if methods.get(method).by_p_value:
            if self.method == "auto" or self.threshold is None:
                return self.p_threshold
            return float(self.threshold)
        return float(self.threshold) if self.threshold is not None else \
            methods.get(method).default_threshold

    def to_dict(self) -> dict:
        return {"method": self.method, "threshold": self.threshold,
                "p_threshold": self.p_threshold,
                "column_thresholds": [list(pair) for pair in self.column_thresholds],
                "drift_share": self.drift_share, "missing_threshold": self.missing_threshold,
                "small_sample": self.small_sample, "max_categories": self.max_categories,
                "top_k": self.top_k}

    @classmethod
    def from_dict(cls, data: dict) -> DriftOptions:
        data = dict(data)
        data["column_thresholds"] = tuple((str(c), float(v))
                                          for c, v in data.get("column_thresholds", ()))
        return cls(**data)


def parse_column_thresholds(items: str | list[str] | tuple[str, ...]
                            ) -> tuple[tuple[str, float], ...]:
    """`["income=0.2", "channel=0.05"]` or `"income=0.2, channel=0.05"` -> pairs; column
    names may contain '=' (the last one splits)."""
    if isinstance(items, str):
        items = [part for part in items.split(",") if part.strip()]
    out = []
    for item in items:
        name, sep, value = item.strip().rpartition("=")
        try:
            number = float(value)
        except ValueError:
            number = None
        if not sep or not name.strip() or number is None:
            raise SchemaError(f"A per-column threshold is COLUMN=NUMBER, not '{item.strip()}'.")
        out.append((name.strip(), number))
    return tuple(out)
