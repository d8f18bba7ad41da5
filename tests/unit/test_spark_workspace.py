"""Spark sources a workspace offers the dashboard (aidebt-spark.yaml): listing, resolution,
malformed files, and refusal of any spark: spec the file does not list — before any server is
contacted. No Spark needed here; tests/e2e/test_spark_dashboard_e2e.py reads through one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from aidebt_core.data import connect
from aidebt_core.engines.spark_workspace import (
    SPARK_FILE,
    open_workspace_spark,
    read_workspace_spark,
)
from aidebt_core.errors import DataSourceError, SandboxError
from aidebt_core.selection import FILES, Selection, input_fingerprint
from aidebt_core.sources import describe_sources, open_source, scan_sources
from aidebt_core.workspace import Workspace

UNREACHABLE = "sc://127.0.0.1:9"  # discard port: nothing listens


def _workspace(tmp_path: Path, text: str, with_file: bool = True) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / SPARK_FILE).write_text(text)
    if with_file:
        (folder / "scores_2025.csv").write_text("repaid,y_pred_proba\n1,0.9\n0,0.2\n")
    return folder


def test_listed_sources_resolve_under_the_workspace_and_keep_urls(tmp_path, monkeypatch):
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    folder = _workspace(tmp_path, f"""
remote: {UNREACHABLE}
sources:
  - spark:parquet:exports/applications_2024
  - spark:parquet:/data/abs path/cur
  - spark:csv:s3a://bucket/x.csv
  - spark:main.credit.applications_2025
""")
    config = read_workspace_spark(folder)
    assert config.sources == ("spark:parquet:exports/applications_2024",
                              "spark:parquet:/data/abs path/cur", "spark:csv:s3a://bucket/x.csv",
                              "spark:main.credit.applications_2025")
    assert config.spec(config.sources[0]).location == str(folder / "exports/applications_2024")
    assert config.spec(config.sources[1]).location == "/data/abs path/cur"
    assert config.spec(config.sources[2]).location == "s3a://bucket/x.csv"
    assert str(config.spec(config.sources[3])) == "spark:main.credit.applications_2025"
    assert config.options().remote == UNREACHABLE


def test_the_server_environment_gives_the_remote_when_the_file_does_not(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARK_REMOTE", "sc://spark.internal:15002")
    folder = _workspace(tmp_path, "sources: [spark:db.t]\n")
    assert read_workspace_spark(folder).options().remote == "sc://spark.internal:15002"


def test_the_sidebar_lists_spark_sources_after_the_files(tmp_path):
    folder = _workspace(tmp_path, "sources:\n  - spark:parquet:exports/a\n  - spark:db.b\n")
    assert scan_sources(Workspace.at(folder)).sources == (
        "scores_2025.csv", "spark:parquet:exports/a", "spark:db.b")
    described = {row["source"]: row["format"] for row in describe_sources(Workspace.at(folder))}
    assert described == {"scores_2025.csv": "csv", "spark:parquet:exports/a": "spark",
                         "spark:db.b": "spark"}


@pytest.mark.parametrize(("text", "problem"), [
    ("sources: [spark:db.t]\nhost: x\n", "unknown key(s) 'host'"),
    ("sources: spark:db.t\n", "must be a list"),
    ("sources: [/etc/passwd]\n", "is not a spark:... source"),
    ("sources: ['spark:orc:/x']\n", "Cannot read the Spark source"),
    ("remote: [1, 2]\nsources: []\n", "are URLs"),
    ("- just\n- a list\n", "expected keys"),
])
def test_a_malformed_file_is_named_and_hides_no_data_file(tmp_path, text, problem):
    folder = _workspace(tmp_path, text)
    with pytest.raises(DataSourceError, match="aidebt-spark.yaml") as caught:
        read_workspace_spark(folder)
    assert problem in str(caught.value)
    scan = scan_sources(Workspace.at(folder))
    assert scan.sources == ("scores_2025.csv",)
    assert [name for name, _ in scan.unreadable] == [SPARK_FILE]


def test_no_file_no_spark_sources(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    assert scan_sources(Workspace.at(tmp_path)).sources == ("a.csv",)


@pytest.mark.parametrize("spec", [
    "spark:parquet:/etc",                       # a path the file does not list
    "spark:parquet:exports/a/../../secrets",     # a listed path's neighbour
    "spark:DB.C",                                # a listed table in other letters
])
def test_a_spec_the_file_does_not_list_is_refused_before_any_server(tmp_path, spec):
    folder = _workspace(tmp_path, f"remote: {UNREACHABLE}\nsources: [spark:parquet:exports/a, "
                                  "spark:db.c]\n")
    ws = Workspace.at(folder)
    con = connect(ws)
    try:
        started = time.perf_counter()
        with pytest.raises(SandboxError, match="not a Spark source of the workspace"):
            open_workspace_spark(con, ws, spec)
        with pytest.raises(SandboxError, match="aidebt-spark.yaml"):
            open_source(con, ws, spec)   # the dashboard's opener goes through the same check
        assert time.perf_counter() - started < 1.0  # refused here, never sent to a server
    finally:
        con.close()


def test_a_listed_spec_goes_to_the_configured_server(tmp_path):
    """Listed: opened against the file's server (unreachable here: the error names it)."""
    folder = _workspace(tmp_path, f"remote: {UNREACHABLE}\nsources: [spark:db.c]\n")
    ws = Workspace.at(folder)
    con = connect(ws)
    try:
        with pytest.raises(DataSourceError, match="Cannot reach the Spark Connect server "
                                                  f"{UNREACHABLE}"):
            open_source(con, ws, "spark:db.c")
    finally:
        con.close()


def test_the_fingerprint_of_a_spark_selection_follows_its_listing_file(tmp_path):
    folder = _workspace(tmp_path, "sources: [spark:db.a, spark:db.b]\n")
    selection = Selection(workspace=str(folder), mode=FILES, reference="spark:db.a",
                          current="spark:db.b")
    assert folder / SPARK_FILE in selection.input_files()
    before = input_fingerprint(folder, selection.sources)
    time.sleep(0.01)
    (folder / SPARK_FILE).write_text("remote: sc://other:15002\nsources: [spark:db.a, "
                                     "spark:db.b]\n")
    assert input_fingerprint(folder, selection.sources) != before
