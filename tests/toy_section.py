"""A minimal profile section for the framework's tests: per chunk, the rows where a numeric
column is finite and their sum, grouped by a categorical column."""

from __future__ import annotations

from dataclasses import dataclass

NAME = "toy"


@dataclass(frozen=True)
class Config:
    numeric: str
    group: str
    name: str = NAME

    def to_dict(self) -> dict:
        return {"name": self.name, "numeric": self.numeric, "group": self.group}

    @classmethod
    def from_dict(cls, data) -> Config:
        return cls(str(data["numeric"]), str(data["group"]))


@dataclass(frozen=True)
class Section:
    cells: tuple[tuple[str | None, int, float], ...]   # (group, finite rows, sum) by group

    def merge(self, other: Section) -> Section:
        out: dict = {}
        for g, n, t in self.cells + other.cells:
            m, u = out.get(g, (0, 0.0))
            out[g] = (m + n, u + t)
        return Section(tuple(sorted(((g, n, t) for g, (n, t) in out.items()),
                                    key=lambda c: (c[0] is None, c[0] or ""))))

    def to_dict(self) -> dict:
        return {"cells": [list(c) for c in self.cells]}

    @classmethod
    def from_dict(cls, data) -> Section:
        return cls(tuple((g, int(n), float(t)) for g, n, t in data["cells"]))


def compute(ctx, plan, config: Config) -> dict[str, Section]:
    v = ctx.finite(config.numeric)
    rows = ctx.run(f"SELECT {ctx.key} AS k, {ctx.text(config.group)} AS g, count({v}), "
                   f"coalesce(sum({v}), 0.0) FROM {ctx.rows} GROUP BY 1, 2")
    out: dict[str, Section] = {}
    for k, g, n, t in rows:
        out[str(k)] = out.get(str(k), Section(())).merge(Section(((g, int(n), float(t)),)))
    return out
