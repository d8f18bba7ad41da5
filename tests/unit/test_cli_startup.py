"""The CLI starts light: listing the commands imports none of their modules, and `--version`,
`-h` and `COMMAND -h` import no pandas, numpy, DuckDB, plotly, mlflow, scikit-learn, scipy or
streamlit (what each import costs is in tests/benchmarks/bench_cli.py)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

from aidebt_core import analyses, cli, commands
from aidebt_core.commands import COMMANDS

HEAVY = ("pandas", "numpy", "duckdb", "pyarrow", "plotly", "mlflow", "sklearn", "scipy",
         "streamlit")
# Runs `aidebt ARGV` in a fresh interpreter (nothing this test process imported counts) and
# prints, after it, every module it imported.
RUN_CLI = """import sys
from aidebt_core.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stderr.write("MODULES " + " ".join(sorted(sys.modules)) + "\\n")
sys.exit(code)
"""


def imported_by(*argv: str) -> set[str]:
    """Every module `aidebt ARGV` imports."""
    out = subprocess.run([sys.executable, "-c", RUN_CLI, *argv], capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(x for x in out.stderr.splitlines() if x.startswith("MODULES "))
    names = set(line.split()[1:])
    assert {"aidebt_core.cli", "argparse"} <= names  # we read the real list
    return names


# Every listed command's help (a new command joins by its COMMANDS line).
@pytest.mark.parametrize("argv", [("--version",), ("-h",),
                                  *((spec.name, "-h") for spec in COMMANDS)],
                         ids=lambda argv: " ".join(argv))
def test_start_up_imports_nothing_heavy(argv):
    names = imported_by(*argv)
    heavy = sorted(n for n in names if n.split(".")[0] in HEAVY)
    assert not heavy, heavy


def test_only_the_chosen_command_module_is_imported():
    names = imported_by("drift", "-h")
    loaded = {n for n in names if n.startswith("aidebt_core.commands.")}
    assert "aidebt_core.commands.drift" in loaded
    others = {c.module for c in COMMANDS} - {"aidebt_core.commands.drift"}
    assert not loaded & others, loaded & others
    assert "aidebt_core.commands._common" not in loaded  # the handler imports it


def test_the_table_lists_every_command_module_with_its_own_help():
    on_disk = {m.name for m in pkgutil.iter_modules(commands.__path__)
               if not m.name.startswith("_")}
    assert on_disk == {c.name for c in COMMANDS}, "add a CommandSpec line for each module"
    full = cli.build_parser()  # every module's own register()
    registered = {a.dest: a.help for a in _subparsers(full)._choices_actions}
    for spec in COMMANDS:
        assert spec.module == f"aidebt_core.commands.{spec.name}"
        assert registered[spec.name] == spec.help, spec.name


def test_help_lists_every_command_and_registered_analysis_in_table_order(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["-h"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    places = [text.index(f"    {spec.name}") for spec in COMMANDS]
    assert places == sorted(places)
    for spec in COMMANDS:
        assert spec.help.split()[0] in text


def test_a_registered_analysis_is_listed_without_importing_it(capsys):
    # Its options/run live in a module that does not exist: listing (and running another
    # command) must not touch it; choosing it is what imports it.
    ghost = analyses.Analysis("ghost_counts", "Ghost counts", "no_such_module_xyz:Options",
                              "no_such_module_xyz:run", None, help="count ghosts")
    analyses.register(ghost)
    try:
        parser = cli.build_parser(["drift", "a.csv"])
        assert "ghost_counts" in parser.format_help() and "count ghosts" in parser.format_help()
        with pytest.raises(SystemExit):
            cli.main(["-h"])
        assert "ghost_counts" in capsys.readouterr().out
        with pytest.raises(ModuleNotFoundError, match="no_such_module_xyz"):
            cli.build_parser(["ghost_counts", "-h"])
    finally:
        analyses.unregister("ghost_counts")


def test_a_registered_name_cannot_shadow_a_listed_command():
    analyses.register(analyses.Analysis("serve", "Not serve", "no_such_module_xyz:O",
                                        "no_such_module_xyz:run", None))
    try:
        with pytest.raises(ValueError, match="existing command"):
            cli.build_parser(["--version"])
    finally:
        analyses.unregister("serve")


def test_chosen_command_is_the_first_word_that_is_not_an_option():
    assert cli.chosen_command(["drift", "a.csv", "--format", "json"]) == "drift"
    assert cli.chosen_command(["--version"]) is None
    assert cli.chosen_command(["-h", "slices"]) == "slices"
    assert cli.chosen_command([]) is None


def test_unknown_command_is_one_error_line_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["driftt", "a.csv"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid choice: 'driftt'" in err[0]


def test_constants_copied_for_light_parsers_match_their_sources():
    from aidebt_core import chunks, roles
    from aidebt_core.commands import _args, _drift_time
    from aidebt_core.commands import slices as slices_command
    from aidebt_core.slices.metrics import METRICS

    assert _args.ROLES_FILE == roles.ROLES_FILE
    assert (_drift_time.MIN_CHUNK_ROWS, _drift_time.MIN_CHUNK_LABELS) == \
        (chunks.MIN_CHUNK_ROWS, chunks.MIN_CHUNK_LABELS)
    assert slices_command.METRIC_NAMES == tuple(METRICS)


def _subparsers(parser):
    return next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")


def test_a_plugin_analysis_with_its_own_command_module(tmp_path, monkeypatch, capsys):
    # An analysis registered at run time with a command module outside aidebt: listed with its
    # help, and its module imported (and its handler run) only when it is the chosen command.
    (tmp_path / "plugin_cmd_xyz.py").write_text(
        "def register(sub):\n"
        "    p = sub.add_parser('plugged', help='a plug-in command')\n"
        "    p.add_argument('--times', type=int, default=1)\n"
        "    p.set_defaults(handler=lambda args: print('plugged' * args.times) or 0)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    analyses.register(analyses.Analysis("plugged", "Plugged", None, None, None,
                                        command="plugin_cmd_xyz", help="a plug-in command"))
    try:
        assert "a plug-in command" in cli.build_parser(["drift"]).format_help()
        assert "plugin_cmd_xyz" not in sys.modules
        assert cli.main(["plugged", "--times", "2"]) == 0
        assert capsys.readouterr().out == "pluggedplugged\n"
    finally:
        analyses.unregister("plugged")
        sys.modules.pop("plugin_cmd_xyz", None)
