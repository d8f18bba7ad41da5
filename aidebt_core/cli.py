"""The `aidebt` command line: one sub-command per module in `aidebt_core.commands`, and a
generic one (commands/_generic.py) for each registered analysis without a module of its own.

Exit codes (../shared/CLI_CONTRACT.md): 0 ran; 1 ran and a --fail-on-* condition was met;
2 bad usage or bad input, reported as one `error: ...` line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from aidebt_core import __version__, analyses, commands
from aidebt_core.errors import AidebtError
from aidebt_core.textsafe import one_line

EXIT_OK, EXIT_FAILED_CHECK, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as the contract says
        print(f"error: {one_line(message)} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="aidebt", description="Find, measure and score the hidden technical "
                     "debt of machine-learning systems.")
    parser.add_argument("--version", action="version", version=f"aidebt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{commands.__name__}.{info.name}").register(sub)
    generic = [a for a in analyses.all_analyses(analyses.DATA) if a.command is None]
    if generic:  # imports their options classes only: keep those modules light
        from aidebt_core.commands import _generic

        for entry in generic:
            _generic.register(sub, entry)
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
    parser = build_parser()
    args = parser.parse_args(argv)
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
