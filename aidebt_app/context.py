"""The sidebar selection, shared by every page through session state and the URL.

The sidebar and a shared link choose only among what the operator allowed when the server
started (`aidebt_core.serving.ServeConfig`): one of the data roots, a data source listed in that
root, one of the tracking URIs. A link naming anything else gets a message and the default;
the value it named is never opened, listed or contacted.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, time

import pandas as pd
import streamlit as st

from aidebt_app.cache import run_on_table, run_recent
from aidebt_core.errors import AidebtError
from aidebt_core.roles import normalise_role
from aidebt_core.selection import (
    FILES,
    SPLIT,
    Selection,
    decode_roles,
    default_selection,
    encode_roles,
    format_split,
    median_split,
    time_columns,
)
from aidebt_core.serving import ServeConfig, display_uri
from aidebt_core.sources import SourceScan, scan_sources
from aidebt_core.textsafe import md
from aidebt_core.timeaxis import parse_boundary
from aidebt_core.workspace import Workspace

_SELECTION = "aidebt_selection"
_ROLES = "aidebt_roles"
_ROLES_FOR = "aidebt_roles_for"  # the data set the role overrides were made on
_LOADED_WS = "aidebt_loaded_ws"  # the root whose defaults the sidebar widgets hold
_REFUSED = "aidebt_refused"  # (messages, the selection they were shown with)
_SPLIT_FOR = "aidebt_split_for"  # (root, data set, time column) the split date was set for
_MODE_LABELS = {SPLIT: "One data set, split on a time", FILES: "Two data sets"}
_ROLES_PARAM = "roles"


@contextmanager
def guard():
    """Show a user error as a message and stop the page; the session state is kept."""
    try:
        yield
    except AidebtError as exc:
        st.error(md(exc), icon=":material/error:")
        st.stop()


def page_header(title: str, caption: str = "") -> None:
    _leave_legacy_pages_mode()
    st.title(title)
    selection = st.session_state.get(_SELECTION)
    where = f"Data: {md(selection.describe())}" if selection else ""
    if selection and any(s.startswith("spark:") for s in selection.sources):
        where += " — read by Apache Spark: computed from profiles (counts; no row leaves Spark)"
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
    if selection is None:  # a page run on its own, e.g. in a test: the first root's default
        config = serve_config()
        root = config.roots[0]
        with guard():
            selection = _default_for(str(root), config.default_tracking_uri(root))
    with guard():  # the roles file is read on each run: a save shows at once, on every page
        selection = selection.with_file_roles()
    return selection.with_roles(st.session_state.get(_ROLES, {}))


def set_role_overrides(overrides: dict[str, str]) -> None:
    st.session_state[_ROLES] = dict(overrides)


def role_overrides() -> dict[str, str]:
    return dict(st.session_state.get(_ROLES, {}))


def serve_config() -> ServeConfig:
    """The operator's boundary (read each run: cheap, and tests may change the environment)."""
    try:
        return ServeConfig.from_env()
    except AidebtError as exc:
        st.error(md(exc), icon=":material/error:")
        st.stop()


LISTING_TTL = 30  # seconds a folder's list of data sets (and its default) is reused


def _scan_folder(workspace: str) -> SourceScan:
    return scan_sources(Workspace.at(workspace))


def _scan(workspace: str) -> SourceScan:
    return run_recent(_scan_folder, workspace, ttl=LISTING_TTL)


def _default_for(workspace: str, tracking_uri: str) -> Selection:
    return run_recent(default_selection, workspace, tracking_uri, ttl=LISTING_TTL)


def _names(table) -> list[str]:
    return list(table.column_types)


def column_names(workspace: str, source: str) -> list[str]:
    return run_on_table(_names, workspace, source)


def _median_split(workspace: str, source: str, column: str) -> str | None:
    return run_on_table(median_split, workspace, source, column)


def _timestamp_columns(workspace: str, source: str) -> list[str]:
    return run_on_table(time_columns, workspace, source)


# ---------------------------------------------------------------- first run: defaults + link

def _widget_state(selection: Selection) -> dict:
    when = _parse_when(selection.split_at)
    return {"sb_ws": selection.workspace, "sb_mode": selection.mode, "sb_src": selection.source,
            "sb_ts": selection.split_column, "sb_at": when.date() if when else None,
            "sb_at_time": when.time() if when else time(0, 0),
            "sb_ref": selection.reference, "sb_cur": selection.current,
            "sb_mlflow": selection.tracking_uri}


def _parse_when(text: str) -> datetime | None:
    """A link's `at=` (2025-07-01 or 2025-07-01T12:00), None when it is not one."""
    if not text:
        return None
    try:
        return parse_boundary(text).to_pydatetime()
    except AidebtError:
        return None


