"""The served boundary: what `aidebt serve` accepts at start and what a link may pick."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aidebt_core.commands.serve import streamlit_argv
from aidebt_core.errors import AidebtError, SandboxError
from aidebt_core.serving import ENV, ServeConfig, sqlite_uri

ROOT = Path(__file__).resolve().parents[2]


def _root(tmp_path, name="data", db=False) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "x.csv").write_text("a\n1\n")
    if db:
        (folder / "mlflow.db").write_bytes(b"")
    return folder


def test_roots_and_default_tracking_uris(tmp_path):
    a, b = _root(tmp_path, "a", db=True), _root(tmp_path, "b")
    config = ServeConfig.build(workspaces=[a, str(b), a])
    assert config.roots == (a, b)  # repeated roots once, in order
    assert config.tracking_uris == (sqlite_uri(a / "mlflow.db"),)  # only roots that have one
    assert config.host == "127.0.0.1"


def test_explicit_tracking_uris_replace_the_defaults(tmp_path):
    a = _root(tmp_path, "a", db=True)
    config = ServeConfig.build(workspaces=[a], tracking_uris=["http://mlflow:5000"])
    assert config.tracking_uris == ("http://mlflow:5000",)
    assert config.tracking_uri("http://mlflow:5000") == "http://mlflow:5000"
    for other in ("http://127.0.0.1:8999/x", sqlite_uri(a / "mlflow.db"), "file:///etc", ""):
        with pytest.raises(SandboxError, match="is not one this server was started with"):
            config.tracking_uri(other)


@pytest.mark.parametrize("system", ["/", "/etc", "/etc/ssh", "/proc", "/sys", "/dev", "/usr",
                                    "/usr/local", "/bin", "/boot", "/root", "/home", "~"])
def test_system_and_home_folders_are_refused(system):
    if not Path(system).expanduser().exists():
        pytest.fail(f"{system} should exist on the test machine")
    with pytest.raises(AidebtError, match="system or home folder"):
        ServeConfig.build(workspaces=[system])


def test_a_missing_root_and_a_plain_file_are_refused(tmp_path):
    with pytest.raises(AidebtError, match="does not exist"):
        ServeConfig.build(workspaces=[tmp_path / "nope"])
    (tmp_path / "f.csv").write_text("a\n1\n")
    with pytest.raises(AidebtError, match="is a file"):
        ServeConfig.build(workspaces=[tmp_path / "f.csv"])


def test_sqlite_uri_without_a_path_is_refused(tmp_path):
    with pytest.raises(AidebtError, match="no database path"):
        ServeConfig.build(workspaces=[_root(tmp_path)], tracking_uris=["sqlite://"])


def test_a_link_picks_only_a_listed_root(tmp_path):
    a, b = _root(tmp_path, "a"), _root(tmp_path, "b")
    config = ServeConfig.build(workspaces=[a])
    assert config.root(str(a)) == a
    assert config.root(f"{a}/") == a
    for other in (str(b), "/", "/etc", f"{a}/..", f"{a}/sub", "../a", ""):
        with pytest.raises(SandboxError, match="is not one of the folders"):
            config.root(other)


def test_env_round_trip(tmp_path):
    a = _root(tmp_path, "a", db=True)
    config = ServeConfig.build(workspaces=[a], tracking_uris=["http://h:1"],
                               store=tmp_path / "s.sqlite")
    back = ServeConfig.from_env({ENV: config.to_env()})
    assert back == config and back.store == tmp_path / "s.sqlite"


def test_env_default_is_the_sample_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("AIDEBT_SAMPLE_DIR", str(tmp_path))
    (tmp_path / "mlflow.db").write_bytes(b"")
    config = ServeConfig.from_env({})
    assert config.roots == (tmp_path,)
    assert config.tracking_uris == (sqlite_uri(tmp_path / "mlflow.db"),)


def test_env_with_a_system_root_or_garbage_is_refused():
    with pytest.raises(AidebtError):
        ServeConfig.from_env({ENV: json.dumps({"roots": ["/etc"]})})
    with pytest.raises(AidebtError, match="not a valid server configuration"):
        ServeConfig.from_env({ENV: "{not json"})


def test_config_file(tmp_path):
    a = _root(tmp_path, "a")
    (tmp_path / "serve.yaml").write_text(
        "workspaces: [a]\ntracking_uris: [http://mlflow:5000]\nstore: audits/s.sqlite\n")
    config = ServeConfig.build(config_file=tmp_path / "serve.yaml")
    assert config.roots == (a,)  # relative to the file, not the current directory
    assert config.tracking_uris == ("http://mlflow:5000",)
    assert config.store == tmp_path / "audits" / "s.sqlite"


@pytest.mark.parametrize("text, message", [
    ("workspace: [a]\n", "unknown key"),
    ("workspaces: 3\n", "list of strings"),
    ("- a\n", "expected a mapping"),
    ("workspaces: [/etc]\n", "system or home folder"),
    ("a: &x [1]\nb: *x\n", "alias"),
])
def test_bad_config_files(tmp_path, text, message):
    (tmp_path / "serve.yaml").write_text(text)
    with pytest.raises(AidebtError, match=message):
        ServeConfig.build(config_file=tmp_path / "serve.yaml")


def test_streamlit_binds_loopback_by_default(tmp_path):
    argv = streamlit_argv(ServeConfig.build(workspaces=[_root(tmp_path)]), 8600)
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv[argv.index("--server.port") + 1] == "8600"


@pytest.mark.parametrize("args, fragment", [
    (["--workspace", "/nonexistent"], "does not exist"),
    (["--workspace", "/"], "system or home folder"),
    (["--workspace", "/etc"], "system or home folder"),
    (["--port", "0"], "65535"),
    (["--port", "70000"], "65535"),
    (["--port", "-1"], "65535"),
    (["--tracking-uri", "sqlite://"], "no database path"),
])
def test_serve_refuses_bad_options_before_starting(args, fragment):
    done = subprocess.run([sys.executable, "-m", "aidebt_core.cli", "serve", *args],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0]


def test_serve_passes_the_store_and_roots_to_the_app(tmp_path):
    from aidebt_core.cli import build_parser
    from aidebt_core.commands.serve import build_config

    root = _root(tmp_path, db=True)
    args = build_parser().parse_args(["serve", "--workspace", str(root), "--store",
                                      str(tmp_path / "audits.sqlite")])
    config = build_config(args)
    back = ServeConfig.from_env({ENV: config.to_env()})
    assert back.roots == (root,) and back.store == tmp_path / "audits.sqlite"
    assert back.tracking_uris == (sqlite_uri(root / "mlflow.db"),)
    assert not (tmp_path / "audits.sqlite").exists()  # nothing is created at start


def test_roles_travel_in_a_link_whatever_the_column_names():
    from aidebt_core.selection import decode_roles, encode_roles

    roles = {"y_pred_proba": "score", 'we"ird,name:=x': "ignore", "列 ünï": "target"}
    assert decode_roles(encode_roles(roles)) == roles
    for bad in ("repaid:target", "[1]", '{"a": 1}', ""):
        with pytest.raises(AidebtError, match="roles= value"):
            decode_roles(bad)


def test_serve_without_a_workspace_uses_the_sample_folder(tmp_path, monkeypatch):
    from aidebt_core.cli import build_parser
    from aidebt_core.commands.serve import build_config

    sample = _root(tmp_path, "sample", db=True)
    monkeypatch.setenv("AIDEBT_SAMPLE_DIR", str(sample))
    config = build_config(build_parser().parse_args(["serve"]))
    assert config.roots == (sample,)
    monkeypatch.setenv("AIDEBT_SAMPLE_DIR", str(tmp_path / "gone"))
    with pytest.raises(AidebtError, match="No --workspace given"):
        build_config(build_parser().parse_args(["serve"]))


def test_credentials_in_a_tracking_uri_are_never_shown(tmp_path):
    from aidebt_core.serving import display_uri

    uri = "https://bob:s3cret@mlflow.example:5000/api"
    assert display_uri(uri) == "https://***@mlflow.example:5000/api"
    assert display_uri("sqlite:////data/mlflow.db") == "sqlite:////data/mlflow.db"
    config = ServeConfig.build(workspaces=[_root(tmp_path)], tracking_uris=[uri])
    with pytest.raises(SandboxError) as refused:
        config.tracking_uri("http://elsewhere")
    assert "s3cret" not in str(refused.value) and "mlflow.example" in str(refused.value)
