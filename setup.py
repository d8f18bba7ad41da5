"""Build hook: the dashboard travels inside the wheel.

The top-level `app.py`, `pages/*.py` and `.streamlit/config.toml` stay the source of truth
(`make run` and the tests run them in place). At build time they are copied into the package
as `aidebt_app/dashboard/`, so `aidebt serve` from an installed wheel runs that copy; from a
checkout it runs the top-level files (aidebt_core/commands/serve.py, `dashboard_app`).
Everything else is declared in pyproject.toml; see CONTRIBUTING.md, "Packaging".
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DASHBOARD = Path("aidebt_app", "dashboard")  # where the copy goes, inside the package


def dashboard_files() -> list[str]:
    """The files `streamlit run` needs besides the packages: the app, its pages, the
    server/theme settings (never .streamlit/secrets.toml)."""
    pages = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
    return ["app.py", *pages, ".streamlit/config.toml"]


class BuildPyWithDashboard(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / DASHBOARD
        shutil.rmtree(target, ignore_errors=True)  # no page deleted since the last build
        for name in dashboard_files():
            self.mkpath(str((target / name).parent))
            self.copy_file(str(ROOT / name), str(target / name))


setup(cmdclass={"build_py": BuildPyWithDashboard})
