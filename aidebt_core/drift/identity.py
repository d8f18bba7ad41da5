"""What a result was computed from: the caller's input identity and the options, hashed.

`input_identity(paths)` is what a caller records about its inputs (path, size, modification
time): rewriting a file changes the fingerprint, so a cached result keyed on it goes stale.
The analysis never reads it; results only carry it (`inputs`) into their `fingerprint`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from aidebt_core.jsonsafe import jsonable

Identity = tuple[tuple[str, ...], ...]


def input_identity(paths: Iterable[str | os.PathLike], extra: Iterable[str] = ()) -> Identity:
    """(path, size, mtime_ns) of every file (a folder: each file under it), then `extra`
    (e.g. a slice or a split date, anything that shapes the rows read)."""
    out: list[tuple[str, ...]] = []
    for path in paths:
        path = Path(path)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            stat = file.stat()
            out.append((str(file.resolve()), str(stat.st_size), str(stat.st_mtime_ns)))
    out.extend(("extra", str(e)) for e in extra)
    return tuple(out)


def fingerprint(analysis: str, options: dict, inputs: Identity) -> str:
    """A short stable hash of the analysis name, its options and its inputs' identity."""
    text = json.dumps(jsonable({"analysis": analysis, "options": options,
                                "inputs": [list(i) for i in inputs]}), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def identity_from(data) -> Identity:
    """The inverse of `list(identity)` in a to_dict: lists back to tuples."""
    return tuple(tuple(str(x) for x in item) for item in data or ())
