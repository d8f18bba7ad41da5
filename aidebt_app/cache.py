"""The dashboard's one cache: opened data per selection, and one cached runner for results.

Pages never decorate functions with `st.cache_data`; they call one of these:

- `run_analysis(name, selection, options)`: the registered analysis (aidebt_core/analyses.py)
  on the selection's opened data, `entry.run_on(data, options)`: what the CLI runs;
- `run_on_data(fn, selection, *options)`: `fn(data, *options)` on the selection's opened data;
- `run(fn, selection, *options)`: `fn(selection, *options)`, for work that opens data itself;
- `run_on_table(fn, workspace, source, *options)`: `fn(table, *options)` on one data set;
- `run_recent(fn, *options, ttl=...)`: inputs with no file to stamp (an MLflow store, a folder
  listing), recomputed once the result is older than `ttl` seconds.

Every result is cached once, in `_cached`, keyed on (inputs, function, options):
- inputs: the selection's fingerprint, which covers its fields and the size, modification time
  and inode of every file it reads, including the roles file, so a rewritten data file gives
  fresh results at once;
- function: its file, name and compiled code (a page edited while serving is not served
  results of its old code);
- options: the remaining arguments, hashed by Streamlit.

The data itself is opened once per fingerprint and shared by all sessions (`_opened`, a
`st.cache_resource`): one DuckDB connection with the views, the split and the inferred schema.
Streamlit runs each session in its own thread and a DuckDB connection is not thread-safe, so
every computation borrows its own cursor (`_borrow`); a cursor is a connection to the same
database, so the sandbox (allowed directories, no external access, locked configuration),
which is set globally on that database, holds on it too.
"""

from __future__ import annotations

import hashlib
import marshal
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import streamlit as st

from aidebt_core.data import Table, connect, open_table
from aidebt_core.selection import OpenedData, Selection, input_fingerprint
from aidebt_core.slices.define import apply_slice
from aidebt_core.workspace import Workspace

T = TypeVar("T")
MAX_RESULTS = 256  # cached results over all pages and sessions (least recently used go first)
MAX_OPENED = 8  # selections kept open at once
OPENED_TTL = 3600  # seconds an unused opened selection is kept

# Set while a cached computation runs, so a nested cached call shows no second spinner.
_computing: ContextVar[bool] = ContextVar("aidebt_cache_computing", default=False)


@dataclass(frozen=True, eq=False)
class _Shared:
    """A selection's opened data, shared by sessions; only cursors are handed out."""

    data: OpenedData
    temp_views: tuple[str, ...]  # connection-local views, re-created on each cursor
    lock: threading.Lock


@st.cache_resource(show_spinner=False, max_entries=MAX_OPENED, ttl=OPENED_TTL)
def _opened(fingerprint: str, _selection: Selection) -> _Shared:
    """Open the selection once per fingerprint (`_selection` is not part of the key: the
    fingerprint covers every field of it)."""
    data = _selection.open()
    # Views of DuckDB-file tables are TEMP views, which a cursor does not see: keep their SQL.
    rows = data.con.execute("SELECT sql FROM duckdb_views() WHERE temporary AND NOT internal"
                            ).fetchall()
    return _Shared(data, tuple(sql for (sql,) in rows), threading.Lock())


@contextmanager
def _borrow(shared: _Shared) -> Iterator[OpenedData]:
    """The opened data with its tables re-bound to a cursor of this thread's own."""
    with shared.lock:
        cursor = shared.data.con.cursor()
    try:
        for sql in shared.temp_views:
            cursor.execute(sql)

        def bound(table: Table | None) -> Table | None:
            return None if table is None else replace(table, con=cursor)

        data = shared.data
        yield replace(data, con=cursor, reference=bound(data.reference),
                      current=bound(data.current), combined=bound(data.combined))
    finally:
        cursor.close()


@contextmanager
def opened(selection: Selection) -> Iterator[OpenedData]:
    """The selection's data, opened once for all sessions; use it inside `with` only."""
    shared = _opened(selection.fingerprint(), selection)
    with _borrow(shared) as data:
        yield data


# ------------------------------------------------------------------------------ the runner

@dataclass(frozen=True)
class _Stamped:
    at: float  # time.time() when computed
    value: Any


@st.cache_data(show_spinner=False, max_entries=MAX_RESULTS)
def _cached(inputs: str, function: str, args: tuple, kwargs: dict,
            _compute: Callable[[], Any]) -> _Stamped:
    """`_compute()` once per (inputs, function, args, kwargs); `_compute` is not hashed."""
    token = _computing.set(True)
    try:
        return _Stamped(time.time(), _compute())
    finally:
        _computing.reset(token)


def function_id(fn: Callable) -> str:
    """The cache's name for `fn`: file, qualified name and a digest of its compiled code.

    A closure is refused: the values it captured would change its results without changing
    the key. Pass them as arguments instead."""
    code = getattr(fn, "__code__", None)
    if code is None:
        raise TypeError(f"{fn!r} is not a plain Python function; the cache cannot name it.")
    if fn.__closure__:
        raise TypeError(f"{fn.__qualname__} captures variables the cache key cannot see; "
                        "define it at module level and pass them as arguments.")
    digest = hashlib.sha256(marshal.dumps(code)).hexdigest()[:16]
    return f"{code.co_filename}:{fn.__qualname__}:{digest}"


