"""DuckDB data layer: open sandboxed sources and run aggregations in SQL, not in pandas.

Every user identifier goes through `quote_ident`; every user value is a bound parameter.
A `Table` is a view plus optional bound filters, so reference/current splits and slices
are pushed down to DuckDB instead of being materialised.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING

import duckdb
import numpy as np

from aidebt_core.errors import DataSourceError, SandboxError, SchemaError
from aidebt_core.workspace import TABLE_SEPARATOR, Workspace, detect_format

if TYPE_CHECKING:  # frames are built by DuckDB's .df(); the CLI's drift needs no pandas
    import pandas as pd

_view_counter = itertools.count()
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\b")
_QUOTED = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'')
# Stands for "this table's rows" in queries given to Table.execute. NUL cannot occur in a
# quoted identifier (quote_ident refuses it), so the marker never collides with a column name.
ROWS = "\x00rows\x00"
NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL")
TEMPORAL_TYPES = ("DATE", "TIMESTAMP", "TIME")


def quote_ident(name: str) -> str:
    """Quote a column or table name for DuckDB SQL, whatever characters it holds."""
    if "\x00" in name:
        raise SchemaError(f"Column name {name!r} contains a NUL character.")
    return '"' + name.replace('"', '""') + '"'


def _outside_quotes(sql: str, fn) -> str:
    """Apply `fn` to the parts of `sql` that are not quoted identifiers or string literals."""
    out, last = [], 0
    for m in _QUOTED.finditer(sql):
        out += [fn(sql[last:m.start()]), m.group(0)]
        last = m.end()
    return "".join([*out, fn(sql[last:])])


def _params_used(sql: str) -> set[str]:
    found: set[str] = set()
    _outside_quotes(sql, lambda part: found.update(_PARAM.findall(part)) or part)
    return found


def _quote_literal(text: str) -> str:
    # Only for ATTACH, which takes no bound parameters; the path was resolved and sandboxed first.
    return "'" + text.replace("'", "''") + "'"


def is_numeric_type(duckdb_type: str) -> bool:
    # A list or array of numbers (`BIGINT[]`, `DOUBLE[3]`) starts like a number but is not one.
    return duckdb_type.upper().startswith(NUMERIC_TYPES) and not duckdb_type.rstrip().endswith("]")


def is_temporal_type(duckdb_type: str) -> bool:
    return duckdb_type.upper().startswith(TEMPORAL_TYPES)


def connect(workspace: Workspace, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that can read only under the workspace's allowed directories."""
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False})
    # No progress bar: DuckDB draws it on stdout after 2 s, which would corrupt --format json.
    con.execute("SET enable_progress_bar = false")
    con.execute("SET allowed_directories = ?",
                [[str(d) + "/" for d in workspace.allowed_directories]])
    con.execute("SET enable_external_access = false")
    if threads:
        con.execute("SET threads = ?", [threads])
    con.execute("SET lock_configuration = true")
    return con


@dataclass(frozen=True, eq=False)
class Table:
    """A view over a data source, optionally filtered by bound conditions (pushed to DuckDB)."""

    con: duckdb.DuckDBPyConnection
    view: str
    label: str
    filters: tuple[str, ...] = ()
    params: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    def sql(self) -> str:
        """A sub-query selecting this table's rows, for use as `FROM (...)`."""
        where = f" WHERE {' AND '.join(f'({f})' for f in self.filters)}" if self.filters else ""
        return f"SELECT * FROM {quote_ident(self.view)}{where}"

    def where(self, condition: str, label: str | None = None, **params: object) -> Table:
        """A narrower table; `condition` uses `$name` placeholders bound from `params`."""
        suffix = f"_{len(self.filters)}"
        renamed = _outside_quotes(
            condition, lambda part: _PARAM.sub(lambda m: f"${m.group(1)}{suffix}", part))
        bound = dict(self.params) | {f"{k}{suffix}": v for k, v in params.items()}
        return replace(self, filters=(*self.filters, renamed), label=label or self.label,
                       params=MappingProxyType(bound))

    def execute(self, query: str, params: Mapping[str, object] | None = None) -> QueryResult:
        """Run `query`, in which `ROWS` stands for this table's rows."""
        sql = query.replace(ROWS, f"({self.sql()}) AS t")
        bound = dict(self.params) | dict(params or {})
        used = _params_used(sql)
        try:
            return QueryResult(self.con.execute(sql, {k: v for k, v in bound.items() if k in used}))
        except duckdb.Error as exc:
            raise _translate(exc, self.label) from None

    def df(self, query: str, params: Mapping[str, object] | None = None) -> pd.DataFrame:
        return self.execute(query, params).df()

    @property
    def column_types(self) -> dict[str, str]:
        """Column name -> DuckDB type, in table order (a fresh dict each call)."""
        return dict(self._described)

    @cached_property
    def _described(self) -> tuple[tuple[str, str], ...]:
        # A view's columns never change (each view has its own name), so DESCRIBE runs once
        # per Table instead of at every column check.
        rows = self.con.execute(f"DESCRIBE SELECT * FROM {quote_ident(self.view)}").fetchall()
        return tuple((r[0], r[1]) for r in rows)

    @property
    def columns(self) -> list[str]:
        return list(self.column_types)

    def require_columns(self, names: Sequence[str]) -> None:
        missing = [n for n in names if n not in self.column_types]
        if missing:
            raise SchemaError(f"{self.label} has no column(s) {', '.join(map(repr, missing))}. "
                              f"Columns are: {', '.join(self.columns)}.")