def _init_state(config: ServeConfig) -> None:
    """On a session's first run: the first root's defaults, with a link's valid values laid over
    them. A value the boundary does not allow is refused with a message and never opened."""
    if "sb_ws" in st.session_state:
        return
    params = st.query_params.to_dict()
    refused: list[str] = []
    root = config.roots[0]
    if params.get("ws"):
        try:
            root = config.root(params["ws"])
        except AidebtError as exc:
            refused.append(str(exc))
    workspace = str(root)
    try:
        base = _default_for(workspace, config.default_tracking_uri(root))
    except AidebtError as exc:
        refused.append(str(exc))
        base = Selection(workspace=workspace)
    chosen = base
    if "mode" in params:
        if params["mode"] in (SPLIT, FILES):
            chosen = replace(chosen, mode=params["mode"])
        else:
            refused.append(f"Unknown data mode '{params['mode']}' in the link: use "
                           f"'{SPLIT}' or '{FILES}'.")
    sources = _listing(workspace, refused).sources
    for key, field in (("src", "source"), ("ref", "reference"), ("cur", "current")):
        if key not in params:
            continue
        if params[key] in sources:
            chosen = replace(chosen, **{field: params[key]})
        else:
            refused.append(f"Data source '{params[key]}' is not in the workspace {workspace}; "
                           "pick one in the sidebar.")
    if "ts" in params:
        chosen = replace(chosen, split_column=params["ts"])
    if "at" in params:
        if _parse_when(params["at"]) is None:
            refused.append(f"'{params['at']}' in the link is not a date or time "
                           "(use YYYY-MM-DD or YYYY-MM-DDTHH:MM).")
        else:
            chosen = replace(chosen, split_at=params["at"])
    if "mlflow" in params:
        try:
            chosen = replace(chosen, tracking_uri=config.tracking_uri(params["mlflow"]))
        except AidebtError as exc:
            refused.append(str(exc))
    if chosen.mode == SPLIT and chosen.source != base.source:
        # the default's column and date belong to its own data set
        chosen = replace(chosen, split_column=params.get("ts", ""),
                         split_at=chosen.split_at if "at" in params else "")
    st.session_state.update(_widget_state(chosen))
    st.session_state[_LOADED_WS] = workspace
    if params.get(_ROLES_PARAM):
        _roles_from_link(params[_ROLES_PARAM], chosen, refused)
    st.session_state[_REFUSED] = (refused, None)


def _roles_from_link(text: str, selection: Selection, refused: list[str]) -> None:
    """Role overrides a link carries, checked against the columns of the data set."""
    spec = selection.roles_source
    try:
        roles = decode_roles(text)
        columns = set(column_names(selection.workspace, spec)) if spec else set()
        unknown = sorted(set(roles) - columns)
        if unknown:
            raise AidebtError(f"The link's roles name column(s) {', '.join(unknown)} that "
                              f"{spec or 'the data'} does not have; roles not applied.")
        roles = {column: normalise_role(role, f"The link's roles (column '{column}')")
                 for column, role in roles.items()}
    except AidebtError as exc:
        refused.append(str(exc))
        return
    set_role_overrides(roles)
    st.session_state[_ROLES_FOR] = spec


def _listing(workspace: str, problems: list[str] | None = None) -> SourceScan:
    try:
        return _scan(workspace)
    except AidebtError as exc:
        if problems is not None:
            problems.append(str(exc))
        else:
            st.sidebar.error(md(exc))
        return SourceScan(())


# ---------------------------------------------------------------- every run: the sidebar

def _pick(label: str, options: list[str], key: str, help: str | None = None,
          avoid: str = "", shown=str) -> str:
    """A selectbox over allowed values only; a stale value falls back to the first option
    (other than `avoid`, so reference and current do not default to the same file)."""
    if st.session_state.get(key) not in options:
        preferred = [o for o in options if o != avoid] or options
        st.session_state[key] = preferred[0] if preferred else None
    if not options:
        st.sidebar.warning(f"No choices for '{label}'.")
        return ""
    return st.sidebar.selectbox(label, options, key=key, help=help, format_func=shown) or ""


