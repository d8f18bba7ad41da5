"""The registry of analyses: one line per analysis, read by the CLI, the audit and the tests.

An entry names, as import paths resolved on first use (so listing the registry, e.g. while
the CLI builds its parser, imports no numpy/DuckDB/plotly, and so this module creates no
import cycle):

- `options`: a frozen dataclass of the analysis's options (its defaults are the analysis's);
- `run(data, options) -> result`: `data` is the opened inputs the CLI (`commands._common.
  open_inputs`) and the pages (`selection.open()`) build, read through `.reference`,
  `.current` (None for one unsplit source), `.schema` and `.timestamp`; the result is a frozen
  dataclass with `to_dict`/`from_dict`, `to_frame` and `fingerprint` (see `inputs_identity`);
- `report(result) -> Report` (aidebt_core/reports/) and `figures(result) -> [Figure]`, built
  from the result alone (default figures: the report's);
- `evidence`: the audit provider (`EvidenceContext -> {measurement: Measured}`) and the
  `measurements` it serves;
- `command`: the module of its own CLI sub-command, or None for the generic one
  (`aidebt <name> DATA... [--option ...] [--format json] [--report OUT]`, see cli.py).

Its page comes from `aidebt_core.pages` (the page whose `analysis` is the entry's name).
`register()` adds an entry at run time (a plug-in, or a test's toy analysis).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DATA, TRACKING = "data", "tracking"   # what `run` reads: opened tables, or an MLflow store


@dataclass(frozen=True)
class Analysis:
    """One registered analysis; callables are given as 'module:name' strings or objects."""

    name: str
    title: str
    options: str | type | None
    run: str | Callable | None
    report: str | Callable | None
    figures: str | Callable | None = None
    evidence: str | Callable | None = None
    measurements: tuple[str, ...] = ()
    command: str | None = None
    inputs: str = DATA
    need_current: bool = True        # run needs reference and current (else one side will do)
    frame_columns: tuple[str, ...] = ()   # the columns `result.to_frame()` documents
    hashable: bool = False                # whether its results can be hashed (set members)
    help: str = ""
    core: str = ""   # its core package (default: the module of `run`), for "installed?"

    @property
    def core_module(self) -> str:
        if self.core:
            return self.core
        if isinstance(self.run, str):
            return self.run.partition(":")[0]
        return getattr(self.run, "__module__", __name__)

    def resolve(self, part: str) -> Any:
        """The object behind one of the import-path fields (imports its module now)."""
        value = getattr(self, part)
        if value is None or not isinstance(value, str):
            return value
        module, _, name = value.partition(":")
        return getattr(importlib.import_module(module), name)

    @property
    def options_class(self) -> type:
        return self.resolve("options")

    def default_options(self):
        return self.options_class()

    def run_on(self, data, options=None):
        """The result of this analysis on opened `data`, its input identity recorded."""
        result = self.resolve("run")(data, self.default_options() if options is None
                                     else options)
        with_inputs = getattr(result, "with_inputs", None)
        return with_inputs(inputs_identity(data)) if with_inputs else result

    def make_report(self, result):
        return self.resolve("report")(result)

    def make_figures(self, result) -> list:
        """The result's figures: the entry's own builder, else every figure of its report."""
        if self.figures is not None:
            return list(self.resolve("figures")(result))
        return [block[1][0] for block in self.make_report(result).blocks
                if block[0] == "figure"]

    @property
    def page(self):
        """The dashboard page (a `pages.PageSpec`) that shows it, else None."""
        from aidebt_core.pages import PAGES

        return next((p for p in PAGES if p.analysis == self.name), None)

    @property
    def page_link(self) -> str | None:
        """The dashboard link ("/drift") of the page that shows it, else None."""
        page = self.page
        return None if page is None else f"/{page.url_path}"


_REGISTRY: dict[str, Analysis] = {}


def register(entry: Analysis, *, replace: bool = False) -> Analysis:
    """Add an analysis (a name may be registered once unless `replace`)."""
    if entry.name in _REGISTRY and not replace:
        raise ValueError(f"an analysis named {entry.name!r} is already registered")
    _REGISTRY[entry.name] = entry
    return entry


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def all_analyses(inputs: str | None = None) -> list[Analysis]:
    """Every registered analysis in registration order (only those reading `inputs`)."""
    return [a for a in _REGISTRY.values() if inputs is None or a.inputs == inputs]


def get(name: str) -> Analysis:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no analysis named {name!r}; registered: "
                       f"{', '.join(_REGISTRY)}") from None


def inputs_identity(data) -> tuple[tuple[str, ...], ...]:
    """What `data` was read from, for a result's fingerprint: the CLI's sources (path, size,
    modification time of each file, and the split options), or a page's selection
    fingerprint (which covers the same)."""
    from pathlib import Path

    from aidebt_core.drift.identity import input_identity

    selection = getattr(data, "selection", None)
    if selection is not None:
        return (("selection", str(selection.fingerprint)),)
    sources = [str(s) for s in getattr(data, "sources", ()) or ()]
    paths = [s for s in sources if Path(s).exists()]
    return input_identity(paths, [s for s in sources if s not in paths])


# ---------------------------------------------------------------------------- the analyses
# One line each (the page is the one in aidebt_core/pages.py whose `analysis` is the name).

_P = "aidebt_core.audit.providers"
register(Analysis(
    "drift", "Data drift", "aidebt_core.drift.options:DriftOptions",
    "aidebt_core.profiles.route:drift_run", "aidebt_core.reports.drift:drift_report",
    evidence=f"{_P}:drift_items", measurements=("drift", "drift_invariants"),
    command="aidebt_core.commands.drift", core="aidebt_core.drift", hashable=True,
    frame_columns=("column", "kind", "method", "statistic", "p_value", "threshold", "drifted",
                   "missing_reference", "missing_current", "missing_change",
                   "new_categories", "vanished_categories", "status", "note")))
register(Analysis(
    "performance", "Performance & concept drift",
    "aidebt_core.performance.entry:PerformanceOptions",
    "aidebt_core.profiles.route:performance_run",
    "aidebt_core.reports.performance:performance_report",
    evidence=f"{_P}:performance_items",
    measurements=("performance", "staleness", "fresh_evaluation"),
    command="aidebt_core.commands.performance", core="aidebt_core.performance",
    frame_columns=("chunk", "start", "end", "period", "rows", "labelled_rows", "partial",
                   "too_small", "too_few_labels", "realized", "ci_low", "ci_high",
                   "estimated", "estimated_low", "estimated_high", "lower", "upper", "gap",
                   "gap_lower", "gap_upper", "alert", "estimated_alert", "concept_alert",
                   "note")))
register(Analysis(
    "entanglement", "Feature entanglement",
    "aidebt_core.entanglement.entry:EntanglementOptions",
    "aidebt_core.profiles.entanglement:entanglement_run",
    "aidebt_core.reports.entanglement:entanglement_report",
    evidence=f"{_P}:entanglement_items", measurements=("entanglement", "redundancy"),
    command="aidebt_core.commands.entanglement", core="aidebt_core.entanglement",
    need_current=False,
    frame_columns=("a", "b", "value", "method", "rows", "note")))
register(Analysis(
    "slices", "Slices", "aidebt_core.slices.entry:SlicesOptions",
    "aidebt_core.profiles.slices:slices_run", "aidebt_core.reports.slices:slices_report",
    evidence=f"{_P}:slices_items", measurements=("slices",),
    command="aidebt_core.commands.slices", core="aidebt_core.slices", need_current=False,
    frame_columns=("slice", "size", "share", "metric", "ci_low", "ci_high", "p_value",
                   "q_value", "significant", "score")))
# Reads an MLflow store, not data: registered for its page, audit evidence and CLI command.
register(Analysis(
    "runs", "Reproducibility", None, None, None, evidence=f"{_P}:runs_items",
    measurements=("runs_manifest", "runs_commit", "runs_params", "runs_digest",
                  "runs_environment"),
    command="aidebt_core.commands.runs", core="aidebt_core.runs", inputs=TRACKING))
