"""Sign-in gate: with sign-in on, an anonymous visitor sees the sign-in page and nothing else.

`aidebt serve` decides whether sign-in is on (aidebt_core/signin.py) and passes the method in
`ServeConfig.auth`. Two methods:

- "oidc": Streamlit's `st.login` against the operator's OpenID Connect provider; the user is
  the e-mail (else name, else subject) of the ID token, kept in Streamlit's signed cookie.
- "header": a reverse proxy authenticated the request and put the user in a header, read from
  `st.context.headers`. Only safe behind a proxy that sets (and overwrites) that header on
  every request: whoever reaches the port directly can send any name.

Without `aidebt serve` (AppTest, `streamlit run app.py`) sign-in is off and nothing changes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import streamlit as st

from aidebt_core.errors import AidebtError
from aidebt_core.serving import ENV, ServeConfig
from aidebt_core.signin import HEADER, AuthSettings, auth_from_public

# ID-token claims that name the user, best first: an e-mail is what an audit should record.
_USER_CLAIMS = ("email", "preferred_username", "name", "sub")


def _settings() -> AuthSettings | None:
    return auth_from_public(ServeConfig.from_env().auth, ENV)


def signed_in_user() -> str | None:
    """Who is signed in (e-mail or name), or None when sign-in is off or nobody is."""
    auth = _settings()
    if auth is None:
        return None
    if auth.method == HEADER:
        # A repeated header means the client sent one too and the proxy appended: refuse.
        values = st.context.headers.get_all(auth.header)
        return _user_name(values[0]) if len(values) == 1 else None
    if st.user.get("is_logged_in") is not True:  # absent when Streamlit has no [auth] section
        return None
    return next(filter(None, (_user_name(st.user.get(c)) for c in _USER_CLAIMS)), None)


def _user_name(value: object) -> str | None:
    """A usable user name: text, not blank, no control characters, at most 256 characters."""
    if not isinstance(value, str):
        return None
    name = value.strip()
    if not name or len(name) > 256 or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return None
    return name


def require_sign_in(url_paths: Iterable[str] = ()) -> None:
    """Call first in app.py. With sign-in on and nobody signed in, draw only the sign-in page
    (no sidebar, no page list, no data) and stop the run. A signed-in user gets their name and
    a sign-out button in the sidebar.

    `url_paths` are the app's page paths: a deep link to one of them shows the sign-in page
    too, instead of Streamlit's "page not found" dialog on top of it.
    """
    try:
        auth = _settings()
    except AidebtError as exc:  # fail closed: an unreadable setting shows nothing but this
        message = str(exc)
        _only_page(lambda: st.error(message), url_paths)
        return
    if auth is None:
        return
    user = signed_in_user()
    if user is None:
        _only_page(functools.partial(_sign_in_page, auth), url_paths)
        return
    _account_box(auth, user)


def _only_page(draw, url_paths: Iterable[str]) -> None:
    """Replace the whole app by one page (under every path, hidden navigation), then stop."""
    paths = dict.fromkeys(["sign-in", *url_paths])
    st.navigation([st.Page(draw, title="Sign in", icon=":material/login:", url_path=path,
                           default=index == 0) for index, path in enumerate(paths)],
                  position="hidden").run()
    st.stop()


def _sign_in_page(auth: AuthSettings) -> None:
    st.title("aidebt")
    st.subheader("Sign in")
    if auth.method == HEADER:
        st.error(f"This dashboard takes the signed-in user from the {auth.header} header, "
                 "which this request did not carry (or carried twice). Open it through the "
                 "sign-in proxy your team uses.")
        return
    st.write("This dashboard is shared with your team. Sign in to see models, audits and data.")
    st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login,
              key="aidebt_sign_in")


def _account_box(auth: AuthSettings, user: str) -> None:
    name = _user_name(st.user.get("name")) if auth.method != HEADER else None
    shown = f"{name} ({user})" if name and name != user else user
    # st.text, not markdown: a name from a provider or a header is never rendered as markup.
    st.sidebar.text(f"Signed in as {shown}")
    if auth.method != HEADER:  # a proxy's session is ended at the proxy
        st.sidebar.button("Sign out", icon=":material/logout:", on_click=st.logout,
                          key="aidebt_sign_out")
