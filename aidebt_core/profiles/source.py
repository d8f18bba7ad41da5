"""A saved profile (`.aidebt`) opened where a data source is expected.

`open_profile` returns a `ProfileTable`: a `Table` over an empty DuckDB view with the
profiled columns and their types (so column checks and role flags work as for any source),
carrying the `DatasetProfile` and the `Schema` its counts imply. It has no rows: a query
against it raises `ProfileSourceError`, which says which analyses run from profiles, so an
analysis that needs rows fails with one clear line instead of computing on nothing.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from aidebt_core.data import Table, is_numeric_type, quote_ident
from aidebt_core.errors import DataSourceError
from aidebt_core.profiles.model import CATEGORICAL, DatasetProfile, load

_counter = itertools.count()
FROM_PROFILES = ("drift (per column, over time, multivariate), performance per chunk with "
                 "the label-free estimate, slices (profiled with --for slices) and "
                 "entanglement (profiled with --for entanglement)")


class ProfileSourceError(DataSourceError):
    """An analysis asked a saved profile for rows."""


@dataclass(frozen=True, eq=False)
class ProfileTable(Table):
    """A saved profile standing in for a source (see the module docstring)."""

    profile: DatasetProfile | None = None
    schema_override: object = None   # the Schema infer_schema returns for it

    def execute(self, query, params=None):
        raise ProfileSourceError(
            f"{self.label} is a saved profile (counts, no rows): this analysis needs the rows. "
            f"From profiles aidebt runs {FROM_PROFILES}; give the data itself for the others "
            "(docs/profiles.md).")


def _duckdb_type(profile: DatasetProfile, name: str, kind: str) -> str:
    stored = dict(profile.column_types).get(name, "")
    if profile.engine == "duckdb" and stored:
        return stored
    return "VARCHAR" if kind == CATEGORICAL else "DOUBLE"


def open_profile(con, path, label: str) -> ProfileTable:
    """Load `path` (already resolved inside the workspace) as a ProfileTable."""
    profile = load(path)
    view = f"aidebt_profile_{next(_counter)}"
    parts = [f"CAST(NULL AS {_duckdb_type(profile, c.name, c.kind)}) AS {quote_ident(c.name)}"
             for c in profile.plan.columns]
    if profile.plan.timestamp and profile.plan.timestamp not in profile.plan.names:
        parts.append(f"CAST(NULL AS TIMESTAMP) AS {quote_ident(profile.plan.timestamp)}")
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(view)} AS SELECT "
                    f"{', '.join(parts)} WHERE false")
    except Exception as exc:  # a stored type DuckDB does not know
        raise DataSourceError(f"{label}: cannot read the profile's column types ({exc}).") \
            from None
    table = ProfileTable(con=con, view=view, label=label, profile=profile)
    return replace(table, schema_override=profile_schema(table))


def profile_schema(table: ProfileTable):
    """Roles from the profile's counts (the rules inference applies to rows), then the
    plan's target/prediction/score/timestamp."""
    from aidebt_core.schema import ColumnInfo, Schema, infer_role, one_target, pair_targets

    profile = table.profile
    whole = profile.overall()
    plan = profile.plan
    roles = {plan.target: "target", plan.prediction: "prediction", plan.score: "score",
             plan.timestamp: "timestamp"}
    infos = []
    for name, dtype in table.column_types.items():
        if name not in plan.names:
            infos.append(ColumnInfo(name, dtype, "timestamp", 0, 0, whole.rows, "timestamp"))
            continue
        col = whole.column(name)
        distinct = (len(col.values) + (1 if col.other else 0) if col.values is not None
                    else sum(1 for b in col.bins if b))
        lo = col.minimum if is_numeric_type(dtype) else None
        hi = col.maximum if is_numeric_type(dtype) else None
        role = infer_role(name, dtype, distinct, col.rows - col.missing, lo, hi)
        infos.append(ColumnInfo(name, dtype, role, distinct, col.missing, col.rows, role,
                                col.values is not None and not col.other, lo, hi))
    schema = Schema(one_target(pair_targets(tuple(infos))))
    given = {n: r for n, r in roles.items() if n and n in schema.names}
    return schema.with_roles(given, "the profile's plan") if given else schema


def is_profile_table(table) -> bool:
    return isinstance(table, ProfileTable)


def reads_rows(table) -> bool:
    """Whether this process can read `table`'s rows: a DuckDB table, not a saved profile or a
    Spark source (whose rows stay in the warehouse)."""
    return not isinstance(table, ProfileTable) and getattr(table, "engine", "") != "spark"
