"""Saved audits as values: a record, its withdrawal, what a read found, and their dict forms.

The store (`store.py`) keeps these in SQLite; exports, imports, history, reports and pages
work on these values alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aidebt_core.audit.questions import Answer, parse_level
from aidebt_core.audit.validate import check_audit
from aidebt_core.jsonsafe import jsonable

EXPORT_FORMAT = "aidebt-audits"
EXPORT_VERSION = 1


@dataclass(frozen=True)
class Withdrawal:
    """Why a saved audit no longer counts: who withdrew it, when (UTC) and the reason."""

    by: str
    at: str
    reason: str

    def to_dict(self) -> dict:
        return {"by": self.by, "at": self.at, "reason": self.reason}


@dataclass(frozen=True)
class AuditRecord:
    """One saved audit: who audited which model version when, the answers, findings and scores.

    `scores` is the score summary computed at save time, kept so the snapshot stays what the
    meeting agreed even if the scoring code changes later. `withdrawn` is set once the audit
    has been withdrawn (it stays in the history, off the scorecard).
    """

    model: str
    model_version: str
    audited_at: str
    questionnaire_version: str
    auditor: str
    answers: dict[str, Answer]
    findings: list[dict] = field(default_factory=list)
    scores: dict = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    id: str = ""
    saved_at: str = ""
    withdrawn: Withdrawal | None = None

    def payload(self) -> dict:
        return jsonable({"answers": {k: a.to_dict() for k, a in self.answers.items()},
                         "findings": self.findings, "scores": self.scores,
                         "notes": self.notes})

    def to_dict(self) -> dict:
        out = {"id": self.id, "model": self.model, "model_version": self.model_version,
               "audited_at": self.audited_at,
               "questionnaire_version": self.questionnaire_version, "auditor": self.auditor,
               "saved_at": self.saved_at, **self.payload()}
        if self.withdrawn is not None:
            out["withdrawn"] = self.withdrawn.to_dict()
        return out


@dataclass(frozen=True)
class StoredAudits:
    """What a read found: the usable audits (oldest first) and one line per skipped record."""

    records: tuple[AuditRecord, ...]
    skipped: tuple[str, ...] = ()

    def counted(self) -> list[AuditRecord]:
        """The audits that count (not withdrawn)."""
        return [r for r in self.records if r.withdrawn is None]


def answers_from_dict(raw: dict, where: str = "audit") -> dict[str, Answer]:
    """Answers as stored (`Answer.to_dict()` per question) back into `Answer`s."""
    out = {}
    for qid, item in raw.items():
        level, na = parse_level(item.get("level"), f"{where}: answer '{qid}'")
        measured = item.get("measured_level")
        out[str(qid)] = Answer(level=level, na=na, evidence=item.get("evidence") or "",
                               note=item.get("note") or "", source=item.get("source") or "manual",
                               measured_level=None if measured is None else int(measured),
                               evidence_date=item.get("evidence_date"),
                               link=item.get("link") or "")
    return out


def record_from_dict(raw: dict, where: str = "audit",
                     question_ids: frozenset[str] | None = None) -> AuditRecord:
    """An `AuditRecord` from its `to_dict()` form, checked against the audit schema first
    (`AuditValidationError` naming `where` and the field otherwise)."""
    check_audit(raw, where, question_ids)
    withdrawn = raw.get("withdrawn")
    return AuditRecord(model=raw["model"], model_version=raw.get("model_version", ""),
                       audited_at=raw["audited_at"],
                       questionnaire_version=raw["questionnaire_version"],
                       auditor=raw.get("auditor", ""),
                       answers=answers_from_dict(raw["answers"], where),
                       findings=list(raw.get("findings") or []),
                       scores=dict(raw.get("scores") or {}), notes=dict(raw.get("notes") or {}),
                       id=raw.get("id") or "", saved_at=raw.get("saved_at") or "",
                       withdrawn=Withdrawal(**withdrawn) if withdrawn else None)


def export_document(records: list[AuditRecord] | tuple[AuditRecord, ...]) -> dict:
    """Audits as the JSON export document that `AuditStore.import_json` reads."""
    return {"format": EXPORT_FORMAT, "version": EXPORT_VERSION,
            "audits": [r.to_dict() for r in records]}
