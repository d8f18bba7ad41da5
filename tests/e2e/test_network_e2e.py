"""Nothing phones home: a full tour of every page makes no request to a host other than the
local server (issue 17: the page icon was fetched from an outside font host on every page).

Every request the browser makes (documents, scripts, fonts, images, websockets, favicons) is
recorded with Playwright's `context.on("request")` and `on("websocket")`; the test fails on
any whose host is not the loopback address the app is served on.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from aidebt_core.pages import PAGES
from tests.e2e.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.e2e

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-extension", "devtools"}


def outside(url: str) -> bool:
    """Whether `url` leaves the machine."""
    parts = urlparse(url)
    if parts.scheme in LOCAL_SCHEMES:
        return False
    return (parts.hostname or "") not in LOCAL_HOSTS


def test_outside_is_judged_by_host() -> None:
    assert outside("https://fonts.gstatic.com/s/i/short-term/release/x.svg")
    assert outside("http://127.0.0.1.evil.example/")
    assert not outside("http://127.0.0.1:8501/_stcore/health")
    assert not outside("ws://localhost:8501/_stcore/stream")
    assert not outside("data:image/png;base64,AAAA")


def test_full_tour_requests_only_the_local_server(server, browser) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    try:
        page = context.new_page()
        page.on("websocket", lambda ws: requests.append(ws.url))
        for spec in PAGES:
            page.goto(f"{server}/{spec.url_path}", wait_until="domcontentloaded")
            wait_for_app(page)  # (an exception box is other tests' business: tour on)
            # Open the first expander and switch the first tab: lazily loaded parts too.
            for locator in (page.locator('[data-testid="stExpander"] summary'),
                            page.locator('[data-baseweb="tab"]')):
                if locator.count() > 1:
                    try:  # best effort: a page may hold it inert (e.g. behind a dialog)
                        locator.nth(1).click(timeout=5_000)
                    except PlaywrightTimeout:
                        continue
                    wait_for_app(page)
        page.wait_for_timeout(1500)  # late font/icon loads
        screenshot(page, "network-tour-last")
    finally:
        context.close()
    assert len(requests) > len(PAGES)  # the recorder saw the tour
    leaving = sorted({url for url in requests if outside(url)})
    assert not leaving, "requests to hosts outside this machine:\n" + "\n".join(leaving[:40])
