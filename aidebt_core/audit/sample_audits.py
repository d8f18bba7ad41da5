"""Saved audits for the sample scenario: credit-default (twice, with the meeting record, the
actions followed from the first to the second and the first signed off), churn and fraud.

The credit-default audits take their measured answers and findings from the planted ground
truth, so the scorecard tells the same story as the analysis pages. Fixed ids and dates make
the file deterministic; writing again adds nothing (and never touches other saved audits).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path

from aidebt_core.audit.questions import Answer, Questionnaire, load_questionnaire
from aidebt_core.audit.records import AuditRecord, Participant, TrackedAction
from aidebt_core.audit.scoring import Finding, score_audit
from aidebt_core.audit.store import AuditStore, workspace_store_path

_NAMESPACE = uuid.UUID("5f0b7a52-3c1e-4d59-9a8e-6d2b1c0a7e11")
_WIKI = "https://wiki.example.com/ml"

# Levels in questionnaire order per dimension: D1..D9, M1..M11, P1..P10, E1..E7.
_PLANS = {
    ("credit-default", "2025-07-15"): dict(
        version="1", auditor="Risk ML review board",
        levels="1 0 0 1 0 1 1 1 2 | 2 1 1 0 1 1 0 0 1 2 1 | 1 2 1 1 1 1 2 1 2 1 | 0 1 2 1 0 1 1"),
    ("credit-default", "2026-01-20"): dict(
        version="3", auditor="Risk ML review board",
        levels="2 2 2 2 1 2 2 2 2 | 3 2 3 2 2 1 2 1 2 2 1 | 2 3 1 1 2 2 2 2 2 1 | 2 1 3 1 2 2 2"),
    ("churn", "2025-12-10"): dict(
        version="7", auditor="Growth analytics",
        levels="3 3 3 3 2 3 2 3 2 | 3 3 3 3 2 na 2 na 3 3 2 | 3 3 2 3 2 3 3 3 3 2 | "
               "3 2 4 3 3 3 3"),
    ("fraud", "2025-11-05"): dict(
        version="2", auditor="Payments risk",
        levels="2 1 1 0 1 1 1 1 2 | 1 2 2 1 0 1 1 2 0 2 1 | 1 1 1 1 1 0 1 2 2 1 | "
               "1 1 2 0 0 1 1"),
}
# The meeting record of the two credit-default audits: who took part, what was discussed, the
# actions agreed (followed into the second audit: one done, one still open and overdue) and
# the sign-off of the first. Ids are fixed so the sample store is deterministic.
_BOARD = (Participant("Maria Lopez", "head of credit risk"),
          Participant("Priya Shah", "ML engineer, model owner"),
          Participant("Tom Berg", "risk analyst"))
_DRIFT_ACTION = TrackedAction(
    id="cd-2025-07-a1", question_id="D3", owner="Priya Shah", due=date(2025, 10, 31),
    text="Run a documented monthly drift check on the model inputs", opened_on="2025-07-15")
_SLICE_ACTION = TrackedAction(
    id="cd-2025-07-a2", question_id="E1", owner="Tom Berg", due=date(2025, 12, 15),
    text="Define the important slices (channel, account age) with a quality floor",
    opened_on="2025-07-15")
_CONCEPT_ACTION = TrackedAction(
    id="cd-2026-01-a3", question_id="D4", owner="Priya Shah", due=date(2026, 3, 31),
    text="Investigate the concept-drift alert from October (hardship scheme) and retrain",
    opened_on="2026-01-20")
_MEETINGS = {
    ("credit-default", "2025-07-15"): dict(
        participants=_BOARD, signed=("Maria Lopez", "2025-07-16T09:00:00+00:00"),
        discussion={"D3": "Nobody looks at input drift between retrainings.",
                    "E1": "Only the overall AUC is reported; mobile applicants are a concern."},
        actions=(_DRIFT_ACTION, _SLICE_ACTION)),
    ("credit-default", "2026-01-20"): dict(
        participants=_BOARD,
        discussion={"D3": "Monthly drift report since November; income and credit score "
                          "drifted as expected from the growth campaign.",
                    "D4": "Realized AUC fell below the estimate from October."},
        actions=(replace(_DRIFT_ACTION, status="done",
                         note="monthly drift report running since 2025-11"),
                 _SLICE_ACTION, _CONCEPT_ACTION)),
}
_NA_NOTES = {"M6": "No other model feeds or corrects the churn model (checked 2025-12).",
             "M8": "Churn offers are randomised in a 10 % holdout by the CRM team; the model "
                   "does not influence its own labels."}


def _levels(spec: str, questionnaire: Questionnaire) -> dict[str, str]:
    tokens = spec.replace("|", " ").split()
    if len(tokens) != len(questionnaire.questions):
        raise ValueError(f"sample plan has {len(tokens)} levels for "
                         f"{len(questionnaire.questions)} questions")
    return {q.id: tok for q, tok in zip(questionnaire.questions, tokens, strict=True)}


def _truth_evidence(truth: dict) -> dict[str, tuple[str, list[Finding]]]:
    """Measured answers of the latest credit-default audit, from the planted effects."""
    drift = truth.get("data_drift", {})
    drifted = drift.get("drifted_features", [])
    missing = truth.get("missing_jump", {})
    new_cat = truth.get("new_category", {})
    concept = truth.get("concept_drift", {})
    weak = truth.get("weak_slice", {})
    corr = truth.get("correlation_break", {})
    pairs = truth.get("redundant_pairs", [])
    weak_text = " and ".join(f"{k} {v}" if str(v)[:1] in "<>" else f"{k} = {v}"
                             for k, v in weak.get("predicates", {}).items())
    return {
        "D3": (f"aidebt drift: {len(drifted)} features drifted ({', '.join(drifted)})",
               [Finding("D3", "medium", f"Data drift in {len(drifted)} feature(s): "
                                        f"{', '.join(drifted)}", link="/drift")]),
        "D2": (f"aidebt drift: missing share of {missing.get('column')} rose from "
               f"{missing.get('missing_share_before', 0):.0%} to "
               f"{missing.get('missing_share_after', 0):.0%}; new {new_cat.get('column')} "
               f"value '{new_cat.get('value')}'",
               [Finding("D2", "high", f"Missing-value share changed in {missing.get('column')}",
                        link="/drift"),
                Finding("D2", "medium", f"New categories in {new_cat.get('column')}: "
                                        f"{new_cat.get('value')}", link="/drift")]),
        "D4": (f"aidebt performance: concept-drift alerts from month {concept.get('from_month')}",
               [Finding("D4", "high", "Concept drift: realized quality departs from the "
                                      "label-free estimate", link="/performance")]),
        "M7": (f"aidebt entanglement: association {' and '.join(corr.get('columns', []))} "
               f"broke from month {corr.get('from_month')}",
               [Finding("M7", "high", "Association " + "–".join(corr.get("columns", []))
                        + " changed", "an upstream change may have broken a feature",
                        link="/entanglement")]),
        "D7": ("aidebt entanglement: redundant pairs "
               + "; ".join("{" + ", ".join(p) + "}" for p in pairs),
               [Finding("D7", "medium", "Redundant features: " + ", ".join(p),
                        link="/entanglement") for p in pairs]),
        "E1": (f"aidebt slices: weak slice {weak_text}, worse in current",
               [Finding("E1", "high", f"Weak slice: {weak_text}", weak.get("expected", ""),
                        link="/slices")]),
    }


def sample_audit_records(truth: dict, questionnaire: Questionnaire | None = None
                         ) -> list[AuditRecord]:
    """The four sample audits, scored, with fixed ids and save times."""
    questionnaire = questionnaire or load_questionnaire()
    measured = _truth_evidence(truth)
    records = []
    for (model, day), plan in _PLANS.items():
        latest_credit = model == "credit-default" and day == "2026-01-20"
        answers, findings = {}, []
        for qid, token in _levels(plan["levels"], questionnaire).items():
            if token == "na":
                answers[qid] = Answer(level=None, na=True, note=_NA_NOTES[qid])
                continue
            level = int(token)
            if latest_credit and qid in measured:
                # The board attested its documented manual review with a link; with debt
                # found the rule proposes at most 3, so the attested level is kept (measured).
                text, found = measured[qid]
                answers[qid] = Answer(level=level, evidence=text, source="measured",
                                      measured_level=level, evidence_date=day,
                                      link=f"{_WIKI}/{model}/{qid.lower()}")
                findings += found
            elif level >= 3:
                answers[qid] = Answer(level=level, evidence=f"{_WIKI}/{model}/{qid.lower()}",
                                      evidence_date=day)
            else:
                answers[qid] = Answer(level=level, note="agreed in the review meeting")
        score = score_audit(questionnaire, answers, findings, audit_date=day)
        meeting = _MEETINGS.get((model, day), {})
        signed_by, signed_at = meeting.get("signed", ("", ""))
        records.append(AuditRecord(
            model=model, model_version=plan["version"], audited_at=day,
            questionnaire_version=questionnaire.version, auditor=plan["auditor"],
            answers=answers, findings=[f.to_dict() for f in findings], scores=score.to_dict(),
            notes={"summary": f"Sample audit of {model} ({day})."},
            id=str(uuid.uuid5(_NAMESPACE, f"{model}/{day}")), saved_at=f"{day}T17:00:00+00:00",
            participants=meeting.get("participants", ()),
            discussion=dict(meeting.get("discussion", {})),
            actions=meeting.get("actions", ()), signed_by=signed_by, signed_at=signed_at))
    return records


def write_sample_audits(out: str | Path, truth: dict) -> dict:
    """Add the sample audits to the workspace's default store, `out/.aidebt/audits.sqlite`
    (kept if already there, other audits untouched); a summary."""
    path = workspace_store_path(out)
    store = AuditStore(path)
    records = sample_audit_records(truth)
    added, kept = store.import_json({"format": "aidebt-audits", "version": 1,
                                     "audits": [r.to_dict() for r in records]},
                                    origin="sample audits")
    return {"store": path.relative_to(out).as_posix(), "added": added, "already_present": kept,
            "audits": [{"model": r.model, "audited_at": r.audited_at,
                        "overall": r.scores["overall"], "red_flags": len(r.scores["red_flags"])}
                       for r in records]}
