"""The CLI skeleton: version, usage errors and bad input exit 2 with one `error:` line."""

import subprocess
import sys

import pytest

from aidebt_core import __version__
from aidebt_core.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"aidebt {__version__}"


def test_unknown_command_exits_2_with_error_line(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["no-such-command"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_no_command_prints_one_error_line_and_exits_2(capsys):
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no command given") and len(err.strip().splitlines()) == 1


def test_console_script_reports_bad_sample_dir_without_traceback(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = subprocess.run([sys.executable, "-m", "aidebt_core.cli", "sample",
                           str(blocker / "sub"), "--no-mlflow"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error:")
    assert "Traceback" not in proc.stderr
