"""`aidebt` on spark: sources end to end, against a real local Spark Connect server: the same
drift as DuckDB's profiles of the same files, saved Spark profiles, and the errors a user can
cause (server down, table missing, no session, an analysis that needs rows): one `error:`
line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from aidebt_core import cli
from tests.local_server import free_port
from tests.spark_fixtures import loans, shared_connect_server

ROWS = 2_000


@pytest.fixture(scope="module")
def remote() -> str:
    return shared_connect_server()


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("spark_cli")
    for side, seed, drifted, start in (("ref", 11, False, "2025-01-01"),
                                       ("cur", 12, True, "2025-07-01")):
        (root / side).mkdir()
        pq.write_table(loans(seed, ROWS, drifted, start), root / side / "part-0.parquet")
    return root


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def without_identity(doc: dict) -> dict:
    """A result without what names its inputs (labels, file identity, fingerprint)."""
    return {k: v for k, v in doc.items() if k not in ("labels", "inputs", "fingerprint")}


def test_drift_on_spark_sources_equals_duckdb_profiles_of_the_same_files(capsys, remote,
                                                                          folders):
    code, out, _ = run(capsys, "drift", f"spark:parquet:{folders}/ref",
                       f"spark:parquet:{folders}/cur", "--spark-remote", remote,
                       "--format", "json")
    assert code == 0
    spark_doc = json.loads(out)
    ref, cur = folders / "ref" / "part-0.parquet", folders / "cur" / "part-0.parquet"
    code, out, _ = run(capsys, "drift", ref, cur, "--profile-rows", "1", "--format", "json")
    assert code == 0
    assert without_identity(spark_doc) == without_identity(json.loads(out))
    # The planted drift is found, and the flags are those of DuckDB's exact reads.
    code, out, _ = run(capsys, "drift", ref, cur, "--format", "json")
    exact = {c["name"]: c["drifted"] for c in json.loads(out)["columns"]}
    flags = {c["name"]: c["drifted"] for c in spark_doc["columns"]}
    assert flags == exact
    assert flags["credit_score"] and flags["region"] and not flags["constant"]
    assert "islands" in next(c for c in spark_doc["columns"]
                             if c["name"] == "region")["new_categories"]
    assert spark_doc["reference_rows"] == spark_doc["current_rows"] == ROWS


def test_spark_remote_from_the_environment(capsys, remote, folders, monkeypatch):
    monkeypatch.setenv("SPARK_REMOTE", remote)
    code, out, _ = run(capsys, "drift", f"spark:parquet:{folders}/ref",
                       f"{folders}/cur/part-0.parquet", "--columns", "channel,income",
                       "--format", "json")
    assert code == 0
    assert [c["name"] for c in json.loads(out)["columns"]] == ["channel", "income"]


def test_saved_spark_profile_is_a_reference_for_a_file(capsys, remote, folders, tmp_path):
    saved = tmp_path / "ref.aidebt"
    code, _, _ = run(capsys, "profile", f"spark:parquet:{folders}/ref", "--out", saved,
                     "--spark-remote", remote)
    assert code == 0 and saved.is_file()
    cur = folders / "cur" / "part-0.parquet"
    code, out, _ = run(capsys, "drift", saved, cur, "--format", "json")
    assert code == 0
    from_saved = json.loads(out)
    code, out, _ = run(capsys, "drift", folders / "ref" / "part-0.parquet", cur,
                       "--profile-rows", "1", "--format", "json")
    assert ([(c["name"], c["statistic"], c["drifted"]) for c in from_saved["columns"]]
            == [(c["name"], c["statistic"], c["drifted"]) for c in json.loads(out)["columns"]])


# ------------------------------------------------------------------------------ errors

def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_unreachable_server_is_one_error_line_within_ten_seconds(folders):
    """A real command in its own process, as a user runs it."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "aidebt_core.cli", "drift", f"spark:parquet:{folders}/ref",
         f"spark:parquet:{folders}/cur", "--spark-remote", f"sc://127.0.0.1:{free_port()}"],
        capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 10
    assert done.returncode == 2
    assert "Cannot reach the Spark Connect server" in _one_error_line(done.stderr)


def test_missing_table_and_missing_path(capsys, remote, folders):
    code, _, err = run(capsys, "drift", "spark:nowhere.loans", f"spark:parquet:{folders}/cur",
                       "--spark-remote", remote)
    assert code == 2 and "spark:nowhere.loans" in _one_error_line(err)
    code, _, err = run(capsys, "drift", f"spark:parquet:{folders}/ref",
                       f"spark:parquet:{folders}/gone", "--spark-remote", remote)
    assert code == 2 and "gone" in _one_error_line(err)


def test_no_session_given_says_how(capsys, folders, monkeypatch):
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    code, _, err = run(capsys, "drift", f"spark:parquet:{folders}/ref",
                       f"spark:parquet:{folders}/cur")
    assert code == 2 and "--spark-remote" in _one_error_line(err)


def test_an_analysis_that_needs_rows_says_so(capsys, remote, folders):
    # One source split at its first N rows needs the rows in order (slices and entanglement
    # run on Spark sources through profile sections since #18).
    code, _, err = run(capsys, "performance", f"spark:parquet:{folders}/ref",
                       "--reference-rows", "100", "--spark-remote", remote)
    assert code == 2 and "read by Apache Spark" in _one_error_line(err)
