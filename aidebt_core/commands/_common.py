"""What every sub-command shares: data arguments, reference/current and roles, --format, and
printing results."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

# The shared arguments live in the light _args (parsers are built without this module);
# re-exported here for the command modules and tests that import them from _common.
from aidebt_core.commands._args import (  # noqa: F401
    HOW_TO_GIVE_DATA,
    add_data_arguments,
    add_format_option,
    add_role_arguments,
    parse_columns,
)
from aidebt_core.data import (
    Table,
    connect,
    quote_ident,
    row_count,
)
from aidebt_core.errors import AidebtError, DataSourceError
from aidebt_core.jsonsafe import jsonable
from aidebt_core.roles import (
    ROLES_FILE,
    RolesFile,
    excluded_columns,
    excluded_line,
    flag_roles,
    read_roles_file,
    resolve_schema,
    roles_payload,
)
from aidebt_core.schema import Schema, infer_schema
from aidebt_core.timeaxis import split_on_timestamp
from aidebt_core.workspace import GLOB_CHARS, TABLE_SEPARATOR, Workspace

if TYPE_CHECKING:  # importing the report pulls in plotly: not at CLI start-up
    import pandas as pd  # nor pandas: drift prints its table without it

    from aidebt_core.report import Report


def _spec_parts(spec: str) -> tuple[Path, str]:
    """A data argument as (absolute path or glob, '::table' suffix or '')."""
    path_part, sep, table = str(spec).strip().partition(TABLE_SEPARATOR)
    return Path(path_part).expanduser().absolute(), f"{sep}{table}"


def _spec_folder(spec: str) -> Path:
    """The folder a data argument lives in (for a glob, its last folder before a wildcard)."""
    fixed, _ = _spec_parts(spec)
    while any(ch in fixed.name for ch in "*?[") and fixed != fixed.parent:
        fixed = fixed.parent
    return fixed.parent if fixed.suffix or not fixed.is_dir() else fixed


def cli_workspace(*specs: str) -> Workspace:
    """On the command line the user names the files: reads are allowed in their folders and
    in $AIDEBT_ALLOWED_DIRS, not in the current directory (a .duckdb view must not reach
    files beside wherever the command happens to run)."""
    if not specs:
        raise AidebtError("No data given.")
    for spec in specs:
        path, _ = _spec_parts(spec)
        if not (GLOB_CHARS & set(str(path))) and not path.exists():
            raise DataSourceError(f"'{spec}': no such file.")
    folders = [_spec_folder(s) for s in specs]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        raise DataSourceError(f"No folder '{missing[0]}' (from the data argument).")
    return Workspace.at(folders[0], extra_allowed=tuple(folders[1:]))


def _open(con, workspace: Workspace, spec: str, args: argparse.Namespace | None = None
          ) -> Table:
    """Open one data argument by its absolute path; messages keep the name the user typed.
    A `spark:` spec is read by Spark (aidebt_core/engines), a `.aidebt` file is a saved
    profile (aidebt_core/profiles/source.py)."""
    from aidebt_core.engines.spark import is_spark_spec
    from aidebt_core.sources import open_source

    if is_spark_spec(spec):
        from aidebt_core.engines.spark import SparkOptions
        from aidebt_core.engines.spark_table import open_spark_table

        options = SparkOptions.resolve(remote=getattr(args, "spark_remote", None),
                                       master=getattr(args, "spark_master", None))
        return open_spark_table(con, spec, options)
    path, table_part = _spec_parts(spec)
    try:
        table = open_source(con, workspace, f"{path}{table_part}")
    except duckdb.Error as exc:  # e.g. a .duckdb view the sandbox refuses
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataSourceError(f"{spec}: {first}") from None
    return replace(table, label=str(spec))


# ------------------------------------------------------------------ reference, current, roles

@dataclass(frozen=True, eq=False)
class Inputs:
    """Reference and current data of a command, the roles resolved for them, and where the
    roles came from; a context manager that closes the DuckDB connection."""

    con: duckdb.DuckDBPyConnection
    workspace: Workspace
    reference: Table
    current: Table | None
    combined: Table | None
    schema: Schema
    timestamp: str | None
    sources: tuple[str, ...]
    dataset: str
    roles_file: RolesFile

    @property
    def one_sided(self) -> list[str]:
        """Columns present in only one of reference and current."""
        if self.current is None:
            return []
        ref, cur = self.reference.columns, self.current.columns
        return [c for c in ref if c not in cur] + [c for c in cur if c not in ref]

    def roles(self) -> dict:
        return roles_payload(self.schema)

    def excluded(self, used, reasons: Mapping[str, str] | None = None) -> list[dict]:
        """Columns not `used`, with a reason (their role, `reasons`, or one side only)."""
        ref = set(self.reference.columns)
        sided = {c: f"only in {'reference' if c in ref else 'current'}" for c in self.one_sided}
        return excluded_columns(self.schema, used, {**sided, **(reasons or {})},
                                also=list(sided))

    def require_flat(self, names) -> None:
        """Refuse nested (LIST/STRUCT/MAP) columns named explicitly, e.g. in --columns."""
        for name in names or ():
            if name in self.schema.names and self.schema[name].nested:
                raise AidebtError(f"Column '{name}' is a nested type ({self.schema[name].dtype})"
                                  "; it cannot be analysed. Leave it out.")

    def payload(self, used, reasons: Mapping[str, str] | None = None) -> dict:
        """The contract's `roles` and `excluded` keys for a result's JSON."""
        return {"roles": self.roles(), "excluded": self.excluded(used, reasons)}

    def close(self) -> None:
        from aidebt_core.profiles.route import report_exact_cost

        self.con.close()
        report_exact_cost()   # --exact above the profile threshold: say what it cost

    def __enter__(self) -> Inputs:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_inputs(args: argparse.Namespace, need_current: bool = True,
                extra_roles: Mapping[str, str] | None = None) -> Inputs:
    """Open the command's data as reference and current (see HOW_TO_GIVE_DATA) and resolve the
    roles: flags > the roles file beside the (first) data > inference. Without `need_current`
    one unsplit source is the reference alone (current None). `extra_roles` are further
    command-line roles (e.g. --categorical)."""
    sources = [*(getattr(args, "sources", None) or []),
               *([args.current] if getattr(args, "current", None) else [])]
    reference_end = getattr(args, "reference_end", None)
    reference_rows = getattr(args, "reference_rows", None)
    if not sources:
        raise AidebtError(f"No data given: {HOW_TO_GIVE_DATA}.")
    if len(sources) > 2:
        raise AidebtError(f"{len(sources)} data sources given; {HOW_TO_GIVE_DATA}.")
    if len(sources) == 2 and (reference_end or reference_rows):
        flag = "--reference-end" if reference_end else "--reference-rows"
        raise AidebtError(f"Two sources are already reference and current, so {flag} has "
                          f"nothing to split; {HOW_TO_GIVE_DATA}.")
    if reference_end and reference_rows:
        raise AidebtError("Give --reference-end or --reference-rows, not both.")
    folder = _spec_folder(sources[0])
    roles_file = read_roles_file(folder) if folder.is_dir() else RolesFile()
    dataset = dataset_name(sources[0])
    defaults = roles_file.dataset(dataset)
    flags = flag_roles(args.target, args.prediction, args.score, args.timestamp,
                       getattr(args, "id_column", None), getattr(args, "role", ()))
    flags = {**(extra_roles or {}), **flags}
    if len(sources) == 1 and not reference_rows and not reference_end:
        reference_end = defaults.reference_end  # the roles file's split, when it has one
    workspace = _workspace_for(sources)
    _engine_settings(args)
    con = connect(workspace)
    try:
        tables = [_open(con, workspace, spec, args) for spec in sources]
        file_roles = dict(defaults.roles)
        if defaults.timestamp:
            file_roles.setdefault(defaults.timestamp, "timestamp")
        combined = tables[0] if len(tables) == 1 else None
        current = tables[1] if len(tables) == 2 else None
        reference = tables[0]
        split_column = None
        if combined is not None and reference_rows:
            reference, current = split_on_rows(combined, reference_rows)
        elif combined is not None and reference_end:
            flagged = [c for c, r in flags.items() if r == "timestamp"]
            split_column = (args.timestamp or next(iter(flagged), None) or defaults.timestamp
                            or infer_schema(combined).first("timestamp"))
            if not split_column:
                raise AidebtError("--reference-end needs --timestamp COLUMN (no column of "
                                  f"{sources[0]} is a timestamp).")
            reference, current = split_on_timestamp(combined, split_column, reference_end)
        elif combined is not None and need_current:
            raise AidebtError(f"One data source given and no split; {HOW_TO_GIVE_DATA}.")
        columns = set(reference.columns) | set(current.columns if current is not None else ())
        file_label = f"{ROLES_FILE} in {folder}"
        _check_columns(file_roles, columns, file_label, sources[0])
        _check_columns(flags, columns, "command line", sources[0], _flag_names(args))
        reference_columns = set(reference.columns)
        schema = resolve_schema(
            infer_schema(reference),
            {c: r for c, r in file_roles.items() if c in reference_columns},
            {c: r for c, r in flags.items() if c in reference_columns}, file_label=file_label)
        timestamp = split_column or args.timestamp or defaults.timestamp \
            or schema.first("timestamp")
        return Inputs(con, workspace, reference, current, combined, schema,
                      timestamp, tuple(sources), dataset, roles_file)
    except BaseException:
        con.close()
        raise


def _workspace_for(sources: list[str]) -> Workspace:
    """The folders of the file sources; Spark sources (`spark:...`) have none: with only
    those, an empty private folder (DuckDB then holds only their empty typed views)."""
    import tempfile

    from aidebt_core.engines.spark import is_spark_spec

    files = [s for s in sources if not is_spark_spec(s)]
    if files:
        return cli_workspace(*files)
    return Workspace.at(tempfile.mkdtemp(prefix="aidebt-spark-"))


def _engine_settings(args: argparse.Namespace) -> None:
    """--exact / --profile-rows for the analyses this command runs (profiles/route.py)."""
    from aidebt_core.profiles.route import SETTINGS, EngineSettings

    SETTINGS.set(EngineSettings(getattr(args, "profile_rows", None),
                                bool(getattr(args, "exact", False))))


def _check_columns(roles: Mapping[str, str], columns: set[str], where: str, spec: str,
                   flag_names: Mapping[str, str] | None = None) -> None:
    unknown = [c for c in roles if c not in columns]
    if unknown:
        given = (flag_names or {}).get(unknown[0])
        what = f"{given} '{unknown[0]}' is not a column of {spec}" if given else \
            f"{where}: no column {', '.join(map(repr, unknown))} in {spec}"
        raise AidebtError(f"{what}. Columns are: {', '.join(sorted(columns))}.")


def _flag_names(args: argparse.Namespace) -> dict[str, str]:
    """Column -> the flag that named it, for messages."""
    names = {}
    for pair in getattr(args, "role", None) or ():
        names[str(pair).rpartition("=")[0].strip()] = "--role"
    for flag, dest in (("--target", "target"), ("--prediction", "prediction"),
                       ("--score", "score"), ("--timestamp", "timestamp"), ("--id", "id_column")):
        if getattr(args, dest, None):
            names[getattr(args, dest)] = flag
    return names


def dataset_name(spec: str) -> str:
    """The name a data set has in the roles file: its path relative to its folder."""
    path, table_part = _spec_parts(spec)
    folder = _spec_folder(spec)
    try:
        relative = path.relative_to(folder)
    except ValueError:
        relative = Path(path.name)
    return f"{relative.as_posix()}{table_part}"


def split_on_rows(table: Table, rows: int) -> tuple[Table, Table]:
    """The first `rows` rows (in file order) as reference, the rest as current."""
    total = row_count(table)
    if not 0 < rows < total:
        raise AidebtError(f"--reference-rows {rows}: {table.label} has {total:,} rows; give a "
                          f"number between 1 and {total - 1:,}.")
    parts = []
    for name, clause in (("reference", f"LIMIT {int(rows)}"), ("current", f"OFFSET {int(rows)}")):
        view = f"{table.view}_{name}"
        # Insertion order is kept by DuckDB's scans, so LIMIT/OFFSET split in file order.
        table.con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(view)} AS "
                          f"SELECT * FROM ({table.sql()}) {clause}")
        label = (f"{table.label} first {rows:,} rows" if name == "reference"
                 else f"{table.label} after row {rows:,}")
        parts.append(replace(table, view=view, label=label))
    return parts[0], parts[1]


def print_excluded(args: argparse.Namespace, excluded) -> None:
    """The human table's line naming the columns left out and why."""
    if getattr(args, "format", "table") != "json":
        print(excluded_line(excluded))


def emit(args: argparse.Namespace, payload, table: pd.DataFrame | str | None = None) -> None:
    """Print one JSON document (--format json) or a human table."""
    if getattr(args, "format", "table") == "json":
        json.dump(jsonable(payload), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
        return
    pd = sys.modules.get("pandas")  # a DataFrame exists only once pandas is imported
    if pd is not None and isinstance(table, pd.DataFrame):
        with pd.option_context("display.max_rows", 500, "display.max_columns", 50,
                               "display.width", 200, "display.float_format", "{:.4g}".format):
            print(table.to_string(index=False))
    elif table is not None:
        print(table)
    else:
        print(json.dumps(jsonable(payload), indent=2))


def write_report(report: Report, path: str | Path) -> None:
    """Write a `--report` file: Markdown for .md / .markdown, self-contained HTML otherwise."""
    target = Path(path).expanduser()
    markdown = target.suffix.lower() in (".md", ".markdown")
    try:
        target.write_text(report.to_markdown() if markdown else report.to_html(),
                          encoding="utf-8")
    except OSError as exc:
        raise AidebtError(f"Cannot write the report to {target}: {exc.strerror}.") from None
    print(f"report written to {target}", file=sys.stderr)
