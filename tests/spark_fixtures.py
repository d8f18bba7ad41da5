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
import tempfile
import time
from pathlib import Path

import pytest

from tests.local_server import free_port

START_TIMEOUT = 90.0  # seconds; the JVM starts in ~10 s on a quiet 2-core machine
DRIVER_MEMORY = "1g"
CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"

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


def start_connect_server() -> tuple[str, subprocess.Popen, Path]:
    """Start `SparkConnectServer` with a local[2] driver on a free port; return its sc:// URL."""
    _java_or_fail()
    home = pyspark_home()
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="aidebt-spark-"))
    log_path = work / "server.log"
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_LOCAL_DIRS": str(work / "local"), "SPARK_LOG_DIR": str(work)}
    env.pop("SPARK_REMOTE", None)
    argv = [str(home / "bin" / "spark-submit"), "--class", CONNECT_SERVER_CLASS,
            "--master", "local[2]", "--driver-memory", DRIVER_MEMORY,
            "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
            "--conf", f"spark.connect.grpc.binding.port={port}",
            "--conf", "spark.ui.enabled=false",
            "--conf", "spark.sql.shuffle.partitions=4",  # small test data: not 200 tasks
            "--conf", f"spark.sql.warehouse.dir={work / 'warehouse'}",
            # Small test data: compiling code for every query shape costs more than it saves,
            # and so does the JIT's optimising tier. Results do not depend on either.
            "--conf", "spark.sql.codegen.wholeStage=false",
            "--conf", "spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC "
                      f"-Dderby.system.home={work}",
            "--name", "aidebt-tests"]
    with open(log_path, "w") as log:
        # Own process group: teardown stops the JVM and anything it started, nothing else.
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work,
                                start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while not _listening(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            pytest.fail(f"The Spark Connect server did not start within {START_TIMEOUT:.0f} s:\n"
                        + log_path.read_text()[-3000:])
        time.sleep(0.3)
    return f"sc://127.0.0.1:{port}", proc, work


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


@pytest.fixture(scope="session")
def spark_remote() -> str:
    """The sc:// URL of the shared local Spark Connect server."""
    return shared_connect_server()
