"""The served read boundary in a real browser (issue 13, "Done when").

`aidebt serve --workspace ROOT` with an MLflow token in its environment; links that name `/`,
`/etc`, files outside ROOT and an MLflow server of the link's choosing (a socket this test
listens on). Nothing from outside ROOT may be shown, the socket must receive no connection,
and no file may appear in ROOT, next to it or in /etc.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import pytest

from tests.e2e.conftest import aidebt_serve, browser_pages

pytestmark = pytest.mark.e2e

SECRET_LINE = "alice,hunter2-outside-the-root"
PAGES = ("scorecard", "audit", "data", "drift", "performance", "entanglement", "slices",
         "reproducibility")


class Listener:
    """A TCP socket on 127.0.0.1 that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(4096))
                except OSError:
                    self.connections.append(b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def snapshot(*folders: Path) -> dict[str, tuple[int, int]]:
    """Every file under the folders (not following links) with its size and mtime."""
    files = {}
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
            for name in dirnames + filenames:
                path = Path(dirpath) / name
                try:
                    info = path.lstat()
                except OSError:
                    continue
                files[str(path)] = (info.st_size, int(info.st_mtime_ns))
    return files


@pytest.fixture(scope="module")
def boundary(tmp_path_factory):
    base = tmp_path_factory.mktemp("boundary")
    root, outside = base / "root", base / "outside"
    root.mkdir()
    outside.mkdir()
    rng = np.random.default_rng(11)
    n = 600
    pd.DataFrame({
        "event_time": pd.date_range("2023-01-01", periods=n, freq="6h"),
        "amount": rng.gamma(2.0, 50.0, n), "channel": rng.choice(["web", "shop"], n),
        "approved": rng.integers(0, 2, n), "approved_proba": rng.uniform(0, 1, n),
    }).to_parquet(root / "events.parquet")
    (outside / "secret.csv").write_text(f"user,password\n{SECRET_LINE}\n")
    listener = Listener()
    # The listener must notice a connection, or "no connection" below would prove nothing.
    socket.create_connection(("127.0.0.1", listener.port), timeout=2).close()
    for _ in range(50):
        if listener.connections:
            break
        time.sleep(0.1)
    assert len(listener.connections) == 1, "the test listener does not record connections"
    listener.connections.clear()
    log = base / "serve.log"
    before = snapshot(base, Path("/etc"))
    with aidebt_serve(["--workspace", str(root)], log,
                      env={"MLFLOW_TRACKING_TOKEN": "secret-token-e2e"}) as url:
        yield {"url": url, "root": root, "outside": outside, "base": base,
               "listener": listener, "before": before, "log": log}
    listener.close()


def _body(page) -> str:
    return page.inner_text("body")


def _errors(page) -> str:
    """The alerts' text as read (without the word joiners that keep URLs from linking)."""
    return " ".join(page.locator('[data-testid="stAlert"]').all_inner_texts()).replace(
        "\u2060", "")


def test_system_folders_in_a_link_are_refused(boundary, browser):
    with browser_pages(browser, boundary["url"]) as open_:
        for ws in ("/", "/etc"):
            page = open_(f"data?ws={quote(ws)}&mode=files&ref=passwd&cur=hostname",
                         expect_text="is not one of the folders")
            body = _body(page)
            assert f"'{ws}' is not one of the folders" in _errors(page)
            assert "root:x:0:0" not in body and "/proc" not in body
            # the selection (and so the link) is back on the operator's root
            assert f"ws={quote(str(boundary['root']), safe='')}" in page.url


def test_files_outside_the_root_are_refused(boundary, browser):
    secret = boundary["outside"] / "secret.csv"
    with browser_pages(browser, boundary["url"]) as open_:
        for ref, cur in ((str(secret), "../outside/secret.csv"),
                         ("../outside/secret.csv", "/etc/passwd"),
                         ("events.parquet", str(secret))):
            page = open_(f"data?mode=files&ref={quote(ref)}&cur={quote(cur)}",
                         expect_text="is not in the workspace")
            body = _body(page)
            assert "hunter2" not in body and "root:x:0:0" not in body
            assert "is not in the workspace" in _errors(page)


def test_a_linked_mlflow_server_is_never_contacted(boundary, browser):
    listener = boundary["listener"]
    target = f"http://127.0.0.1:{listener.port}/x"
    with browser_pages(browser, boundary["url"]) as open_:
        for path in ("reproducibility", "entanglement", "audit"):
            page = open_(f"{path}?mlflow={quote(target, safe='')}",
                         expect_text="is not one this server was started with")
            assert target in _errors(page)
        page = open_("reproducibility?mlflow=" + quote("file:///etc", safe=""),
                     expect_text="is not one this server was started with")
        page.wait_for_timeout(3000)  # time for any request the server might still make
    assert listener.connections == [], listener.connections[:1]


def test_viewing_every_page_writes_nothing(boundary, browser):
    with browser_pages(browser, boundary["url"]) as open_:
        for path in PAGES:
            open_(f"{path}?ws={quote(str(boundary['root']))}")
            open_(f"{path}?ws=%2Fetc&mlflow=" + quote("file:///etc", safe=""))
    after = snapshot(boundary["base"], Path("/etc"))
    before = boundary["before"]
    log = str(boundary["log"])
    appeared = sorted(set(after) - set(before) - {log})
    changed = sorted(p for p in set(after) & set(before) if after[p] != before[p] and p != log)
    assert appeared == [] and changed == [], (appeared, changed)
    assert boundary["listener"].connections == []
