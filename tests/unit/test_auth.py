"""Sign-in settings of `aidebt serve`: a non-loopback host needs sign-in, settings are checked,
the OIDC secrets reach Streamlit in a private file and never the app's environment.

`os.execve` is replaced in every test that goes through `cli.main`, so a test that wrongly gets
past the checks fails instead of turning pytest into a Streamlit server.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from aidebt_core import cli, signin
from aidebt_core.serving import ENV
from aidebt_core.signin import (
    HEADER,
    OIDC,
    SECRETS_DIR_PREFIX,
    AuthSettings,
    OidcSettings,
    SignInError,
    auth_from_public,
    auth_settings,
    is_loopback,
    remove_private_secrets,
)

OIDC_FLAGS = ["--oidc-metadata-url", "https://idp.example.org/.well-known/openid-configuration",
              "--oidc-client-id", "dash", "--oidc-client-secret", "s3cr3t-flag",
              "--oidc-redirect-uri", "https://aidebt.example.org/oauth2callback"]
OIDC_VALUES = {"server_metadata_url": "https://idp.example.org/.well-known/openid-configuration",
               "client_id": "dash", "client_secret": "from-values",
               "redirect_uri": "https://aidebt.example.org/oauth2callback"}


class Exec(BaseException):  # not an Exception: cli.main reports those as internal errors
    """Raised instead of exec'ing Streamlit; carries what would have run."""

    def __init__(self, argv, env):
        super().__init__("exec")
        self.argv, self.env = argv, env


@pytest.fixture
def watched() -> list:
    return []


@pytest.fixture
def serve(monkeypatch, tmp_path, sample_dir, watched):
    """`serve(*args)` -> (exit code, stderr lines, Exec or None), never starting anything."""
    monkeypatch.chdir(os.getcwd())  # serve chdirs to the app folder; restore afterwards
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # the secrets folder lands here
    for name in ("AIDEBT_OIDC_CLIENT_SECRET", "AIDEBT_COOKIE_SECRET", ENV):
        monkeypatch.delenv(name, raising=False)

    def fake_execve(path, argv, env):
        raise Exec(argv, env)

    monkeypatch.setattr(os, "execve", fake_execve)
    monkeypatch.setattr(signin, "remove_when_process_ends", watched.append)  # no fork in pytest

    def _serve(*args):
        try:
            code = cli.main(["serve", "--workspace", str(sample_dir), *args])
            return code, None
        except Exec as exc:
            return None, exc

    return _serve


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost",
                                  "LOCALHOST", " localhost "])
def test_loopback_hosts(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "dash.example.org",
                                  "", "127.0.0.1.example.org", "::ffff:10.0.0.1"])
def test_non_loopback_hosts(host):
    assert not is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_serve_refuses_a_shared_host_without_sign_in(serve, capsys, host):
    code, started = serve("--host", host)
    err = capsys.readouterr().err.strip().splitlines()
    assert started is None and code == 2
    assert len(err) == 1 and err[0].startswith(f"error: --host {host} makes the dashboard")
    assert "--auth-header" in err[0] and "--host 127.0.0.1" in err[0]


def test_serve_refuses_a_shared_host_from_the_config_file(serve, capsys, tmp_path):
    config = tmp_path / "serve.yaml"
    config.write_text("host: 0.0.0.0\n")
    code, started = serve("--config", str(config))
    assert started is None and code == 2
    assert "--host 0.0.0.0 makes the dashboard" in capsys.readouterr().err


def test_a_stray_secret_in_the_environment_turns_nothing_on(serve, capsys, monkeypatch):
    monkeypatch.setenv("AIDEBT_OIDC_CLIENT_SECRET", "leftover")
    code, started = serve("--host", "0.0.0.0")
    assert started is None and code == 2
    _, started = serve()  # loopback: starts, without sign-in
    assert json.loads(started.env[ENV])["auth"] is None
    assert "--secrets.files" not in started.argv


