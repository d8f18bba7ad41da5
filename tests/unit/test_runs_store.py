"""Bad and unusual tracking stores: wrong or unreachable URIs, empty stores, experiments
without runs, thousands of params, MLflow-2-style model folders, importances as metrics."""

from __future__ import annotations

import http.server
import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import Param

from aidebt_core.errors import TrackingError
from aidebt_core.runs import (
    feature_importances,
    model_reproducibility,
    open_store,
    read_registry,
    read_runs,
    resolve_tracking_uri,
)

MLMODEL = """artifact_path: model
flavors:
  python_function: {loader_module: mlflow.sklearn, python_version: 3.11.9}
signature:
  inputs: '[{"type": "double", "name": "x1", "required": true}, {"type": "long", "name":
    "x2", "required": true}]'
  outputs: '[{"type": "double", "required": true}]'
"""


@pytest.fixture(scope="module")
def odd_store(tmp_path_factory) -> Path:
    """A store with an empty experiment, a run with 3,000 params, and an MLflow-2-style run."""
    root = tmp_path_factory.mktemp("odd")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_experiment("empty", artifact_location=(root / "art" / "empty").as_uri())
    wide = client.create_experiment("wide", artifact_location=(root / "art" / "wide").as_uri())
    run = client.create_run(wide, run_name="many-params")
    params = [Param(f"p{i:04d}", str(i)) for i in range(3_000)]
    params += [Param("model__random_state", "3"), Param("features", '["a", "b", "c"]')]
    for start in range(0, len(params), 100):
        client.log_batch(run.info.run_id, params=params[start:start + 100])
    client.log_metric(run.info.run_id, "feature_importance.a", 0.5)
    client.log_metric(run.info.run_id, "feature_importance.b", -0.7)
    client.set_terminated(run.info.run_id)
    old = client.create_experiment("old", artifact_location=(root / "art" / "old").as_uri())
    run2 = client.create_run(old, run_name="mlflow2-style",
                             tags={"mlflow.source.git.commit": "abc123"})
    folder = root / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text(MLMODEL)
    (folder / "requirements.txt").write_text("scikit-learn==1.5.0\nnumpy>=1.26 # pinned\n")
    (folder / "model.pkl").write_bytes(b"not really a pickle")
    client.log_artifacts(run2.info.run_id, str(folder), "model")
    client.log_metric(run2.info.run_id, "rmse", 1.5)
    client.log_param(run2.info.run_id, "alpha", "0.1")
    client.set_terminated(run2.info.run_id)
    client.create_registered_model("unversioned")
    return root


def test_empty_experiment_and_many_params(odd_store):
    table = read_runs(str(odd_store))
    assert read_runs(str(odd_store), ["empty"]).manifests == ()
    wide = table.by_id("many-params")
    assert len(wide.hyper_params) == 3_000
    assert wide.seed == "3" and wide.seed_key == "model__random_state"
    assert wide.features == ("a", "b", "c") and wide.features_source == "param features"
    assert wide.missing == ("git_commit", "data_digest", "model", "environment")
    assert "… (+2988)" in wide.fields_frame().set_index("field").loc["params", "value"]


def test_mlflow2_model_folder_is_found(odd_store):
    old = read_runs(str(odd_store), ["old"]).by_id("mlflow2-style")
    assert old.model_uri == f"runs:/{old.run_id}/model"
    assert old.features == ("x1", "x2") and old.features_source == "model signature"
    assert old.environment_files == ("model/requirements.txt",)
    assert old.missing == ("data_digest", "seed")


def test_importances_from_metrics_sorted_by_magnitude(odd_store):
    table = read_runs(str(odd_store), ["wide"])
    values = feature_importances(table.by_id("many-params"), str(odd_store))
    assert list(values.items()) == [("b", -0.7), ("a", 0.5)]


def test_registry_with_a_model_without_versions(odd_store):
    registry = read_registry(str(odd_store))
    assert [m.name for m in registry.models] == ["unversioned"]
    assert registry.get("unversioned").versions == ()
    (item,) = model_reproducibility(str(odd_store))
    assert item.version is None and item.completeness is None
    assert item.staleness.stale and item.staleness.note == "no versions"


