"""Time axes from the columns users have: one place that turns a column into a TIMESTAMP.

`timestamp_sql(table, column)` is the SQL expression every time use shares (chunks, splits,
windows), so a chunk and a split never read the same column two ways. Accepted:

* TIMESTAMP and DATE columns;
* text in one format per column: ISO (2019-04-01, 2019-04-01 12:30[:00], 2019-04-01T12:30),
  Y/m/d, d/m/Y or m/d/Y (told apart by the values: a first field above 12 is a day, a
  second field above 12 is a day; if every value fits both, the column is refused as
  ambiguous rather than guessed), d.m.Y, d-m-Y, each with or without a time of day, and
  year-month (2019-04);
* integers: a year (1000–9999), a yyyymm period (201904), a yyyymmdd date (20190401);
* epoch seconds (1e8–1e10, 1973–2286) or milliseconds (1e11–1e13), told apart by the
  value range; microseconds (1e14–1e16) too.

The format is decided on the table's full, unfiltered rows (a reference that happens to hold
only days ≤ 12 reads the same way as the whole file), with one aggregate query. A column that
fits none is refused with a message naming it, an example value and what would work.
`resolution` says how coarse the values are (a year column's 2019 stands for the whole
year), which decides whether a period chunk is covered to its end.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from datetime import date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from aidebt_core.data import (
    ROWS,
    Table,
    is_numeric_type,
    is_temporal_type,
    quote_ident,
    row_count,
)
from aidebt_core.errors import SchemaError

if TYPE_CHECKING:  # pandas inside the functions that build timestamps: recognising a time
    import pandas as pd  # column (role inference on every CLI run) needs none

# (name shown to users, strptime formats); each also accepts a time of day.
_TIMES = ("", " %H:%M", " %H:%M:%S", "T%H:%M", "T%H:%M:%S")
_TEXT_FORMATS = (("Y/m/d", "%Y/%m/%d"), ("d/m/Y", "%d/%m/%Y"), ("m/d/Y", "%m/%d/%Y"),
                 ("d.m.Y", "%d.%m.%Y"), ("d-m-Y", "%d-%m-%Y"))
_MONTH_FORMATS = ("%Y-%m", "%Y/%m")
# Epoch ranges: seconds 1e8..1e10 are 1973-03-03..2286-11-20; the same span in ms and µs.
_EPOCHS = (("epoch seconds", 1e8, 1e10, 1_000_000), ("epoch milliseconds", 1e11, 1e13, 1_000),
           ("epoch microseconds", 1e14, 1e16, 1))
_NAME_HINT = re.compile(r"(date|time|year|month|period|epoch|day|week|^ts$|_ts$|_at$|^at$"
                        r"|when)", re.IGNORECASE)
CANDIDATE_SAMPLE = 10_000   # rows looked at when listing candidate time columns
WHAT_WORKS = ("Use a TIMESTAMP/DATE column, text in one format per column (ISO 2019-04-01 or "
              "2019-04-01 12:30:00, d/m/Y, m/d/Y, Y/m/d, d.m.Y, with or without a time), an "
              "integer year (2019) or yyyymm period (201904), or epoch seconds/milliseconds.")


@dataclass(frozen=True)
class TimeAxis:
    """How one column reads as time: `sql` gives a TIMESTAMP; `resolution` is the span one
    value stands for ("year", "month", "day") or None for instants."""

    column: str
    sql: str
    resolution: str | None
    form: str    # what was recognised, for messages: "TIMESTAMP", "text d/m/Y", "integer year"

    def covered_until(self, last: pd.Timestamp) -> pd.Timestamp:
        """The end of the span the last value stands for."""
        import pandas as pd

        if self.resolution is None:
            return pd.Timestamp(last)
        return pd.Timestamp(last) + resolution_offset(self.resolution)


def resolution_offset(unit: str) -> pd.DateOffset:
    import pandas as pd

    return {"day": pd.DateOffset(days=1), "month": pd.DateOffset(months=1),
            "year": pd.DateOffset(years=1)}[unit]


def timestamp_sql(table: Table, column: str) -> str:
    """A SQL expression giving `column` as TIMESTAMP; refuses columns that are not times."""
    return time_axis(table, column).sql


def time_axis(table: Table, column: str) -> TimeAxis:
    """Recognise how `column` holds time (see the module docstring) or raise SchemaError."""
    table.require_columns([column])
    return _decide(_unfiltered(table), column, ROWS)


def time_candidates(table: Table) -> list[str]:
    """Columns usable as a time axis, best first: TIMESTAMP/DATE columns, then columns whose
    names suggest time, then other text columns that read as dates. Numbers count only with
    such a name (an amount between 1000 and 9999 is not a year). Judged on a sample."""
    base = _unfiltered(table)
    sample = f"(SELECT * FROM {ROWS} LIMIT {CANDIDATE_SAMPLE}) AS aidebt_sample"
    ranked = []
    for position, (name, kind) in enumerate(table.column_types.items()):
        hinted = bool(_NAME_HINT.search(name))
        if is_temporal_type(kind) and not kind.upper().startswith("TIME "):
            if kind.upper() != "TIME":
                ranked.append((0, position, name))
            continue
        if kind.upper() != "VARCHAR" and not (hinted and is_numeric_type(kind)):
            continue
        try:
            axis = _decide(base, name, sample)
        except SchemaError:
            continue
        if axis.form != "empty":
            ranked.append((1 if hinted else 2, position, name))
    return [name for *_, name in sorted(ranked)]


def named_text_times(table: Table, columns: list[str]) -> list[str]:
    """Of `columns`, the text columns whose names suggest time and whose values read as
    times (judged on a sample, as `time_candidates` does): dates kept as text are a time
    column, not a category with one value per day."""
    base = _unfiltered(table)
    sample = f"(SELECT * FROM {ROWS} LIMIT {CANDIDATE_SAMPLE}) AS aidebt_sample"
    types = table.column_types
    found = []
    for name in columns:
        if types.get(name, "").upper() != "VARCHAR" or not _NAME_HINT.search(name):
            continue
        try:
            if _decide(base, name, sample).form != "empty":
                found.append(name)
        except SchemaError:
            continue
    return found


def parse_boundary(text: str | date | datetime | pd.Timestamp) -> pd.Timestamp:
    """A date or full timestamp given by a user (2019-04-01, 2019-04-01T12:30, 2019-04-01
    12:30:15, or a year 2019 / month 2019-04 meaning its first day); time-zone-aware values
    are taken in UTC, as the data's naive times are."""
    import pandas as pd

    if isinstance(text, pd.Timestamp | datetime | date) and not pd.isna(text):
        value = pd.Timestamp(text)
    else:
        raw = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
        raw = raw.strip()
        if not raw:
            raise SchemaError("No date given: use YYYY-MM-DD or YYYY-MM-DDTHH:MM.")
        # A year (2019) or a month (2019-04) is its first day: the boundary of a year/yyyymm
        # axis is written the way its values are.
        short = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", raw)
        if short:
            raw = f"{short.group(1)}-{short.group(2) or '01'}-01"
        try:
            value = pd.Timestamp(datetime.fromisoformat(raw))
        except ValueError:
            raise SchemaError(f"'{text}' is not a date or time: use YYYY-MM-DD or "
                              "YYYY-MM-DDTHH:MM[:SS] (e.g. 2019-04-01 or 2019-04-01T12:30), "
                              "or a year (2019) or month (2019-04).") from None
    if value.tzinfo is not None:
        value = value.tz_convert("UTC").tz_localize(None)
    return value


