"""Entanglement as a registered analysis (aidebt_core/analyses.py): options and `run`.

The reference side's features alone; with a current side also the correlation change.
"""

from __future__ import annotations

from dataclasses import dataclass

from aidebt_core.entanglement.result import EntanglementResult


@dataclass(frozen=True)
class EntanglementOptions:
    method: str = "auto"           # auto, pearson, spearman, cramers_v, theils_u
    threshold: float = 0.8         # redundant group: every pair associated at least this
    change_threshold: float = 0.25  # flag pairs whose association moved by more than this
    top_k: int = 50                # categories kept per column; the rest are folded
    max_rows: int = 250_000        # above: a seeded uniform sample (0 = all rows)
    exclude: tuple[str, ...] = ()  # features left out (the page's "Leave out features")
    # Ripple-risk importances from the data's MLflow store (`data.tracking_uri`), as the page
    # shows them; off by default so the CLI's and the audit's results stay store-independent.
    mlflow_importance: bool = False


def analyse_options(data, options: EntanglementOptions) -> dict:
    """`entanglement.analyse`'s keyword arguments for `options` on `data`."""
    return {"method": options.method, "group_threshold": options.threshold,
            "change_threshold": options.change_threshold, "top_k": options.top_k,
            "max_rows": options.max_rows or None, "exclude": options.exclude,
            "tracking_uri": (getattr(data, "tracking_uri", None) or None)
            if options.mlflow_importance else None}


def run(data, options: EntanglementOptions) -> EntanglementResult:
    """From the rows. The registered analysis is profiles/entanglement.py `entanglement_run`,
    which reads saved profiles, Spark sources and large tables through their cross sections
    and falls back to this."""
    from aidebt_core.entanglement import analyse

    return analyse(data.reference, data.current, data.schema, **analyse_options(data, options))
