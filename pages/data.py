"""Data: the sources, their sizes, column roles (editable), a preview and summary statistics."""

import pandas as pd
import streamlit as st

from aidebt_app.context import current_selection, guard, page_header, set_role_overrides
from aidebt_core.data import preview, row_count
from aidebt_core.profile import profile_table
from aidebt_core.schema import ROLES
from aidebt_core.selection import Selection
from aidebt_core.workspace import Workspace, describe_sources


@st.cache_data(ttl=30, show_spinner=False)
def workspace_sources(workspace: str) -> list[dict]:
    return describe_sources(Workspace.at(workspace))


@st.cache_data(show_spinner="Reading the data…", max_entries=16)
def overview(selection: Selection):
    with selection.open() as data:
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
    facts = overview(selection)

with st.expander("Data sources in this workspace"):
    sources = pd.DataFrame(workspace_sources(selection.workspace))
    if sources.empty:
        st.info("No CSV, Parquet, JSON Lines or DuckDB files in this folder.")
    else:
        sources.insert(1, "in use", sources["source"].isin(selection.sources))
        st.dataframe(sources, hide_index=True, width="stretch",
                     column_config={"size_mb": st.column_config.NumberColumn("size (MB)",
                                                                            format="%.2f")})

left, right, third = st.columns(3)
left.metric("Reference rows", f"{facts['reference_rows']:,}", help=facts["reference_label"])
right.metric("Current rows", f"{facts['current_rows']:,}", help=facts["current_label"])
third.metric("Columns", len(facts["schema"].columns))

st.subheader("Column roles")
st.caption("Roles were inferred from types, names and values. Change any of them: every page "
           "uses these roles (features, target, prediction, score, timestamp).")
schema = facts["schema"]
edited = st.data_editor(
    schema.to_frame(), key="roles_editor", hide_index=True, width="stretch",
    disabled=["column", "type", "distinct", "missing_share"],
    column_config={
        "role": st.column_config.SelectboxColumn("role", options=list(ROLES), required=True),
        "missing_share": st.column_config.ProgressColumn("missing", format="percent",
                                                          min_value=0.0, max_value=1.0),
    })
inferred = {c.name: c.inferred_role for c in schema.columns}
changed = {name: role for name, role in zip(edited["column"], edited["role"], strict=True)
           if role != inferred[name]}
if changed != selection.role_overrides:
    set_role_overrides(changed)
    st.rerun()
if changed:
    st.info("Your role changes: " + ", ".join(f"{k} → {v}" for k, v in changed.items()))

st.subheader("Summary statistics")
side = st.segmented_control("Period", ["Reference", "Current"], default="Reference",
                            key="profile_side") or "Reference"
profile = facts["reference_profile" if side == "Reference" else "current_profile"]
table = profile.to_frame().drop(columns=["rows"])
numeric = table[table["mean"].notna()].drop(columns=["top_value", "top_count"])
other = table[table["mean"].isna()][["column", "type", "role", "missing", "missing_share",
                                     "distinct", "top_value", "top_count"]]
st.markdown("**Numeric columns**")
st.dataframe(numeric, hide_index=True, width="stretch",
             column_config={"missing_share": st.column_config.NumberColumn(format="percent")})
st.markdown("**Categorical, boolean, text and time columns**")
st.dataframe(other, hide_index=True, width="stretch",
             column_config={"missing_share": st.column_config.NumberColumn(format="percent")})

st.subheader("Preview")
st.caption("The first 100 reference rows.")
st.dataframe(pd.DataFrame(facts["preview"]), hide_index=True, width="stretch")
