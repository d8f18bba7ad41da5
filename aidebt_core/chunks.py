"""Split a table into chunks over time (day/week/month/quarter/year) or by N rows, in DuckDB.

Analyses over time (performance per month, drift per week, …) share one chunker so their
chunks line up. The chunk key is computed in SQL, so a caller aggregates every chunk in a
single pass instead of one query per chunk:

    chunking = Chunking.parse("month")               # or "week", "day", "5000" (rows)
    plan = plan_chunks(table, chunking, "applied_at")
    frame = table.df(f"SELECT {CHUNK_COLUMN} AS chunk, avg(x) FROM "
                     f"({plan.sub_query()}) GROUP BY 1 ORDER BY 1")
    for chunk in plan.chunks: ...                    # index, label, start, end, rows

`plan.sub_query()` is `SELECT *, <chunk index> AS aidebt_chunk FROM ROWS …`: it contains the
`ROWS` marker, so `Table.execute` substitutes the table's (filtered) rows. Chunk indices are
0, 1, … in time order and index `plan.chunks`. Rows whose timestamp is NULL belong to no
chunk (counted in `plan.missing_timestamps`); the time column is read by
`aidebt_core.timeaxis` (dates, date text, integer years/periods, epochs), which refuses
columns it cannot read with a message naming the column.

Small chunks are marked, not hidden: a chunk with fewer than `min_rows` rows is `too_small`
(analyses show it greyed and never alert on it), and a first/last calendar period the data
does not cover to its edges is `partial`, as is a last row chunk shorter than the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd

from aidebt_core.data import ROWS, Table
from aidebt_core.errors import OptionError, SchemaError
from aidebt_core.timeaxis import TimeAxis, parse_boundary, time_axis, timestamp_sql

PERIODS = ("day", "week", "month", "quarter", "year")
CHUNK_COLUMN = "aidebt_chunk"
MAX_CHUNKS = 1000
# Below these sizes a chunk is not judged. The standard error of a share p over n rows is
# sqrt(p(1-p)/n) <= 0.5/sqrt(n): at 300 rows a missing share, a category share or a drift
# distance still moves by up to ±5.7 points (95 %) from sampling alone, about the size of the
# changes worth an alert, and below it noise swamps them. Metrics need labels: at 100 labels
# accuracy's 95 % interval is up to ±10 points wide, and with a 10 % positive rate an AUC
# rests on ~10 positives (25 labels can give AUC 1.0 with a zero-width DeLong interval).
MIN_CHUNK_ROWS = 300
MIN_CHUNK_LABELS = 100
# A first/last period is partial when the data leaves more than this share of it uncovered
# (a month starting on the 2nd is whole; one ending on the 3rd is not).
PARTIAL_GAP = 0.1


@dataclass(frozen=True)
class Chunking:
    """How to chunk: by calendar period (`kind` in PERIODS) or every `size` rows (`kind="rows"`)."""

    kind: str
    size: int | None = None

    def __post_init__(self) -> None:
        if self.kind == "rows":
            if not isinstance(self.size, int) or self.size < 1:
                raise OptionError(f"Row chunks need a positive whole size, not {self.size!r}.")
        elif self.kind not in PERIODS:
            raise OptionError(f"Unknown chunking '{self.kind}'. Use one of "
                              f"{', '.join(PERIODS)} or a number of rows.")

    @classmethod
    def parse(cls, text: str | int) -> Chunking:
        """'month' / 'week' / 'day' / 'quarter' / 'year', or a row count such as '5000'."""
        raw = str(text).strip().lower()
        if raw in PERIODS:
            return cls(raw)
        try:
            size = int(raw)
        except ValueError:
            raise OptionError(f"Chunking '{text}' is neither a period ({', '.join(PERIODS)}) "
                              "nor a number of rows.") from None
        return cls("rows", size)

    @property
    def is_period(self) -> bool:
        return self.kind != "rows"

    def __str__(self) -> str:
        return self.kind if self.is_period else f"{self.size} rows"


@dataclass(frozen=True)
class Chunk:
    """One chunk. For periods, [start, end) are the period's bounds; for row chunks they are
    the first and last timestamp in the chunk (None without a timestamp column). Row chunks
    order rows by timestamp; rows with equal timestamps may fall either side of a boundary."""

    index: int
    label: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    rows: int
    partial: bool = False       # the data does not cover the whole period (first/last chunk)
    too_small: bool = False     # fewer rows than the plan's minimum: shown, never judged

    def to_dict(self) -> dict:
        return {"index": self.index, "label": self.label,
                "start": None if self.start is None else self.start.isoformat(),
                "end": None if self.end is None else self.end.isoformat(), "rows": self.rows,
                "partial": self.partial, "too_small": self.too_small}


@dataclass(frozen=True)
class ChunkPlan:
    """The chunks of one table and the SQL that tags each row with its chunk index."""

    chunking: Chunking
    timestamp: str | None
    chunks: tuple[Chunk, ...]
    missing_timestamps: int
    _index_sql: str
    min_rows: int = MIN_CHUNK_ROWS

    def sub_query(self) -> str:
        """`SELECT *, <index> AS aidebt_chunk FROM ROWS …` (rows without a chunk left out)."""
        return self._index_sql

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.to_dict() for c in self.chunks],
                            columns=["index", "label", "start", "end", "rows", "partial",
                                     "too_small"])


def check_min_size(value, what: str = "rows") -> int:
    """A minimum chunk size given by a user: a whole number ≥ 1."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not (number >= 1 and number == int(number)):
        raise OptionError(f"The minimum chunk size in {what} must be a whole number ≥ 1, "
                          f"not {value!r}.")
    return int(number)