def test_serve_on_a_shared_host_with_oidc_writes_a_private_secrets_file(serve, tmp_path, watched):
    code, started = serve("--host", "0.0.0.0", *OIDC_FLAGS)
    assert code is None, "serve exited instead of starting"
    argv, env = started.argv, started.env
    assert argv[argv.index("--server.address") + 1] == "0.0.0.0"
    secrets_file = Path(argv[argv.index("--secrets.files") + 1])
    folder = secrets_file.parent
    try:
        assert folder.parent == tmp_path and folder.name.startswith(SECRETS_DIR_PREFIX)
        assert watched == [folder]  # deleted once the server process ends
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
        auth = tomllib.loads(secrets_file.read_text())["auth"]
        assert auth["client_secret"] == "s3cr3t-flag" and auth["client_id"] == "dash"
        assert auth["redirect_uri"] == "https://aidebt.example.org/oauth2callback"
        assert len(auth["cookie_secret"]) >= 32  # generated
        # The app learns the method only; no secret in its environment or on the command line.
        assert json.loads(env[ENV])["auth"] == {"method": OIDC, "header": None}
        assert "s3cr3t-flag" not in env[ENV] and auth["cookie_secret"] not in " ".join(argv)
    finally:
        remove_private_secrets(folder)
    assert not folder.exists()


def test_serve_behind_a_proxy_header(serve, capsys):
    _, started = serve("--host", "0.0.0.0", "--auth-header", "X-Forwarded-User")
    assert capsys.readouterr().err.startswith("warning: the user is taken from the "
                                              "X-Forwarded-User header; make sure only the proxy")
    assert json.loads(started.env[ENV])["auth"] == {"method": HEADER,
                                                    "header": "X-Forwarded-User"}
    assert "--secrets.files" not in started.argv


def test_sign_in_can_be_on_with_a_loopback_host(serve):
    _, started = serve("--auth-header", "X-Remote-User")
    assert started.argv[started.argv.index("--server.address") + 1] == "127.0.0.1"
    assert json.loads(started.env[ENV])["auth"]["method"] == HEADER


def test_precedence_flag_over_environment_over_file(serve, tmp_path, monkeypatch):
    auth_file = tmp_path / "auth.toml"
    auth_file.write_text('[auth]\nserver_metadata_url = "https://idp.example.org/m"\n'
                         'client_id = "from-file"\nclient_secret = "file-secret"\n'
                         'redirect_uri = "http://127.0.0.1:8501/oauth2callback"\n'
                         'cookie_secret = "file-cookie-secret-0123456789"\n')
    monkeypatch.setenv("AIDEBT_OIDC_CLIENT_SECRET", "env-secret")

    def written(*args):
        _, started = serve("--auth-config", str(auth_file), *args)
        path = Path(started.argv[started.argv.index("--secrets.files") + 1])
        try:
            return tomllib.loads(path.read_text())["auth"]
        finally:
            remove_private_secrets(path.parent)

    auth = written()
    assert auth["client_id"] == "from-file" and auth["client_secret"] == "env-secret"
    assert auth["cookie_secret"] == "file-cookie-secret-0123456789"
    auth = written("--oidc-client-secret", "flag-secret", "--oidc-client-id", "flag-id")
    assert auth["client_secret"] == "flag-secret" and auth["client_id"] == "flag-id"


def test_auth_section_of_the_serve_config_file(serve, tmp_path):
    config = tmp_path / "serve.yaml"
    config.write_text("host: 0.0.0.0\nauth:\n  header: X-Forwarded-Email\n")
    _, started = serve("--config", str(config))
    assert json.loads(started.env[ENV])["auth"] == {"method": HEADER,
                                                    "header": "X-Forwarded-Email"}
    assert "X-Forwarded-Email" in started.env[ENV]


def test_yaml_auth_file(tmp_path, serve):
    auth_file = tmp_path / "auth.yaml"
    auth_file.write_text("auth:\n" + "".join(f"  {k}: {v}\n" for k, v in OIDC_VALUES.items()))
    _, started = serve("--host", "10.1.2.3", "--auth-config", str(auth_file))
    path = Path(started.argv[started.argv.index("--secrets.files") + 1])
    try:
        assert tomllib.loads(path.read_text())["auth"]["client_secret"] == "from-values"
    finally:
        remove_private_secrets(path.parent)


