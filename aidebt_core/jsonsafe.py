"""Turn results into JSON-safe values: plain floats, no NaN/inf (they become null)."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import numpy as np


def jsonable(value):
    """A copy of `value` that `json.dumps(..., allow_nan=False)` accepts."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if value is None:
        return None
    # pandas' missing markers exist only once pandas is imported: the CLI's drift never
    # imports it (a third of a second), so it is not imported here just to compare with them.
    pd = sys.modules.get("pandas")
    if pd is not None and (value is pd.NA or value is pd.NaT):
        return None
    if isinstance(value, datetime | date):  # pd.Timestamp is a datetime
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value
