"""The chunks of both sides that drift over time and multivariate drift report on: label,
span, rows, period, and whether a chunk is partial or too small to judge; to and from JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from aidebt_core.chunks import ChunkPlan, side_labels


@dataclass(frozen=True)
class ChunkInfo:
    label: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    rows: int
    period: str  # "reference" or "current"
    partial: bool = False
    too_small: bool = False


def chunk_infos(plans: Sequence[ChunkPlan]) -> tuple[ChunkInfo, ...]:
    """Reference then current chunks of two plans, with labels unique across both."""
    labels = side_labels(plans[0].chunks, plans[1].chunks, plans[0].chunking)
    return tuple(ChunkInfo(label, c.start, c.end, c.rows, period, c.partial, c.too_small)
                 for plan, period, names in zip(plans, ("reference", "current"), labels,
                                                strict=True)
                 for c, label in zip(plan.chunks, names, strict=True))


def chunks_to_dict(chunks: Sequence[ChunkInfo]) -> list[dict]:
    return [{"label": c.label, "start": c.start, "end": c.end, "rows": c.rows,
             "period": c.period, "partial": c.partial, "too_small": c.too_small}
            for c in chunks]


def chunks_from_dict(data: Sequence[Mapping]) -> tuple[ChunkInfo, ...]:
    def when(value) -> pd.Timestamp | None:
        return None if value is None else pd.Timestamp(value)

    return tuple(ChunkInfo(c["label"], when(c["start"]), when(c["end"]), int(c["rows"]),
                           c["period"], bool(c["partial"]), bool(c["too_small"]))
                 for c in data)
