"""Self-contained reports (HTML/Markdown via `aidebt_core.report.Report`), one module per analysis.

A report is built from an analysis's result alone (with the chart builders of `plots/`); it
never reads data. The analysis packages do not import this package or `plots/`, so the
dependency runs one way: core -> results -> figures/reports -> CLI/pages.
Nothing is imported here: loading one report must not load every analysis.
"""
