"""The import structure of `aidebt_core`: no cycles, and figures depend on results only.

How imports are read (statically, with `ast`, so nothing is executed):
- Every `import` / `from ... import` in a file counts, wherever it is: at module level, inside a
  function (a "lazy" import used to dodge a cycle is still a cycle in the design), and under
  `if TYPE_CHECKING:` (the type names still tie the files together).
- `from pkg import name` is an edge to the module `pkg.name` when that is a file, else to
  `pkg` (its `__init__.py`). `import a.b` is an edge to `a.b`.
- The implicit import of a parent package's `__init__.py` (Python runs `drift/__init__.py`
  before `drift/result.py`) is not an edge: otherwise every package whose `__init__` re-exports
  its own modules would be a cycle by construction.
- Units for the package check: each sub-package of `aidebt_core` (`aidebt_core.drift`, ...) is
  one unit; each top-level module (`aidebt_core.data`) is a unit of its own.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "aidebt_core"
ANALYSES = ("audit", "drift", "entanglement", "performance", "runs", "slices")
# What plots/ may take from an analysis package: result types (frozen dataclasses) and the
# constants that describe them, plus the few rules listed in SHARED_RULES (a pure function
# of one result value, kept in one place so the chart and the analysis cannot disagree).
# Anything else (the functions that read data or compute) is off limits.
PLOTS_MAY_IMPORT = {
    "aidebt_core.audit.questions": {"DIMENSIONS"},
    "aidebt_core.audit.scoring": {"HEALTH_BANDS", "health_band"},
    "aidebt_core.drift.distribution": {"Distribution"},
    "aidebt_core.drift.multivariate": {"MultivariateResult"},
    "aidebt_core.drift.over_time": {"OverTimeResult"},
    "aidebt_core.drift.result": {"DriftResult"},
    "aidebt_core.entanglement.drilldown": {"PairView"},
    "aidebt_core.entanglement.result": {"MEASURE_NAMES", "AssociationMatrix",
                                        "CorrelationChange"},
    "aidebt_core.performance.relationship": {"Relationship"},
    "aidebt_core.performance.result": {"PerformanceResult"},
    "aidebt_core.runs.diff": {"RunDiff"},
    "aidebt_core.runs.lineage": {"Lineage"},
    "aidebt_core.runs.manifest": {"FIELDS"},
    "aidebt_core.runs.reader": {"RunsTable"},
    "aidebt_core.runs.staleness": {"StalenessReport"},
    "aidebt_core.slices.breakdown": {"Change", "SliceStat"},
}
SHARED_RULES = {"aidebt_core.audit.scoring.health_band"}  # score -> band name, from HEALTH_BANDS


@cache
def modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package `__init__`)."""
    found = {}
    for path in sorted(CORE.rglob("*.py")):
        parts = list(path.relative_to(CORE.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def imports_of(module: str) -> list[tuple[str, tuple[str, ...], int]]:
    """(target module inside aidebt_core, names taken from it, line) for every import."""
    path, package = modules()[module]
    return read_imports(path.read_text(), module, package, set(modules()))


def read_imports(source: str, module: str, package: bool, known: set[str]
                 ) -> list[tuple[str, tuple[str, ...], int]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, (), node.lineno) for a in node.names if a.name in known]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if package else module.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target not in known:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((sub, (), node.lineno) if sub in known
                             else (target, (alias.name,), node.lineno))
    return found


def file_graph() -> dict[str, set[str]]:
    return {m: {t for t, _, _ in imports_of(m) if t != m} for m in modules()}


def unit(module: str) -> str:
    parts = module.split(".")
    head = ".".join(parts[:2])
    return head if modules().get(head, (None, False))[1] else module


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for source, targets in file_graph().items():
        edges = graph.setdefault(unit(source), set())
        edges |= {unit(t) for t in targets} - {unit(source)}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def describe(graph: dict[str, set[str]], component: list[str]) -> str:
    inside = set(component)
    return "; ".join(f"{a} -> {b}" for a in component for b in sorted(graph[a] & inside))


def test_the_cycle_finder_finds_planted_cycles_and_passes_a_tree():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
    assert sorted(cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}})) == [
        ["a", "b"], ["c", "d"]]


def test_imports_are_read_at_every_level_and_relative_ones_resolved():
    source = (
        "import aidebt_core.a\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from aidebt_core.pkg import b\n"
        "def f():\n    from .c import Thing\n    from . import d\n"
        "class K:\n    def m(self):\n        from ..a import x, y\n")
    known = {"aidebt_core.a", "aidebt_core.pkg", "aidebt_core.pkg.b", "aidebt_core.pkg.c",
             "aidebt_core.pkg.d", "aidebt_core.pkg.mod"}
    assert read_imports(source, "aidebt_core.pkg.mod", False, known) == [
        ("aidebt_core.a", (), 1), ("aidebt_core.pkg.b", (), 4),
        ("aidebt_core.pkg.c", ("Thing",), 6), ("aidebt_core.pkg.d", (), 7),
        ("aidebt_core.a", ("x",), 10), ("aidebt_core.a", ("y",), 10)]
    assert "aidebt_core.data" in file_graph()["aidebt_core.timeaxis"]
    assert unit("aidebt_core.drift.result") == "aidebt_core.drift"
    assert unit("aidebt_core.data") == "aidebt_core.data"
    assert len(modules()) > 100


def test_no_cycle_between_files():
    graph = file_graph()
    found = cycles(graph)
    assert not found, "\n".join(describe(graph, c) for c in found)


def test_no_cycle_between_packages():
    graph = package_graph()
    found = cycles(graph)
    assert not found, "\n".join(describe(graph, c) for c in found)


@pytest.mark.parametrize("analysis", ANALYSES)
def test_no_analysis_imports_plots_or_reports(analysis):
    offenders = sorted({f"{m}:{line} imports {t}" for m in modules()
                        if unit(m) == f"aidebt_core.{analysis}"
                        for t, _, line in imports_of(m)
                        if unit(t) in ("aidebt_core.plots", "aidebt_core.reports")})
    assert not offenders, offenders


def test_plots_take_only_result_types_from_analyses():
    offenders = []
    for module in modules():
        if unit(module) != "aidebt_core.plots":
            continue
        for target, names, line in imports_of(module):
            if unit(target).rpartition(".")[2] not in ANALYSES:
                continue
            allowed = PLOTS_MAY_IMPORT.get(target, set())
            if not names or not set(names) <= allowed:
                offenders.append(f"{module}:{line} takes {names or 'the module'} from {target}")
    assert not offenders, offenders


def test_the_names_plots_may_take_are_result_types_or_constants():
    import dataclasses
    import importlib

    for module, names in PLOTS_MAY_IMPORT.items():
        loaded = importlib.import_module(module)
        for name in names:
            value = getattr(loaded, name)
            if name.isupper():
                assert not callable(value), f"{module}.{name} is a constant"
            elif f"{module}.{name}" in SHARED_RULES:
                assert callable(value)
            else:
                assert dataclasses.is_dataclass(value), f"{module}.{name} is a result type"
                assert value.__dataclass_params__.frozen, f"{module}.{name} is frozen"


def test_no_private_name_crosses_a_package():
    # sample_mlflow once took _Plan/_plans from sample: a private name used elsewhere is public
    # in all but name, and a rename inside one file then breaks another package.
    offenders = [f"{m}:{line} takes {n} from {t}" for m in modules()
                 for t, names, line in imports_of(m) for n in names
                 if n.startswith("_") and not n.startswith("__") and unit(t) != unit(m)]
    assert not offenders, offenders
