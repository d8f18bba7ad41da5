"""Findings → proposed level: each measured question's stated rule (questions.yaml `rule`).

A measurement says what was found (drifted features, weak slices, what MLflow logged); the
question's rule turns that, and what a person attests in their answer, into a proposed level
or a cap. One run of aidebt is a look at the data, not a documented schedule, so on its own it
never proposes level 2 for a "debt" question. A measurement that cannot be made proposes
nothing and says why.

    kind "debt"    found, nothing attested             → rule.debt_level (0)
                   found, a level asserted (no link)   → min(level, rule.debt_cap) (≤ 1)
                   found, attested with a link         → min(level, rule.attested_debt_cap) (≤ 3)
                   nothing found, nothing attested     → rule.clean_level (1)
                   nothing found, asserted (no link)   → max(clean_level, min(level, 2))
                   nothing found, attested with a link → the attested level
    kind "logged"  the level read from MLflow (0–3); an attested higher level with a link counts
                   only on top of the highest level the measurement can show (`measured_max`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from aidebt_core.audit.questions import Answer, Question
from aidebt_core.audit.scoring import CAP_WITHOUT_EVIDENCE, Finding

# A column whose name ends in a calendar unit (`year`, `signup_month`, `reportQuarter`) is a
# time component: it moves with the time split by construction, so its "drift" is not a
# finding. Durations, rates, cycles (`term_months`, `hours_per_week`, `day_of_week`) and
# birth dates are features.
TIME_UNITS = frozenset({"year", "yr", "yyyy", "yyyymm", "month", "quarter", "qtr", "week",
                        "weekday", "dow", "doy", "day", "hour", "date", "timestamp", "ts",
                        "epoch"})
NOT_TIME = frozenset({"per", "of", "birth", "age"})
_TOKEN_RE = re.compile(r"[a-z]+")
_EXTERNAL_RE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def is_time_like(name: str) -> bool:
    """True for a column named as a calendar component (see TIME_UNITS)."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name)).lower()
    tokens = _TOKEN_RE.findall(spaced)
    return bool(tokens) and tokens[-1] in TIME_UNITS and not NOT_TIME & set(tokens)


@dataclass(frozen=True)
class Measurement:
    """What one measurement found for one question, or why it could not be made.

    `found` lists the debt items (drifted features, weak slices, ...), `level` is the level a
    "logged" measurement read from MLflow, `text` says what was measured."""

    key: str
    available: bool
    text: str = ""
    found: tuple[str, ...] = ()
    level: int | None = None
    note: str = ""
    link: str = ""
    measured_on: date | None = None


@dataclass(frozen=True)
class Proposal:
    """The level a question's rule proposes from its measurement (None: nothing proposed), the
    cap it puts on any answer (None: no cap), and why."""

    level: int | None
    cap: int | None
    reason: str
    measured_on: date | None = None
    measured: str = ""
    found: tuple[str, ...] = ()
    attested: bool = False

    @property
    def label(self) -> str:
        """"proposed from measurement on 2026-01-20", or why nothing is proposed."""
        if self.level is None:
            return self.reason
        day = self.measured_on.isoformat() if self.measured_on else "an unknown date"
        return f"proposed from measurement on {day}"

    def to_dict(self) -> dict:
        return {"level": self.level, "cap": self.cap, "reason": self.reason,
                "measured_on": self.measured_on.isoformat() if self.measured_on else None,
                "measured": self.measured, "found": list(self.found),
                "attested": self.attested, "label": self.label}


def attestation(answer: Answer | None) -> tuple[int | None, bool]:
    """(level a person gave, whether it links its evidence); (None, False) when nothing is
    attested: no answer, N/A, or an answer that only repeats an earlier measurement. A kept
    measured answer (e.g. carried over from the last audit) attests its level only when it
    keeps a person's external link (the measurement's own link is an aidebt page)."""
    if answer is None or answer.na or answer.level is None:
        return None, False
    if answer.source == "measured":
        if _person_link(answer.link):
            return int(answer.level), True
        return None, False
    return int(answer.level), _person_link(answer.link) or _person_link(answer.evidence)


