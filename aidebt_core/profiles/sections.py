"""Profile sections: optional, mergeable, per-chunk parts of a profile for one analysis each.

The per-column counts of `profiles.model` serve drift and performance. Some analyses need
counts across columns as well — entanglement the sums of products and contingency tables
("cross"), slice discovery the joint counts of encoded columns ("slices"). Each such part is
a *section*, defined in its own module, which exposes:

- `NAME`: the section's name (a key of `SECTION_MODULES`);
- `Config`: a frozen dataclass with `name`, `to_dict()` and `from_dict(data)` — what to count.
  It is part of the `ProfilePlan` (`plan.sections`), so both sides count the same things;
- `Section`: a frozen dataclass with `to_dict()`, `from_dict(data)` and `merge(other)`, where
  the merge of two row sets' sections is the section of their union;
- `compute(ctx, plan, config) -> dict[chunk key, Section]`: SQL that runs on DuckDB and on
  Spark SQL alike, through the `SqlContext` the engine hands over.

A section module is imported only when a plan or a file names it, so the profile model stays
light for the analyses that need no section.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from aidebt_core.errors import DataSourceError

# name -> module defining it. A name not listed here is refused when a file is read, so a
# profile cannot make aidebt import an arbitrary module.
SECTION_MODULES: dict[str, str] = {
    "cross": "aidebt_core.profiles.cross",
    "slices": "aidebt_core.profiles.slice_cells",
}


@dataclass(frozen=True)
class SqlContext:
    """What a section's SQL needs from the engine that runs it.

    `run(sql)` executes one query and returns its rows as tuples; `rows` is the relation to
    select FROM (a sub-query or a view); `key` the chunk key expression over those rows;
    `quote(name)` quotes an identifier ("x" in DuckDB, `x` in Spark); `engine` is "duckdb" or
    "spark" for the few spellings that differ.
    """

    run: Callable[[str], Sequence[tuple]]
    rows: str
    key: str
    quote: Callable[[str], str]
    engine: str

    @property
    def text_type(self) -> str:
        return "STRING" if self.engine == "spark" else "VARCHAR"

    def num(self, column: str) -> str:
        """The column as a double (the numeric reading of docs/profiles.md)."""
        return f"CAST({self.quote(column)} AS DOUBLE)"

    def text(self, column: str) -> str:
        """The column as text (the categorical reading of docs/profiles.md)."""
        return f"CAST({self.quote(column)} AS {self.text_type})"

    def literal(self, text: str) -> str:
        """A string constant this engine reads back as `text`: Spark SQL processes backslash
        escapes in literals (and joins adjacent ones, so '' is no escape there); DuckDB
        doubles quotes and leaves backslashes alone."""
        return text_literal(text, self.engine)

    def finite(self, column: str) -> str:
        """The column as a double, NULL where it is missing, NaN or ±inf (CASE without ELSE)."""
        v = self.num(column)
        if self.engine == "spark":
            return (f"(CASE WHEN {v} IS NOT NULL AND NOT isnan({v}) AND abs({v}) != "
                    f"CAST('Infinity' AS DOUBLE) THEN {v} END)")
        return f"(CASE WHEN isfinite({v}) THEN {v} END)"


def text_literal(text: str, engine: str) -> str:
    """`SqlContext.literal` for an engine named by string ("duckdb" | "spark")."""
    if engine == "spark":
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + text.replace("'", "''") + "'"


def module(name: str) -> ModuleType:
    """The module that defines section `name`; an unknown name is a DataSourceError."""
    path = SECTION_MODULES.get(str(name))
    if path is None:
        raise DataSourceError(f"Unknown profile section {name!r} (known: "
                              f"{', '.join(sorted(SECTION_MODULES))}).")
    return importlib.import_module(path)


def config_from_dict(data: Mapping) -> Any:
    """A section config read back from a plan's dict (`{"name": ..., ...}`)."""
    return module(data["name"]).Config.from_dict(data)


def section_from_dict(name: str, data: Mapping) -> Any:
    return module(name).Section.from_dict(data)


def merge_sections(a: Sequence[tuple[str, Any]], b: Sequence[tuple[str, Any]]
                   ) -> tuple[tuple[str, Any], ...]:
    """The sections of two chunks' union: a section present on both sides merges; one
    missing on either side is dropped, since half of it would describe only part of the rows."""
    theirs = dict(b)
    return tuple((name, s.merge(theirs[name])) for name, s in a if name in theirs)


def compute_sections(ctx: SqlContext, plan) -> dict[str, tuple[tuple[str, Any], ...]]:
    """Every section the plan asks for, per chunk key: {key: ((name, Section), ...)} sorted
    by name. Chunks without rows for a section get none."""
    out: dict[str, list[tuple[str, Any]]] = {}
    for config in sorted(getattr(plan, "sections", ()), key=lambda c: c.name):
        for key, section in module(config.name).compute(ctx, plan, config).items():
            out.setdefault(str(key), []).append((config.name, section))
    return {k: tuple(v) for k, v in out.items()}


__all__ = ["SECTION_MODULES", "SqlContext", "compute_sections", "config_from_dict",
           "merge_sections", "module", "section_from_dict", "text_literal"]
