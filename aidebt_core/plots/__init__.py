"""Plot builders: each takes a result object and returns a plotly Figure (no data access)."""
