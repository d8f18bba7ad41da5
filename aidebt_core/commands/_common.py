"""What every sub-command shares: data arguments, --format, and printing results."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from aidebt_core.data import Table, connect, open_table
from aidebt_core.errors import AidebtError
from aidebt_core.jsonsafe import jsonable
from aidebt_core.workspace import TABLE_SEPARATOR, Workspace

if TYPE_CHECKING:  # importing the report pulls in plotly: not at CLI start-up
    from aidebt_core.report import Report


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="table (default, for people) or json (one document on stdout)")


def parse_columns(text: str | None) -> list[str] | None:
    """`a,b,c` -> ['a', 'b', 'c']; None when not given."""
    if text is None:
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise AidebtError("An empty column list was given.")
    return names


def cli_workspace(*specs: str) -> Workspace:
    """On the command line the user names the files: allow their folders and the cwd."""
    folders = []
    for spec in specs:
        path_part = str(spec).partition(TABLE_SEPARATOR)[0]
        fixed = Path(path_part).expanduser()
        while any(ch in fixed.name for ch in "*?[") and fixed != fixed.parent:
            fixed = fixed.parent
        folders.append(fixed.parent if fixed.suffix or not fixed.is_dir() else fixed)
    return Workspace.at(Path.cwd(), extra_allowed=tuple(f for f in folders if f.exists()))


def open_cli_tables(*specs: str) -> tuple[duckdb.DuckDBPyConnection, list[Table]]:
    """Open each data argument as a sandboxed table in one connection."""
    workspace = cli_workspace(*specs)
    con = connect(workspace)
    try:
        return con, [open_table(con, workspace, spec) for spec in specs]
    except BaseException:
        con.close()
        raise


def open_cli_table(spec: str) -> tuple[duckdb.DuckDBPyConnection, Table]:
    con, (table,) = open_cli_tables(spec)
    return con, table


def emit(args: argparse.Namespace, payload, table: pd.DataFrame | str | None = None) -> None:
    """Print one JSON document (--format json) or a human table."""
    if getattr(args, "format", "table") == "json":
        json.dump(jsonable(payload), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
        return
    if isinstance(table, pd.DataFrame):
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
