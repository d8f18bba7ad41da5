"""Data drift: per column (univariate), per time chunk (over_time) and multivariate (PCA).

`analyse_drift(reference, current)` is the entry point the page, the CLI and the audit use;
`drift_summary(result)` is the short headline other pages show. The statistical tests are a
registry, `aidebt_core.drift.methods` (one file per method).

Names are resolved on first use (PEP 562), so importing `aidebt_core.drift.methods` (the
CLI's `--method` choices) does not import numpy.
"""

from __future__ import annotations

import importlib

_EXPORTS = {"DriftOptions": "options", "ColumnDrift": "result", "DriftResult": "result",
            "drift_summary": "result", "analyse_drift": "univariate",
            "default_columns": "univariate"}

__all__ = ["DEFAULT_THRESHOLDS", "METHODS", *_EXPORTS]


def __getattr__(name: str):
    if name == "METHODS":  # what a user may pick: auto and every registered method
        from aidebt_core.drift.methods import choices

        return choices()
    if name == "DEFAULT_THRESHOLDS":
        from aidebt_core.drift.methods import all_methods

        return {m.name: m.default_threshold for m in all_methods()}
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
