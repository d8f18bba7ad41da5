"""Slice-level metrics and weak-slice discovery (evaluation debt: "metric myopia").

`analyse(current, target, prediction, ...)` returns a `SliceResult`; the pieces are importable
on their own: `intervals` (Wilson, z/Welch tests, BH), `encode` (binning), `metrics` (per-slice
evaluation), `discovery` (SliceLine-style search), `breakdown` (breakdown and compare) and
`pick` (what discovery reports) and `define` (slices as predicates; `apply_slice` filters
any table to a slice).
"""

from aidebt_core.slices.analysis import SliceResult, analyse, default_features
from aidebt_core.slices.define import SliceDef, apply_slice, parse_slice
from aidebt_core.slices.metrics import METRICS

__all__ = ["METRICS", "SliceDef", "SliceResult", "analyse", "apply_slice", "default_features",
           "parse_slice"]
