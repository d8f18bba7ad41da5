"""What the Audit page does besides widgets: turn raw inputs into answers, check them, build the
record to save and the draft to autosave. Pure functions, testable without Streamlit."""

from __future__ import annotations

from dataclasses import dataclass

from aidebt_core.audit.evidence import Evidence
from aidebt_core.audit.questions import WEIGHT_TIERS, Answer, Question, Questionnaire
from aidebt_core.audit.records import AuditRecord
from aidebt_core.audit.scoring import AuditScore, score_audit

NA = "N/A"
TIERS_NOTE = "tiers"        # record note listing raised weight tiers, e.g. "M8=critical"
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
    """One question's widgets: the chosen level ("0".."4", "N/A" or None), note, evidence, a
    raised weight tier ("" keeps the questionnaire's) and the evidence date ("" or ISO)."""

    choice: str | None
    note: str = ""
    evidence: str = ""
    tier: str = ""
    evidence_date: str = ""


def tier_options(question: Question) -> tuple[str, ...]:
    """The tiers an item may take: its own first, then the higher ones (never lower)."""
    return tuple(reversed(WEIGHT_TIERS[:WEIGHT_TIERS.index(question.weight) + 1]))


def chosen_tiers(questionnaire: Questionnaire, raw: dict[str, RawInput]) -> dict[str, str]:
    """Question id → tier, for the items whose tier a person changed."""
    own = {q.id: q.weight for q in questionnaire.questions}
    return {qid: r.tier for qid, r in raw.items() if r.tier and r.tier != own.get(qid)}


def build_answers(questionnaire: Questionnaire, raw: dict[str, RawInput],
                  evidence: Evidence | None) -> tuple[dict[str, Answer], list[str]]:
    """Answers from the page's inputs, and the problems that block saving.

    N/A needs a justification note; measured levels are merged as `Evidence.merge` says (a
    kept one is "measured", a changed one an "override" that needs a note).
    """
    answers, problems = {}, []
    for q in questionnaire.questions:
        item = raw.get(q.id)
        if item is None or item.choice is None:
            continue
        note, na = item.note.strip(), item.choice == NA
        if na and not note:
            problems.append(f"{q.id}: N/A needs a justification in the note.")
            continue
        answers[q.id] = Answer(level=None if na else int(item.choice), na=na, note=note,
                               evidence=item.evidence.strip(),
                               evidence_date=item.evidence_date or None)
    if evidence is None:
        return answers, problems
    merged, more = evidence.merge(answers, fill=False)
    return merged, problems + more


def initial_choice(question_id: str, draft: dict | None, evidence: Evidence | None) -> dict:
    """Starting values for one question: the autosaved draft, else the measured level."""
    start = {"choice": None, "note": "", "evidence": "", "tier": "", "evidence_date": ""}
    if draft and question_id in draft.get("inputs", {}):
        saved = draft["inputs"][question_id]
        return {k: saved.get(k, v) or v for k, v in start.items()}
    prefill = evidence.prefills.get(question_id) if evidence else None
    if prefill is not None and prefill.available:
        start["choice"] = str(prefill.level)
    return start


def edited(raw: dict[str, RawInput], evidence: Evidence | None, notes: dict[str, str]) -> bool:
    """Whether a person changed anything the page would start with on its own (the measured
    levels): only then is a draft worth autosaving."""
    for qid, item in raw.items():
        if _fields(item) != initial_choice(qid, None, evidence):
            return True
    return any(text.strip() for text in notes.values())


def _fields(item: RawInput) -> dict:
    return {"choice": item.choice, "note": item.note, "evidence": item.evidence,
            "tier": item.tier, "evidence_date": item.evidence_date}


def draft_payload(meta: dict, raw: dict[str, RawInput], notes: dict[str, str]) -> dict:
    """The autosaved draft: header fields, every widget's value, the closing-question notes."""
    return {"meta": dict(meta), "notes": dict(notes),
            "inputs": {qid: _fields(r) for qid, r in raw.items()
                       if r.choice is not None or r.note or r.evidence or r.tier
                       or r.evidence_date}}


def make_record(questionnaire: Questionnaire, meta: dict, answers: dict[str, Answer],
                evidence: Evidence | None, notes: dict[str, str],
                tiers: dict[str, str] | None = None) -> tuple[AuditRecord, AuditScore]:
    """The record to save (scores computed now and kept with it) and its score; raised tiers
    are applied to the questionnaire and kept in the record's notes."""
    tiers = tiers or {}
    questionnaire = questionnaire.with_tiers(tiers)
    findings = evidence.findings if evidence else ()
    score = score_audit(questionnaire, answers, findings, audit_date=meta["audited_at"])
    kept = {k: v for k, v in notes.items() if v.strip()}
    if tiers:
        kept[TIERS_NOTE] = ", ".join(f"{k}={v}" for k, v in sorted(tiers.items()))
    record = AuditRecord(model=meta["model"].strip(), model_version=meta.get("model_version", ""),
                         audited_at=meta["audited_at"],
                         questionnaire_version=questionnaire.version,
                         auditor=meta.get("auditor", ""), answers=answers,
                         findings=[f.to_dict() for f in findings], scores=score.to_dict(),
                         notes=kept)
    return record, score
