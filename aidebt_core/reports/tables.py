"""Tables people can read: human headers, fixed decimals per column, key columns first, raw
columns out of the way, and no literal None / nan / -0.000 (a missing value shows as "—").

Pure (pandas only, no Streamlit): the dashboard draws `prepare_table`'s result with
`aidebt_app.tables.show_table`, and the HTML/Markdown reports print `readable_table`'s text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aidebt_core.plots.theme import FORMATS, format_value, measure_kind

MISSING = "—"
STYLER_MAX_CELLS = 100_000  # above this a Styler is slow to send: the text itself is sent
# Words shown in capitals (or a fixed spelling) in headers.
_WORDS = {"ci": "CI", "psi": "PSI", "auc": "AUC", "roc": "ROC", "id": "ID", "ks": "KS",
          "pca": "PCA", "ml": "ML", "mlflow": "MLflow", "url": "URL", "csv": "CSV", "kl": "KL",
          "js": "JS", "mb": "MB", "gb": "GB", "pr": "PR", "f1": "F1", "mae": "MAE", "rmse": "RMSE",
          "mse": "MSE", "r2": "R²", "p": "p", "q": "q", "vs": "vs", "pct": "%", "n": "n"}
_SPECIAL = {"p_value": "p-value", "q_value": "q-value", "pvalue": "p-value", "qvalue": "q-value",
            "size_mb": "Size (MB)", "missing_share": "Missing (%)", "top_value": "Most frequent",
            "top_count": "Most frequent (rows)", "std": "Std. dev.", "n_rows": "Rows"}

Formatter = Callable[[object], str]


def human_header(name: str) -> str:
    """"ci_low" -> "CI low", "missing_share" -> "Missing (%)", "p_value" -> "p-value"."""
    text = str(name)
    if text.lower() in _SPECIAL:
        return _SPECIAL[text.lower()]
    if not re.fullmatch(r"[A-Za-z0-9_]+", text) or "_" not in text and not text.islower():
        return text  # already a label ("Cramér's V", "ROC AUC")
    words = [w for w in text.split("_") if w]
    out = [_WORDS.get(w.lower(), w.lower()) for w in words]
    if out and out[0] == words[0].lower() and out[0] not in ("p", "q", "n", "vs"):
        out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)


def fixed(decimals: int, signed: bool = False) -> Formatter:
    """A formatter with exactly `decimals` decimals and thousands separators (a leading "+"
    when `signed`); a value that rounds to zero has no sign ("0.000", never "-0.000")."""
    def _format(value) -> str:
        x = _number(value)
        if x is None:
            return MISSING if _missing(value) else str(value)
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        text = f"{x:+,.{decimals}f}" if signed else f"{x:,.{decimals}f}"
        return text[1:] if text[0] in "+-" and not any(c in "123456789" for c in text) \
            else text
    return _format


def kind(measure_kind_name: str) -> Formatter:
    """A formatter for a theme format kind ("rate", "statistic", "pvalue", "count", ...)."""
    return lambda value: format_value(value, measure_kind_name, missing=MISSING)


def text(value) -> str:
    """Any cell as text; missing -> "—"."""
    if _missing(value):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return fixed(3)(value)
    return str(value)


def auto_decimals(values: pd.Series) -> int:
    """Decimals giving the column's typical (median absolute) value 3 significant digits, 0..4."""
    x = pd.to_numeric(values, errors="coerce").abs()
    x = x[np.isfinite(x) & (x > 0)]
    if x.empty:
        return 0
    if (x == x.round()).all():
        return 0
    return int(min(4, max(0, 2 - math.floor(math.log10(float(x.median()))))))


@dataclass(frozen=True)
class PreparedTable:
    """What `show_table` draws. `values` keeps the numbers (for sorting), `display` is the text
    every cell shows (what a reader sees), `raw_*` the columns that go in the expander."""

    values: pd.DataFrame
    display: pd.DataFrame
    formatters: dict[str, Formatter]
    raw_values: pd.DataFrame | None = None
    raw_display: pd.DataFrame | None = None
    help: dict[str, str] = field(default_factory=dict)


