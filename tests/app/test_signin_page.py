"""The sign-in gate in AppTest: what app.py draws for an anonymous visitor and a signed-in user
when `aidebt serve` turned sign-in on, and the Audit page's auditor when someone is signed in.

`AppTest.user` seeds `st.user` as Streamlit's cookie would after a real OIDC sign-in (the real
round trip is tests/e2e/test_signin_e2e.py).
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from aidebt_core.audit.store import AuditStore
from aidebt_core.serving import ENV
from tests.app.conftest import APP_TIMEOUT, ROOT

ALICE = {"is_logged_in": True, "email": "alice@example.com", "name": "Alice Example",
         "sub": "a-1"}


@pytest.fixture
def served(monkeypatch, sample_dir, tmp_path):
    """`served(auth)`: the environment `aidebt serve` would give the app, sign-in `auth`."""
    store = tmp_path / "audits.sqlite"

    def _served(auth):
        monkeypatch.setenv(ENV, json.dumps({"roots": [str(sample_dir)], "tracking_uris": [],
                                            "host": "127.0.0.1", "auth": auth,
                                            "store": str(store)}))
        return AuditStore(store)

    return _served


def _app(user: dict | None = None, page: str = "app.py") -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=APP_TIMEOUT)
    if user is not None:
        at.user = user
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _all_text(at: AppTest) -> str:
    parts = [str(getattr(e, "value", "")) for e in at.main] + [
        str(getattr(e, "value", "")) for e in at.sidebar]
    return " ".join(parts)


def test_anonymous_visitor_gets_only_the_sign_in_page(served):
    served({"method": "oidc", "header": None})
    at = _app()
    assert [b.label for b in at.button] == ["Sign in"]
    assert len(at.sidebar) == 0                       # no workspace picker, no sign-out
    assert not at.dataframe and not at.selectbox and not at.metric
    assert "credit-default" not in _all_text(at)
    assert "Sign in" in [s.value for s in at.subheader]


def test_signed_in_user_sees_the_dashboard_and_a_sign_out_button(served):
    served({"method": "oidc", "header": None})
    at = _app(ALICE)
    assert "Signed in as Alice Example (alice@example.com)" in [t.value for t in at.sidebar.text]
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    assert at.sidebar.selectbox                        # the workspace picker is back
    assert [t.value for t in at.title] == ["Scorecard"]  # the default page ran


def test_unusable_claims_fall_through_to_the_next(served):
    served({"method": "oidc", "header": None})
    at = _app({"is_logged_in": True, "email": "bad\nname", "preferred_username": " ",
               "name": "x" * 300, "sub": "subject-7"})
    assert "Signed in as subject-7" in [t.value for t in at.sidebar.text]


def test_logged_out_user_info_is_anonymous(served):
    served({"method": "oidc", "header": None})
    at = _app({"is_logged_in": False, "email": "mallory@example.com"})
    assert [b.label for b in at.button] == ["Sign in"] and len(at.sidebar) == 0


def test_proxy_header_missing_shows_only_the_explanation(served):
    # AppTest sends no request headers: exactly what a request that bypassed the proxy looks like.
    served({"method": "header", "header": "X-Forwarded-User"})
    at = _app()
    assert len(at.sidebar) == 0 and not at.button
    assert "X-Forwarded-User header" in at.error[0].value


def test_garbled_auth_setting_fails_closed(served):
    served({"method": "magic"})
    at = _app(ALICE)
    assert len(at.sidebar) == 0 and not at.dataframe
    assert "sign-in cannot be checked" in at.error[0].value


def test_without_sign_in_nothing_changes(served):
    served(None)
    at = _app()
    assert "Sign in" not in [b.label for b in at.button]
    assert at.sidebar.selectbox and not any("Signed in" in t.value for t in at.sidebar.text)


def test_audit_records_the_signed_in_user_as_auditor(served):
    store = served({"method": "oidc", "header": None})
    at = AppTest.from_file(str(ROOT / "pages/audit.py"), default_timeout=APP_TIMEOUT)
    at.user = ALICE
    at.session_state["aud_model"] = "➕ New model…"
    at.session_state["aud_prefill"] = False
    at.run()
    field = next(t for t in at.text_input if t.label == "Auditor (signed in)")
    assert field.value == "alice@example.com" and field.disabled
    assert not [t for t in at.text_input if t.label == "Auditor(s)"]
    at.text_input(key="aud_new_model").input("signin-model").run()
    at.segmented_control(key="aud_section").set_value("evaluation").run()  # E1's dimension
    # A widget in a fragment reruns only that fragment, and AppTest then holds only its
    # elements: run the whole page again to reach the rest, as the browser still shows it.
    at.run()
    at.radio(key="aud_signin-model_E1_level").set_value("1").run()
    at.run()
    at.text_input(key="aud_version").input("1")          # saving needs a version, and a form
    at.checkbox(key="aud_signin-model_partial").check().run()   # this short only as partial
    at.button(key="aud_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert store.list_audits("signin-model")[-1].auditor == "alice@example.com"
