"""Widgets more than one page uses, so the same control behaves the same everywhere."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from aidebt_core.chunks import MIN_CHUNK_LABELS, MIN_CHUNK_ROWS, PERIODS


@dataclass(frozen=True)
class ChunkSettings:
    """What the chunk controls chose: `chunking` is a `Chunking.parse` spec (a period or a row
    count); `sigmas` the band width; chunks under `min_rows` rows (or `min_labels` labels, for
    metrics) are shown as too small to judge and never alert."""

    chunking: str
    sigmas: float
    min_rows: int
    min_labels: int


def chunking_controls(prefix: str, has_timestamp: bool, default_rows: int, rows_step: int,
                      band_label: str, band_help: str, labels: bool = False) -> ChunkSettings:
    """Chunk-by, rows-per-chunk and alert-band widgets in one row, the minimum chunk size
    (rows, and labels when `labels`) in a second. Keys: `{prefix}_chunk`, `{prefix}_rows`,
    `{prefix}_sigmas`, `{prefix}_min_rows`, `{prefix}_min_labels`."""
    left, middle, right = st.columns(3)
    kind = left.selectbox("Chunk by", [*PERIODS, "rows"], key=f"{prefix}_chunk",
                          index=PERIODS.index("month") if has_timestamp else len(PERIODS),
                          help="Calendar periods need a timestamp column.")
    size = middle.number_input("Rows per chunk", min_value=100, value=default_rows,
                               step=rows_step, key=f"{prefix}_rows", disabled=kind != "rows")
    sigmas = right.slider(band_label, 2.0, 4.0, 3.0, 0.5, key=f"{prefix}_sigmas",
                          help=band_help)
    first, second, _ = st.columns(3)
    min_rows = first.number_input(
        "Too small below (rows)", min_value=1, value=MIN_CHUNK_ROWS, step=50,
        key=f"{prefix}_min_rows",
        help=f"Chunks with fewer rows are greyed 'too small to judge' and never alert "
             f"(default {MIN_CHUNK_ROWS}: below it a share's 95 % interval is wider than "
             "±5.7 points).")
    min_labels = MIN_CHUNK_LABELS
    if labels:
        min_labels = second.number_input(
            "Too few labels below", min_value=1, value=MIN_CHUNK_LABELS, step=25,
            key=f"{prefix}_min_labels",
            help=f"Chunks with fewer labels make no realized-metric or concept-drift claim "
                 f"(default {MIN_CHUNK_LABELS}: accuracy's 95 % interval is up to ±10 points "
                 "wide there).")
    return ChunkSettings(str(int(size)) if kind == "rows" else kind, float(sigmas),
                         int(min_rows), int(min_labels))