def test_store_without_any_runs(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(tracking_uri=uri).search_experiments()  # creates the schema
    table = read_runs(uri)
    assert table.manifests == () and table.to_frame().empty and table.to_dict() == []
    assert table.summary()["runs"] == 0 and read_registry(uri).models == ()


@pytest.mark.parametrize("uri, message", [
    ("", "No MLflow tracking URI given"),
    ("sqlite:///{tmp}/missing.db", "No MLflow database at"),
    ("{tmp}/nothing-here", "neither a URI nor an existing path"),
    ("file://{tmp}/missing", "No MLflow file store"),
])
def test_wrong_uris_are_refused(tmp_path, uri, message):
    with pytest.raises(TrackingError, match=message):
        open_store(uri.format(tmp=tmp_path))
    assert not (tmp_path / "missing.db").exists()  # MLflow would have created it


def test_a_file_that_is_not_a_store(tmp_path):
    garbage = tmp_path / "notes.db"
    garbage.write_text("hello, not sqlite" * 100)
    with pytest.raises(TrackingError, match="not a readable SQLite database"):
        open_store(str(garbage))
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE things (x)")
    with pytest.raises(TrackingError, match="not an MLflow tracking store"):
        open_store(f"sqlite:///{other}")
    (tmp_path / "folder").mkdir()
    with pytest.raises(TrackingError, match="holds no MLflow store"):
        open_store(str(tmp_path / "folder"))


def test_folder_and_file_forms_resolve_to_the_sqlite_uri(sample_dir):
    expected = f"sqlite:///{(sample_dir / 'mlflow.db').resolve().as_posix()}"
    assert resolve_tracking_uri(str(sample_dir)) == expected
    assert resolve_tracking_uri(str(sample_dir / "mlflow.db")) == expected


def test_unreachable_server_fails_fast():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(TrackingError, match="Cannot reach the MLflow server"):
        read_runs(f"http://127.0.0.1:{port}")
    assert time.monotonic() - started < 5


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        status, body, delay = self.server.answer
        if delay:
            self.server.release.wait(delay)   # a server that hangs (until the test ends)
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the client gave up on the hanging answer: a broken pipe is expected


@pytest.fixture
def fake_server():
    def start(status: int, body: bytes, delay: float = 0.0) -> str:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.answer, server.release = (status, body, delay), threading.Event()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    servers: list = []
    yield start
    for server in servers:
        server.release.set()
        server.shutdown()
        server.server_close()


def test_wrong_server_answers_are_explained(fake_server):
    with pytest.raises(TrackingError, match="answered HTTP 404"):
        open_store(fake_server(404, b"not found"))
    with pytest.raises(TrackingError, match="credentials"):
        open_store(fake_server(401, b"login"))
    with pytest.raises(TrackingError, match="not like an MLflow tracking server"):
        open_store(fake_server(200, b"<html>a web page</html>"))


def test_a_hanging_server_times_out_in_seconds(fake_server):
    url = fake_server(200, json.dumps({"experiments": []}).encode(), delay=30)
    started = time.monotonic()
    with pytest.raises(TrackingError, match="Cannot reach"):
        open_store(url)
    assert time.monotonic() - started < 6


def test_a_legacy_file_store_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())
    run = client.create_run(client.create_experiment("fs"), run_name="fs-run",
                            tags={"mlflow.source.git.commit": "abc"})
    client.log_param(run.info.run_id, "random_state", "1")
    client.log_metric(run.info.run_id, "auc", 0.7)
    client.set_terminated(run.info.run_id)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")
    table = read_runs(str(tmp_path))   # a folder holding mlruns/
    assert table.uri == (tmp_path / "mlruns").as_uri()
    manifest = table.by_id("fs-run")
    assert manifest.seed == "1" and manifest.git_commit == "abc"
    assert manifest.missing == ("data_digest", "features", "params", "model", "environment")


def test_odd_characters_in_the_path_never_open_another_file(tmp_path, sample_dir):
    import shutil

    folder = tmp_path / "runs #1?v=2 50%"
    folder.mkdir()
    shutil.copy(sample_dir / "mlflow.db", folder / "mlflow.db")
    table = read_runs(str(folder))
    assert len(table.manifests) == 6
    # The same path written raw into a URI means another file to SQLAlchemy: refused, and
    # nothing is created.
    with pytest.raises(TrackingError, match="No MLflow database"):
        open_store(f"sqlite:///{folder}/mlflow.db")
    # (MLflow itself may leave an empty folder named like the encoded path; no database.)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [folder / "mlflow.db"]


# -- reading never changes the user's store -------------------------------------------------
def _revision(db: Path) -> str:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        con.close()


def _head() -> str:
    from alembic.script import ScriptDirectory
    from mlflow.store.db.utils import _get_alembic_config

    return ScriptDirectory.from_config(_get_alembic_config("")).get_current_head()


def _tree(folder: Path) -> dict[str, str]:
    import hashlib

    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "dir" for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def older_store(odd_store, tmp_path_factory) -> Path:
    """The odd store's database taken one schema revision back with MLflow's own migrations:
    a store exactly as the MLflow release before the installed one left it."""
    import logging
    import shutil

    from alembic import command
    from mlflow.store.db.utils import _get_alembic_config

    db = tmp_path_factory.mktemp("older") / "mlflow.db"
    shutil.copy(odd_store / "mlflow.db", db)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    command.downgrade(_get_alembic_config(f"sqlite:///{db}"), "-1")
    assert _revision(db) != _head()
    return db


