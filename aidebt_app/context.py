"""The sidebar selection, shared by every page through session state and the URL."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from datetime import date

import streamlit as st

from aidebt_core.data import connect, is_temporal_type, open_table
from aidebt_core.errors import AidebtError
from aidebt_core.selection import FILES, SPLIT, Selection, sample_selection, sqlite_tracking_uri
from aidebt_core.workspace import Workspace

_SELECTION = "aidebt_selection"
_ROLES = "aidebt_roles"
_MODE_LABELS = {SPLIT: "One data set, split on a date", FILES: "Two data sets"}


@contextmanager
def guard():
    """Show a user error as a message and stop the page; the session state is kept."""
    try:
        yield
    except AidebtError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()


def page_header(title: str, caption: str = "") -> None:
    _leave_legacy_pages_mode()
    st.title(title)
    selection = st.session_state.get(_SELECTION)
    where = f"Data: {selection.describe()}" if selection else ""
    st.caption(" · ".join(part for part in (caption, where) if part))


def _leave_legacy_pages_mode() -> None:
    """Make sure app.py, not the page alone, runs the page.

    A server whose first request is a deep link (/drift) runs the page file alone, in
    Streamlit's legacy mode for a `pages/` folder, until some run calls st.navigation; that
    would drop the sidebar and the link's selection. Leave that mode and rerun through app.py.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def current_selection() -> Selection:
    """The selection made in the sidebar (app.py renders the sidebar before each page)."""
    _leave_legacy_pages_mode()
    selection = st.session_state.get(_SELECTION)
    if selection is None:  # a page run on its own, e.g. in a test
        selection = sample_selection()
    return selection.with_roles(st.session_state.get(_ROLES, {}))


def set_role_overrides(overrides: dict[str, str]) -> None:
    st.session_state[_ROLES] = dict(overrides)


@st.cache_data(ttl=30, show_spinner=False)
def _sources(workspace: str) -> list[str]:
    return Workspace.at(workspace).list_sources()


@st.cache_data(ttl=30, show_spinner=False)
def _timestamp_columns(workspace: str, source: str) -> list[str]:
    ws = Workspace.at(workspace)
    con = connect(ws)
    try:
        types = open_table(con, ws, source).column_types
    finally:
        con.close()
    # Real timestamp columns first, then text columns whose names say they hold times.
    temporal = [name for name, kind in types.items() if is_temporal_type(kind)]
    named = [name for name, kind in types.items() if not is_temporal_type(kind)
             and ("date" in name.lower() or "time" in name.lower() or name.lower().endswith("_at"))]
    return temporal + named


def _init_state() -> None:
    """On a session's first run, take the selection from the URL, else the sample scenario."""
    if "sb_ws" in st.session_state:
        return
    default = Selection.from_query_params(st.query_params.to_dict(), sample_selection())
    st.session_state.update({
        "sb_ws": default.workspace, "sb_mode": default.mode, "sb_src": default.source,
        "sb_ts": default.split_column, "sb_at": _as_date(default.split_at),
        "sb_ref": default.reference, "sb_cur": default.current, "sb_mlflow": default.tracking_uri,
    })


def _as_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _pick(label: str, options: list[str], key: str, help: str | None = None) -> str:
    """A selectbox that keeps an out-of-list value from the URL visible instead of dropping it."""
    value = st.session_state.get(key)
    if value and value not in options:
        options = [value, *options]
    if not options:
        st.sidebar.warning(f"No data files found for '{label}'.")
        return ""
    return st.sidebar.selectbox(label, options, key=key, help=help) or ""


def render_sidebar() -> Selection:
    """Workspace, reference/current data and MLflow store; stored in state and in the URL."""
    _init_state()
    sidebar = st.sidebar
    sidebar.header("Workspace")
    workspace = sidebar.text_input(
        "Data folder or .duckdb file", key="sb_ws",
        help="aidebt reads data only under this folder (and AIDEBT_ALLOWED_DIRS).")
    try:
        sources = _sources(workspace)
    except AidebtError as exc:
        sidebar.error(str(exc))
        sources = []
    mode = sidebar.radio("Reference and current", list(_MODE_LABELS), key="sb_mode",
                         format_func=_MODE_LABELS.get)
    if mode == SPLIT:
        source = _pick("Data set", sources, "sb_src")
        try:
            ts_options = _timestamp_columns(workspace, source) if source else []
        except AidebtError as exc:
            sidebar.error(str(exc))
            ts_options = []
        ts = _pick("Timestamp column", ts_options, "sb_ts")
        split_at = sidebar.date_input("Current starts on", key="sb_at", format="YYYY-MM-DD",
                                      help="Rows before this date are the reference.")
        selection = Selection(workspace=workspace, mode=SPLIT, source=source, split_column=ts,
                              split_at=split_at.isoformat() if split_at else "")
    else:
        reference = _pick("Reference data", sources, "sb_ref",
                          help="What the model was trained and validated on.")
        current = _pick("Current data", sources, "sb_cur", help="What production sees now.")
        selection = Selection(workspace=workspace, mode=FILES, reference=reference,
                              current=current)
    sidebar.header("MLflow")
    if not st.session_state.get("sb_mlflow") and workspace:
        st.session_state["sb_mlflow"] = sqlite_tracking_uri(Workspace.at(workspace).folder) \
            if _exists(workspace) else ""
    tracking_uri = sidebar.text_input("Tracking URI", key="sb_mlflow",
                                      help="sqlite:///path/mlflow.db, a folder, or http://host:port")
    selection = replace(selection, tracking_uri=tracking_uri)
    st.session_state[_SELECTION] = selection
    for key, value in selection.to_query_params().items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    return selection


def _exists(workspace: str) -> bool:
    try:
        Workspace.at(workspace)
        return True
    except AidebtError:
        return False
