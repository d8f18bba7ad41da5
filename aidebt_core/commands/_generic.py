"""The sub-command of a registered analysis that has no command module of its own.

`aidebt NAME DATA... [options]` with the shared data arguments and role flags
(`add_data_arguments`), one option per field of the analysis's options dataclass (a bool is a
flag, `--no-NAME` when it defaults to true; an int/float/str is a typed option with the
dataclass default; other field types keep their default), `--format json|table` and
`--report OUT.html|OUT.md`. The JSON is the result's `to_dict()` plus the contract's `roles`
and `excluded`.
"""

from __future__ import annotations

import argparse
import typing
from dataclasses import MISSING, fields
from functools import partial
from types import NoneType, UnionType

from aidebt_core.commands import _types as types
from aidebt_core.commands._args import add_data_arguments, add_format_option

_PREFIX = "option_"   # argparse dest of an options field (cannot clash with data arguments)


def register(sub, entry) -> None:
    """Add `aidebt <entry.name>` for a registered analysis (aidebt_core.analyses.Analysis)."""
    if entry.name in sub.choices:
        raise ValueError(f"the analysis {entry.name!r} has the name of an existing command; "
                         "register it under another name or give it a command module")
    parser = sub.add_parser(entry.name, help=entry.help or entry.title,
                            description=entry.help or entry.title)
    add_data_arguments(parser)
    cls = entry.options_class
    hints = typing.get_type_hints(cls)
    for spec in fields(cls):
        _add_option(parser, spec, hints.get(spec.name))
    parser.add_argument("--report", metavar="OUT.html", help="also write a report (.html/.md)")
    add_format_option(parser)
    parser.set_defaults(handler=partial(run, entry))


def _add_option(parser: argparse.ArgumentParser, spec, hint) -> None:
    if spec.default is not MISSING:
        default = spec.default
    elif spec.default_factory is not MISSING:
        default = spec.default_factory()
    else:
        default = None
    kind = _plain(hint)
    flag = f"--{spec.name.replace('_', '-')}"
    dest = f"{_PREFIX}{spec.name}"
    if kind is bool:
        if default:
            parser.add_argument(f"--no-{spec.name.replace('_', '-')}", dest=dest,
                                action="store_false", help=f"turn {spec.name} off")
        else:
            parser.add_argument(flag, dest=dest, action="store_true")
        parser.set_defaults(**{dest: bool(default)})
    elif kind in (int, float, str):
        parse = {int: types.integer(), float: types.number(), str: str}[kind]
        parser.add_argument(flag, dest=dest, type=parse, default=default,
                            metavar=spec.name.upper(), help=f"(default {default})")
    # any other type keeps the dataclass default: it has no command-line form


def _plain(hint):
    """int for `int` and `int | None`; None for anything else (tuples, unions of types)."""
    if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not NoneType]
        return args[0] if len(args) == 1 else None
    return hint


def run(entry, args: argparse.Namespace) -> int:
    from aidebt_core.commands._common import emit, open_inputs, print_excluded, write_report

    values = {k[len(_PREFIX):]: v for k, v in vars(args).items() if k.startswith(_PREFIX)}
    options = entry.options_class(**values)
    with open_inputs(args, need_current=entry.need_current) as inputs:
        result = entry.run_on(inputs, options)
        roles = inputs.payload(inputs.schema.features)
    if args.report:  # after the connection is closed: the report reads the result alone
        write_report(entry.make_report(result), args.report)
    emit(args, {**result.to_dict(), **roles}, result.to_frame())
    print_excluded(args, roles["excluded"])
    return 0
