"""A real Spark Connect server on 127.0.0.1, started from the pip pyspark package (which ships
`spark-connect_*.jar` and `bin/spark-submit`), one per test process, torn down at the end.

Tests that use it never skip: without Java or pyspark they fail with a message that says what
to install (`make test` installs both).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from tests.local_server import free_port

START_TIMEOUT = 90.0  # seconds; the JVM starts in ~10 s on a quiet 2-core machine
DRIVER_MEMORY = "1g"
CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"

# Small test data: 200 shuffle tasks, compiling code for every query shape and the JIT's
# optimising tier cost more than they save. Results do not depend on any of them.
SMALL_DATA_CONF = ("--conf", "spark.sql.shuffle.partitions=1",
                   "--conf", "spark.sql.codegen.wholeStage=false")
SMALL_DATA_JAVA = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"

_server: dict[str, object] = {}


def pyspark_home() -> Path:
    try:
        import pyspark
    except ImportError:
        pytest.fail("pyspark is not installed: the Spark tests need it "
                    "(pip install -e '.[test]' or make test).")
    home = Path(pyspark.__file__).parent
    if not list((home / "jars").glob("spark-connect_*.jar")):
        pytest.fail(f"{home}/jars has no spark-connect jar: install pyspark >= 4.0.")
    return home


def _java_or_fail() -> None:
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.fail("Java is not installed: the Spark tests need a JRE 17+ "
                    "(apt-get install default-jre-headless, or make test).")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def start_connect_server(*, small_data: bool = True, driver_memory: str = DRIVER_MEMORY
                         ) -> tuple[str, subprocess.Popen, Path]:
    """Start `SparkConnectServer` with a local[2] driver on a free port; return its sc:// URL,
    the process and its work folder. `small_data` tunes it for tests (one shuffle partition,
    no code generation, the JIT's first tier); benchmarks turn that off."""
    _java_or_fail()
    home = pyspark_home()
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="aidebt-spark-"))
    log_path = work / "server.log"
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_LOCAL_DIRS": str(work / "local"), "SPARK_LOG_DIR": str(work)}
    env.pop("SPARK_REMOTE", None)
    argv = [str(home / "bin" / "spark-submit"), "--class", CONNECT_SERVER_CLASS,
            "--master", "local[2]", "--driver-memory", driver_memory,
            "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
            "--conf", f"spark.connect.grpc.binding.port={port}",
            "--conf", "spark.ui.enabled=false",
            "--conf", f"spark.sql.warehouse.dir={work / 'warehouse'}",
            *(SMALL_DATA_CONF if small_data else ()),
            "--conf", f"spark.driver.extraJavaOptions={SMALL_DATA_JAVA if small_data else ''}"
                      f" -Dderby.system.home={work}",
            "--name", "aidebt-tests"]
    with open(log_path, "w") as log:
        # Own process group: teardown stops the JVM and anything it started, nothing else.
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work,
                                start_new_session=True)
    _watch(proc)
    deadline = time.monotonic() + START_TIMEOUT
    while not _listening(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            pytest.fail(f"The Spark Connect server did not start within {START_TIMEOUT:.0f} s:\n"
                        + log_path.read_text()[-3000:])
        time.sleep(0.3)
    return f"sc://127.0.0.1:{port}", proc, work


# Stops the server's process group when the test process dies without running atexit
# (SIGKILL, a killed xdist worker): a JVM of 1 GB must not outlive its tests.
_WATCHDOG = """
import os, signal, sys, time
parent, group = int(sys.argv[1]), int(sys.argv[2])
while True:
    time.sleep(1)
    try:
        os.kill(parent, 0)
        os.killpg(group, 0)
    except ProcessLookupError:
        break
try:
    os.killpg(group, signal.SIGKILL)
except ProcessLookupError:
    pass
"""


def _watch(proc: subprocess.Popen) -> None:
    subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(proc.pid)],
                     start_new_session=True, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def shared_connect_server() -> str:
    """One server per test process (every Spark test file shares it), stopped at exit."""
    if "url" not in _server:
        url, proc, work = start_connect_server()
        _server.update(url=url, proc=proc, work=work)

        def _stop() -> None:
            stop_server(proc)
            shutil.rmtree(work, ignore_errors=True)

        atexit.register(_stop)
    return str(_server["url"])


# ------------------------------------------------------------------------------ test data

def _masked(values: np.ndarray, mask: np.ndarray, kind=None) -> pa.Array:
    """A column with NULLs where `mask` (NaN stays NaN: pyarrow keeps it when from_pandas is
    off, so the engines must tell NULL and NaN apart)."""
    return pa.array(values, mask=mask, type=kind)


def loans(seed: int, rows: int, drifted: bool, start: str) -> pa.Table:
    rng = np.random.default_rng(seed)
    shift = 1.0 if drifted else 0.0
    income = rng.lognormal(10 + 0.3 * shift, 0.8, rows)
    income[rng.random(rows) < 0.02] = np.nan
    income[rng.random(rows) < 0.01] = np.inf
    income[rng.random(rows) < 0.005] = -np.inf
    zeros = np.where(rng.random(rows) < 0.5, 0.0, rng.exponential(300, rows))
    regions = ["north", "south", "east", "west"] + (["islands"] if drifted else [])
    # 12 branches with equal weights among the tail: ties at the top-k cut (plan top_k=5).
    branch = rng.choice([f"b{i:02d}" for i in range(12)], rows,
                        p=[.2, .15, .1, .1, .1, .1, .05, .05, .05, .04, .03, .03])
    score = np.clip(rng.beta(2, 5 - 2 * shift, rows), 0, 1)
    label = (rng.random(rows) < score).astype(np.int64)
    late = np.zeros(rows, bool)
    if drifted:
        late[-rows // 5:] = True  # the last month's labels have not arrived
    stamps = np.datetime64(start) + np.sort(rng.integers(0, 180 * 24 * 3600, rows)
                                            ).astype("timedelta64[s]")
    no_time = rng.random(rows) < 0.01
    return pa.table({
        "applied_at": _masked(stamps.astype("datetime64[us]"), no_time),
        "income": _masked(income, rng.random(rows) < 0.03),
        "credit_score": rng.normal(650 + 40 * shift, 60, rows).round().astype(np.int64),
        "debt_ratio": rng.uniform(0, 1 + 0.5 * shift, rows),
        "overdraft": zeros,
        "term_months": rng.choice([12, 24, 36, 48, 60], rows).astype(np.int32),
        "year": rng.integers(2015, 2025, rows).astype(np.int16),
        "region": _masked(np.array(rng.choice(regions, rows), dtype=object),
                          rng.random(rows) < 0.02),
        "channel": rng.choice(["web", "mobile", "branch"], rows,
                              p=[.3, .6, .1] if drifted else [.5, .3, .2]),
        "branch": branch,
        "verified": rng.random(rows) < 0.7,
        "amount": pa.array([Decimal(f"{x:.2f}") for x in rng.uniform(100, 50_000, rows)],
                           type=pa.decimal128(10, 2)),
        "rate": rng.normal(0.05, 0.01, rows).astype(np.float32),
        "balance": rng.normal(1e12, 1e9, rows),
        "net_flow": rng.uniform(-1000, 1000, rows),
        "constant": np.full(rows, 7.0),
        "rarely_set": _masked(rng.normal(0, 1, rows), rng.random(rows) < 0.95),
        "repaid": _masked(label, late),
        "y_pred": (score > 0.35).astype(np.int64),
        "y_pred_proba": score,
        "age_days": rng.integers(0, 4_000, rows),  # 20 profiled columns with the ones above
    })
