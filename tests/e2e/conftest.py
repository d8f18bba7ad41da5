"""Real browser tests: `streamlit run app.py` on a free port, driven by Playwright + Chromium.

The browser is Debian's /usr/bin/chromium (installed by `make test`). When it is missing the
tests fail, never skip: a green run must mean the pages really rendered in a browser.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.local_server import local_server

ROOT = Path(__file__).resolve().parents[2]

SCREENSHOTS = ROOT / "tests" / "e2e" / "screenshots"
CHROMIUM = os.environ.get("AIDEBT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
RENDER_TIMEOUT_MS = 90_000
# The sidebar's workspace picker (a selectbox of the server's roots) shows app.py has run.
SIDEBAR_READY = '[data-testid="stSidebar"] [data-testid="stSelectbox"]'


@pytest.fixture(scope="session")
def server(sample_dir, tmp_path_factory) -> Iterator[str]:
    env = dict(os.environ, AIDEBT_SAMPLE_DIR=str(sample_dir),
               STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with local_server(lambda port: [
            sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
            "--server.address", "127.0.0.1", "--server.headless", "true",
            "--browser.gatherUsageStats", "false"],
            "/_stcore/health", log, timeout=60, cwd=ROOT, env=env) as url:
        yield url


@contextmanager
def aidebt_serve(args: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`aidebt serve ARGS --port <free>` (the real command, boundary and all) until the block
    ends; yields its base URL. `env` is added to this process's environment."""
    full_env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", **(env or {}))
    with local_server(lambda port: [sys.executable, "-m", "aidebt_core.cli", "serve", *args,
                                    "--port", str(port)],
                      "/_stcore/health", log, timeout=60, cwd=ROOT, env=full_env) as url:
        yield url


@contextmanager
def browser_pages(browser, base_url: str) -> Iterator[Callable]:
    """Like `open_page`, against any server: `open_(path, expect_text=None)` -> a checked
    Playwright page (no exception box), all closed when the block ends."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})

    def _open(url_path: str, expect_text: str | None = None):
        page = context.new_page()
        page.goto(f"{base_url}/{url_path}", wait_until="domcontentloaded")
        wait_for_app(page)
        if expect_text:
            page.get_by_text(expect_text, exact=False).first.wait_for(timeout=RENDER_TIMEOUT_MS)
        wait_for_app(page)
        assert_no_exception(page)
        return page

    try:
        yield _open
    finally:
        context.close()


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it with "
                    "`apt-get install -y chromium chromium-driver` (make test does this).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                     headless=True)
        yield browser
        browser.close()


def wait_for_app(page) -> None:
    """Wait until app.py has run (its sidebar is there) and no script run is in progress.

    Before app.py's first run Streamlit paints the page alone, so the sidebar's workspace
    picker is the sign that navigation and the selection are in place.
    """
    page.locator(SIDEBAR_READY).first.wait_for(timeout=RENDER_TIMEOUT_MS)
    deadline = time.time() + RENDER_TIMEOUT_MS / 1000
    quiet_checks = 0
    while quiet_checks < 3:  # idle three times in a row, 300 ms apart
        running = page.locator('[data-testid="stStatusWidget"]').filter(has_text="Running")
        spinning = page.locator('[data-testid="stSpinner"]')
        quiet_checks = 0 if running.count() or spinning.count() else quiet_checks + 1
        if time.time() > deadline:
            pytest.fail("the page did not finish running within "
                        f"{RENDER_TIMEOUT_MS / 1000:.0f} s")
        page.wait_for_timeout(300)


def choose_option(page, label: str, option: str, typed: str | None = None) -> None:
    """Pick `option` in the select box `label` (typing `typed` first to filter the list). A
    script run still drawing the page can redraw the box and close or replace its list under
    the click, so wait for the page, then retry."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(3):
        wait_for_app(page)
        page.get_by_label(label, exact=True).click()
        if typed:
            page.keyboard.type(typed)
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        return
    pytest.fail(f"the {label!r} list never showed {option!r}")


def assert_no_exception(page) -> None:
    boxes = page.locator('[data-testid="stException"]')
    if boxes.count():
        pytest.fail("Streamlit exception shown: " + boxes.first.inner_text()[:2000])


@pytest.fixture
def open_page(server, browser, request) -> Iterator[Callable]:
    """`open_page("drift", expect_text="Drift")` -> a Playwright page, checked and screenshotted."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    pages = []

    def _open(url_path: str, expect_text: str | None = None, name: str | None = None):
        page = context.new_page()
        pages.append(page)
        page.goto(f"{server}/{url_path}", wait_until="domcontentloaded")
        wait_for_app(page)
        if expect_text:
            page.get_by_text(expect_text, exact=False).first.wait_for(timeout=RENDER_TIMEOUT_MS)
        wait_for_app(page)
        assert_no_exception(page)
        screenshot(page, name or url_path or "home")
        return page

    yield _open
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
