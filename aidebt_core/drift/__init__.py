"""Data drift: per column (univariate), per time chunk (over_time) and multivariate (PCA).

`analyse_drift(reference, current)` is the entry point the page, the CLI and the audit use;
`drift_summary(result)` is the short headline other pages show.
"""

from aidebt_core.drift.univariate import (
    DEFAULT_THRESHOLDS,
    METHODS,
    ColumnDrift,
    DriftOptions,
    DriftResult,
    analyse_drift,
    default_columns,
    drift_summary,
)

__all__ = ["DEFAULT_THRESHOLDS", "METHODS", "ColumnDrift", "DriftOptions", "DriftResult",
           "analyse_drift", "default_columns", "drift_summary"]
