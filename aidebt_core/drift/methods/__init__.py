"""The drift methods: one module per method in this package (`ks.py`, `psi.py`, ...), each
defining `METHOD = Method(...)`; the module's name is the method's name. Adding a method is
adding a file here (or `register(...)` at run time, as the tests do).

`method_names()` lists the methods without importing their modules, so the CLI can offer
them as `--method` choices without importing numpy; `get(name)` and `all_methods()` import
them on first use.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager

from aidebt_core.drift.methods.base import (
    CATEGORICAL,
    DISTANCE,
    KINDS,
    LARGE,
    NUMERIC,
    P_VALUE,
    SMALL,
    Method,
)

AUTO = "auto"
_NOT_METHODS = {"base"}
_loaded: dict[str, Method] = {}
_runtime: dict[str, Method] = {}

__all__ = ["AUTO", "CATEGORICAL", "DISTANCE", "KINDS", "LARGE", "NUMERIC", "P_VALUE",
           "SMALL", "Method", "all_methods", "auto_method", "choices", "get",
           "method_names", "register", "registered", "resolve", "unregister"]


def method_names() -> tuple[str, ...]:
    """Every method's name (file names of this package, then run-time registrations)."""
    files = sorted(i.name for i in pkgutil.iter_modules(__path__)
                   if not i.name.startswith("_") and i.name not in _NOT_METHODS)
    return (*files, *(n for n in _runtime if n not in files))


def choices() -> tuple[str, ...]:
    """What a user may pick: `auto` and every method."""
    return (AUTO, *method_names())


def get(name: str) -> Method:
    """The method called `name` (KeyError if there is none)."""
    if name in _runtime:
        return _runtime[name]
    if name not in _loaded:
        if name not in method_names():
            raise KeyError(name)
        method = importlib.import_module(f"{__name__}.{name}").METHOD
        if method.name != name:
            raise ValueError(f"{__name__}.{name} declares the method {method.name!r}; a "
                             "method's module is named after it")
        _loaded[name] = method
    return _loaded[name]


def all_methods() -> tuple[Method, ...]:
    return tuple(get(name) for name in method_names())


def register(method: Method) -> Method:
    """Add a method at run time (a plug-in or a test); `unregister` removes it."""
    _runtime[method.name] = method
    return method


def unregister(name: str) -> None:
    _runtime.pop(name, None)


@contextmanager
def registered(method: Method) -> Iterator[Method]:
    register(method)
    try:
        yield method
    finally:
        unregister(method.name)


def auto_method(kind: str, size: str) -> Method:
    """The method `auto` uses for `kind` columns when a side is `small` or `large`."""
    for method in all_methods():
        if method.auto == size and kind in method.kinds:
            return method
    raise KeyError(f"no {size}-sample method for {kind} columns")


def resolve(name: str, kind: str, small: bool = False) -> Method:
    """The method that answers `name` for a `kind` column: itself when it applies to that
    kind, else its counterpart; `auto` (or a method without counterpart) picks by size."""
    if name != AUTO:
        method = get(name)
        if kind in method.kinds:
            return method
        if method.counterpart is not None:
            return get(method.counterpart)
    return auto_method(kind, SMALL if small else LARGE)
