"""Which app.py `aidebt serve` runs: the checkout's from source, the wheel's packaged copy when
installed (tests/e2e/test_wheel_e2e.py runs the real installed case), else a clear error."""

from __future__ import annotations

import importlib.machinery
from pathlib import Path

import pytest

from aidebt_core.commands import serve
from aidebt_core.errors import AidebtError

ROOT = Path(__file__).resolve().parents[2]


def test_from_a_checkout_the_top_level_app_and_sample_data(monkeypatch):
    monkeypatch.delenv("AIDEBT_SAMPLE_DIR", raising=False)
    assert serve.dashboard_app() == ROOT / "app.py"
    assert serve.default_workspace() == ROOT / "sample_data"


def _installed(monkeypatch, tmp_path: Path, with_copy: bool) -> Path:
    """aidebt_core as if in site-packages (no checkout beside it) and aidebt_app found there."""
    site = tmp_path / "site-packages"
    package = site / "aidebt_app"
    (package / "dashboard" / "pages").mkdir(parents=True)
    if with_copy:
        (package / "dashboard" / "app.py").write_text("# packaged\n")
    spec = importlib.machinery.ModuleSpec("aidebt_app", None, is_package=True)
    spec.submodule_search_locations = [str(package)]
    monkeypatch.setattr(serve, "CHECKOUT", site)
    monkeypatch.setattr(serve.importlib.util, "find_spec",
                        lambda name: spec if name == "aidebt_app" else None)
    return package / "dashboard" / "app.py"


def test_installed_runs_the_packaged_copy_and_defaults_to_the_current_folder(
        monkeypatch, tmp_path):
    packaged = _installed(monkeypatch, tmp_path, with_copy=True)
    (tmp_path / "site-packages" / "app.py").write_text("# a stray top-level module\n")
    (tmp_path / "site-packages" / "pages").mkdir()  # still no pyproject.toml: not a checkout
    assert serve.dashboard_app() == packaged
    monkeypatch.delenv("AIDEBT_SAMPLE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert serve.default_workspace() == tmp_path.resolve() / "sample_data"
    monkeypatch.setenv("AIDEBT_SAMPLE_DIR", str(tmp_path / "elsewhere"))
    assert serve.default_workspace() == (tmp_path / "elsewhere").resolve()


def test_installed_without_the_copy_says_to_reinstall(monkeypatch, tmp_path):
    _installed(monkeypatch, tmp_path, with_copy=False)
    with pytest.raises(AidebtError, match="reinstall aidebt"):
        serve.dashboard_app()
