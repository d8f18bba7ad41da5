"""Sign-in for a shared dashboard: which settings `aidebt serve` needs, and when it must refuse.

A dashboard bound to a non-loopback address is reachable by anyone on the network, and it
shows every model's audits and data. `aidebt serve` therefore refuses such a host unless one
of two sign-in methods is configured:

- OpenID Connect through Streamlit's built-in `st.login` (Authlib). Streamlit reads the
  provider settings from the `[auth]` section of a secrets file; serve writes that section to a
  private temporary file (folder 0700, file 0600) and names it with `--secrets.files`, so
  nothing is written into the user's folders and no secret appears on a command line.
- A trusted reverse-proxy header (e.g. `X-Forwarded-User`): the proxy authenticates and puts
  the user in the header. Only safe when every request passes through a proxy that sets (and
  overwrites) the header; anyone who reaches the port directly can write any name into it.

The app only needs to know which method is on (and the header's name); `public_dict()` is what
serve hands it in `ServeConfig.auth` (AIDEBT_SERVE_CONFIG), without any secret. No streamlit
import here.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import signal
import tempfile
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from aidebt_core.errors import AidebtError
from aidebt_core.safeload import MAX_BYTES, load_document

OIDC = "oidc"
HEADER = "header"
SECRETS_DIR_PREFIX = "aidebt-signin-"

OIDC_KEYS = ("server_metadata_url", "client_id", "client_secret", "redirect_uri")
KNOWN_KEYS = (*OIDC_KEYS, "cookie_secret", "header")
# Streamlit serves the OIDC callback at this path; a redirect URI elsewhere never signs in.
CALLBACK_PATH = "/oauth2callback"
_HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SignInError(AidebtError):
    """Sign-in is missing where it is required, or its settings are incomplete or invalid."""


@dataclass(frozen=True)
class OidcSettings:
    """One OpenID Connect client, as Streamlit's `[auth]` section wants it."""

    server_metadata_url: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    cookie_secret: str = field(repr=False)

    def secrets_toml(self) -> str:
        """The `[auth]` section of a Streamlit secrets file (the default provider)."""
        lines = ["[auth]"]
        for key in ("redirect_uri", "cookie_secret", *OIDC_KEYS[:3]):
            # A JSON string without control characters is a valid TOML basic string.
            lines.append(f"{key} = {json.dumps(getattr(self, key), ensure_ascii=False)}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class AuthSettings:
    """How visitors sign in: `method` is "oidc" (with `oidc`) or "header" (with `header`)."""

    method: str
    oidc: OidcSettings | None = None
    header: str | None = None

    def public_dict(self) -> dict:
        """What the app needs to gate pages; never a secret."""
        return {"method": self.method, "header": self.header}


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach: localhost, 127.0.0.0/8, ::1."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_host(host: str, auth: AuthSettings | None) -> None:
    """Refuse to expose the dashboard beyond this machine without sign-in."""
    if auth is None and not is_loopback(host):
        raise SignInError(
            f"--host {host} makes the dashboard reachable from other machines; configure "
            "sign-in (--auth-config FILE or --oidc-* options for OpenID Connect, or "
            "--auth-header NAME behind a trusted reverse proxy) or use --host 127.0.0.1.")


def read_auth_file(path: str | Path) -> dict:
    """Sign-in settings from a file: a Streamlit-style secrets `.toml` with an `[auth]` section,
    or YAML/JSON with an `auth:` mapping (or the keys at the top level)."""
    path = Path(path).expanduser()
    if path.suffix.lower() == ".toml":
        document = _read_toml(path)
    else:
        document = load_document(path)
    if not isinstance(document, Mapping):
        raise SignInError(f"{path.name}: expected a mapping of sign-in settings.")
    section = document.get("auth", document)
    if not isinstance(section, Mapping):
        raise SignInError(f"{path.name}: 'auth' must be a mapping of sign-in settings.")
    return dict(section)


def _read_toml(path: Path) -> dict:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SignInError(f"{path.name} is larger than {MAX_BYTES:,} bytes.")
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SignInError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise SignInError(f"{path.name} is not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as exc:
        raise SignInError(f"{path.name} is not valid TOML: {exc}.") from None


def auth_settings(values: Mapping[str, object], source: str = "sign-in settings",
                  new_secret=lambda: secrets.token_urlsafe(32)) -> AuthSettings | None:
    """Validate sign-in settings (file values with flags already laid over them).

    None when nothing is configured. A cookie secret is generated when none is given (users
    then sign in again after a restart).
    """
    given = {k: v for k, v in values.items() if v not in (None, "")}
    unknown = sorted(set(given) - set(KNOWN_KEYS))
    if unknown:
        raise SignInError(f"{source}: unknown setting(s) {', '.join(unknown)}; known: "
                          f"{', '.join(KNOWN_KEYS)}.")
    for key, value in given.items():
        if not isinstance(value, str):
            raise SignInError(f"{source}: {key} must be a text value.")
        if _CONTROL.search(value):
            raise SignInError(f"{source}: {key} contains a control character.")
    oidc_given = [k for k in OIDC_KEYS if k in given]
    if "header" in given:
        if oidc_given:
            raise SignInError(f"{source}: choose one sign-in method: a proxy header or "
                              f"OpenID Connect ({', '.join(oidc_given)}), not both.")
        header = given["header"].strip()
        if not _HEADER_NAME.match(header):
            raise SignInError(f"{source}: '{header}' is not an HTTP header name.")
        return AuthSettings(HEADER, header=header)
    if not oidc_given:
        if "cookie_secret" in given:
            raise SignInError(f"{source}: a cookie secret alone does not configure sign-in; "
                              f"give {', '.join(OIDC_KEYS)}.")
        return None
    missing = [k for k in OIDC_KEYS if k not in given]
    if missing:
        raise SignInError(f"{source}: OpenID Connect needs {', '.join(missing)} as well.")
    for key in ("server_metadata_url", "redirect_uri"):
        _check_url(given[key], key, source)
    if not urlsplit(given["redirect_uri"]).path.endswith(CALLBACK_PATH):
        raise SignInError(f"{source}: redirect_uri must end with {CALLBACK_PATH} (the dashboard "
                          f"answers the provider there), e.g. "
                          f"https://dashboard.example.com{CALLBACK_PATH}.")
    cookie_secret = given.get("cookie_secret") or new_secret()
    return AuthSettings(OIDC, oidc=OidcSettings(
        server_metadata_url=given["server_metadata_url"], client_id=given["client_id"],
        client_secret=given["client_secret"], redirect_uri=given["redirect_uri"],
        cookie_secret=cookie_secret))


def _check_url(url: str, key: str, source: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SignInError(f"{source}: {key} must be an absolute http(s) URL, not '{url}'.")


def write_private_secrets(oidc: OidcSettings) -> Path:
    """Write Streamlit's `[auth]` section to a new private file and return its path.

    The folder is created 0700 by mkdtemp and the file 0600 before any byte is written, in
    the per-user runtime folder when there is one (a tmpfs), else the system temp folder.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = runtime if runtime and os.path.isdir(runtime) else None
    folder = Path(tempfile.mkdtemp(prefix=SECRETS_DIR_PREFIX, dir=base))
    path = folder / "secrets.toml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(oidc.secrets_toml())
    return path


def remove_private_secrets(folder: str | Path) -> None:
    """Delete a folder `write_private_secrets` made (and nothing else)."""
    folder = Path(folder)
    if not folder.name.startswith(SECRETS_DIR_PREFIX) or not folder.is_dir():
        return
    for child in folder.iterdir():
        child.unlink(missing_ok=True)
    folder.rmdir()


def remove_when_process_ends(folder: Path) -> None:
    """Fork a watcher that deletes `folder` once this process has ended, however it ends.

    serve replaces itself with the Streamlit server (exec, same process), so nothing of serve
    is left to clean up: the watcher is. It leaves the terminal's process group (Ctrl-C stops
    the server, not the watcher), holds none of its files, and polls for being orphaned.
    """
    parent = os.getpid()
    if os.fork():
        return
    try:
        os.setsid()
        for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        while os.getppid() == parent:
            time.sleep(0.5)
        remove_private_secrets(folder)
    finally:
        os._exit(0)


def serve_environment(auth: AuthSettings | None) -> tuple[dict[str, str], list[str]]:
    """(environment variables, extra `streamlit run` arguments) that turn OIDC sign-in on.

    The method itself reaches the app through `ServeConfig.auth` (`public_dict()`); the secrets
    go in a private file that is deleted when the server process ends.
    """
    if auth is None or auth.oidc is None:
        return {}, []
    path = write_private_secrets(auth.oidc)
    remove_when_process_ends(path.parent)
    return {}, ["--secrets.files", str(path)]


def auth_from_public(value: object, source: str = "the server configuration"
                     ) -> AuthSettings | None:
    """The method from `public_dict()` as the app receives it (None: sign-in off).

    Fails closed: a value that cannot be understood raises instead of turning sign-in off.
    """
    if value is None:
        return None
    if isinstance(value, Mapping):
        if value.get("method") == OIDC:
            return AuthSettings(OIDC)
        header = value.get("header")
        if value.get("method") == HEADER and isinstance(header, str) and header:
            return AuthSettings(HEADER, header=header)
    raise SignInError(f"{source}: unknown sign-in method {value!r}; sign-in cannot be checked.")
