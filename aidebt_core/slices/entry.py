"""Slices as a registered analysis (aidebt_core/analyses.py): options and `run`.

With a reference and a current side, slices are found in the current data and compared
with the reference; one unsplit source is searched whole (as `aidebt slices` does).
"""

from __future__ import annotations

from dataclasses import dataclass

from aidebt_core.errors import SchemaError
from aidebt_core.slices.analysis import SliceResult


@dataclass(frozen=True)
class SlicesOptions:
    metric: str | None = None      # default roc_auc with only a score, else accuracy
    positive: str | None = None    # the target's positive class (default 1/true)
    max_order: int = 3             # conditions per slice
    min_size: int | None = None    # rows per slice (default 1% of rows, at least 30)
    top_k: int = 10
    objective: str | None = None   # calibration (default with a score) or error
    alpha: float = 0.95            # SliceLine weight of error against size
    bins: int = 10                 # quantile bins per numeric column
    by: tuple[str, ...] = ()       # columns to break the metric down by (the page's picker)
    features: tuple[str, ...] | None = None  # columns searched (default the schema's features)
    min_share: float | None = None  # min slice size as a fraction of rows (instead of min_size)


def run(data, options: SlicesOptions) -> SliceResult:
    from aidebt_core.slices.analysis import analyse

    schema = data.schema
    target = schema.first("target")
    prediction, score = schema.first("prediction"), schema.first("score")
    if not target:
        raise SchemaError("No column is the target (the labels): give --target COLUMN.")
    metric = options.metric or ("roc_auc" if score and not prediction else "accuracy")
    reference, current = data.reference, data.current
    if current is None:
        reference, current = None, data.reference
    return analyse(current, target, prediction, score, metric, reference=reference,
                   by=options.by,
                   features=schema.features if options.features is None
                   else list(options.features), max_order=options.max_order,
                   min_size=options.min_size, top_k=options.top_k, bins=options.bins,
                   alpha=options.alpha, positive=options.positive,
                   objective=options.objective, min_share=options.min_share)