# ------------------------------------------------------------------------------ deciding

def _unfiltered(table: Table) -> Table:
    return replace(table, filters=(), params=MappingProxyType({}))


# Decisions per (connection, view, column): a page or command reads the same column for both
# sides, chunks and splits several times. Only views `open_table` made are cached: their names
# come from a process-wide counter and are never replaced, so an entry cannot describe
# another table (a view re-created under its old name, e.g. by a row split, is not cached).
_DECIDED: dict[tuple, TimeAxis] = {}
_DECIDED_MAX = 256
_CACHEABLE_VIEW = re.compile(r"aidebt_src_\d+")
_DECIDED_LOCK = threading.Lock()


def _decide(table: Table, column: str, source: str) -> TimeAxis:
    key = (id(table.con), table.view, column, source)
    if key in _DECIDED:
        return _DECIDED[key]
    axis = _decide_uncached(table, column, source)
    if not _CACHEABLE_VIEW.fullmatch(table.view):
        return axis
    with _DECIDED_LOCK:   # dashboard sessions run in threads
        while len(_DECIDED) >= _DECIDED_MAX:
            _DECIDED.pop(next(iter(_DECIDED)))
        _DECIDED[key] = axis
    return axis


def _decide_uncached(table: Table, column: str, source: str) -> TimeAxis:
    kind = table.column_types[column].upper()
    col = quote_ident(column)
    if kind.startswith(("TIMESTAMP", "DATE")):
        expr = f"CAST({col} AS TIMESTAMP)"
        if kind == "DATE":
            return TimeAxis(column, expr, "day", "DATE")
        midnight = table.execute(f"SELECT bool_and({expr} = date_trunc('day', {expr})) "
                                 f"FROM {source}").fetchone()[0]
        return TimeAxis(column, expr, "day" if midnight else None, kind)
    if kind == "VARCHAR":
        return _decide_text(table, column, source)
    if is_numeric_type(kind):
        return _decide_number(table, column, source, kind)
    raise SchemaError(f"Column '{column}' of {table.label} is {kind}, not a time. {WHAT_WORKS}")