def prepare_table(frame: pd.DataFrame, *, key_columns: Iterable[str] = (),
                  formats: Mapping[str, str | int | Formatter] | None = None,
                  raw_columns: Iterable[str] = (), labels: Mapping[str, str] | None = None,
                  help: Mapping[str, str] | None = None,
                  hide: Iterable[str] = ()) -> PreparedTable:
    """Order, label and format a frame for display.

    `formats` per column: a theme kind ("rate", "statistic", "pvalue", "count", "signed",
    "score"), an int (that many decimals) or a callable; other columns get a format from their
    type and name (integers as counts, rate-like names as %, floats with fixed decimals that
    give the column's typical value 3 significant digits). `raw_columns` move to the raw part
    (shown in an expander, with the key columns). `hide` drops columns. Headers are
    `labels[col]` or `human_header(col)`.
    """
    formats = dict(formats or {})
    labels = dict(labels or {})
    hide = set(hide)
    keys = [c for c in key_columns if c in frame.columns and c not in hide]
    raw = [c for c in raw_columns if c in frame.columns and c not in hide and c not in keys]
    main = keys + [c for c in frame.columns if c not in keys and c not in raw and c not in hide]
    header = {c: labels.get(c) or human_header(c) for c in frame.columns}
    formatters = {header[c]: _formatter(frame[c], formats.get(c), c) for c in frame.columns}
    tips = {header[c]: t for c, t in (help or {}).items() if c in frame.columns}

    def build(columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
        values = frame[columns].rename(columns=header).reset_index(drop=True)
        values = values.apply(_clean_numbers)
        display = pd.DataFrame({col: [formatters[col](v) for v in values[col]]
                                for col in values.columns}, index=values.index)
        return values, display

    values, display = build(main)
    raw_values = raw_display = None
    if raw:
        raw_values, raw_display = build(keys + raw)
    return PreparedTable(values, display, {c: formatters[c] for c in header.values()},
                         raw_values, raw_display, tips)


def _formatter(series: pd.Series, spec, name: str) -> Formatter:
    if callable(spec):
        return lambda v: MISSING if _missing(v) else str(spec(v))
    if isinstance(spec, int) and not isinstance(spec, bool):
        return fixed(spec)
    if isinstance(spec, str):
        if spec not in FORMATS:
            raise ValueError(f"unknown table format {spec!r} for column {name!r}; "
                             f"use one of {sorted(FORMATS)}, a number of decimals or a function")
        return kind(spec)
    if pd.api.types.is_bool_dtype(series):
        return lambda v: MISSING if _missing(v) else ("yes" if v else "no")
    if pd.api.types.is_datetime64_any_dtype(series):
        with_time = _has_time(series)
        return lambda v: MISSING if _missing(v) else pd.Timestamp(v).strftime(
            "%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
    if pd.api.types.is_integer_dtype(series):
        if _is_identifier(name):  # 2025, version 12: no thousands separator
            return lambda v: MISSING if _missing(v) else str(int(v))
        return kind("count")
    if pd.api.types.is_float_dtype(series):
        measure = measure_kind(name)
        if measure in ("rate", "pvalue", "count"):
            return kind(measure)
        return fixed(auto_decimals(series))
    return text


def _is_identifier(name: str) -> bool:
    key = str(name).lower()
    return key in ("year", "version", "month", "day", "week", "run", "step", "epoch") or \
        key.endswith(("_id", "_year", "_version"))


def _clean_numbers(column: pd.Series) -> pd.Series:
    """-0.0 -> 0.0 (so sorting and copies never carry a negative zero)."""
    if pd.api.types.is_float_dtype(column):
        return column + 0.0
    return column


def _has_time(series: pd.Series) -> bool:
    s = series.dropna()
    return bool(len(s)) and bool((s != s.dt.normalize()).any())


def _number(value) -> float | None:
    if isinstance(value, bool | np.bool_) or _missing(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def readable_table(frame: pd.DataFrame, **options) -> pd.DataFrame:
    """The table as text for a report: human headers, fixed decimals and "—" for a missing
    value, every cell already a string (so the report prints it as is). `options` are
    `prepare_table`'s; a report has no expander, so `raw_columns` would be left out: leave
    out what a report does not need with `hide`, or fold it into another column."""
    return prepare_table(frame, **options).display


# --- fitting a table into a page's width ----------------------------------------------------
# The dashboard's grid sizes each column to its longest text (header or cell, 14 px sans
# serif): about 6.6 px a character plus the cell's padding, never narrower than ~50 px.
CHAR_PX = 6.6
CELL_PAD_PX = 16
MIN_COLUMN_PX = 50
MAX_COLUMN_PX = 420


def column_width_px(header: str, cells: Iterable[str]) -> int:
    """About how wide the grid draws a column holding `header` and the text `cells`."""
    chars = max([len(str(header)), *(len(str(c)) for c in cells)])
    return int(min(MAX_COLUMN_PX, max(MIN_COLUMN_PX, chars * CHAR_PX + CELL_PAD_PX)))


def columns_that_fit(display: pd.DataFrame, width_px: int) -> list[str]:
    """The leading columns of `display` (its text, as `prepare_table` gives it) that fit in
    `width_px` side by side: at least the first one, then each next one while it fits."""
    shown, used = [], 0
    for name in display.columns:
        width = column_width_px(name, display[name])
        if shown and used + width > width_px:
            break
        shown.append(name)
        used += width
    return shown
