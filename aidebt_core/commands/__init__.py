"""CLI sub-commands: the table the parser lists, and one module per command.

`COMMANDS` names every sub-command with its module and its one-line help, in the order
`aidebt --help` lists them. The parser lists them from this table alone and imports only the
chosen command's module (`aidebt drift ...` imports `commands/drift.py`, nothing of audit or
slices), so start-up stays light. A command module has `register(subparsers)`, which adds its
parser with the same `help` as its line here (a test checks both agree), keeps its top-level
imports light (argparse, stdlib, `_args`, `_types`, modules that import no pandas/numpy/
plotly/mlflow/sklearn/scipy) and imports what its handler needs inside the handler.

Add a command: write `commands/<name>.py` and add one `CommandSpec` line below. A registered
analysis without a command module gets the generic command (`_generic.py`, listed from the
registry in `aidebt_core.analyses`, not from this table).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandSpec:
    name: str     # aidebt <name>
    module: str   # the module whose register(subparsers) adds it
    help: str     # its one-line help in `aidebt --help` (the same text register() gives)


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("audit", "aidebt_core.commands.audit",
                "score an AI-technical-debt audit questionnaire"),
    CommandSpec("drift", "aidebt_core.commands.drift",
                "per-column data drift between two data sets"),
    CommandSpec("entanglement", "aidebt_core.commands.entanglement",
                "feature association, redundant groups and correlation change"),
    CommandSpec("performance", "aidebt_core.commands.performance",
                "model performance over time, label-free estimate, concept drift"),
    CommandSpec("profile", "aidebt_core.commands.profile",
                "write a saved profile (counts and histograms, no rows) of a data source"),
    CommandSpec("runs", "aidebt_core.commands.runs",
                "reproducibility manifests of MLflow runs (completeness, diff, registry)"),
    CommandSpec("sample", "aidebt_core.commands.sample", "write the sample scenario to OUTDIR"),
    CommandSpec("serve", "aidebt_core.commands.serve", "start the dashboard"),
    CommandSpec("slices", "aidebt_core.commands.slices",
                "metric per slice with intervals, weak-slice discovery"),
)
