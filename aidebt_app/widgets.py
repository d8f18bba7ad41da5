"""Widgets more than one page uses, so the same control behaves the same everywhere."""

from __future__ import annotations

import streamlit as st

from aidebt_core.chunks import PERIODS


def chunking_controls(prefix: str, has_timestamp: bool, default_rows: int, rows_step: int,
                      band_label: str, band_help: str) -> tuple[str, float]:
    """Chunk-by, rows-per-chunk and alert-band widgets in one row.

    Returns the chunking spec (`Chunking.parse` accepts it: a period or a row count) and the
    band width in reference standard deviations. Keys: `{prefix}_chunk`, `{prefix}_rows`,
    `{prefix}_sigmas`.
    """
    left, middle, right = st.columns(3)
    kind = left.selectbox("Chunk by", [*PERIODS, "rows"], key=f"{prefix}_chunk",
                          index=PERIODS.index("month") if has_timestamp else len(PERIODS),
                          help="Calendar periods need a timestamp column.")
    size = middle.number_input("Rows per chunk", min_value=100, value=default_rows,
                               step=rows_step, key=f"{prefix}_rows", disabled=kind != "rows")
    sigmas = right.slider(band_label, 2.0, 4.0, 3.0, 0.5, key=f"{prefix}_sigmas",
                          help=band_help)
    return (str(int(size)) if kind == "rows" else kind), float(sigmas)
