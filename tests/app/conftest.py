"""Streamlit AppTest on real pages with the sample scenario.

Pages are run as their own scripts: AppTest (Streamlit 1.67) loses the elements of a page run
through `st.navigation` after the first rerun, so interactions could not be tested through
app.py. Run on its own, a page reads the sidebar's selection from session state and falls
back to the sample scenario, exactly as when app.py renders it. The sidebar itself is tested
through app.py's first run (`run_app`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from aidebt_core.selection import Selection

ROOT = Path(__file__).resolve().parents[2]
APP_TIMEOUT = 120  # seconds for one script run; the first run reads and caches the data
SELECTION_KEY = "aidebt_selection"  # aidebt_app.context keeps the sidebar's choice here


def _check(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def run_page(sample_dir) -> Callable[..., AppTest]:
    """`run_page("pages/drift.py")` -> an AppTest that ran that page once, with no exception.

    `selection=` replaces the sample scenario's selection; `state=` presets session state
    (widget keys), `query=` URL query params.
    """

    def _run(page: str, selection: Selection | None = None, state: dict | None = None,
             query: dict[str, str] | None = None) -> AppTest:
        at = AppTest.from_file(str(ROOT / page), default_timeout=APP_TIMEOUT)
        if selection is not None:
            at.session_state[SELECTION_KEY] = selection
        for key, value in (state or {}).items():
            at.session_state[key] = value
        for key, value in (query or {}).items():
            at.query_params[key] = value
        return _check(at.run())

    return _run


@pytest.fixture
def run_app(sample_dir) -> Callable[..., AppTest]:
    """app.py's first run (sidebar + default page), optionally with URL query params."""

    def _run(query: dict[str, str] | None = None) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_TIMEOUT)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        return _check(at.run())

    return _run
