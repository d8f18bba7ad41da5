"""Hostile column names, category values, model name and notes render as text on every page.

A workspace whose columns are called `![x](http://127.0.0.1:<listener>/...)`,
`[click](http://evil.example)` and `<img src=x onerror=alert(1)>` (and whose category values and
saved audit say the same) is served with `aidebt serve --workspace DIR`. Every page is opened
in Chromium: no `img`/`a`/`iframe` points outside the app, no element carries an `onerror`,
no exception box is shown, the hostile text is visible as written somewhere, and the listener
(which every foreign image would be fetched from) receives no request at all.
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest
import yaml

from aidebt_core.textsafe import JOINER
from tests.e2e.conftest import ROOT, aidebt_serve, browser_pages, screenshot

pytestmark = pytest.mark.e2e

PAGES = ["scorecard", "audit", "data", "drift", "performance", "entanglement", "slices",
         "reproducibility"]
LINK = "[click](http://evil.example)"
TAG = "<img src=x onerror=alert(1)>"
ANCHOR = '<a href="http://evil.example/plot">a</a>'  # Plotly renders <a href> in titles


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - the http.server hook name
        _Recorder.requests.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def listener():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def _workspace(folder: Path, port: int) -> dict[str, str]:
    """loans.parquet with hostile feature names and values, its roles file and a saved audit
    whose model name, note and red flags are hostile too."""
    image = f"![x](http://127.0.0.1:{port}/column.png)"
    value_image = f"![v](http://127.0.0.1:{port}/value.png)"
    rng = np.random.default_rng(7)
    n = 2400
    booked = pd.date_range("2024-01-01", "2024-12-31 12:00", periods=n).astype("datetime64[us]")
    later = booked >= pd.Timestamp("2024-07-01")
    category = rng.choice([value_image, LINK, TAG, "plain"], n)
    repaid = (rng.uniform(size=n) < 0.7).astype(np.int64)
    wrong = rng.uniform(size=n) < np.where(category == value_image, 0.45, 0.08)
    pred = np.where(wrong, 1 - repaid, repaid)
    amount = rng.normal(100, 15, n) + 25 * later
    frame = pd.DataFrame({
        "booked": booked, image: category, LINK: amount.round(2),
        TAG: (amount * 0.9 + rng.normal(0, 2, n)).round(2), ANCHOR: rng.normal(0, 1, n),
        "age": rng.integers(20, 70, n),
        "p_repaid": np.clip(np.where(pred == 1, 0.75, 0.25) + rng.normal(0, 0.1, n), 0, 1),
        "pred": pred, "repaid": repaid})
    frame.to_parquet(folder / "loans.parquet")
    (folder / "aidebt.yaml").write_text(yaml.safe_dump({
        "default": "loans.parquet",
        "datasets": {"loans.parquet": {
            "timestamp": "booked", "reference_end": "2024-07-01",
            "roles": {"repaid": "target", "p_repaid": "score", "pred": "prediction",
                      image: "feature", LINK: "feature", TAG: "feature",
                      ANCHOR: "feature"}}}},
        allow_unicode=True))
    model = f"{image} {LINK}"
    answers = folder.parent / "answers.yaml"
    answers.write_text(yaml.safe_dump({
        "model": model,
        "answers": {"D1": {"level": 1, "note": f"{TAG} {value_image}"},
                    "E1": {"level": 0, "note": LINK}}}, allow_unicode=True))
    store = folder / ".aidebt" / "audits.sqlite"
    proc = subprocess.run([sys.executable, "-m", "aidebt_core.cli", "audit", "--answers",
                           str(answers), "--save", "--store", str(store), "--auditor", TAG],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return {"image": image, "value_image": value_image, "model": model}


def _foreign_elements(page, base_url: str) -> list[str]:
    """img/a/iframe/source/link/svg image elements whose URL leaves the app, and any element
    with an inline event handler."""
    urls = page.evaluate("""() => {
        const out = [];
        const linking = 'img, a, iframe, source, video, audio, link, image, use, object, embed';
        for (const el of document.querySelectorAll(linking)) {
            for (const attr of ['src', 'href', 'xlink:href', 'data', 'srcset']) {
                const v = el.getAttribute(attr);
                const where = el.parentElement && el.parentElement.closest('[data-testid]');
                const context = where ? where.getAttribute('data-testid') + ': '
                                        + where.innerText.slice(0, 80) : '';
                if (v) out.push(el.tagName + ' ' + attr + '=' + v + ' (in ' + context + ')');
            }
        }
        for (const el of document.querySelectorAll('*')) {
            for (const a of el.attributes) {
                if (a.name.startsWith('on')) out.push(el.tagName + ' ' + a.name + '=' + a.value);
            }
        }
        return out;
    }""")
    app = urlparse(base_url)
    bad = []
    for item in urls:
        value = item.split("=", 1)[1].rsplit(" (in ", 1)[0]
        if " on" in item.split("=", 1)[0]:
            bad.append(item)
            continue
        target = urlparse(value)
        if target.scheme in ("", "data", "blob") or target.scheme == "about":
            continue
        if (target.scheme, target.netloc) != (app.scheme, app.netloc):
            bad.append(item)
    return [b for b in bad if not _is_streamlit_chrome(b)]


def _is_streamlit_chrome(item: str) -> bool:
    # What Streamlit itself draws, never user text: the favicon <link> (the page icon, a
    # material symbol from fonts.gstatic.com) and links to its own docs in the main menu.
    return (item.startswith("LINK href=https://fonts.gstatic.com/")
            or "streamlit.io" in item or "docs.streamlit" in item)


def test_hostile_names_render_as_text_on_every_page(tmp_path, listener, browser):
    folder = tmp_path / "workspace"
    folder.mkdir()
    hostile = _workspace(folder, listener)
    shown_literally, foreign = set(), {}
    with aidebt_serve(["--workspace", str(folder)], tmp_path / "serve.log") as url, \
            browser_pages(browser, url) as open_:
        for name in PAGES:
            page = open_(name)
            page.wait_for_timeout(1500)  # let charts and images start any fetch they would
            screenshot(page, f"hostile_{name}")
            foreign[name] = _foreign_elements(page, url)
            text = page.inner_text("body").replace(JOINER, "")
            for label, value in (("link", LINK), ("tag", TAG), ("image", hostile["image"])):
                if value in text:
                    shown_literally.add(label)
            assert "Traceback" not in text, name
    found = {name: items for name, items in foreign.items() if items}
    assert not found, "\n".join(f"{n}: {sorted(set(i))}" for n, i in found.items())
    assert _Recorder.requests == [], _Recorder.requests
    assert shown_literally == {"link", "tag", "image"}
