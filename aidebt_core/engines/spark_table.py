"""A Spark source opened where a data source (`Table`) is expected.

`open_spark_table` returns a `SparkTable`: a `Table` over an empty DuckDB view with the
source's columns in DuckDB types (so column checks, role flags and `column_types` work as for
any source), carrying the `SparkSource` and the `Schema` inferred from Spark aggregates
(`schema_override`, which `infer_schema` returns; computed on first use). Its rows stay in
Spark: a DuckDB query against it raises `SparkSourceError`, which says which analyses run on
Spark sources, so an analysis that needs rows fails with one clear line. The profile route
computes its profiles with `table.profiler()` (aidebt_core.engines.spark_profile);
`profiles/` reads only the `engine` and `profiler` attributes, so it never imports this
package (no import cycle).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from aidebt_core.data import Table, quote_ident
from aidebt_core.engines.spark import SparkOptions, SparkSource, open_spark_source
from aidebt_core.errors import DataSourceError

_counter = itertools.count()
FROM_SPARK = "the analyses that read profiles (docs/profiles.md, 'What runs from profiles')"


class SparkSourceError(DataSourceError):
    """An analysis asked a Spark source for rows in the local process."""


@dataclass(frozen=True, eq=False)
class SparkTable(Table):
    """A Spark source standing in for a table (see the module docstring)."""

    source: SparkSource | None = None
    engine: str = "spark"   # read by profiles/route.py without importing this package
    _schema: list = field(default_factory=list, repr=False)  # filled on first use

    @property
    def schema_override(self):
        """The roles from Spark aggregates (what `infer_schema` returns for this table),
        computed on first use: a current side's roles are often never asked for, and each
        costs a scan of the table."""
        if not self._schema:
            from aidebt_core.engines.spark_profile import spark_schema

            self._schema.append(spark_schema(self.source))
        return self._schema[0]

    def profiler(self):
        """The engine module that profiles this table (profile_kinds, plan_profile,
        compute_profile; the same signatures as profiles/duckdb_engine)."""
        from aidebt_core.engines import spark_profile

        return spark_profile

    def execute(self, query, params=None):
        raise SparkSourceError(
            f"{self.label} is read by Apache Spark, which sends aidebt counts, not rows: this "
            f"analysis needs the rows. On Spark sources aidebt runs {FROM_SPARK}; for the "
            "others export the data (or a sample) to Parquet and give that (docs/spark.md).")


def open_spark_table(con, spec: str, options: SparkOptions) -> SparkTable:
    """Open `spec` (spark:...) in Spark and stand it in `con` as an empty typed view."""
    from aidebt_core.engines.spark_profile import duckdb_type

    source = open_spark_source(spec, options)
    view = f"aidebt_spark_{next(_counter)}"
    parts = [f"CAST(NULL AS {_view_type(duckdb_type(kind))}) AS {quote_ident(name)}"
             for name, kind in source.columns]
    con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(view)} AS SELECT "
                f"{', '.join(parts)} WHERE false")
    return SparkTable(con=con, view=view, label=source.label, source=source)


def _view_type(duckdb_name: str) -> str:
    """A type DuckDB can declare for the empty view (nested Spark types only need to be seen
    as nested, not to be exact)."""
    return {"STRUCT": "STRUCT(x VARCHAR)", "MAP": "MAP(VARCHAR, VARCHAR)"}.get(duckdb_name,
                                                                               duckdb_name)


def is_spark_table(table: object) -> bool:
    return isinstance(table, SparkTable)


def profile_engine(table: object):
    """The module that profiles `table`: its own `profiler()` (a Spark source), else DuckDB's."""
    if hasattr(table, "profiler"):
        return table.profiler()
    from aidebt_core.profiles import duckdb_engine

    return duckdb_engine
