"""Sign-in in a real browser against a real OpenID Connect provider on 127.0.0.1.

`oidc-provider-mock` (test extra) runs the provider; `aidebt serve` is started with OIDC
settings pointing at it, exactly as an operator would. An anonymous browser must see the
sign-in page and nothing else, on every path; signing in as alice@example.com through the
provider's form brings back the dashboard with her name in the sidebar, and the Audit page
records her as the auditor. A second server trusts a proxy header instead.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.e2e.conftest import RENDER_TIMEOUT_MS, ROOT, screenshot, wait_for_app
from tests.local_server import local_server

pytestmark = pytest.mark.e2e
USER = "alice@example.com"
METADATA = "/.well-known/openid-configuration"
# Shown only with data: a model of the sample scorecard and the sidebar's data picker.
DATA_MARKERS = ("credit-default", "Workspace")


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with local_server(lambda port: [sys.executable, "-m", "oidc_provider_mock", "--host",
                                    "127.0.0.1", "--port", str(port)],
                      METADATA, log, timeout=60) as url:
        yield url


@pytest.fixture(scope="module")
def signin_server(provider, sample_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("signin") / "serve.log"
    # The client secret goes through the environment, as the --help advises.
    env = dict(os.environ, AIDEBT_OIDC_CLIENT_SECRET="e2e-client-secret",
               STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    with local_server(lambda port: [
            sys.executable, "-m", "aidebt_core.cli", "serve", "--port", str(port),
            "--host", "127.0.0.1", "--workspace", str(sample_dir),
            "--oidc-metadata-url", provider + METADATA, "--oidc-client-id", "aidebt-e2e",
            "--oidc-redirect-uri", f"http://127.0.0.1:{port}/oauth2callback"],
            "/_stcore/health", log, timeout=60, cwd=ROOT, env=env) as url:
        yield url


def _wait_for_sign_in_page(page):
    page.get_by_role("button", name="Sign in").wait_for(timeout=RENDER_TIMEOUT_MS)
    page.wait_for_timeout(500)  # let anything else the run might draw arrive


def _assert_nothing_but_sign_in(page, where: str) -> None:
    assert page.locator('[data-testid="stSidebar"]').count() == 0, f"{where}: a sidebar"
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0, f"{where}: page links"
    assert page.locator('[data-testid="stSidebarCollapsedControl"]').count() == 0, where
    text = page.locator("body").inner_text()
    for marker in DATA_MARKERS:
        assert marker not in text, f"{where}: '{marker}' shown to an anonymous visitor"
    assert "credit-default" not in page.content(), f"{where}: model name in the page"
    assert page.locator('[data-testid="stException"]').count() == 0, where


def test_anonymous_sees_only_sign_in_then_signs_in(signin_server, provider, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        page = context.new_page()
        # Deep links and workspace parameters change nothing for an anonymous visitor.
        for path in ("", "scorecard", "audit", "data?mode=files&ref=applications.parquet"):
            page.goto(f"{signin_server}/{path}", wait_until="domcontentloaded")
            _wait_for_sign_in_page(page)
            _assert_nothing_but_sign_in(page, f"/{path}")
        screenshot(page, "signin-anonymous")

        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{provider}/**", timeout=RENDER_TIMEOUT_MS)
        page.locator('input[name="sub"]').fill(USER)
        page.get_by_role("button", name="Authorize").click()

        page.wait_for_url(f"{signin_server}/**", timeout=RENDER_TIMEOUT_MS)
        wait_for_app(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text(f"Signed in as {USER}").wait_for(timeout=RENDER_TIMEOUT_MS)
        # The scorecard's table: a canvas grid, whose cells are in the DOM but not visible.
        page.locator('[data-testid="stDataFrame"] td', has_text="credit-default").first.wait_for(
            state="attached", timeout=RENDER_TIMEOUT_MS)
        assert page.locator('[data-testid="stSidebarNav"]').count() == 1
        assert page.locator('[data-testid="stException"]').count() == 0
        screenshot(page, "signin-signed-in")

        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["_streamlit_user"]["httpOnly"], "the identity cookie is readable by JS"

        # The Audit page takes the auditor from the sign-in, read-only.
        page.goto(f"{signin_server}/audit", wait_until="domcontentloaded")
        wait_for_app(page)
        auditor = page.get_by_label("Auditor (signed in)")
        auditor.wait_for(timeout=RENDER_TIMEOUT_MS)
        assert auditor.input_value() == USER
        assert auditor.is_disabled()

        # A second, cookie-less browser is still anonymous while Alice is signed in.
        other = browser.new_context()
        try:
            anonymous = other.new_page()
            anonymous.goto(signin_server, wait_until="domcontentloaded")
            _wait_for_sign_in_page(anonymous)
            _assert_nothing_but_sign_in(anonymous, "second browser")
        finally:
            other.close()

        # Sign out: Streamlit clears its cookie and ends the session at the provider too.
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{provider}/oauth2/end_session**", timeout=RENDER_TIMEOUT_MS)
        page.get_by_role("button", name="End session").click()
        page.wait_for_url(f"{signin_server}/**", timeout=RENDER_TIMEOUT_MS)
        _wait_for_sign_in_page(page)
        _assert_nothing_but_sign_in(page, "after sign-out")
        assert "_streamlit_user" not in {c["name"] for c in context.cookies()}
    finally:
        context.close()


def test_provider_metadata_is_local(provider):
    """The test needs no internet: the provider and every endpoint it names are on 127.0.0.1."""
    import urllib.request

    with urllib.request.urlopen(provider + METADATA, timeout=10) as response:
        metadata = json.load(response)
    endpoints = [metadata[k] for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")]
    assert all(e.startswith("http://127.0.0.1:") for e in endpoints), endpoints


@pytest.fixture(scope="module")
def proxied_server(sample_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("proxied") / "serve.log"
    with local_server(lambda port: [
            sys.executable, "-m", "aidebt_core.cli", "serve", "--port", str(port),
            "--workspace", str(sample_dir), "--auth-header", "X-Forwarded-User"],
            "/_stcore/health", log, timeout=60, cwd=ROOT,
            env=dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")) as url:
        yield url


def test_trusted_proxy_header(proxied_server, browser):
    """Behind a proxy: the header names the user; a request without it sees nothing."""
    bare = browser.new_context()
    try:
        page = bare.new_page()
        page.goto(proxied_server, wait_until="domcontentloaded")
        page.get_by_text("X-Forwarded-User header").wait_for(timeout=RENDER_TIMEOUT_MS)
        _assert_nothing_but_sign_in(page, "no proxy header")
    finally:
        bare.close()
    proxied = browser.new_context(viewport={"width": 1440, "height": 1000},
                                  extra_http_headers={"X-Forwarded-User": "bob@example.com"})
    try:
        page = proxied.new_page()
        page.goto(proxied_server, wait_until="domcontentloaded")
        wait_for_app(page)
        page.locator('[data-testid="stSidebar"]').get_by_text(
            "Signed in as bob@example.com").wait_for(timeout=RENDER_TIMEOUT_MS)
        assert page.get_by_role("button", name="Sign out").count() == 0  # ended at the proxy
        screenshot(page, "signin-proxy-header")
    finally:
        proxied.close()
