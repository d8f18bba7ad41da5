"""Drift as a registered analysis (aidebt_core/analyses.py): `run(data, options)`.

`data` is opened inputs (the CLI's `open_inputs`, a page's `selection.open()`): every
comparable column of `data.reference` against `data.current`, by `options` (DriftOptions),
or only the columns a `DriftColumnsOptions` names (the Drift page's column pick).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from aidebt_core.drift.options import DriftOptions
from aidebt_core.drift.result import DriftResult


@dataclass(frozen=True)
class DriftColumnsOptions(DriftOptions):
    """DriftOptions plus the columns to compare (None: every comparable column, as the CLI).

    The result keeps the plain DriftOptions: the columns compared are in the result itself."""

    columns: tuple[str, ...] | None = None


def run(data, options: DriftOptions) -> DriftResult:
    from aidebt_core.drift.univariate import analyse_drift

    columns = getattr(options, "columns", None)
    plain = DriftOptions(**{f.name: getattr(options, f.name) for f in fields(DriftOptions)})
    return analyse_drift(data.reference, data.current, data.schema,
                         columns=None if columns is None else list(columns), options=plain)
