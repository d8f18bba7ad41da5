"""`aidebt serve` options for the bind address and sign-in (see aidebt_core/signin.py)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from aidebt_core.signin import (
    OIDC_KEYS,
    AuthSettings,
    auth_settings,
    check_host,
    is_loopback,
    read_auth_file,
)

# (flag, settings key, environment variable that may hold it instead of the command line)
_FLAGS = (
    ("--oidc-metadata-url", "server_metadata_url", None),
    ("--oidc-client-id", "client_id", None),
    ("--oidc-client-secret", "client_secret", "AIDEBT_OIDC_CLIENT_SECRET"),
    ("--oidc-redirect-uri", "redirect_uri", None),
    ("--cookie-secret", "cookie_secret", "AIDEBT_COOKIE_SECRET"),
    ("--auth-header", "header", None),
)


def add_signin_options(parser) -> None:
    parser.add_argument("--host", default=None,
                        help="address to listen on (default 127.0.0.1, this machine only); any "
                        "other address needs sign-in configured")
    group = parser.add_argument_group(
        "sign-in", "OpenID Connect through Streamlit's st.login, or a header set by a trusted "
        "reverse proxy. Flags override --auth-config.")
    group.add_argument("--auth-config", metavar="FILE",
                       help="sign-in settings: a secrets .toml with an [auth] section (server_"
                       "metadata_url, client_id, client_secret, redirect_uri, cookie_secret) "
                       "or YAML/JSON with the same keys, or header: NAME")
    group.add_argument("--oidc-metadata-url", metavar="URL",
                       help="the provider's .well-known/openid-configuration URL")
    group.add_argument("--oidc-client-id", metavar="ID")
    group.add_argument("--oidc-client-secret", metavar="SECRET",
                       help="prefer $AIDEBT_OIDC_CLIENT_SECRET or the file: a command line is "
                       "visible to other users of the machine")
    group.add_argument("--oidc-redirect-uri", metavar="URL",
                       help="this dashboard's address as the browser sees it + /oauth2callback")
    group.add_argument("--cookie-secret", metavar="SECRET",
                       help="signs the sign-in cookie (also $AIDEBT_COOKIE_SECRET); generated "
                       "when absent, so users sign in again after a restart")
    group.add_argument("--auth-header", metavar="NAME",
                       help="take the user from this request header (e.g. X-Forwarded-User). "
                       "ONLY safe behind a proxy that authenticates every request and sets "
                       "this header itself: anyone reaching the port directly can forge it")


def signin_from_args(args, host: str, file_auth: Mapping[str, object] | None = None,
                     environ: Mapping[str, str] = os.environ) -> AuthSettings | None:
    """The sign-in settings of `aidebt serve`; refuses a non-loopback `host` without them.

    `host` is the address serve will bind (flag or --config file); `file_auth` the `auth:`
    section of the --config file. Precedence: flags > environment (secrets only) >
    --auth-config > --config's auth. The environment fills a secret only when OpenID Connect is
    otherwise configured, so a stray variable never turns sign-in on by itself.
    """
    values: dict[str, object] = dict(file_auth or {})
    source = "sign-in settings"
    if args.auth_config:
        values.update(read_auth_file(args.auth_config))
        source = f"{args.auth_config} and sign-in options"
    flags = {key: getattr(args, flag.lstrip("-").replace("-", "_")) for flag, key, _ in _FLAGS}
    values.update({key: value for key, value in flags.items() if value is not None})
    if any(values.get(key) for key in OIDC_KEYS):
        for _flag, key, env_name in _FLAGS:
            if env_name and flags[key] is None and environ.get(env_name):
                values[key] = environ[env_name]
    auth = auth_settings(values, source)
    check_host(host, auth)
    if auth is not None and auth.header and not is_loopback(host):
        print(f"warning: the user is taken from the {auth.header} header; make sure only the "
              f"proxy can reach {host}, or anyone can send that header.", file=sys.stderr)
    return auth
