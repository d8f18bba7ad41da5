"""argparse value types for numeric options: NaN, inf and out-of-range values refused at parse
time, so a gate such as `--k nan` or `--fail-below nan` cannot silently always pass.

Each factory returns a callable for `add_argument(type=...)`. A bad value raises
`argparse.ArgumentTypeError`, which argparse reports as `argument --k: <message>` (one
`error:` line, exit 2, through `cli._Parser.error`).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _bound_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '≥'} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '≤'} {high:g}")
    return " and ".join(parts)


def number(low: float | None = None, high: float | None = None, *, low_open: bool = False,
           high_open: bool = False) -> Callable[[str], float]:
    """A finite float within [low, high] (either end open or absent)."""
    wanted = "a finite number" + (f" {_bound_text(low, high, low_open, high_open)}"
                                  if low is not None or high is not None else "")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got '{text}'") from None
        if (not math.isfinite(value)
                or (low is not None and (value <= low if low_open else value < low))
                or (high is not None and (value >= high if high_open else value > high))):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got '{text}'")
        return value

    parse.__name__ = "number"
    return parse


def integer(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """A whole number within [low, high] (either end absent)."""
    wanted = "a whole number" + (f" {_bound_text(low, high, False, False)}"
                                 if low is not None or high is not None else "")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got '{text}'") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got '{text}'")
        return value

    parse.__name__ = "integer"
    return parse


# The shared ones, named for what they mean.
share = number(0.0, 1.0)                          # a fraction: completeness, a threshold
positive_share = number(0.0, 1.0, low_open=True)  # a fraction that must not be 0
open_unit = number(0.0, 1.0, low_open=True, high_open=True)  # a probability strictly inside
positive = number(0.0, low_open=True)             # a width in stds, a distance threshold
finite = number()                                 # any finite value (a metric floor)
positive_int = integer(1)                         # a count that must be at least one
port = integer(1, 65535)
