"""What the Audit page does besides widgets: turn raw inputs into answers, check them, build the
record to save and the draft to autosave. Pure functions, testable without Streamlit."""

from __future__ import annotations

from dataclasses import dataclass

from aidebt_core.audit.evidence import Evidence
from aidebt_core.audit.questions import Answer, Questionnaire
from aidebt_core.audit.scoring import AuditScore, score_audit
from aidebt_core.audit.store import AuditRecord

NA = "N/A"
CHOICES = ("0", "1", "2", "3", "4", NA)
CLOSING_QUESTIONS = (
    ("new_approach", "How easily can an entirely new algorithmic approach be tested at full "
                     "scale?"),
    ("dependencies", "What is the transitive closure of all data dependencies?"),
    ("change_impact", "How precisely can the impact of a new change to the system be measured?"),
    ("coupling", "Does improving one model or signal degrade others?"),
    ("onboarding", "How quickly can new members of the team be brought up to speed?"),
)


@dataclass(frozen=True)
class RawInput:
    """One question's widgets: the chosen level ("0".."4", "N/A" or None), note, evidence."""

    choice: str | None
    note: str = ""
    evidence: str = ""


def build_answers(questionnaire: Questionnaire, raw: dict[str, RawInput],
                  evidence: Evidence | None) -> tuple[dict[str, Answer], list[str]]:
    """Answers from the page's inputs, and the problems that block saving.

    A kept measured level is a "measured" answer carrying the measurement's figure; a changed
    one is an "override" and needs a note saying why. N/A needs a justification note.
    """
    prefills = evidence.prefills if evidence else {}
    answers, problems = {}, []
    for q in questionnaire.questions:
        item = raw.get(q.id)
        if item is None or item.choice is None:
            continue
        note, own = item.note.strip(), item.evidence.strip()
        prefill = prefills.get(q.id)
        measured = prefill.level if prefill is not None and prefill.available else None
        if item.choice == NA:
            if not note:
                problems.append(f"{q.id}: N/A needs a justification in the note.")
                continue
            answers[q.id] = Answer(level=None, na=True, note=note, evidence=own,
                                   source="manual" if measured is None else "override",
                                   measured_level=measured)
            continue
        level = int(item.choice)
        if measured is None:
            answers[q.id] = Answer(level=level, note=note, evidence=own)
        elif level == measured:
            evidence_text = prefill.evidence if not own else f"{own} · measured: {prefill.evidence}"
            answers[q.id] = Answer(level=level, note=note, evidence=evidence_text,
                                   source="measured", measured_level=measured, link=prefill.link)
        else:
            if not note:
                problems.append(f"{q.id}: the measurement says level {measured}; say in the "
                                f"note why you chose {level}.")
            answers[q.id] = Answer(level=level, note=note, evidence=own, source="override",
                                   measured_level=measured)
    return answers, problems


def initial_choice(question_id: str, draft: dict | None, evidence: Evidence | None) -> dict:
    """Starting values for one question: the autosaved draft, else the measured level."""
    if draft and question_id in draft.get("inputs", {}):
        saved = draft["inputs"][question_id]
        return {"choice": saved.get("choice"), "note": saved.get("note", ""),
                "evidence": saved.get("evidence", "")}
    prefill = evidence.prefills.get(question_id) if evidence else None
    if prefill is not None and prefill.available:
        return {"choice": str(prefill.level), "note": "", "evidence": ""}
    return {"choice": None, "note": "", "evidence": ""}


def edited(raw: dict[str, RawInput], evidence: Evidence | None, notes: dict[str, str]) -> bool:
    """Whether a person changed anything the page would start with on its own (the measured
    levels): only then is a draft worth autosaving."""
    for qid, item in raw.items():
        start = initial_choice(qid, None, evidence)
        if (item.choice, item.note, item.evidence) != (start["choice"], "", ""):
            return True
    return any(text.strip() for text in notes.values())


def draft_payload(meta: dict, raw: dict[str, RawInput], notes: dict[str, str]) -> dict:
    """The autosaved draft: header fields, every widget's value, the closing-question notes."""
    return {"meta": dict(meta), "notes": dict(notes),
            "inputs": {qid: {"choice": r.choice, "note": r.note, "evidence": r.evidence}
                       for qid, r in raw.items() if r.choice is not None or r.note or r.evidence}}


def make_record(questionnaire: Questionnaire, meta: dict, answers: dict[str, Answer],
                evidence: Evidence | None, notes: dict[str, str]) -> tuple[AuditRecord,
                                                                           AuditScore]:
    """The record to save (scores computed now and kept with it) and its score."""
    findings = evidence.findings if evidence else ()
    score = score_audit(questionnaire, answers, findings, audit_date=meta["audited_at"])
    record = AuditRecord(model=meta["model"].strip(), model_version=meta.get("model_version", ""),
                         audited_at=meta["audited_at"],
                         questionnaire_version=questionnaire.version,
                         auditor=meta.get("auditor", ""), answers=answers,
                         findings=[f.to_dict() for f in findings], scores=score.to_dict(),
                         notes={k: v for k, v in notes.items() if v.strip()})
    return record, score