def render_sidebar() -> Selection:
    """Root, reference/current data and MLflow store, within the server's boundary; stored in
    state and in the URL."""
    config = serve_config()
    _init_state(config)
    sidebar = st.sidebar
    sidebar.header("Workspace")
    roots = [str(r) for r in config.roots]
    if st.session_state.get("sb_ws") not in roots:
        st.session_state["sb_ws"] = roots[0]
    workspace = sidebar.selectbox(
        "Data folder", roots, key="sb_ws",
        help="The folders this server was started with (aidebt serve --workspace).")
    if st.session_state.get(_LOADED_WS) != workspace:  # another root: its own defaults
        root = config.root(workspace)
        try:
            state = _widget_state(_default_for(workspace, config.default_tracking_uri(root)))
            state.pop("sb_ws")  # the widget above already holds it
            st.session_state.update(state)
        except AidebtError as exc:
            sidebar.error(md(exc))
        st.session_state[_LOADED_WS] = workspace
    listing = _listing(workspace)
    sources = list(listing.sources)
    if not sources:
        sidebar.info("No CSV, Parquet, JSON Lines or DuckDB files in this folder.")
    _show_listing_problems(listing)
    mode = sidebar.radio("Reference and current", list(_MODE_LABELS), key="sb_mode",
                         format_func=_MODE_LABELS.get)
    if mode == SPLIT:
        selection = _split_controls(workspace, sources)
    else:
        reference = _pick("Reference data", sources, "sb_ref",
                          help="What the model was trained and validated on.")
        current = _pick("Current data", sources, "sb_cur", help="What production sees now.",
                        avoid=reference)
        if reference and reference == current:
            sidebar.info("Reference and current are the same data set; pick another current "
                         "data set to compare.")
        selection = Selection(workspace=workspace, mode=FILES, reference=reference,
                              current=current)
    selection = replace(selection, tracking_uri=_tracking_control(config))
    if st.session_state.get(_ROLES_FOR, selection.roles_source) != selection.roles_source:
        set_role_overrides({})  # overrides belong to the data set they were made on
    st.session_state[_ROLES_FOR] = selection.roles_source
    st.session_state[_SELECTION] = selection
    _show_refusals(selection)
    _write_url(selection)
    return selection


def _split_controls(workspace: str, sources: list[str]) -> Selection:
    sidebar = st.sidebar
    source = _pick("Data set", sources, "sb_src")
    try:
        ts_options = _timestamp_columns(workspace, source) if source else []
    except AidebtError as exc:
        sidebar.error(md(exc))
        ts_options = []
    chosen = st.session_state.get("sb_ts")
    if chosen and chosen not in ts_options and source:
        try:  # a column the roles file or the link names, if the data set has it
            if chosen in column_names(workspace, source):
                ts_options = [chosen, *ts_options]
        except AidebtError:
            pass
    if source and not ts_options:
        sidebar.info("This data set has no time column: choose 'Two data sets' to compare two "
                     "files.")
        return Selection(workspace=workspace, mode=SPLIT, source=source)
    ts = _pick("Time column", ts_options, "sb_ts") if source else ""
    previous = st.session_state.get(_SPLIT_FOR)
    st.session_state[_SPLIT_FOR] = (workspace, source, ts)
    if previous is not None and previous != (workspace, source, ts):
        st.session_state["sb_at"] = None  # another data set or column: its own median
    if st.session_state.get("sb_at") is None and ts:  # e.g. just switched from two files
        try:
            when = _parse_when(_median_split(workspace, source, ts) or "")
        except AidebtError:
            when = None
        if when is not None:
            st.session_state.update({"sb_at": when.date(), "sb_at_time": when.time()})
    day = sidebar.date_input("Current starts on", key="sb_at", format="YYYY-MM-DD",
                             help="Rows before this date and time are the reference.")
    clock = sidebar.time_input("Time of day", key="sb_at_time", step=60,
                               help="Time of day the current period starts (00:00 = the "
                               "start of the day).")
    split_at = format_split(pd.Timestamp(datetime.combine(day, clock or time(0, 0)))) \
        if isinstance(day, date) else ""
    return Selection(workspace=workspace, mode=SPLIT, source=source, split_column=ts,
                     split_at=split_at)


def _tracking_control(config: ServeConfig) -> str:
    st.sidebar.header("MLflow")
    uris = list(config.tracking_uris)
    if not uris:
        st.sidebar.caption("No MLflow store was configured for this server "
                           "(aidebt serve --tracking-uri).")
        return ""
    return _pick("Tracking URI", uris, "sb_mlflow",
                 help="The MLflow stores this server was started with.", shown=display_uri)


def _show_listing_problems(listing: SourceScan) -> None:
    if listing.unreadable:
        lines = "; ".join(f"{md(name)}: {md(reason)}" for name, reason in listing.unreadable)
        st.sidebar.warning(f"{len(listing.unreadable)} file(s) cannot be read: {lines}")
    if listing.truncated:
        st.sidebar.caption("Only part of this folder was searched for data files (it is very "
                           "large or deep).")


def _show_refusals(selection: Selection) -> None:
    """A link's refused values, shown until the user changes the selection."""
    messages, shown_with = st.session_state.get(_REFUSED, ([], None))
    if not messages:
        return
    if shown_with is None:
        st.session_state[_REFUSED] = (messages, selection)
    elif shown_with != selection:
        st.session_state[_REFUSED] = ([], None)
        return
    for message in messages:
        st.error(md(message), icon=":material/block:")


def _write_url(selection: Selection) -> None:
    for key, value in selection.to_query_params().items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    roles = role_overrides()
    if roles:
        text = encode_roles(roles)
        if st.query_params.get(_ROLES_PARAM) != text:
            st.query_params[_ROLES_PARAM] = text
    elif _ROLES_PARAM in st.query_params:
        del st.query_params[_ROLES_PARAM]
