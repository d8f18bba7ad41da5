"""Model performance over time and concept drift.

`analyse_performance(reference, current, target, score=…, prediction=…, timestamp=…,
chunking="month")` returns a `PerformanceResult`: realized metrics with confidence intervals
per chunk, a confidence-based label-free estimate (calibrated on the reference), thresholds
from the reference chunks' variation, and performance / concept-drift alerts.
`feature_relationship` shows how one feature's relation to the target changed.
"""

from aidebt_core.performance.analysis import analyse_performance, applicable_metrics
from aidebt_core.performance.realized import BINARY_METRICS, METRIC_NAMES, REGRESSION_METRICS
from aidebt_core.performance.result import PerformanceResult

__all__ = ["BINARY_METRICS", "METRIC_NAMES", "REGRESSION_METRICS", "PerformanceResult",
           "analyse_performance", "applicable_metrics"]
