"""Saved audits as values: a record, its withdrawal, what a read found, and their dict forms.

The store (`store.py`) keeps these in SQLite; exports, imports, history, reports and pages
work on these values alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from typing import NamedTuple

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


ACTION_STATUSES = ("open", "done", "wont_do")
STATUS_TEXT = {"open": "open", "done": "done", "wont_do": "won't do"}


class Participant(NamedTuple):
    """Who took part in the review meeting, and in what role (e.g. "model owner")."""

    name: str
    role: str = ""


@dataclass(frozen=True)
class TrackedAction:
    """An action agreed in an audit, followed until it is done (or not done, with a note).

    The same `id` appears in the later audits of the model, each with the status agreed then;
    `found` keeps the debt items the measurement found when the action was agreed (e.g. the
    drifted features), `effect` what the measurement said about them at this audit."""

    id: str
    question_id: str
    text: str
    owner: str = ""
    due: date | None = None
    status: str = "open"
    note: str = ""
    opened_on: str = ""
    found: tuple[str, ...] = ()
    effect: str = ""

    def overdue(self, today: date | None = None) -> bool:
        """Open and past its due date."""
        return (self.status == "open" and self.due is not None
                and self.due < (today or date.today()))

    def with_status(self, status: str, note: str = "") -> TrackedAction:
        if status not in ACTION_STATUSES:
            raise ValueError(f"status must be one of {', '.join(ACTION_STATUSES)}")
        return replace(self, status=status, note=note)

    def to_dict(self) -> dict:
        return {"id": self.id, "question": self.question_id, "text": self.text,
                "owner": self.owner, "due": self.due.isoformat() if self.due else None,
                "status": self.status, "note": self.note, "opened_on": self.opened_on,
                "found": list(self.found), "effect": self.effect}


def new_action(question_id: str, text: str, owner: str = "", due: date | None = None,
               found: tuple[str, ...] = (), opened_on: str = "") -> TrackedAction:
    """A new open action with a fresh id."""
    return TrackedAction(id=uuid.uuid4().hex[:12], question_id=question_id, text=text.strip(),
                         owner=owner.strip(), due=due, found=tuple(found), opened_on=opened_on)


def action_from_dict(raw: dict) -> TrackedAction:
    due = raw.get("due")
    return TrackedAction(id=raw["id"], question_id=raw.get("question", ""),
                         text=raw.get("text", ""), owner=raw.get("owner") or "",
                         due=date.fromisoformat(due) if due else None,
                         status=raw.get("status") or "open", note=raw.get("note") or "",
                         opened_on=raw.get("opened_on") or "",
                         found=tuple(raw.get("found") or ()), effect=raw.get("effect") or "")


@dataclass(frozen=True)
class AuditRecord:
    """One saved audit: who audited which model version when, the answers, findings and scores.

    `scores` is the score summary computed at save time, kept so the snapshot stays what the
    meeting agreed even if the scoring code changes later. `withdrawn` is set once the audit
    has been withdrawn (it stays in the history, off the scorecard).

    A `partial` audit (saved on purpose before every question was answered) stays off the
    scorecard and the trends. `participants` and `discussion` (question id → note) record the
    meeting; `actions` the agreed actions with their status at this audit. `signed_by` /
    `signed_at` are set once a named reviewer signed the audit off: it is then final and can
    only be superseded by a new audit (`supersedes` names the audit a new one replaces).
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
    partial: bool = False
    participants: tuple[Participant, ...] = ()
    discussion: dict[str, str] = field(default_factory=dict)
    actions: tuple[TrackedAction, ...] = ()
    supersedes: str = ""
    signed_by: str = ""
    signed_at: str = ""

    @property
    def signed(self) -> bool:
        return bool(self.signed_by)

    @property
    def counts(self) -> bool:
        """On the scorecard and in trends: neither withdrawn nor partial."""
        return self.withdrawn is None and not self.partial

    def payload(self) -> dict:
        out = {"answers": {k: a.to_dict() for k, a in self.answers.items()},
               "findings": self.findings, "scores": self.scores, "notes": self.notes}
        # New fields only when set, so audits saved before they existed keep their payload.
        if self.partial:
            out["partial"] = True
        if self.participants:
            out["participants"] = [{"name": p.name, "role": p.role} for p in self.participants]
        if self.discussion:
            out["discussion"] = dict(self.discussion)
        if self.actions:
            out["actions"] = [a.to_dict() for a in self.actions]
        if self.supersedes:
            out["supersedes"] = self.supersedes
        return jsonable(out)

    def to_dict(self) -> dict:
        out = {"id": self.id, "model": self.model, "model_version": self.model_version,
               "audited_at": self.audited_at,
               "questionnaire_version": self.questionnaire_version, "auditor": self.auditor,
               "saved_at": self.saved_at, **self.payload()}
        if self.withdrawn is not None:
            out["withdrawn"] = self.withdrawn.to_dict()
        if self.signed_by:
            out["signed"] = {"by": self.signed_by, "at": self.signed_at}
        return out


