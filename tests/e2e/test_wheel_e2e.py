"""`pip install aidebt` gives the whole product, the dashboard included (issue 19).

The wheel is built from a copy of the source tree, installed (`--no-deps`) into a fresh
virtualenv outside the tree, and then, from a temporary folder with no checkout in sight:
`aidebt sample s`, `aidebt drift` on it, and `aidebt serve --workspace s` until the Drift page
renders in Chromium with no exception box.

Speed: the virtualenv is created without pip (the running pip installs into it with
`--python`), and it sees this interpreter's site-packages through a .pth file for the
dependencies (streamlit, pandas, ...) instead of reinstalling them; aidebt_core and aidebt_app
themselves come from the wheel, which the test checks. The wheel build itself uses pip's
isolated build environment (setuptools from the pip cache or the index).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.e2e.conftest import browser_pages, screenshot
from tests.local_server import local_server

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# What the build reads: the packages, the dashboard files setup.py maps in, the metadata.
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "app.py", "pages",
           ".streamlit", "aidebt_core", "aidebt_app")
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
         "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}


def run(argv: list, cwd: Path, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    out = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=timeout, check=False)
    assert out.returncode == 0, f"{argv}: exit {out.returncode}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, user folder, env): the wheel installed in a venv outside the tree."""
    base = tmp_path_factory.mktemp("wheel")
    assert not base.resolve().is_relative_to(ROOT)
    source = base / "src"
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "secrets.toml"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(path, source / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(QUIET, PIP_DISABLE_PIP_VERSION_CHECK="1")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", base / "dist", source],
        base, env)
    wheel = next((base / "dist").glob("aidebt-*.whl"))

    venv = base / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], base, env)
    python = venv / "bin" / "python"
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                        "['purelib'])"], base, env).stdout.strip())
    # The dependencies from this interpreter's site-packages (a .pth line adds the folder
    # but does not run its own .pth files, so the checkout's editable finder stays off).
    (purelib / "_aidebt_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         "-q", wheel], base, env)
    user = base / "user"
    user.mkdir()
    return venv / "bin", user, env, purelib


def test_the_wheel_carries_the_dashboard_and_imports_from_the_venv(installed):
    bin_, user, env, purelib = installed
    code = ("import aidebt_core, aidebt_app\n"
            "from aidebt_core.commands.serve import dashboard_app\n"
            "print(aidebt_core.__file__); print(aidebt_app.__file__); print(dashboard_app())")
    core, app_pkg, app = run([bin_ / "python", "-c", code], user, env).stdout.split()
    for path in (core, app_pkg, app):
        assert Path(path).is_relative_to(purelib), path  # not the checkout
    packaged = Path(app).parent
    assert packaged == purelib / "aidebt_app" / "dashboard"
    from aidebt_core.pages import PAGES

    expected = ["app.py", ".streamlit/config.toml", *(p.file for p in PAGES)]
    for name in expected:  # each a byte-for-byte copy of the source of truth
        assert (packaged / name).read_bytes() == (ROOT / name).read_bytes(), name
    # Every data file of the packages (questionnaire, any YAML/JSON/CSS/images) is in the wheel.
    data = [f.relative_to(ROOT) for package in ("aidebt_core", "aidebt_app")
            for f in (ROOT / package).rglob("*")
            if f.is_file() and f.suffix not in (".py", ".pyc") and "__pycache__" not in f.parts]
    assert Path("aidebt_core/audit/questions.yaml") in data
    missing = [str(f) for f in data if not (purelib / f).is_file()]
    assert not missing, f"add their patterns to [tool.setuptools.package-data]: {missing}"


def test_sample_drift_and_serve_from_any_folder(installed, browser):
    bin_, user, env, _ = installed
    run([bin_ / "aidebt", "sample", "s"], user, env)
    truth = json.loads((user / "s" / "ground_truth.json").read_text())
    out = run([bin_ / "aidebt", "drift", "s/reference.parquet", "s/current.parquet",
               "--format", "json"], user, env)
    drifted = {c["name"] for c in json.loads(out.stdout)["columns"] if c["drifted"]}
    assert drifted == set(truth["data_drift"]["drifted_features"])

    with local_server(lambda port: [str(bin_ / "aidebt"), "serve", "--workspace", "s",
                                    "--port", str(port)],
                      "/_stcore/health", user / "serve.log", timeout=90, cwd=user,
                      env=env) as url:
        with browser_pages(browser, url) as open_:
            page = open_("drift", expect_text="Multivariate drift")
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            screenshot(page, "wheel-drift")
            body = page.inner_text("body")
            # The page's data is the served folder's, and it shows the planted drifted columns.
            assert "Data drift" in body and "applications.parquet" in body
            assert all(name in body for name in drifted), drifted
    assert sorted(p.name for p in user.iterdir()) == ["s", "serve.log"]
