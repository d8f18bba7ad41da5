"""The command-line arguments every data command shares (sources, split, roles, --format).

Light on purpose: building a sub-command's parser (`aidebt drift -h`) imports this module and
`_types` only, never DuckDB, pandas or numpy. What runs a command (opening the data, printing
results) is in `_common`, imported inside the command's handler; `_common` re-exports these
names, so `from aidebt_core.commands._common import add_data_arguments` keeps working.
"""

from __future__ import annotations

from aidebt_core.commands import _types as types
from aidebt_core.errors import AidebtError

# aidebt_core.roles.ROLES_FILE (roles imports pandas through schema; a test keeps them equal).
ROLES_FILE = "aidebt.yaml"

HOW_TO_GIVE_DATA = ("give REFERENCE CURRENT (two sources), or one source with --timestamp T "
                    "--reference-end DATE, or one source with --reference-rows N")


def add_format_option(parser) -> None:
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


def add_role_arguments(parser) -> None:
    """--target/--prediction/--score/--timestamp/--id and --role COL=ROLE (repeatable)."""
    parser.add_argument("--target", metavar="COLUMN", help="the label column")
    parser.add_argument("--prediction", metavar="COLUMN",
                        help="the model's predicted label column")
    parser.add_argument("--score", metavar="COLUMN", help="the model's probability column "
                        "in [0, 1]")
    parser.add_argument("--timestamp", metavar="COLUMN",
                        help="the time column (to split on, chunk on; not a feature)")
    parser.add_argument("--id", dest="id_column", metavar="COLUMN",
                        help="a row id column (not a feature)")
    parser.add_argument("--role", action="append", default=[], metavar="COL=ROLE",
                        help="give a column a role: feature, target, prediction, score, "
                        "timestamp, id or ignore (repeatable); flags win over the roles file "
                        f"({ROLES_FILE} beside the data), which wins over inference")


def add_data_arguments(parser, *, option: bool = False, current_alias: bool = True) -> None:
    """The data sources, the reference/current split and the role options, the same for every
    data command. `option` takes the sources as `--data D [D]` instead of positionals."""
    if option:
        parser.add_argument("--data", dest="sources", action="extend", nargs="+", default=[],
                            metavar="DATA", help="REFERENCE CURRENT, or one source split with "
                            "--timestamp/--reference-end or --reference-rows")
    else:
        parser.add_argument("sources", nargs="*", metavar="DATA",
                            help="REFERENCE CURRENT (CSV/Parquet/JSON, glob, "
                            "file.duckdb::table), or one source split with --timestamp T "
                            "--reference-end DATE or --reference-rows N")
    if current_alias:
        parser.add_argument("--current", metavar="DATA",
                            help="the current data (the same as a second source)")
    parser.add_argument("--reference-end", metavar="DATE",
                        help="one source: rows before DATE (a date or full timestamp) of "
                        "--timestamp are the reference, the rest the current data")
    parser.add_argument("--reference-rows", type=types.positive_int, metavar="N",
                        help="one source without time: its first N rows are the reference")
    parser.add_argument("--profile-rows", type=types.positive_int, metavar="N",
                        help="read through mergeable profiles (counts and fine histograms) "
                        "when a side has more than N rows (default 20,000,000; env "
                        "AIDEBT_PROFILE_ROWS); see docs/profiles.md")
    parser.add_argument("--exact", action="store_true",
                        help="exact reads whatever the size (reports what it cost)")
    parser.add_argument("--spark-remote", metavar="sc://HOST:PORT",
                        help="Spark Connect server for spark: sources (env SPARK_REMOTE)")
    parser.add_argument("--spark-master", metavar="URL",
                        help="Spark master for spark: sources (local[2], spark://host:7077)")
    add_role_arguments(parser)
