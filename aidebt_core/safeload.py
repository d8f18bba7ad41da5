"""Load a user's YAML or JSON file safely: bounded size and depth, no YAML aliases.

Answers files, roles files and imported audits come from users and from other machines. A
388-byte YAML file whose aliases nest ten levels deep ("billion laughs") expands to billions
of nodes once walked, and 100k nested brackets exhaust the recursion limit. Every such file
goes through `load_document`, which refuses these before building anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from aidebt_core.errors import AidebtError

MAX_BYTES = 5_000_000
MAX_DEPTH = 64


class DocumentError(AidebtError):
    """A YAML/JSON file is unreadable, too large, too deep or uses YAML aliases."""


def load_document(path: str | Path, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH):
    """Parse a `.json` file as JSON and anything else as YAML, with the limits above."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(f"{path.name} is {size:,} bytes; files over {max_bytes:,} bytes "
                                "are refused.")
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    return parse_document(raw, path.name, json_only=path.suffix.lower() == ".json",
                          max_depth=max_depth)


def parse_document(raw: bytes | str, name: str, json_only: bool = False,
                   max_depth: int = MAX_DEPTH):
    """Parse text already in memory (an upload, say) with the same limits as `load_document`."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{name} is not UTF-8 text (byte {exc.start}).") from None
    _check_depth(text, name, max_depth)
    if json_only:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DocumentError(f"{name} is not valid JSON: {exc.msg} (line {exc.lineno}, "
                                f"column {exc.colno}).") from None
    try:
        return _load_yaml_without_aliases(text, name)
    except RecursionError:  # deep block nesting, which the bracket count does not see
        raise DocumentError(f"{name} nests too deeply to read.") from None
    except ValueError as exc:  # a date-like scalar that is no date, e.g. 2025-13-45
        raise DocumentError(f"{name} has a value that cannot be read ({exc}); a date must be "
                            "a real date YYYY-MM-DD.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DocumentError(f"{name} is not valid YAML: {problem}{where}.") from None


def _load_yaml_without_aliases(text: str, name: str):
    loader = yaml.SafeLoader(text)
    try:
        # Scan the events first: an alias is refused before any node is composed.
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise DocumentError(f"{name} uses YAML aliases (*name); write the values out "
                                    "instead.")
        return loader.get_single_data()
    finally:
        loader.dispose()


def _check_depth(text: str, name: str, max_depth: int) -> None:
    """Refuse flow nesting ([[[...]]] or {{...}}) deeper than `max_depth` before parsing.

    Brackets inside quoted strings are counted too; a real answers or roles file is nowhere
    near the limit, so the over-count costs nothing.
    """
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > max_depth:
                    raise DocumentError(f"{name} nests more than {max_depth} levels deep.")
        elif char in "]}" and depth:
            depth -= 1
