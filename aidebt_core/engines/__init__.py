"""Engines that turn a source into profiles outside the embedded DuckDB (Apache Spark).

Nothing here is imported unless a `spark:` source is used: pyspark is an optional extra.
"""
