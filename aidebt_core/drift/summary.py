"""The Drift page's and report's headline, in words that cannot contradict the details.

One definition everywhere (the CLI's): a column drifted when the whole current period, compared
with the whole reference, crosses its threshold (`DriftResult.drifted_columns`). The dataset
verdict is the CLI's `dataset_drift` (that share of the compared columns ≥ the drift share
option) and is worded as a consequence of the count, never beside it as a rival verdict.
Alerts of recent chunks (drift over time) are reported apart, as recent alerts.
"""

from __future__ import annotations

import pandas as pd

from aidebt_core.drift.over_time import OverTimeResult
from aidebt_core.drift.result import DriftResult


def current_since(trend: OverTimeResult | None) -> str | None:
    """When the current period starts, from its first chunk, at the chunking's grain
    ("2025-07" by month, a date by day, week or row chunks: see `since_text`); None without
    a time axis. A first week that began before the split shows the week's start:
    pass the data's own first timestamp to `since_text` when it is known."""
    if trend is None:
        return None
    first = next((c for c in trend.chunks if c.period == "current"), None)
    if first is None or first.start is None:
        return None
    return since_text(first.start, trend.chunking)


def since_text(start, chunking: str) -> str:
    """A start time at the grain people read it at: month for month-or-coarser chunks."""
    stamp = pd.Timestamp(start)
    return stamp.strftime("%Y-%m" if chunking in ("month", "quarter", "year") else "%Y-%m-%d")


def drift_headline(result: DriftResult, since: str | None = None, noun: str = "inputs") -> str:
    """"4 of 15 inputs drifted (since 2025-07)": whole current period vs the reference."""
    span = f"since {since}" if since else "current vs reference"
    return (f"{len(result.drifted_columns)} of {len(result.testable)} {noun} drifted "
            f"({span})")


def dataset_verdict(result: DriftResult) -> str:
    """The dataset-level verdict as a consequence of the count, with its rule."""
    share, rule = result.drifted_share, result.options.drift_share
    verdict = "dataset drift" if result.dataset_drift else "no dataset drift"
    relation = "reaches" if result.dataset_drift else "is under"
    return (f"Dataset level: {verdict} — {share:.0%} of the compared columns drifted, which "
            f"{relation} the {rule:.0%} share that makes a dataset count as drifted (the CLI's "
            "dataset_drift, same rule). A few drifted columns can matter without it.")


def recent_sentence(trend: OverTimeResult, k: int, drifted: list[str], unit: str) -> str | None:
    """Columns alerting in the last `k` judged chunks that the whole-period test did not
    flag (None when there are none)."""
    extra = [c for c in trend.recent_alerts(k) if c not in drifted]
    if not extra:
        return None
    return (f"Recent alerts beyond these: {', '.join(extra)} alert in {unit} against the "
            "chunk thresholds of the drift-over-time view, though not over the whole period.")