def plan_chunks(table: Table, chunking: Chunking, timestamp: str | None = None,
                max_chunks: int = MAX_CHUNKS, min_rows: int = MIN_CHUNK_ROWS) -> ChunkPlan:
    """Chunk `table` by period of `timestamp`, or every `chunking.size` rows (in time order when
    a timestamp is given, else in storage order). Chunks below `min_rows` are `too_small`."""
    if chunking.is_period and not timestamp:
        raise SchemaError(f"Chunking by {chunking.kind} needs a timestamp column; "
                          "pick one or chunk by a number of rows.")
    min_rows = check_min_size(min_rows)
    axis = time_axis(table, timestamp) if timestamp else None
    if chunking.is_period:
        index_sql, chunks, missing = _period_plan(table, chunking, axis)
    else:
        index_sql, chunks, missing = _row_plan(table, chunking, axis.sql if axis else None)
    chunks = [replace(c, too_small=c.rows < min_rows) for c in chunks]
    if not chunks:
        raise SchemaError(f"{table.label} has no rows to chunk"
                          + (f" (every '{timestamp}' is empty)." if missing else "."))
    if len(chunks) > max_chunks:
        raise SchemaError(f"Chunking {table.label} by {chunking} gives {len(chunks)} chunks "
                          f"(more than {max_chunks}); choose a coarser chunking.")
    return ChunkPlan(chunking, timestamp, tuple(chunks), missing, index_sql, min_rows)


def _period_plan(table: Table, chunking: Chunking, axis: TimeAxis):
    ts = axis.sql
    key = f"date_trunc('{chunking.kind}', {ts})"
    counts = table.execute(f"SELECT {key} AS k, count(*), min({ts}), max({ts}) FROM {ROWS} "
                           "GROUP BY 1 ORDER BY 1 NULLS LAST").fetchall()
    missing = sum(n for k, n, *_ in counts if k is None)
    present = [row for row in counts if row[0] is not None]
    keys = [k for k, *_ in present]
    chunks = []
    for i, (k, n, lo, hi) in enumerate(present):
        start = pd.Timestamp(k)
        end = start + period_offset(chunking.kind)
        # Only the edges of the data can be partial; a gap inside is a quiet period.
        slack = (end - start) * PARTIAL_GAP
        partial = (i == 0 and pd.Timestamp(lo) - start > slack) or (
            i == len(present) - 1 and end - axis.covered_until(hi) > slack)
        chunks.append(Chunk(i, period_label(chunking.kind, start), start, end, int(n),
                            partial=bool(partial)))
    # Index = position of the row's period among the sorted period starts (a bound list).
    # The keys are timestamps DuckDB itself produced, written back as typed literals.
    starts = ", ".join(f"TIMESTAMP '{pd.Timestamp(k).isoformat(sep=' ')}'" for k in keys)
    expr = f"list_position([{starts}]::TIMESTAMP[], {key}) - 1"
    index_sql = f"SELECT *, {expr} AS {CHUNK_COLUMN} FROM {ROWS} WHERE {key} IS NOT NULL"
    return index_sql, chunks, missing