@pytest.mark.parametrize(("change", "fragment"), [
    ({"client_secret": None, "client_id": None}, "needs client_id, client_secret as well"),
    ({"redirect_uri": "https://aidebt.example.org/"}, "must end with /oauth2callback"),
    ({"server_metadata_url": "file:///etc/passwd"}, "must be an absolute http(s) URL"),
    ({"redirect_uri": "/oauth2callback"}, "must be an absolute http(s) URL"),
    ({"header": "X-Forwarded-User"}, "choose one sign-in method"),
    ({"client_id": "a\nb"}, "client_id contains a control character"),
    ({"client_id": 12}, "client_id must be a text value"),
    ({"clientid": "x"}, "unknown setting(s) clientid"),
])
def test_bad_oidc_settings_are_refused(change, fragment):
    values = {**OIDC_VALUES, **change}
    with pytest.raises(SignInError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        auth_settings(values)


@pytest.mark.parametrize("header", ["X Forwarded", "X-User:", " ", "Ünicode", "-x"])
def test_bad_header_names_are_refused(header):
    with pytest.raises(SignInError, match="is not an HTTP header name"):
        auth_settings({"header": header})
    assert auth_settings({"header": ""}) is None  # empty: nothing configured


def test_cookie_secret_alone_is_not_sign_in():
    with pytest.raises(SignInError, match="cookie secret alone"):
        auth_settings({"cookie_secret": "x" * 40})


def test_generated_cookie_secrets_differ():
    first, second = auth_settings(OIDC_VALUES), auth_settings(OIDC_VALUES)
    assert first.oidc.cookie_secret != second.oidc.cookie_secret
    assert len(first.oidc.cookie_secret) >= 32
    assert "from-values" not in repr(first)  # secrets stay out of logs and tracebacks


def test_secrets_toml_round_trips_awkward_values():
    awkward = 'quote " backslash \\ tab-free unicode é 𝄞 ${x} \'single\' # hash = eq'
    settings = OidcSettings(server_metadata_url="https://idp.example.org/m?a=1&b=\"2\"",
                            client_id=awkward, client_secret=awkward + "!",
                            redirect_uri="https://x.example.org/oauth2callback",
                            cookie_secret="[not a table]")
    parsed = tomllib.loads(settings.secrets_toml())
    assert parsed == {"auth": {"redirect_uri": settings.redirect_uri,
                               "cookie_secret": "[not a table]",
                               "server_metadata_url": settings.server_metadata_url,
                               "client_id": awkward, "client_secret": awkward + "!"}}


def test_unreadable_auth_files(tmp_path, serve, capsys):
    bad = tmp_path / "auth.toml"
    bad.write_text("[auth\nclient_id = 1")
    code, _ = serve("--auth-config", str(bad))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "auth.toml is not valid TOML" in err[0]
    code, _ = serve("--auth-config", str(tmp_path / "missing.yaml"))
    assert code == 2 and "Cannot read" in capsys.readouterr().err
    listed = tmp_path / "auth.json"
    listed.write_text("[1, 2]")
    code, _ = serve("--auth-config", str(listed))
    assert code == 2 and "expected a mapping" in capsys.readouterr().err


def test_the_app_reads_the_method_and_fails_closed():
    assert auth_from_public(None) is None
    assert auth_from_public({"method": "oidc", "header": None}) == AuthSettings(OIDC)
    assert auth_from_public({"method": "header", "header": "X-U"}) == AuthSettings(HEADER,
                                                                                   header="X-U")
    for garbled in ({"method": "none"}, {"method": "header"}, "oidc", [], {"header": "X-U"}):
        with pytest.raises(SignInError, match="sign-in cannot be checked"):
            auth_from_public(garbled)


def test_remove_private_secrets_touches_only_its_own_folders(tmp_path):
    foreign = tmp_path / "project"
    foreign.mkdir()
    (foreign / "secrets.toml").write_text("mine")
    remove_private_secrets(foreign)
    assert (foreign / "secrets.toml").read_text() == "mine"


def test_the_secrets_folder_goes_when_the_server_is_killed(tmp_path):
    """A stand-in for the server: it writes the secrets and starts the watcher as serve does,
    then is SIGKILLed (no chance to clean up itself); the folder must still disappear."""
    script = (
        "import sys, time\n"
        "from aidebt_core.signin import auth_settings, serve_environment\n"
        f"auth = auth_settings({OIDC_VALUES!r})\n"
        "env, argv = serve_environment(auth)\n"
        "print(argv[1], flush=True)\n"
        "time.sleep(60)\n")
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env=env, cwd=Path(__file__).resolve().parents[2])
    try:
        secrets_file = Path(proc.stdout.readline().strip())
        assert secrets_file.is_file() and secrets_file.parent.parent == tmp_path
        time.sleep(0.7)
        assert secrets_file.is_file()  # still needed while the server runs
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
    deadline = time.monotonic() + 5
    while secrets_file.parent.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not secrets_file.parent.exists()
