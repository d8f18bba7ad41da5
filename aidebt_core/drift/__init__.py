"""Data drift: per column (univariate), per time chunk (over_time) and multivariate (PCA).

`analyse_drift(reference, current)` is the entry point the page, the CLI and the audit use;
`drift_summary(result)` is the short headline other pages show.
"""

from aidebt_core.drift.options import DEFAULT_THRESHOLDS, METHODS, DriftOptions
from aidebt_core.drift.result import ColumnDrift, DriftResult, drift_summary
from aidebt_core.drift.univariate import analyse_drift, default_columns

__all__ = ["DEFAULT_THRESHOLDS", "METHODS", "ColumnDrift", "DriftOptions", "DriftResult",
           "analyse_drift", "default_columns", "drift_summary"]