# ------------------------------------------------------------------------------------ text

TEXT_SAMPLE = 5_000   # distinct values a text format is chosen on (then checked on every row)


@dataclass(frozen=True)
class _Family:
    """One way text can hold time: a cast, or strptime with variants (with/without times)."""

    name: str
    formats: tuple[str, ...]    # () for the ISO cast
    resolution: str | None = None

    def expr(self, text: str, formats: tuple[str, ...] | None = None) -> str:
        formats = self.formats if formats is None else formats
        if not formats:
            return f"TRY_CAST({text} AS TIMESTAMP)"
        if len(formats) == 1:
            return f"try_strptime({text}, '{formats[0]}')"
        return f"try_strptime({text}, [{', '.join(repr(f) for f in formats)}])"


_FAMILIES = (_Family("ISO", ()),
             *(_Family(name, tuple(f"{fmt}{t}" for t in _TIMES)) for name, fmt in _TEXT_FORMATS),
             _Family("year-month", _MONTH_FORMATS, "month"))


def _fails(expr: str) -> str:
    # A value fails when it does not parse, or parses to a year below 1000 ('19/04/01' read
    # as the year 19 by %Y).
    return f"({expr} IS NULL OR year({expr}) < 1000)"


def _decide_text(table: Table, column: str, source: str) -> TimeAxis:
    """Choose the format on a sample of distinct values (every family and variant is tried
    there), then check the choice on every row in one pass: trying a dozen formats on every
    row of a large table would cost a minute per million rows."""
    col = quote_ident(column)
    sample = [r[0] for r in table.execute(
        f"SELECT DISTINCT trim({col}) FROM {source} WHERE {col} IS NOT NULL "
        f"LIMIT {TEXT_SAMPLE}").fetchall()]
    if not sample:
        return TimeAxis(column, _FAMILIES[0].expr(f"trim({col})"), None, "empty")
    fits, used, closest = _fit_sample(table, sample)
    if "d/m/Y" in fits and "m/d/Y" in fits:
        # The sample cannot tell them apart; every row may.
        both = {name: _check(table, column, source, used[name]) for name in ("d/m/Y", "m/d/Y")}
        fits = [n for n in fits if n not in both or both[n][0] == 0]
        if "d/m/Y" in fits and "m/d/Y" in fits:
            fits.remove("m/d/Y")
            if fits[0] == "d/m/Y":
                raise SchemaError(
                    f"Column '{column}' of {table.label} holds dates such as {sample[0]!r} "
                    "whose day and month are both 12 or less in every row, so d/m/Y and m/d/Y "
                    "cannot be told apart. Write them as YYYY-MM-DD (ISO) to use this column "
                    "as time.")
    if not fits:
        family = next(f for f in _FAMILIES if f.name == closest)
        bad, total, example, _ = _check(table, column, source, family.formats, family)
        raise _unreadable(table, column, bad, total, example)
    family = next(f for f in _FAMILIES if f.name == fits[0])
    formats = used[family.name]
    bad, total, example, midnight = _check(table, column, source, formats, family)
    if bad and formats != family.formats:   # rows outside the sample use other variants
        formats = family.formats
        bad, total, example, midnight = _check(table, column, source, formats, family)
    if bad:
        raise _unreadable(table, column, bad, total, example)
    resolution = family.resolution or ("day" if midnight else None)
    return TimeAxis(column, family.expr(f"trim({col})", formats), resolution,
                    f"text {family.name}")


def _fit_sample(table: Table, sample: list[str]):
    """Families that read every sampled value, the variants each needs (most used first),
    and the family that reads the most of them (for the error message)."""
    parts, index = [], []
    for family in _FAMILIES:
        parts.append(f"count(*) FILTER (WHERE {_fails(family.expr('v'))})")
        index.append((family, None))
        for fmt in family.formats:
            parts.append(f"count(*) FILTER (WHERE NOT {_fails(family.expr('v', (fmt,)))})")
            index.append((family, fmt))
    row = table.execute(f"SELECT {', '.join(parts)} FROM (SELECT unnest($values) AS v)",
                        {"values": sample}).fetchone()
    fits, used, failures = [], {}, {}
    for (family, fmt), value in zip(index, row, strict=True):
        if fmt is None:
            failures[family.name] = value
            if value == 0:
                fits.append(family.name)
            used.setdefault(family.name, [])
        elif value:
            used[family.name].append((value, fmt))
    ordered = {name: tuple(f for _, f in sorted(pairs, key=lambda p: -p[0]))
               for name, pairs in used.items()}
    return fits, ordered, min(failures, key=failures.get)


