"""Two runs side by side: code, data, features, params, seed, metrics and environment,
each row marked same or different (MLflow's compare view lost "only show differences")."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from aidebt_core.jsonsafe import jsonable
from aidebt_core.runs.manifest import Manifest

SECTIONS = ("code", "data", "features", "params", "metrics", "environment", "run")


@dataclass(frozen=True)
class DiffRow:
    section: str
    key: str
    a: str | float | None
    b: str | float | None
    same: bool
    delta: float | None = None     # b - a for metrics


@dataclass(frozen=True)
class RunDiff:
    a: str
    b: str
    rows: tuple[DiffRow, ...]

    @property
    def differences(self) -> tuple[DiffRow, ...]:
        return tuple(r for r in self.rows if not r.same)

    def differing_keys(self, section: str) -> list[str]:
        return sorted(r.key for r in self.differences if r.section == section)

    def to_frame(self, only_differences: bool = False) -> pd.DataFrame:
        rows = self.differences if only_differences else self.rows
        frame = pd.DataFrame([{"section": r.section, "key": r.key, "a": _text(r.a),
                               "b": _text(r.b), "same": r.same, "delta": r.delta}
                              for r in rows], columns=["section", "key", "a", "b", "same", "delta"])
        frame["delta"] = pd.to_numeric(frame["delta"], errors="coerce").astype(float)
        return frame

    def to_dict(self) -> dict:
        return jsonable({"a": self.a, "b": self.b,
                         "differences": len(self.differences),
                         "rows": [r.__dict__ for r in self.rows]})


def _text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def diff_runs(a: Manifest, b: Manifest, requirements: tuple[str | None, str | None] = (None, None)
              ) -> RunDiff:
    """Compare two manifests; `requirements` are the two runs' requirements.txt texts, if read."""
    rows: list[DiffRow] = []

    def add(section: str, key: str, va, vb) -> None:
        rows.append(DiffRow(section, key, va, vb, va == vb))

    add("run", "experiment", a.experiment, b.experiment)
    add("run", "status", a.status, b.status)
    add("code", "git_commit", a.git_commit, b.git_commit)
    add("code", "git_dirty", _flag(a.git_dirty), _flag(b.git_dirty))
    add("code", "git_branch", a.git_branch, b.git_branch)
    add("code", "source", a.source_name, b.source_name)
    contexts = sorted({d.context or "(none)" for d in (*a.datasets, *b.datasets)})
    if not contexts:
        add("data", "digest", None, None)
    for context in contexts:
        add("data", f"{context} digest", _digests(a, context), _digests(b, context))
    add("features", "count", str(len(a.features)), str(len(b.features)))
    only_a = sorted(set(a.features) - set(b.features))
    only_b = sorted(set(b.features) - set(a.features))
    rows.append(DiffRow("features", "only in one run", ", ".join(only_a) or None,
                        ", ".join(only_b) or None, not only_a and not only_b))
    add("params", f"seed ({a.seed_key or b.seed_key or 'none'})", a.seed, b.seed)
    pa, pb = a.hyper_params, b.hyper_params
    for key in sorted(set(pa) | set(pb)):
        add("params", key, pa.get(key), pb.get(key))
    for key in sorted(set(a.metrics) | set(b.metrics)):
        va, vb = a.metrics.get(key), b.metrics.get(key)
        delta = vb - va if va is not None and vb is not None else None
        rows.append(DiffRow("metrics", key, va, vb, va == vb, delta))
    add("environment", "files", ", ".join(sorted(_names(a.environment_files))) or None,
        ", ".join(sorted(_names(b.environment_files))) or None)
    req_a, req_b = (_requirements(t) for t in requirements)
    if req_a is not None or req_b is not None:
        for name in sorted(set(req_a or {}) | set(req_b or {})):
            add("environment", name, (req_a or {}).get(name), (req_b or {}).get(name))
    return RunDiff(a.run_name or a.run_id, b.run_name or b.run_id, tuple(rows))


def _flag(value: bool | None) -> str | None:
    return None if value is None else str(value).lower()


def _digests(m: Manifest, context: str) -> str | None:
    found = [f"{d.name}@{d.digest}" for d in m.datasets if (d.context or "(none)") == context
             and d.digest]
    return ", ".join(sorted(found)) or None


def _names(paths: tuple[str, ...]) -> list[str]:
    return [p.split("/")[-1] for p in paths]


def _requirements(text: str | None) -> dict[str, str] | None:
    """requirements.txt → {package: pin}; comments and options skipped."""
    if text is None:
        return None
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        for sep in ("===", "==", ">=", "<=", "~=", "!=", ">", "<", " @ "):
            if sep in line:
                name, _, rest = line.partition(sep)
                pins[name.strip().lower()] = sep.strip() + rest.strip()
                break
        else:
            pins[line.lower()] = "(unpinned)"
    return pins