def _row_plan(table: Table, chunking: Chunking, ts: str | None):
    size = int(chunking.size)
    order = f"ORDER BY {ts}" if ts else ""
    where = f"WHERE {ts} IS NOT NULL" if ts else ""
    inner = (f"SELECT *, (row_number() OVER ({order}) - 1) // {size} AS {CHUNK_COLUMN} "
             f"FROM {ROWS} {where}")
    if ts:
        stats = table.execute(f"SELECT {CHUNK_COLUMN}, count(*), min(aidebt_ts), max(aidebt_ts) "
                              f"FROM (SELECT {CHUNK_COLUMN}, {ts} AS aidebt_ts FROM ({inner})) "
                              "GROUP BY 1 ORDER BY 1").fetchall()
        missing = int(table.execute(f"SELECT count(*) FROM {ROWS} WHERE {ts} IS NULL"
                                    ).fetchone()[0])
    else:
        stats = [(i, n, None, None) for i, n in table.execute(
            f"SELECT {CHUNK_COLUMN}, count(*) FROM ({inner}) GROUP BY 1 ORDER BY 1").fetchall()]
        missing = 0
    chunks = [Chunk(int(i), f"rows {int(i) * size:,}–{int(i) * size + int(n) - 1:,}",
                    None if lo is None else pd.Timestamp(lo),
                    None if hi is None else pd.Timestamp(hi), int(n),
                    partial=int(n) < size)  # only the last chunk can be short
              for i, n, lo, hi in stats]
    return inner, chunks, missing


def period_offset(kind: str) -> pd.DateOffset:
    return {"day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1),
            "month": pd.DateOffset(months=1), "quarter": pd.DateOffset(months=3),
            "year": pd.DateOffset(years=1)}[kind]


def period_label(kind: str, start: pd.Timestamp) -> str:
    if kind == "day":
        return start.strftime("%Y-%m-%d")
    if kind == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "month":
        return start.strftime("%Y-%m")
    if kind == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def chunk_periods(plan: ChunkPlan, reference_end: datetime | str | None) -> list[str]:
    """'reference' for chunks that end on or before `reference_end`, else 'current'.

    Period chunks compare their end bound; row chunks their last timestamp (strictly before).
    Without `reference_end` every chunk is 'current'.
    """
    if reference_end is None:
        return ["current"] * len(plan.chunks)
    boundary = parse_boundary(reference_end)
    out = []
    for c in plan.chunks:
        if c.end is None:
            raise SchemaError("A reference end date needs chunks with a timestamp column.")
        before = c.end <= boundary if plan.chunking.is_period else c.end < boundary
        out.append("reference" if before else "current")
    return out


def where_between(table: Table, timestamp: str, start: pd.Timestamp, end: pd.Timestamp,
                  end_inclusive: bool = False) -> Table:
    """`table` narrowed to start ≤ timestamp < end (≤ end when `end_inclusive`, as for the
    first/last timestamps of row chunks), with bound values: rows of a run of chunks."""
    ts = timestamp_sql(table, timestamp)
    op = "<=" if end_inclusive else "<"
    return table.where(f"{ts} >= $start AND {ts} {op} $end",
                       f"{table.label} [{start} – {end}{']' if end_inclusive else ')'}",
                       start=pd.Timestamp(start).to_pydatetime(),
                       end=pd.Timestamp(end).to_pydatetime())


def side_labels(reference: Sequence[Chunk], current: Sequence[Chunk], chunking: Chunking
                ) -> tuple[list[str], list[str]]:
    """Labels for reference then current chunks that are unique across both: row chunks of
    the current side continue the reference's row count; a period both sides hold (a split
    inside a month) gets ' (current)' on the current side."""
    ref = [c.label for c in reference]
    if not chunking.is_period:
        before = sum(c.rows for c in reference)
        cur, first = [], before
        for c in current:
            cur.append(f"rows {first:,}–{first + c.rows - 1:,}")
            first += c.rows
        return ref, cur
    taken = set(ref)
    return ref, [f"{c.label} (current)" if c.label in taken else c.label for c in current]
