"""The `aidebt` command line: the sub-commands of `aidebt_core.commands.COMMANDS` (one module
each), and a generic one (commands/_generic.py) for each registered analysis without a module
of its own.

Start-up is lazy: the parser lists every sub-command by name and one-line help (from the
table and the registry, importing no command module) and builds the arguments of the chosen
command only, so `aidebt --version` or `aidebt drift -h` import no pandas, DuckDB or plotly.

Exit codes (../shared/CLI_CONTRACT.md): 0 ran; 1 ran and a --fail-on-* condition was met;
2 bad usage or bad input, reported as one `error: ...` line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from aidebt_core import __version__, analyses, commands
from aidebt_core.errors import AidebtError
from aidebt_core.textsafe import one_line

EXIT_OK, EXIT_FAILED_CHECK, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as the contract says
        print(f"error: {one_line(message)} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


@dataclass(frozen=True)
class _Listed:
    """One sub-command as the parser lists it: its own module, or a registry entry's generic
    command (`entry` set, `module` None)."""

    name: str
    help: str
    module: str | None = None
    entry: analyses.Analysis | None = None


def listed_commands() -> list[_Listed]:
    """Every sub-command in `aidebt --help` order, importing none of their modules: the
    table, then a module in commands/ the table misses (listed without help; a test fails on
    it), then each registered analysis without a command module of the table."""
    listed = [_Listed(c.name, c.help, c.module) for c in commands.COMMANDS]
    names = {c.name for c in listed}
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_") and info.name not in names:
            listed.append(_Listed(info.name, "", f"{commands.__name__}.{info.name}"))
            names.add(info.name)
    modules = {c.module for c in listed}
    for entry in analyses.all_analyses():
        if entry.command in modules or (entry.command is None and entry.inputs != analyses.DATA):
            continue  # listed already, or no command-line form (no module, reads no data)
        if entry.name in names:
            raise ValueError(f"the analysis {entry.name!r} has the name of an existing command; "
                             "register it under another name or give it a command module")
        if entry.command is not None:  # a plug-in's own command module
            listed.append(_Listed(entry.name, entry.help or entry.title, entry.command))
        else:
            listed.append(_Listed(entry.name, entry.help or entry.title, entry=entry))
        names.add(entry.name)
    return listed


def chosen_command(argv: Sequence[str]) -> str | None:
    """The sub-command `argv` runs: its first word that is not an option (the top-level parser
    has only -h and --version, which take no value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`: every command listed, only the chosen one's arguments built
    (its module imported). Without `argv`, every command is built in full (for tests and
    documentation; that imports every command module)."""
    chosen = None if argv is None else chosen_command(argv)
    parser = _Parser(prog="aidebt", description="Find, measure and score the hidden technical "
                     "debt of machine-learning systems.")
    parser.add_argument("--version", action="version", version=f"aidebt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in listed_commands():
        if argv is not None and command.name != chosen:
            sub.add_parser(command.name, help=command.help)  # listed, not built
        elif command.entry is not None:  # imports the entry's options class only
            from aidebt_core.commands import _generic

            _generic.register(sub, command.entry)
        else:
            importlib.import_module(command.module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. Usage errors raise SystemExit(2) from the parser (as argparse does);
    everything else comes back as the exit code."""
    try:
        return _run(argv)
    except AidebtError as exc:
        return _bad_input(str(exc))
    except OSError as exc:  # a path the user gave cannot be read or written
        where = f" '{exc.filename}'" if exc.filename else ""
        return _bad_input(f"{exc.strerror or exc}{where}")
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except RecursionError:
        return _bad_input("internal error: the input nests too deeply to process")
    except Exception as exc:  # noqa: BLE001 - a crash must never read as exit 1 ("gate failed")
        return _bad_input(f"internal error: {type(exc).__name__}: {exc}")


def _run(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    if not getattr(args, "handler", None):
        raise AidebtError("no command given; run 'aidebt --help' for the commands (drift, "
                          "performance, slices, ...)")
    return int(args.handler(args) or EXIT_OK)


def _bad_input(message: str) -> int:
    """One `error:` line on stderr (control characters escaped) and the bad-input exit code."""
    print(f"error: {one_line(message)}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
