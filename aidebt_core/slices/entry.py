"""Slices as a registered analysis (aidebt_core/analyses.py): options and `run`.

`SlicesOptions` is the one set of options (and defaults) of `aidebt slices` and the Slices page:
the command maps its flags onto it and the page its widgets, and both call `run`, so the same
data and options give the same slices in both.

With a reference and a current side, slices are found in the current data and compared
with the reference; one unsplit source is searched whole (as `aidebt slices` does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aidebt_core.errors import SchemaError
from aidebt_core.slices.thresholds import MIN_GAP  # noqa: F401  (re-exported)

if TYPE_CHECKING:  # the result module imports numpy
    from aidebt_core.slices.analysis import SliceResult



@dataclass(frozen=True)
class SlicesOptions:
    metric: str | None = None      # default roc_auc with only a score, else accuracy
    positive: str | None = None    # the target's positive class (default 1/true)
    max_order: int = 3             # conditions per slice
    min_size: int | None = None    # rows per slice (default 1% of rows, at least 30)
    top_k: int = 10
    objective: str = "error"       # error (the metric's loss) or calibration
    alpha: float = 0.95            # SliceLine weight of error against size
    bins: int = 10                 # quantile bins per numeric column
    by: tuple[str, ...] = ()       # columns to break the metric down by (the page's picker)
    features: tuple[str, ...] | None = None  # columns searched (default the schema's features)
    min_share: float | None = None  # min slice size as a fraction of rows (instead of min_size)
    alpha_fdr: float = 0.05        # "significant": BH q below this (and worse than overall)
    min_gap: float = MIN_GAP       # ... and at least this much worse than overall
    # Your own bin edges per numeric column, as ((column, (edge, ...)), ...) (hashable).
    edges: tuple[tuple[str, tuple[float, ...]], ...] = ()

    def edges_map(self) -> dict[str, list[float]] | None:
        return {c: list(e) for c, e in self.edges} or None


def edges_option(edges: Mapping[str, Sequence[float]] | None) -> tuple:
    """{'age': [30, 50]} -> (('age', (30.0, 50.0)),) for `SlicesOptions.edges`."""
    return tuple((str(c), tuple(float(x) for x in e)) for c, e in (edges or {}).items())


def default_metric(schema) -> str:
    """ROC AUC when the model gives only a score, else accuracy."""
    return "roc_auc" if schema.first("score") and not schema.first("prediction") else "accuracy"


def run(data, options: SlicesOptions) -> SliceResult:
    """From the rows. The registered analysis is profiles/slices.py `slices_run`, which reads
    saved profiles, Spark sources and large tables through their slice cells and falls back
    to this."""
    from aidebt_core.slices.analysis import analyse
    from aidebt_core.slices.define import check_edges

    schema = data.schema
    target = schema.first("target")
    prediction, score = schema.first("prediction"), schema.first("score")
    if not target:
        raise SchemaError("No column is the target (the labels): give --target COLUMN.")
    metric = options.metric or default_metric(schema)
    reference, current = data.reference, data.current
    if current is None:
        reference, current = None, data.reference
    features = schema.features if options.features is None else list(options.features)
    edges = options.edges_map()
    check_edges(current, edges, [*features, *options.by])
    return analyse(current, target, prediction, score, metric, reference=reference,
                   by=options.by, features=features, max_order=options.max_order,
                   min_size=options.min_size, top_k=options.top_k, bins=options.bins,
                   alpha=options.alpha, positive=options.positive, edges=edges,
                   objective=options.objective, min_share=options.min_share,
                   alpha_fdr=options.alpha_fdr, min_gap=options.min_gap)
