"""Spark SQL snippets and the one place a Spark job's result is fetched, shared by the plan
(spark_plan.py) and the profile (spark_profile.py) of a Spark source.

The snippets spell docs/profiles.md's readings in Spark SQL: `v = CAST(col AS DOUBLE)`, a
finite value, a categorical column as STRING. Every job goes through `fetch_rows` or
`fetch_table`, so the jobs a profile costs can be counted (tests/unit/test_spark_profile.py).
"""

from __future__ import annotations

from collections import deque

from aidebt_core.engines.spark import SparkSource, spark_column, spark_errors

INF = "CAST('Infinity' AS DOUBLE)"
NULL_TEXT = "CAST(NULL AS STRING)"
NULL_DOUBLE = "CAST(NULL AS DOUBLE)"
ZERO = "CAST(0.0 AS DOUBLE)"


def unwrap(source) -> SparkSource:
    """A SparkSource, or the one a SparkTable (engines/spark_table.py) carries."""
    inner = getattr(source, "source", None)
    return inner if isinstance(inner, SparkSource) else source


def num(col: str) -> str:
    return f"CAST({spark_column(col)} AS DOUBLE)"


def finite(col: str) -> str:
    v = num(col)
    return f"({v} IS NOT NULL AND NOT isnan({v}) AND abs({v}) != {INF})"


def finite_value(col: str) -> str:
    """The DOUBLE value when finite, else NULL (Spark's aggregates skip NULLs)."""
    return f"(CASE WHEN {finite(col)} THEN {num(col)} END)"


def guarded(col: str) -> str:
    """The value with NULL/NaN/inf as 0.0, so a bin's CAST(floor(...) AS BIGINT) never sees
    them (ANSI mode fails on such casts); the caller's CASE drops those rows anyway."""
    return f"(CASE WHEN {finite(col)} THEN {num(col)} ELSE {ZERO} END)"


def text(col: str | None) -> str:
    return NULL_TEXT if col is None else f"CAST({spark_column(col)} AS STRING)"


def is_connect(source: SparkSource) -> bool:
    return type(source.frame).__module__.startswith("pyspark.sql.connect")


def functions(source: SparkSource):
    """pyspark's functions module for this source's session: Spark Connect has its own."""
    if is_connect(source):
        from pyspark.sql.connect import functions as connect_functions

        return connect_functions
    from pyspark.sql import functions as classic_functions

    return classic_functions


def window(source: SparkSource):
    if is_connect(source):
        from pyspark.sql.connect.window import Window
    else:
        from pyspark.sql import Window
    return Window


JOBS: deque[str] = deque(maxlen=256)  # what the last fetched jobs were for (read by tests)


def fetch_rows(source: SparkSource, frame, what: str) -> list:
    """Run one Spark job and return its (small) result as Rows."""
    JOBS.append(what)
    with spark_errors(source.label):
        return frame.collect()


def fetch_table(source: SparkSource, frame, what: str):
    """Run one Spark job and return its result as a pyarrow Table: columnar, a few bytes a
    count, where Rows would cost a Python object per field."""
    JOBS.append(what)
    with spark_errors(source.label):
        return frame.toArrow()
