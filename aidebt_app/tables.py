"""Tables people can read, drawn with Streamlit: `show_table` draws what
`aidebt_core.reports.tables.prepare_table` prepares (human headers, fixed decimals per column,
key columns first, raw columns in an expander, "—" for a missing value). The numbers stay
numbers underneath (a pandas Styler supplies the text), so sorting a column sorts by value,
not by its text. The pure part lives in aidebt_core so the reports use the same rules; its
names are re-exported here for the pages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from aidebt_core.reports.tables import (  # noqa: F401  (re-exported for the pages and tests)
    MISSING,
    STYLER_MAX_CELLS,
    Formatter,
    PreparedTable,
    auto_decimals,
    fixed,
    human_header,
    kind,
    prepare_table,
    readable_table,
    text,
)


def show_table(frame: pd.DataFrame, *, key_columns: Iterable[str] = (),
               formats: Mapping[str, str | int | Formatter] | None = None,
               raw_columns: Iterable[str] = (), labels: Mapping[str, str] | None = None,
               help: Mapping[str, str] | None = None, hide: Iterable[str] = (),
               raw_label: str = "More columns", key: str | None = None,
               height: int | str = "auto", **dataframe_kwargs):
    """Draw `frame` as a readable table (see `prepare_table`); raw columns in an expander.
    Extra keyword arguments go to `st.dataframe` (e.g. `on_select`). Returns its value."""
    import streamlit as st

    table = prepare_table(frame, key_columns=key_columns, formats=formats,
                          raw_columns=raw_columns, labels=labels, help=help, hide=hide)
    shown = _draw(st, table.values, table.display, table, key=key, height=height,
                  **dataframe_kwargs)
    if table.raw_values is not None:
        with st.expander(raw_label):
            _draw(st, table.raw_values, table.raw_display, table,
                  key=f"{key}_raw" if key else None)
    return shown


def _draw(st, values: pd.DataFrame, display: pd.DataFrame, table: PreparedTable, *,
          key=None, height="auto", **kwargs):
    config = {col: st.column_config.Column(help=table.help[col]) for col in values.columns
              if col in table.help}
    if values.size > STYLER_MAX_CELLS or not values.columns.is_unique:
        data = display  # the text itself: cheap to send, same cells
    else:
        data = values.style.format({c: table.formatters[c] for c in values.columns},
                                   na_rep=MISSING)
    return st.dataframe(data, hide_index=True, width="stretch", column_config=config or None,
                        placeholder=MISSING,
                        key=key, height=height, **kwargs)