def _person_link(text: str) -> bool:
    """A link a person gives as evidence: a URL, or a multi-part path (a file, a repository
    path). aidebt's own page links ("/drift", "/slices?slice=...") show the measurement, not a
    monitor, so they attest nothing."""
    text = (text or "").strip()
    if _EXTERNAL_RE.match(text):
        return True
    path = text.split("?", 1)[0]
    return path.startswith("/") and "/" in path[1:].rstrip("/")


def propose(question: Question, measurement: Measurement,
            attested: Answer | None = None) -> Proposal:
    """The question's rule applied to its measurement and to what `attested` claims."""
    rule = question.rule
    day, text = measurement.measured_on, measurement.text
    if not measurement.available:
        reason = measurement.note or "measurement not available"
        return Proposal(None, None, reason, day, text)
    if rule is None:
        return Proposal(None, None, f"{question.id} has no rule for its measurement", day, text)
    level, linked = attestation(attested)
    if rule.kind == "logged":
        return _logged(rule, measurement, level, linked)
    found = measurement.found
    shown = _listed(found)
    if found:
        if level is None:
            return Proposal(rule.debt_level, rule.debt_cap,
                            f"debt found ({shown}) and nothing attested: level "
                            f"{rule.debt_level}", day, text, found)
        cap = rule.attested_debt_cap if linked else rule.debt_cap
        why = "attested with a link" if linked else "asserted without an evidence link"
        return Proposal(min(level, cap), cap, f"debt found ({shown}); level {level} {why}: "
                        f"at most {cap}", day, text, found, attested=True)
    if level is None:
        return Proposal(rule.clean_level, None, "nothing found; one measurement is not a "
                        f"documented schedule: level {rule.clean_level}", day, text)
    if linked:
        return Proposal(level, None, f"nothing found; level {level} attested with a link",
                        day, text, attested=True)
    proposed = max(rule.clean_level, min(level, CAP_WITHOUT_EVIDENCE))
    return Proposal(proposed, None, f"nothing found; level {level} asserted without an "
                    f"evidence link: level {proposed}", day, text, attested=True)


def _logged(rule, measurement: Measurement, level: int | None, linked: bool) -> Proposal:
    measured = measurement.level
    day, text = measurement.measured_on, measurement.text
    if measured is None:
        return Proposal(None, None, "the measurement gave no level", day, text)
    if linked and level is not None and level > measured and measured >= rule.measured_max:
        return Proposal(level, None, f"MLflow shows level {measured}; level {level} attested "
                        "with a link", day, text, attested=True)
    return Proposal(measured, None, f"read from MLflow: level {measured}", day, text)


def _listed(names, limit: int = 4) -> str:
    names = list(names)
    shown = ", ".join(str(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


@dataclass(frozen=True)
class QuestionFinding:
    """One row of the findings list: a measured question, what was measured, the level its rule
    proposes (None: not measured), the page that shows it, and the open problems found."""

    question_id: str
    title: str
    measurement: str
    measured: str
    proposed_level: int | None
    cap: int | None
    reason: str
    measured_on: date | None
    link: str
    found: tuple[str, ...] = ()
    issues: tuple[Finding, ...] = ()

    @property
    def label(self) -> str:
        if self.proposed_level is None:
            return self.reason
        return f"proposed from measurement on {self.measured_on}"

    def to_dict(self) -> dict:
        return {"question": self.question_id, "title": self.title,
                "measurement": self.measurement, "measured": self.measured,
                "proposed_level": self.proposed_level, "cap": self.cap, "reason": self.reason,
                "measured_on": self.measured_on.isoformat() if self.measured_on else None,
                "label": self.label, "link": self.link, "found": list(self.found),
                "issues": [f.to_dict() for f in self.issues]}


def action_effect(question_id: str, action_found: tuple[str, ...],
                  finding: QuestionFinding | None) -> str:
    """The measured effect of an action on its question: the debt items it was about that the
    new measurement still finds ("drift on income: still present") or no longer finds."""
    if finding is None or finding.proposed_level is None:
        return ""
    what = finding.measurement.replace("_", " ")
    if not action_found:
        return (f"{what}: {len(finding.found)} found now" if finding.found
                else f"{what}: nothing found now")
    still = [x for x in action_found if x in finding.found]
    gone = [x for x in action_found if x not in finding.found]
    parts = []
    if still:
        parts.append(f"{what} on {_listed(still)}: still present")
    if gone:
        parts.append(f"{what} on {_listed(gone)}: no longer found")
    return "; ".join(parts)
