"""Data: the sources, their sizes, column roles (editable), a preview and summary statistics."""

import zlib

import pandas as pd
import streamlit as st

from aidebt_app.cache import run_on_data, run_recent
from aidebt_app.context import (
    LISTING_TTL,
    current_selection,
    guard,
    page_header,
    role_overrides,
    set_role_overrides,
)
from aidebt_app.glossary import help_text
from aidebt_app.tables import human_header, prepare_table, show_table
from aidebt_core.data import preview, row_count
from aidebt_core.profile import profile_table
from aidebt_core.reports.tables import columns_that_fit
from aidebt_core.roles import ROLES_FILE, write_dataset_roles
from aidebt_core.schema import ROLES
from aidebt_core.sources import describe_sources
from aidebt_core.textsafe import md
from aidebt_core.workspace import Workspace

_SAVED = "data_roles_saved"  # the message of the last save, shown once after its rerun
# The preview shows, without sideways scrolling at 1440 px (the main area is ~980 px wide
# beside the sidebar), the key columns first and then the inputs that still fit.
PREVIEW_FIRST = ("id", "timestamp", "target", "prediction", "score")
PREVIEW_WIDTH_PX = 940


def workspace_sources(workspace: str) -> list[dict]:
    return describe_sources(Workspace.at(workspace))


def overview(data) -> dict:
    return {
        "reference_rows": row_count(data.reference),
        "current_rows": row_count(data.current),
        "reference_label": data.reference.label,
        "current_label": data.current.label,
        "schema": data.schema,
        "reference_profile": profile_table(data.reference, data.schema),
        "current_profile": profile_table(data.current, data.schema),
        "preview": preview(data.reference, 100),
    }


page_header("Data", "What aidebt reads, and the role each column plays in the analyses.")
selection = current_selection()
with guard():
    facts = run_on_data(overview, selection, spinner="Reading the data…")

with st.expander("Data sources in this workspace"):
    sources = pd.DataFrame(run_recent(workspace_sources, selection.workspace, ttl=LISTING_TTL))
    if sources.empty:
        st.info("No CSV, Parquet, JSON Lines or DuckDB files in this folder.")
    else:
        sources.insert(1, "in use", sources["source"].isin(selection.sources))
        if not sources["problem"].astype(bool).any():
            sources = sources.drop(columns=["problem"])
        show_table(sources, key_columns=["source", "in use"], formats={"size_mb": 2})

left, right, third = st.columns(3)
left.metric("Reference rows", f"{facts['reference_rows']:,}",
            help=md(facts["reference_label"]))
right.metric("Current rows", f"{facts['current_rows']:,}", help=md(facts["current_label"]))
third.metric("Columns", len(facts["schema"].columns))

st.subheader("Column roles")
st.caption("Roles were inferred from types, names and values, then taken from the workspace's "
           f"{ROLES_FILE} if it has them. Change any of them: every page uses these roles "
           "(features, target, prediction, score, timestamp). Changes travel in the page's link; "
           "Save roles keeps them for everyone who opens this data set.")
schema = facts["schema"]
folder = Workspace.at(selection.workspace).folder
saved_roles = dict(selection.file_roles or ())
roles_frame = schema.to_frame()
# Exact distinct counts from the profile (never more than the rows, unlike an estimate).
exact_distinct = {c.name: c.distinct for c in facts["reference_profile"].columns}
roles_frame["distinct"] = roles_frame["column"].map(exact_distinct).astype("Int64")
edited = st.data_editor(
    roles_frame, key="roles_editor", hide_index=True, width="stretch", placeholder="—",
    disabled=[c for c in roles_frame.columns if c != "role"],
    column_config={
        "column": st.column_config.TextColumn("Column"),
        "type": st.column_config.TextColumn("Type"),
        "role": st.column_config.SelectboxColumn("Role", options=list(ROLES), required=True,
                                                 help=help_text("role")),
        "distinct": st.column_config.NumberColumn("Distinct values", format="localized"),
        "missing_share": st.column_config.ProgressColumn("Missing", format="percent",
                                                          min_value=0.0, max_value=1.0,
                                                          help=help_text("missing share")),
    })
