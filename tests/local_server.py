"""Start a server process on a free localhost port and wait until it answers its health URL.

Shared by the e2e Streamlit fixture and the MLflow-server test, which both need a real server
that is up before the first request and gone after the last.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def local_server(command: Callable[[int], list[str]], health_path: str, log_path: Path,
                 timeout: float, **popen) -> Iterator[str]:
    """Run `command(port)` and yield its base URL once `health_path` answers 200.

    The process's output goes to `log_path`, which a failure to start quotes.
    """
    port = free_port()
    argv = command(port)
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, **popen)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}{health_path}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.flush()
                pytest.fail(f"{' '.join(argv[:3])} did not start within {timeout:.0f} s:\n"
                            + log_path.read_text()[-3000:])
            time.sleep(0.5)
        try:
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