@dataclass(frozen=True)
class StoredAudits:
    """What a read found: the usable audits (oldest first) and one line per skipped record."""

    records: tuple[AuditRecord, ...]
    skipped: tuple[str, ...] = ()

    def counted(self) -> list[AuditRecord]:
        """The audits that are not withdrawn (partial ones included)."""
        return [r for r in self.records if r.withdrawn is None]

    def scored(self) -> list[AuditRecord]:
        """The audits that count on the scorecard: neither withdrawn, partial nor superseded."""
        return scored(self.records)


def superseded_ids(records) -> set[str]:
    """Ids of audits replaced by a later audit (not withdrawn) that names them in
    `supersedes`."""
    return {r.supersedes for r in records if r.supersedes and r.withdrawn is None}


def scored(records) -> list[AuditRecord]:
    """The records that count on the scorecard and in trends, in the given order: not
    withdrawn, not partial, not superseded."""
    replaced = superseded_ids(records)
    return [r for r in records if r.counts and r.id not in replaced]


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
    signed = raw.get("signed") or {}
    return AuditRecord(model=raw["model"], model_version=raw.get("model_version", ""),
                       audited_at=raw["audited_at"],
                       questionnaire_version=raw["questionnaire_version"],
                       auditor=raw.get("auditor", ""),
                       answers=answers_from_dict(raw["answers"], where),
                       findings=list(raw.get("findings") or []),
                       scores=dict(raw.get("scores") or {}), notes=dict(raw.get("notes") or {}),
                       id=raw.get("id") or "", saved_at=raw.get("saved_at") or "",
                       withdrawn=Withdrawal(**withdrawn) if withdrawn else None,
                       partial=bool(raw.get("partial", False)),
                       participants=tuple(Participant(p["name"], p.get("role") or "")
                                          for p in raw.get("participants") or ()),
                       discussion=dict(raw.get("discussion") or {}),
                       actions=tuple(action_from_dict(a) for a in raw.get("actions") or ()),
                       supersedes=raw.get("supersedes") or "",
                       signed_by=signed.get("by", ""), signed_at=signed.get("at", ""))


def export_document(records: list[AuditRecord] | tuple[AuditRecord, ...]) -> dict:
    """Audits as the JSON export document that `AuditStore.import_json` reads."""
    return {"format": EXPORT_FORMAT, "version": EXPORT_VERSION,
            "audits": [r.to_dict() for r in records]}


class ActionCount(NamedTuple):
    """A model's actions still open at its latest audit, and how many of those are overdue."""

    open: int
    overdue: int


@dataclass(frozen=True)
class CarriedOver:
    """Where a new audit of a model starts: the last saved answer to each question with the
    date of the audit it comes from, and the actions of the latest audit with their status."""

    model: str
    audit_id: str
    audited_at: str
    model_version: str
    answers: dict[str, Answer]
    answered_on: dict[str, str]
    actions: tuple[TrackedAction, ...] = ()
    participants: tuple[Participant, ...] = ()

    @property
    def open_actions(self) -> tuple[TrackedAction, ...]:
        return tuple(a for a in self.actions if a.status == "open")

    def label(self, question_id: str) -> str:
        """"carried over from 2026-01-20" for a carried answer, else ""."""
        day = self.answered_on.get(question_id)
        return f"carried over from {day}" if day else ""

    def to_dict(self) -> dict:
        return jsonable({"model": self.model, "audit_id": self.audit_id,
                         "audited_at": self.audited_at, "model_version": self.model_version,
                         "answers": {k: a.to_dict() for k, a in self.answers.items()},
                         "answered_on": dict(self.answered_on),
                         "actions": [a.to_dict() for a in self.actions],
                         "participants": [{"name": p.name, "role": p.role}
                                          for p in self.participants]})


def carried_over(records: list[AuditRecord] | tuple[AuditRecord, ...]) -> CarriedOver | None:
    """`CarriedOver` from one model's audits (withdrawn and superseded ones are left out):
    each question's answer from the latest audit answering it (a partial audit answers
    only some), the actions of the latest audit."""
    replaced = superseded_ids(records)
    records = [r for r in records if r.withdrawn is None and r.id not in replaced]
    if not records:
        return None
    records = sorted(records, key=lambda r: (r.audited_at, r.saved_at, r.id))
    answers: dict[str, Answer] = {}
    answered_on: dict[str, str] = {}
    for record in records:
        for qid, answer in record.answers.items():
            answers[qid] = answer
            answered_on[qid] = record.audited_at
    latest = records[-1]
    return CarriedOver(model=latest.model, audit_id=latest.id, audited_at=latest.audited_at,
                       model_version=latest.model_version, answers=answers,
                       answered_on=answered_on, actions=latest.actions,
                       participants=latest.participants)


def action_counts(records: list[AuditRecord] | tuple[AuditRecord, ...],
                  today: date | None = None) -> dict[str, ActionCount]:
    """Model → (open, overdue) actions at its latest audit that is neither withdrawn nor
    superseded (a partial audit may record progress on actions too). Models without actions
    get (0, 0)."""
    latest: dict[str, AuditRecord] = {}
    replaced = superseded_ids(records)
    for record in sorted((r for r in records if r.withdrawn is None and r.id not in replaced),
                         key=lambda r: (r.audited_at, r.saved_at, r.id)):
        latest[record.model] = record
    return {model: ActionCount(sum(a.status == "open" for a in r.actions),
                               sum(a.overdue(today) for a in r.actions))
            for model, r in sorted(latest.items())}
