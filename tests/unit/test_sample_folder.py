"""`aidebt sample DIR` never replaces what it did not write: a project folder with its own
MLflow store is refused and left byte-identical; the sample's manifest decides what is its own."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from aidebt_core.cli import main
from aidebt_core.sample_manifest import (
    MANIFEST,
    SampleFolderError,
    SampleManifest,
    check_folder,
    record_files,
)

TARGETS = ["applications.parquet", "reference.parquet", "current.parquet",
           "ground_truth.json", "mlflow.db", "mlartifacts"]
STORE = ".aidebt/audits.sqlite"


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "dir" for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def project_template(tmp_path_factory) -> Path:
    """A user's project: a real MLflow store with a run and an artifact, and notes."""
    from mlflow import MlflowClient

    root = tmp_path_factory.mktemp("project")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment(
        "churn-v2", artifact_location=(root / "mlartifacts" / "1").as_uri())
    run = client.create_run(experiment, run_name="precious-run")
    client.log_metric(run.info.run_id, "auc", 0.81)
    notes = root / "notes.txt"
    notes.write_text("feature ideas\n")
    client.log_artifact(run.info.run_id, str(notes))
    client.set_terminated(run.info.run_id)
    return root


@pytest.fixture
def project(project_template, tmp_path, monkeypatch) -> Path:
    import shutil

    folder = tmp_path / "project"
    shutil.copytree(project_template, folder)
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("force", [False, True])
def test_sample_in_a_project_folder_is_refused_and_changes_nothing(project, capsys, force):
    before = _tree(project)
    assert any(name.startswith("mlartifacts/1/") for name in before)   # the store's artifacts
    assert main(["sample", ".", *(["--force"] if force else [])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    named = "/mlflow.db' was not written by" if force else "holds 'mlflow.db', which aidebt"
    assert named in err[0]
    assert _tree(project) == before                   # every byte, and no new file or folder


def test_force_refuses_only_where_the_sample_would_write(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SampleFolderError, match="holds 'notes.txt'"):
        check_folder(tmp_path, TARGETS, [STORE], force=False)
    assert check_folder(tmp_path, TARGETS, [STORE], force=True).files == {}
    (tmp_path / "mlartifacts" / "7").mkdir(parents=True)
    (tmp_path / "mlartifacts" / "7" / "model.pkl").write_bytes(b"theirs")
    with pytest.raises(SampleFolderError, match="mlartifacts/7/model.pkl' was not written"):
        check_folder(tmp_path, TARGETS, [STORE], force=True)


def _own_sample(folder: Path) -> None:
    """A folder as the sample leaves it: its files, listed with their hashes."""
    for name in TARGETS[:4]:
        (folder / name).write_text(f"sample {name}")
    (folder / "mlartifacts" / "1" / "run").mkdir(parents=True)
    (folder / "mlartifacts" / "1" / "run" / "model.pkl").write_bytes(b"sample model")
    (folder / STORE).parent.mkdir()
    (folder / STORE).write_bytes(b"store")
    SampleManifest({**record_files(folder, TARGETS), STORE: None}).write(folder)


def test_the_samples_own_files_are_its_own_until_someone_changes_them(tmp_path):
    _own_sample(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text())["files"]
    assert manifest["ground_truth.json"] == hashlib.sha256(b"sample ground_truth.json").hexdigest()
    assert "mlartifacts/1/run/model.pkl" in manifest
    check_folder(tmp_path, TARGETS, [STORE], force=False)        # a rerun replaces its own
    (tmp_path / STORE).write_bytes(b"store with the team's audits")     # only ever added to
    (tmp_path / ".aidebt" / "audits.sqlite-wal").write_bytes(b"wal")
    check_folder(tmp_path, TARGETS, [STORE], force=False)
    (tmp_path / "reference.parquet").write_text("the team replaced this with real data")
    with pytest.raises(SampleFolderError, match="holds 'reference.parquet'"):
        check_folder(tmp_path, TARGETS, [STORE], force=False)
    with pytest.raises(SampleFolderError, match="reference.parquet' was not written"):
        check_folder(tmp_path, TARGETS, [STORE], force=True)


def test_a_symlink_is_never_the_samples_own(tmp_path):
    _own_sample(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("elsewhere")
    (tmp_path / "current.parquet").unlink()
    (tmp_path / "current.parquet").symlink_to(outside)
    with pytest.raises(SampleFolderError, match="current.parquet"):
        check_folder(tmp_path, TARGETS, [STORE], force=True)
    assert outside.read_text() == "elsewhere"


def test_pending_files_of_an_interrupted_run_are_its_own(tmp_path):
    SampleManifest({"applications.parquet": None}, ("mlartifacts/",)).write(tmp_path)
    (tmp_path / "applications.parquet").write_bytes(b"half written")
    (tmp_path / "mlartifacts" / "3").mkdir(parents=True)
    (tmp_path / "mlartifacts" / "3" / "x.json").write_text("{}")
    check_folder(tmp_path, TARGETS, [STORE], force=False)


def test_a_file_where_the_folder_should_be(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(SampleFolderError, match="is not a folder"):
        check_folder(tmp_path / "out", TARGETS, [STORE], force=True)
    from aidebt_core.sample import write_sample

    with pytest.raises(SampleFolderError, match="Cannot create the folder .*Not a directory"):
        write_sample(tmp_path / "out" / "sub", with_mlflow=False)
    assert (tmp_path / "out").read_text() == "a file"
