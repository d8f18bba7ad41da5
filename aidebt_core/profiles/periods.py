"""The dated chunks of a profile as `chunks.Chunk`s: periods, labels and partial marks.

Shared by drift over time, multivariate drift and performance from profiles, so each marks a
partial first or last period by the rule the rows path uses (`chunks.plan_chunks`).
"""

from __future__ import annotations

from collections.abc import Sequence

from aidebt_core.chunks import Chunk
from aidebt_core.errors import SchemaError
from aidebt_core.profiles.model import ALL_ROWS, NO_TIMESTAMP, DatasetProfile


def dated_chunks(profile: DatasetProfile):
    """The chunks with a period (the rows without a timestamp belong to none, as on rows)."""
    return [c for c in profile.chunks if c.key not in (ALL_ROWS, NO_TIMESTAMP)]


def period_chunks(profile: DatasetProfile, kind: str, min_rows: int,
                   spans: Sequence[Chunk] | None) -> list[Chunk]:
    """`chunks.Chunk`s of a profile's dated chunks: from `spans` (plan_chunks of the same
    rows, which knows partial periods) when given and matching, else from the keys."""
    import pandas as pd

    from aidebt_core.chunks import period_label, period_offset

    dated = dated_chunks(profile)
    if spans is not None:
        if [c.rows for c in spans] != [c.rows for c in dated] or [
                c.start.strftime("%Y-%m-%d") for c in spans] != [c.key for c in dated]:
            raise SchemaError(f"{profile.source}: the chunks of the rows and of their profile "
                              "differ (the data changed while it was read?).")
        return list(spans)
    out = []
    resolution = getattr(profile.plan, "time_resolution", None)
    for i, c in enumerate(dated):
        start = pd.Timestamp(c.key)
        end = start + period_offset(kind)
        partial = partial_period(i, len(dated), start, end, getattr(c, "first", None),
                           getattr(c, "last", None), resolution)
        out.append(Chunk(i, period_label(kind, start), start, end, c.rows,
                         partial=bool(partial), too_small=c.rows < min_rows))
    return out


def spans_known(profile: DatasetProfile) -> bool:
    """Whether a profile's chunks carry their first/last timestamps (partial marks)."""
    return all(getattr(c, "first", None) is not None for c in dated_chunks(profile))


def partial_period(i: int, count: int, start, end, first, last, resolution: str | None) -> bool:
    """`chunks._period_plan`'s rule: only the first and last periods can be partial, when
    the data leaves more than PARTIAL_GAP of them uncovered (needs the chunk's first/last
    timestamps; False when the profile does not hold them)."""
    import pandas as pd

    from aidebt_core.chunks import PARTIAL_GAP
    from aidebt_core.timeaxis import resolution_offset

    if first is None or last is None:
        return False
    slack = (end - start) * PARTIAL_GAP
    covered = pd.Timestamp(last) + (resolution_offset(resolution) if resolution else
                                    pd.Timedelta(0))
    return (i == 0 and pd.Timestamp(first) - start > slack) or (
        i == count - 1 and end - covered > slack)


__all__ = ["dated_chunks", "partial_period", "period_chunks", "spans_known"]
