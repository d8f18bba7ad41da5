"""Performance as a registered analysis (aidebt_core/analyses.py): options and `run`.

The columns come from the roles of `data.schema` (target, score and/or prediction) and the
time axis from `data.timestamp`, as in `aidebt performance`; with `roles_from_schema=False`
they are the options' own `target`, `score`, `prediction` and `timestamp` as given (None: no
such column), as the page's column pickers choose them.
"""

from __future__ import annotations

from dataclasses import dataclass

from aidebt_core.chunks import MIN_CHUNK_LABELS, MIN_CHUNK_ROWS
from aidebt_core.errors import SchemaError
from aidebt_core.performance.concept import DEFAULT_K
from aidebt_core.performance.result import PerformanceResult


@dataclass(frozen=True)
class PerformanceOptions:
    metric: str | None = None          # default roc_auc with a score, else accuracy
    chunk: str = "month"               # month, week, day, quarter, year or a number of rows
    decision_threshold: float = 0.5    # score -> 0/1 when no prediction column
    k: float = DEFAULT_K               # band half-width in reference standard deviations
    min_rows: int = MIN_CHUNK_ROWS
    min_labels: int = MIN_CHUNK_LABELS
    roles_from_schema: bool = True     # False: the four columns below, None meaning none
    target: str | None = None
    score: str | None = None
    prediction: str | None = None
    timestamp: str | None = None


def run(data, options: PerformanceOptions) -> PerformanceResult:
    if not options.roles_from_schema:
        return _analyse(data, options, options.target, options.score, options.prediction,
                        options.timestamp)
    target, score, prediction = output_columns(data.schema)
    return _analyse(data, options, target, score, prediction, data.timestamp)


def output_columns(schema) -> tuple[str, str | None, str | None]:
    """The target, score and prediction columns the roles name; the target and at least one
    of the outputs are required."""
    target = schema.first("target")
    score, prediction = schema.first("score"), schema.first("prediction")
    if not target:
        raise SchemaError("No column is the target (the labels): give --target COLUMN.")
    if not score and not prediction:
        raise SchemaError("No column is the model's score or prediction: give --score "
                          "COLUMN and/or --prediction COLUMN.")
    return target, score, prediction


def _analyse(data, options: PerformanceOptions, target, score, prediction, timestamp):
    from aidebt_core.performance.analysis import analyse_performance

    return analyse_performance(
        data.reference, data.current, target, score=score, prediction=prediction,
        timestamp=timestamp, chunking=options.chunk, metric=options.metric,
        threshold=options.decision_threshold, k=options.k, min_rows=options.min_rows,
        min_labels=options.min_labels)