def _run(fn: Callable, inputs: str, args: tuple, kwargs: dict, compute: Callable[[], T],
         spinner: str | None, ttl: float | None = None) -> T:
    # Default argument values are part of the key: they change what fn computes.
    key = (inputs, function_id(fn), (args, fn.__defaults__, fn.__kwdefaults__), kwargs)
    show = spinner and not _computing.get()
    # st.spinner appears only after half a second, so a cache hit shows nothing.
    with st.spinner(spinner) if show else nullcontext():
        stamped = _cached(*key, compute)
        if ttl is not None and time.time() - stamped.at > ttl:
            _cached.clear(*key, None)
            stamped = _cached(*key, compute)
    return stamped.value


def run(fn: Callable[..., T], selection: Selection, *args: Any, spinner: str | None = None,
        **kwargs: Any) -> T:
    """`fn(selection, *args, **kwargs)`, cached on the selection's fingerprint."""
    return _run(fn, selection.fingerprint(), args, kwargs,
                lambda: fn(selection, *args, **kwargs), spinner)


def run_on_data(fn: Callable[..., T], selection: Selection, *args: Any,
                spinner: str | None = None, **kwargs: Any) -> T:
    """`fn(data, *args, **kwargs)` on the selection's opened data, cached on its fingerprint.

    `data` is an `OpenedData` valid only during the call: return results, not tables."""
    fingerprint = selection.fingerprint()

    def compute() -> T:
        with _borrow(_opened(fingerprint, selection)) as data:
            return fn(data, *args, **kwargs)

    return _run(fn, fingerprint, args, kwargs, compute, spinner)


def _registered(data: OpenedData, name: str, run_id: str, options: Any,
                rows: tuple[tuple[str, str], ...] = ()) -> Any:
    from aidebt_core.analyses import get

    if rows:
        spec = dict(rows)
        data = replace(data, **{side: apply_slice(getattr(data, side), spec)
                                for side in ("reference", "current")
                                if getattr(data, side) is not None})
    return get(name).run_on(data, options)


def run_analysis(name: str, selection: Selection, options: Any = None, *,
                 rows: tuple[tuple[str, str], ...] = (), spinner: str | None = None) -> Any:
    """The registered analysis `name` on the selection's data, as the CLI runs it
    (`entry.run_on(data, options)`, default options when None), cached like `run_on_data`;
    with `rows` (a slice's conditions, `(column, value)` pairs as in `?slice=`) on the rows
    of that slice on each side only.

    The key holds the entry's `run` (its file, name and code: a re-registered analysis of
    the same name is not served the old one's results) and the options dataclass."""
    from aidebt_core.analyses import get

    run_id = function_id(get(name).resolve("run"))
    return run_on_data(_registered, selection, name, run_id, options, tuple(rows),
                       spinner=spinner)


def run_on_table(fn: Callable[..., T], workspace: str, source: str, *args: Any,
                 spinner: str | None = None, **kwargs: Any) -> T:
    """`fn(table, *args, **kwargs)` on one data set of a workspace (e.g. the sidebar's list of
    its time columns), cached on that data set's files."""
    def compute() -> T:
        ws = Workspace.at(workspace)
        con = connect(ws)
        try:
            return fn(open_table(con, ws, source), *args, **kwargs)
        finally:
            con.close()

    inputs = input_fingerprint(workspace, [source], ("table", workspace, source))
    return _run(fn, inputs, args, kwargs, compute, spinner)


def run_recent(fn: Callable[..., T], *args: Any, ttl: float, spinner: str | None = None,
               **kwargs: Any) -> T:
    """`fn(*args, **kwargs)`, recomputed once its cached result is older than `ttl` seconds:
    for inputs no file stamp covers (an MLflow store, the files a folder holds)."""
    return _run(fn, "recent", args, kwargs, lambda: fn(*args, **kwargs), spinner, ttl)


# Built figures, shared by sessions: a rerun that changed nothing a figure shows (another
# metric switched back, a widget elsewhere on the page) sends the one built before instead of
# building it again (Plotly validates every update: tens of ms per figure).
MAX_FIGURES = 64
_FIGURES: OrderedDict[tuple[str, str], Any] = OrderedDict()
_FIGURES_LOCK = threading.Lock()


def figure(build: Callable[..., T], *args: Any) -> T:
    """`build(*args)`, reused while `args` pickle to the same bytes. `build` must be a pure
    module-level function and its result is never changed afterwards (st.plotly_chart copies
    a figure before sending it)."""
    try:
        key = (function_id(build),
               hashlib.blake2b(pickle.dumps(args, protocol=5), digest_size=20).hexdigest())
    except (TypeError, AttributeError, pickle.PicklingError):
        return build(*args)            # arguments that cannot be keyed: built every time
    with _FIGURES_LOCK:
        if key in _FIGURES:
            _FIGURES.move_to_end(key)
            return _FIGURES[key]
    built = build(*args)
    with _FIGURES_LOCK:
        _FIGURES[key] = built
        while len(_FIGURES) > MAX_FIGURES:
            _FIGURES.popitem(last=False)
    return built