class QueryResult:
    """A query's result that is always read to the end.

    DuckDB refuses further work on a connection while a result is only partly fetched, so
    `fetchone()` here reads the whole (single-row, aggregate) result instead of one row.
    """

    def __init__(self, cursor: duckdb.DuckDBPyConnection) -> None:
        self._cursor = cursor

    def fetchone(self):
        rows = self._cursor.fetchall()
        return rows[0] if rows else None

    def fetchall(self) -> list:
        return self._cursor.fetchall()

    def fetchnumpy(self) -> dict:
        return self._cursor.fetchnumpy()

    def df(self) -> pd.DataFrame:
        return self._cursor.df()


def _translate(exc: duckdb.Error, label: str) -> Exception:
    """Turn a DuckDB error into an AidebtError whose message names the source and the problem."""
    text = str(exc).split("\n")[0]
    if isinstance(exc, duckdb.PermissionException):
        return SandboxError(f"{label}: access refused, the file is outside the allowed data "
                            f"directories ({text}).")
    if "magic bytes" in text.lower() or "parquet" in text.lower() and "invalid" in text.lower():
        return DataSourceError(f"{label} is not a valid Parquet file (corrupt or truncated): "
                               f"{text}")
    return DataSourceError(f"Could not read {label}: {text}")


def open_table(con: duckdb.DuckDBPyConnection, workspace: Workspace, spec: str,
               allow_empty: bool = False) -> Table:
    """Open a CSV/Parquet/JSON path, glob or `file.duckdb::table` as a sandboxed view."""
    spec = str(spec).strip()
    path_part, _, table_name = spec.partition(TABLE_SEPARATOR)
    files = workspace.expand(path_part)
    fmt = detect_format(files[0])
    view = f"aidebt_src_{next(_view_counter)}"
    if fmt == "duckdb":
        _create_duckdb_view(con, files[0], table_name, view, spec)
    else:
        if table_name:
            raise DataSourceError(f"'{spec}': '::table' applies only to .duckdb files.")
        _create_file_view(con, files, fmt, view, spec)
    table = Table(con=con, view=view, label=spec)
    if not table.column_types:
        raise DataSourceError(f"{spec} has no columns.")
    if not allow_empty and row_count(table) == 0:
        raise DataSourceError(f"{spec} has no data rows (empty, or a header only).")
    return table


def _create_file_view(con, files: tuple, fmt: str, view: str, spec: str) -> None:
    mixed = {detect_format(f) for f in files}
    if len(mixed) > 1:
        raise DataSourceError(f"'{spec}' matches files of different types ({', '.join(mixed)}).")
    for file in files:
        if file.stat().st_size == 0:
            raise DataSourceError(f"{file.name} is empty (0 bytes).")
    paths = [str(f) for f in files]
    try:
        if fmt == "parquet":
            rel = con.read_parquet(paths, union_by_name=True)
        elif fmt == "csv":
            rel = con.read_csv(paths, union_by_name=True, header=True)
        else:
            rel = con.read_json(paths, format="auto")
        rel.create_view(view, replace=True)
    except duckdb.Error as exc:
        raise _translate(exc, spec) from None


def _attach(con, path, spec: str) -> str:
    """Attach a DuckDB file read-only once per connection; returns its catalog alias."""
    rows = con.execute("SELECT database_name FROM duckdb_databases() WHERE path = ?",
                       [str(path)]).fetchall()
    if rows:
        return rows[0][0]
    alias = f"aidebt_db_{next(_view_counter)}"
    try:
        con.execute(f"ATTACH {_quote_literal(str(path))} AS {quote_ident(alias)} (READ_ONLY)")
    except duckdb.Error as exc:
        raise _translate(exc, spec) from None
    return alias


def _create_duckdb_view(con, path, table_name: str, view: str, spec: str) -> None:
    alias = _attach(con, path, spec)
    tables = _tables_in(con, alias)
    if not table_name:
        raise DataSourceError(f"'{spec}' is a DuckDB file: name a table as "
                              f"'{spec}::table'. Tables: {', '.join(tables) or 'none'}.")
    if table_name not in tables:
        raise DataSourceError(f"{path.name} has no table '{table_name}'. "
                              f"Tables: {', '.join(tables) or 'none'}.")
    try:  # a stored view may read files the sandbox refuses, or be broken
        con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(view)} AS SELECT * FROM "
                    f"{quote_ident(alias)}.main.{quote_ident(table_name)}")
    except duckdb.Error as exc:
        raise _translate(exc, spec) from None