def test_mlflow_itself_would_migrate_the_older_store(older_store, tmp_path):
    """The premise of the next test: opening such a store with MLflow rewrites the file."""
    import shutil

    probe = tmp_path / "probe.db"
    shutil.copy(older_store, probe)
    old = _revision(probe)
    MlflowClient(tracking_uri=f"sqlite:///{probe}").search_experiments()
    assert _revision(probe) == _head() != old
    assert probe.read_bytes() != older_store.read_bytes()


def test_reading_an_older_store_leaves_it_byte_identical(older_store, tmp_path, capsys):
    import shutil

    from aidebt_core.cli import main

    folder = tmp_path / "project"
    folder.mkdir()
    db = folder / "mlflow.db"
    shutil.copy(older_store, db)
    before, old = _tree(folder), _revision(db)
    uri = f"sqlite:///{db}"
    assert main(["runs", "--tracking-uri", uri, "--format", "json"]) == 0
    names = {r["run_name"] for r in json.loads(capsys.readouterr().out)}
    assert names == {"many-params", "mlflow2-style"}
    # the pre-fill reads the registry (this model has no version, which it reports)
    assert main(["audit", "--model", "unversioned", "--prefill", "--tracking-uri", uri]) == 2
    assert "no registered model 'unversioned' with a run" in capsys.readouterr().err
    store = open_store(str(folder))
    assert old in store.note and _head() in store.note and str(db) in store.note
    assert read_registry(store).models[0].name == "unversioned"
    assert model_reproducibility(store) is not None
    assert _tree(folder) == before and _revision(db) == old


def test_a_store_at_the_installed_schema_is_read_in_place(odd_store):
    store = open_store(str(odd_store))
    assert store.note == "" and store.client_uri == store.uri


def test_a_schema_from_a_newer_mlflow_is_refused_naming_both(odd_store, tmp_path):
    import shutil

    db = tmp_path / "mlflow.db"
    shutil.copy(odd_store / "mlflow.db", db)
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = 'f00dfeedbeef'")
    con.commit()
    con.close()
    before = db.read_bytes()
    with pytest.raises(TrackingError, match=f"f00dfeedbeef.*{_head()}.*newer MLflow"):
        open_store(str(db))
    assert db.read_bytes() == before


@pytest.mark.parametrize("uri", ["sqlite://", "sqlite:///", "sqlite:///:memory:"])
def test_sqlite_without_a_file_is_refused(uri):
    with pytest.raises(TrackingError, match="has no database path"):
        open_store(uri)


def test_a_folder_that_is_no_file_store_is_refused_unlisted_and_untouched(tmp_path):
    folder = tmp_path / "etc-like"
    (folder / "ssh").mkdir(parents=True)
    (folder / "passwd-secret.txt").write_text("root:x:0:0")
    (folder / "ssh" / "meta.yaml").write_text("not an experiment")
    before = _tree(folder)
    for uri in (folder.as_uri(), str(folder)):
        with pytest.raises(TrackingError) as err:
            open_store(uri)
        assert "passwd-secret" not in str(err.value) and "ssh" not in str(err.value)
    assert _tree(folder) == before                     # no .trash, no models/


def test_a_file_store_is_read_without_creating_anything_in_it(tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    root = tmp_path / "mlruns"
    client = MlflowClient(tracking_uri=root.as_uri())
    run = client.create_run(client.create_experiment("fs"), run_name="fs-run")
    client.set_terminated(run.info.run_id)
    shutil.rmtree(root / ".trash")                     # as copied without its hidden folders
    shutil.rmtree(root / "models", ignore_errors=True)
    before = _tree(root)
    table = read_runs(root.as_uri())
    assert [m.run_name for m in table.manifests] == ["fs-run"]
    assert read_registry(root.as_uri()).models == ()
    assert _tree(root) == before


def test_a_database_server_at_another_schema_is_refused_before_mlflow_connects(older_store,
                                                                               odd_store):
    """The server check only reads (SQLAlchemy, any dialect); SQLite stands in for a server."""
    from aidebt_core.runs.readonly import check_server_schema

    before = older_store.read_bytes()
    with pytest.raises(TrackingError, match=f"schema {_revision(older_store)}.*expects {_head()}"):
        check_server_schema(f"sqlite:///{older_store}")
    assert older_store.read_bytes() == before
    check_server_schema(f"sqlite:///{odd_store / 'mlflow.db'}")          # the installed schema
    with pytest.raises(TrackingError, match=r"Cannot read the MLflow database at 'postgresql://u:\*\*\*@"):
        check_server_schema("postgresql://u:secret@127.0.0.1:9/mlflow")
