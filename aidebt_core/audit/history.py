"""Compare an audit with the previous one, and build the manager scorecard across models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from aidebt_core.audit.questions import DIMENSIONS, Answer
from aidebt_core.audit.records import AuditRecord, action_counts, scored
from aidebt_core.jsonsafe import jsonable


def _level_text(answer: Answer | None) -> str:
    if answer is None:
        return "—"
    return "N/A" if answer.na else str(answer.level)


def _delta(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


@dataclass(frozen=True)
class Comparison:
    """Per-dimension score deltas and changed answers between two audits of one model."""

    previous_id: str
    previous_date: str
    same_questionnaire: bool
    headline_delta: float | None
    weighted_mean_delta: float | None
    dimension_deltas: dict[str, float | None]
    changed: tuple[dict, ...]

    def to_dict(self) -> dict:
        return jsonable({"previous_id": self.previous_id, "previous_date": self.previous_date,
                         "same_questionnaire": self.same_questionnaire,
                         "headline_delta": self.headline_delta,
                         "weighted_mean_delta": self.weighted_mean_delta,
                         "dimension_deltas": self.dimension_deltas,
                         "changed": list(self.changed)})

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.changed),
                            columns=["question", "title", "before", "after", "note"])


def compare(previous: AuditRecord, answers: dict[str, Answer], scores: dict,
            questionnaire_version: str, titles: dict[str, str] | None = None) -> Comparison:
    """What changed since `previous`: `scores` is the current `AuditScore.to_dict()`;
    `titles` (question id → title) labels the changed answers."""
    before = previous.scores or {}
    dims_before = before.get("dimensions") or {}
    dims_now = scores.get("dimensions") or {}
    changed = []
    for qid in sorted(set(previous.answers) | set(answers), key=_question_order):
        old, new = previous.answers.get(qid), answers.get(qid)
        if _level_text(old) != _level_text(new):
            changed.append({"question": qid, "title": (titles or {}).get(qid, ""),
                            "before": _level_text(old),
                            "after": _level_text(new), "note": new.note if new else ""})
    return Comparison(
        previous_id=previous.id, previous_date=previous.audited_at,
        same_questionnaire=previous.questionnaire_version == questionnaire_version,
        headline_delta=_delta(scores.get("overall"), before.get("overall")),
        weighted_mean_delta=_delta(scores.get("weighted_mean"), before.get("weighted_mean")),
        dimension_deltas={d: _delta(dims_now.get(d), dims_before.get(d)) for d in DIMENSIONS},
        changed=tuple(changed))


def headline_history(audits: list[AuditRecord]) -> pd.DataFrame:
    """Every counted audit's headline and weighted mean, by model and date (for trend charts);
    withdrawn, partial and superseded audits are left out."""
    counted = scored(audits)
    return pd.DataFrame([{"model": r.model, "audited_at": r.audited_at,
                          "headline": r.scores.get("overall"),
                          "weighted_mean": r.scores.get("weighted_mean")}
                         for r in sorted(counted, key=lambda r: (r.audited_at, r.saved_at))],
                        columns=["model", "audited_at", "headline", "weighted_mean"])


def history_frame(records: list[AuditRecord]) -> pd.DataFrame:
    """One row per saved audit of a model, oldest first: date, version, auditor, scores, and
    whether (by whom, when, why) it was withdrawn, is partial, signed off or superseded."""
    by = {r.supersedes: r.id for r in records if r.supersedes and r.withdrawn is None}
    return pd.DataFrame([{"audited": r.audited_at, "version": r.model_version,
                          "auditor": r.auditor, "headline": r.scores.get("overall"),
                          "weighted mean": r.scores.get("weighted_mean"),
                          "red flags": len(r.scores.get("red_flags") or []),
                          "questionnaire": r.questionnaire_version,
                          "status": (f"superseded by {by[r.id][:8]}"
                                     if r.id in by and r.withdrawn is None
                                     else withdrawn_text(r)),
                          "id": r.id} for r in records],
                        columns=["audited", "version", "auditor", "headline", "weighted mean",
                                 "red flags", "questionnaire", "status", "id"])


def withdrawn_text(record: AuditRecord) -> str:
    """"counts" (with who signed it off, if so), "partial (off the scorecard)", or who withdrew
    the audit when and why."""
    w = record.withdrawn
    if w is not None:
        return f"withdrawn {w.at[:10]} by {w.by}: {w.reason}"
    if record.partial:
        return "partial (off the scorecard)"
    if record.supersedes:
        text = f"counts; supersedes {record.supersedes[:8]}"
        return text + (f"; signed off {record.signed_at[:10]} by {record.signed_by}"
                       if record.signed else "")
    if record.signed:
        return f"counts; signed off {record.signed_at[:10]} by {record.signed_by}"
    return "counts"


def _question_order(qid: str) -> tuple:
    prefix = qid.rstrip("0123456789")
    number = qid[len(prefix):]
    return ("DMPE".find(prefix[:1]) if prefix[:1] in "DMPE" else 9, prefix,
            int(number) if number else 0)


DIMENSION_COLUMNS = tuple(f"{d}_score" for d in DIMENSIONS)


@dataclass(frozen=True)
class Scorecard:
    """One row per model (its latest audit), with the trend since the audit before it."""

    rows: tuple[dict, ...]

    def to_frame(self) -> pd.DataFrame:
        columns = ["model", "model_version", "audited_at", "auditor", "headline",
                   "weighted_mean", "band", *DIMENSION_COLUMNS, "red_flags", "trend",
                   "open_findings", "top_actions", "open_actions", "overdue_actions",
                   "audits", "questionnaire_version"]
        frame = pd.DataFrame(list(self.rows), columns=columns)
        numeric = ["headline", "weighted_mean", *DIMENSION_COLUMNS, "trend"]
        frame[numeric] = frame[numeric].apply(pd.to_numeric).astype(float)
        return frame

    def to_dict(self) -> dict:
        return jsonable({"models": list(self.rows)})


def build_scorecard(audits: list[AuditRecord], today: date | None = None) -> Scorecard:
    """The latest audit of each model; `trend` is the headline change since the previous
    audit of that model (None when there is none or the questionnaire versions differ).
    Withdrawn, partial and superseded audits do not count: not as the latest, not for the
    trend, not in `audits`. `open_actions` / `overdue_actions` are the tracked actions still
    open (and past due on `today`) at the model's latest audit (a partial one may record their
    progress)."""
    by_model: dict[str, list[AuditRecord]] = {}
    actions = action_counts(audits, today)
    counted = scored(audits)
    for record in sorted(counted, key=lambda r: (r.audited_at, r.saved_at, r.id)):
        by_model.setdefault(record.model, []).append(record)
    rows = []
    for model, history in sorted(by_model.items()):
        latest = history[-1]
        scores = latest.scores or {}
        trend = None
        if len(history) > 1:
            prev = history[-2]
            if prev.questionnaire_version == latest.questionnaire_version:
                trend = _delta(scores.get("overall"), (prev.scores or {}).get("overall"))
        dims = scores.get("dimensions") or {}
        rows.append({
            "model": model, "model_version": latest.model_version,
            "audited_at": latest.audited_at, "auditor": latest.auditor,
            "headline": scores.get("overall"), "weighted_mean": scores.get("weighted_mean"),
            "band": scores.get("band", "not scored"),
            **{f"{d}_score": dims.get(d) for d in DIMENSIONS},
            "red_flags": len(scores.get("red_flags") or []),
            "trend": trend, "open_findings": len(latest.findings),
            "top_actions": "; ".join(f"{a['question']} {a.get('title', '')}".strip()
                                     for a in (scores.get("actions") or [])[:3]),
            "open_actions": actions[model].open if model in actions else 0,
            "overdue_actions": actions[model].overdue if model in actions else 0,
            "audits": len(history), "questionnaire_version": latest.questionnaire_version,
        })
    return Scorecard(rows=tuple(rows))