def _tables_in(con, alias: str) -> list[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                       "UNION SELECT view_name FROM duckdb_views() WHERE database_name = ? "
                       "ORDER BY 1", [alias, alias]).fetchall()
    return [r[0] for r in rows]


def list_duckdb_tables(workspace: Workspace, raw_path: str) -> list[str]:
    """Tables inside a .duckdb file in the workspace."""
    con = connect(workspace)
    try:
        return _tables_in(con, _attach(con, workspace.resolve(raw_path), raw_path))
    finally:
        con.close()


# ---------------------------------------------------------------- aggregations pushed to DuckDB

def row_count(table: Table) -> int:
    return int(table.execute(f"SELECT count(*) FROM {ROWS}").fetchone()[0])


def preview(table: Table, rows: int = 100) -> pd.DataFrame:
    """The first rows, for a quick look."""
    return table.df(f"SELECT * FROM {ROWS} LIMIT $n", {"n": int(rows)})


def sample_rows(table: Table, rows: int, seed: int = 0) -> pd.DataFrame:
    """A uniform, seeded sample of at most `rows` rows (reservoir sampling in DuckDB)."""
    total = row_count(table)
    if total <= rows:
        return table.df(f"SELECT * FROM {ROWS}")
    # Reservoir sampling draws exactly `rows`; REPEATABLE makes it deterministic per seed.
    query = (f"SELECT * FROM {ROWS} USING SAMPLE reservoir({int(rows)} ROWS) "
             f"REPEATABLE ({int(seed)})")
    return table.df(query)


def numeric_values(table: Table, column: str) -> np.ndarray:
    """Finite values of one numeric column as float64, read from DuckDB without other columns."""
    table.require_columns([column])
    col = quote_ident(column)
    rows = table.execute(f"SELECT CAST({col} AS DOUBLE) AS v FROM {ROWS} WHERE {col} IS NOT NULL "
                         f"AND isfinite(CAST({col} AS DOUBLE))").fetchnumpy()
    return np.asarray(rows["v"], dtype=np.float64)


def value_counts(table: Table, column: str, top_k: int | None = None,
                 other_label: str = "(other)") -> pd.DataFrame:
    """Counts per value (as text), most frequent first; beyond `top_k` folded into one row."""
    table.require_columns([column])
    col = quote_ident(column)
    counts = table.df(f"SELECT CAST({col} AS VARCHAR) AS value, count(*) AS count FROM {ROWS} "
                      f"WHERE {col} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1")
    if top_k is not None and len(counts) > top_k:
        import pandas as pd

        rest = int(counts["count"].iloc[top_k:].sum())
        counts = pd.concat([counts.iloc[:top_k],
                            pd.DataFrame({"value": [other_label], "count": [rest]})],
                           ignore_index=True)
    return counts


def quantiles(table: Table, column: str, probs: Sequence[float]) -> list[float | None]:
    """Exact (interpolated) quantiles of a numeric column, computed in DuckDB."""
    table.require_columns([column])
    col = quote_ident(column)
    value = table.execute(f"SELECT quantile_cont(CAST({col} AS DOUBLE), $p) FROM {ROWS} "
                          f"WHERE isfinite(CAST({col} AS DOUBLE))",
                          {"p": [float(p) for p in probs]}).fetchone()[0]
    if value is None:
        raise SchemaError(f"Column '{column}' of {table.label} has no finite values.")
    return list(value)


def histogram(table: Table, column: str, edges: Sequence[float]) -> np.ndarray:
    """Counts of finite values in bins [e0,e1), …, [e_{k-1}, e_k] (last bin closed), in DuckDB.

    Values below e0 fall into the first bin and above e_k into the last, so reference-derived
    edges still count every current value.
    """
    table.require_columns([column])
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise SchemaError("Histogram edges must be at least two strictly increasing numbers.")
    col = quote_ident(column)
    inner = [float(e) for e in edges[1:-1]]
    # The bin index counts the inner edges a value reaches: len(filter(e <= v)).
    rows = table.execute(
        f"SELECT len(list_filter($inner, lambda e: e <= v)) AS b, count(*) AS n FROM "
        f"(SELECT CAST({col} AS DOUBLE) AS v FROM {ROWS}) WHERE isfinite(v) GROUP BY 1",
        {"inner": inner}).fetchall()
    counts = np.zeros(len(edges) - 1, dtype=np.int64)
    for b, n in rows:
        counts[b] = n
    return counts
