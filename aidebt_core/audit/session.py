"""What the Audit page does besides widgets: turn raw inputs into answers, check them, build the
record to save and the draft to autosave. Pure functions, testable without Streamlit."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from aidebt_core.audit.evidence import Evidence
from aidebt_core.audit.questions import WEIGHT_TIERS, Answer, Question, Questionnaire
from aidebt_core.audit.records import (
    AuditRecord,
    CarriedOver,
    Participant,
    TrackedAction,
    new_action,
)
from aidebt_core.audit.rules import action_effect
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

    N/A needs a justification note; the rules are applied again with what the answers attest
    (`Evidence.attested`), then merged as `Evidence.merge` says (a kept proposal is
    "measured", a changed one an "override" that needs a note).
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
    # What the person attests (a level with an evidence link) goes into the rules first.
    merged, more = evidence.attested(answers).merge(answers, fill=False)
    return merged, problems + more


def initial_choice(question_id: str, draft: dict | None, evidence: Evidence | None,
                   carried: CarriedOver | None = None) -> dict:
    """Starting values for one question: the autosaved draft, else the answer carried over
    from the last saved audit, else the level proposed from the measurement."""
    start = {"choice": None, "note": "", "evidence": "", "tier": "", "evidence_date": ""}
    if draft and question_id in draft.get("inputs", {}):
        saved = draft["inputs"][question_id]
        return {k: saved.get(k, v) or v for k, v in start.items()}
    answer = carried.answers.get(question_id) if carried else None
    if answer is not None:
        return {**start, "choice": NA if answer.na else str(answer.level), "note": answer.note,
                "evidence": answer.evidence if answer.source != "measured" else "",
                "evidence_date": answer.evidence_date or ""}
    prefill = evidence.prefills.get(question_id) if evidence else None
    if prefill is not None and prefill.available and prefill.level is not None:
        start["choice"] = str(prefill.level)
    return start


def start_label(question_id: str, draft: dict | None, evidence: Evidence | None,
                carried: CarriedOver | None = None) -> str:
    """Where `initial_choice` took the starting value from: "from the autosaved draft",
    "carried over from DATE", "proposed from measurement on DATE", or ""."""
    if draft and question_id in draft.get("inputs", {}):
        return "from the autosaved draft"
    if carried is not None and question_id in carried.answers:
        return carried.label(question_id)
    prefill = evidence.prefills.get(question_id) if evidence else None
    if prefill is not None and prefill.available and prefill.level is not None:
        return prefill.label
    return ""


def save_problems(meta: dict, score: AuditScore, partial: bool = False) -> list[str]:
    """Why the audit cannot be saved as it is: a model version and an auditor are needed, and
    a form below the minimum answered share only saves as an explicit partial audit."""
    problems = []
    if not str(meta.get("model", "")).strip():
        problems.append("Name the model.")
    if not str(meta.get("model_version", "")).strip():
        problems.append("Give the model version.")
    if not str(meta.get("auditor", "")).strip():
        problems.append("Give the auditor.")
    if not score.complete and not partial:
        problems.append(f"{score.headline_text}: answer more questions or save as partial "
                        "(a partial audit stays off the scorecard).")
    return problems


def carry_actions(carried: CarriedOver | None, evidence: Evidence | None
                  ) -> tuple[TrackedAction, ...]:
    """Last time's open actions for the new audit, each with the measured effect where its
    question was measured again (e.g. "drift on income: still present")."""
    if carried is None:
        return ()
    rows = {r.question_id: r for r in evidence.finding_rows()} if evidence else {}
    return tuple(replace(a, effect=action_effect(a.question_id, a.found,
                                                 rows.get(a.question_id)))
                 for a in carried.open_actions)


def edited(raw: dict[str, RawInput], evidence: Evidence | None, notes: dict[str, str],
           carried: CarriedOver | None = None) -> bool:
    """Whether a person changed anything the page would start with on its own (the carried-over
    answers, the proposed levels): only then is a draft worth autosaving."""
    for qid, item in raw.items():
        if _fields(item) != initial_choice(qid, None, evidence, carried):
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


def action_from_ranked(action, evidence: Evidence | None, owner: str = "",
                       due: date | None = None, opened_on: str = "") -> TrackedAction:
    """A ranked action (`scoring.Action`) as a tracked item: "Raise <title> from level X to
    Y", with the debt its question's measurement found now (to report the effect next time)."""
    prefill = evidence.prefills.get(action.question_id) if evidence else None
    return new_action(action.question_id,
                      f"Raise '{action.title}' from level {action.current_level} to "
                      f"{action.target_level}", owner=owner, due=due,
                      found=prefill.found if prefill is not None else (), opened_on=opened_on)


def make_record(questionnaire: Questionnaire, meta: dict, answers: dict[str, Answer],
                evidence: Evidence | None, notes: dict[str, str],
                tiers: dict[str, str] | None = None, *, partial: bool = False,
                participants: tuple[Participant, ...] | list = (),
                discussion: dict[str, str] | None = None,
                actions: tuple[TrackedAction, ...] | list = (),
                supersedes: str = "") -> tuple[AuditRecord, AuditScore]:
    """The record to save (scores computed now and kept with it) and its score; raised tiers
    are applied to the questionnaire and kept in the record's notes. The meeting record
    (participants as (name, role), discussion notes by question id), the tracked actions and
    the `partial` flag go into the record as given."""
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
                         notes=kept, partial=partial,
                         participants=tuple(Participant(*p) for p in participants),
                         discussion={k: v.strip() for k, v in (discussion or {}).items()
                                     if v.strip()},
                         actions=tuple(actions), supersedes=supersedes)
    return record, score
