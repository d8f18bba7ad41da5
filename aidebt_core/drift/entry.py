"""Drift as a registered analysis (aidebt_core/analyses.py): `run(data, options)`.

`data` is opened inputs (the CLI's `open_inputs`, a page's `selection.open()`): every
comparable column of `data.reference` against `data.current`, by `options` (DriftOptions).
"""

from __future__ import annotations

from aidebt_core.drift.options import DriftOptions
from aidebt_core.drift.result import DriftResult


def run(data, options: DriftOptions) -> DriftResult:
    from aidebt_core.drift.univariate import analyse_drift

    return analyse_drift(data.reference, data.current, data.schema, options=options)
