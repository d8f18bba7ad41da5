"""Profiles: mergeable per-chunk summaries that analyses read instead of raw rows.

`model` holds the data types, merge and the `.aidebt` file layout; `duckdb_engine` computes
profiles in DuckDB SQL; `stats` derives drift and performance statistics from them, each
stating whether it is exact or carries a bound.
"""