inferred = {c.name: c.inferred_role for c in schema.columns}
wanted = {name: role for name, role in zip(edited["column"], edited["role"], strict=True)
          if role != inferred[name]}
# What differs from the saved file: roles set here, and saved roles set back to inference.
unsaved = {name: role for name, role in wanted.items() if saved_roles.get(name) != role}
unsaved |= {name: inferred[name] for name in saved_roles if name in inferred
            and name not in wanted}
if unsaved != role_overrides():
    set_role_overrides(unsaved)
    st.rerun()
if message := st.session_state.pop(_SAVED, None):
    st.success(message, icon=":material/check:")
if unsaved:
    st.info("Your role changes (not saved): "
            + ", ".join(f"{md(k)} → {md(v)}" for k, v in unsaved.items()))
if st.button("Save roles", key="save_roles", disabled=not unsaved,
             help=f"Write these roles to {ROLES_FILE} in the workspace folder, for this data "
                  "set."):
    keep = {name: role for name, role in saved_roles.items() if name not in inferred}
    with guard():
        path = write_dataset_roles(folder, selection.roles_source, keep | wanted)
    set_role_overrides({})
    st.session_state[_SAVED] = f"Saved the roles of {md(selection.roles_source)} to {md(path)}."
    st.rerun()

st.subheader("Summary statistics")
side = st.segmented_control("Period", ["Reference", "Current"], default="Reference",
                            key="profile_side") or "Reference"
profile = facts["reference_profile" if side == "Reference" else "current_profile"]
table = profile.to_frame().drop(columns=["rows"])
numeric = table[table["mean"].notna()].drop(columns=["top_value", "top_count"])
other = table[table["mean"].isna()][["column", "type", "role", "missing", "missing_share",
                                     "distinct", "top_value", "top_count"]]
# Rows are columns of very different scales (income, shares): 3 significant digits per cell.
stat = {c: "statistic" for c in ("mean", "std", "min", "p25", "median", "p75", "max")}
st.markdown("**Numeric columns**")
show_table(numeric, key_columns=["column", "type", "role"], formats=stat,
           raw_columns=["non_finite"], labels={"p25": "25th pct.", "p75": "75th pct."},
           raw_label="Non-finite values")
st.markdown("**Categorical, boolean, text and time columns**")
show_table(other, key_columns=["column", "type", "role"], formats={"top_count": "count"})

st.subheader("Preview")
rows = pd.DataFrame(facts["preview"])
role_of = {c.name: c.role for c in schema.columns}
key_columns = [c for role in PREVIEW_FIRST for c in rows.columns if role_of.get(c) == role]
ordered = key_columns + [c for c in rows.columns if c not in key_columns]
labels = {c: human_header(c) for c in ordered}
fitting = columns_that_fit(prepare_table(rows[ordered]).display, PREVIEW_WIDTH_PX)
fitting = [c for c, label in zip(ordered, labels.values(), strict=True) if label in fitting]
# One picker per set of columns: another data set starts again from the columns that fit.
picker = f"preview_columns_{zlib.crc32(chr(31).join(ordered).encode()):08x}"
picked = st.multiselect(
    "Columns shown", ordered, default=fitting, key=picker, format_func=labels.get,
    help="The id, time, target and model columns come first, then the inputs in file order. "
         "Add any column here; with more than fit the width the table scrolls sideways.")
shown = [c for c in ordered if c in picked] or ordered[:1]
st.caption(f"The first {len(rows):,} reference rows: {len(shown)} of {len(ordered)} columns"
           + (" (pick the others above)." if len(shown) < len(ordered) else "."))
with st.container(key="data_preview"):
    show_table(rows[shown], key="data_preview_table")