def _check(table: Table, column: str, source: str, formats: tuple[str, ...],
           family: _Family | None = None):
    """(values that fail, non-null values, an example that fails, all at midnight) over
    every row, in one pass."""
    family = family or next(f for f in _FAMILIES if f.formats and set(formats) <= set(f.formats))
    col = quote_ident(column)
    expr = family.expr(f"trim({col})", formats)
    bad = f"{col} IS NOT NULL AND {_fails(expr)}"
    return table.execute(
        f"SELECT count(*) FILTER (WHERE {bad}), count({col}), "
        f"any_value({col}) FILTER (WHERE {bad}), "
        f"bool_and({expr} = date_trunc('day', {expr})) FROM {source}").fetchone()


def _unreadable(table: Table, column: str, bad: int, total: int, example) -> SchemaError:
    return SchemaError(f"Column '{column}' has {bad:,} value(s) of {total:,} in {table.label} "
                       f"that are not timestamps in one format (e.g. {example!r}). "
                       + WHAT_WORKS)


# --------------------------------------------------------------------------------- numbers

def _decide_number(table: Table, column: str, source: str, kind: str) -> TimeAxis:
    col = quote_ident(column)
    x = f"CAST({col} AS DOUBLE)"
    count, lo, hi, fractional = table.execute(
        f"SELECT count({col}), min({x}), max({x}), "
        f"count(*) FILTER (WHERE {x} <> floor({x}) OR NOT isfinite({x})) "
        f"FROM {source} WHERE {col} IS NOT NULL").fetchone()
    if not count:
        return TimeAxis(column, f"make_timestamp(CAST({x} AS BIGINT))", None, "empty")
    whole = fractional == 0
    as_int = f"CAST({x} AS BIGINT)"

    def none_bad(condition: str) -> bool:
        return table.execute(f"SELECT count(*) FILTER (WHERE {condition}) FROM {source} "
                             f"WHERE {col} IS NOT NULL").fetchone()[0] == 0

    if whole and 1000 <= lo and hi <= 9999:
        return TimeAxis(column, f"make_timestamp({as_int}, 1, 1, 0, 0, 0)", "year",
                        "integer year")
    if whole and 100_001 <= lo and hi <= 999_912 and none_bad(
            f"{as_int} % 100 NOT BETWEEN 1 AND 12"):
        return TimeAxis(column, f"make_timestamp({as_int} // 100, {as_int} % 100, 1, 0, 0, 0)",
                        "month", "integer yyyymm period")
    day = f"try_strptime(CAST({as_int} AS VARCHAR), '%Y%m%d')"
    if whole and 10_000_101 <= lo and hi <= 99_991_231 and none_bad(f"{day} IS NULL"):
        return TimeAxis(column, day, "day", "integer yyyymmdd date")
    for form, low, high, micros in _EPOCHS:
        if low <= lo and hi < high:
            return TimeAxis(column, f"make_timestamp(CAST(round({x} * {micros}) AS BIGINT))",
                            None, form)
    raise SchemaError(
        f"Column '{column}' of {table.label} is {kind} with values from {lo:g} to {hi:g}, "
        "not a timestamp: not a year (1000–9999), a yyyymm period (201904), a yyyymmdd date, "
        f"or epoch seconds (1e8–1e10) / milliseconds (1e11–1e13) throughout. {WHAT_WORKS}")


def split_on_timestamp(table: Table, column: str, boundary: str | date | datetime
                       ) -> tuple[Table, Table]:
    """Reference = rows before `boundary`, current = rows at or after it (bound values).

    `boundary` is a date or a full timestamp (2019-04-01T12:30); the column is read as time
    the same way chunks read it (this module: dates, date text, years, epochs)."""
    when = parse_boundary(boundary)
    ts = timestamp_sql(table, column)
    when_py = when.to_pydatetime()
    shown = str(when.date()) if when == when.normalize() else when.isoformat(sep=" ")
    reference = table.where(f"{ts} < $when", f"{table.label} before {shown}", when=when_py)
    current = table.where(f"{ts} >= $when", f"{table.label} from {shown}", when=when_py)
    for part in (reference, current):
        if row_count(part) == 0:
            raise SchemaError(f"{part.label} has no rows; pick a split date inside "
                              f"{time_range(table, column)}.")
    return reference, current


def time_range(table: Table, column: str) -> str:
    """'first – last' time of `column`, read as the time axis reads it."""
    ts = timestamp_sql(table, column)
    lo, hi = table.execute(f"SELECT min({ts}), max({ts}) FROM {ROWS}").fetchone()
    return f"{lo} – {hi}"
