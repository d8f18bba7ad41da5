"""Score a filled questionnaire: item, dimension and headline health, red flags, actions, MTS view.

Rules (see ../shared/research/audit_rubric.md §7):
- item score = 2.5 × effective level (0–10); N/A is left out of every average.
- a level ≥ 3 needs verified (measured) or linked evidence, otherwise it is capped at 2;
  evidence older than the item's cadence drops one level.
- dimension health = weight-averaged item score (critical 10, high 7.5, medium 5, low 2.5);
  the headline is the *minimum* dimension, shown next to the weighted mean of all items,
  so a failing dimension cannot hide behind good ones.
- red flag: a critical item at effective level ≤ 1.
- scores are on a 0–10 scale and always shown with it ("4.5 / 10"). An unanswered item counts
  as level 0 ("not done / unknown") in the numbers but is counted apart from answered ones;
  until `MIN_ANSWERED_SHARE` of the questions are answered (N/A counts as an answer) the
  headline reads "incomplete: 13 of 37 answered" instead of a number.
- ML Test Score view: level 0–1 → 0, 2 → ½, 3–4 → 1 per mapped test, summed per section,
  final = min of the four sections, banded as in Table V of Breck et al. (2017).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from aidebt_core.audit.questions import (
    DIMENSIONS,
    MTS_SECTIONS,
    Answer,
    AuditError,
    Question,
    Questionnaire,
)
from aidebt_core.jsonsafe import jsonable

LEVEL_POINTS = 2.5
SCALE = 10                   # every score is 0–SCALE
MIN_ANSWERED_SHARE = 0.8     # below this share of questions answered, the headline is "incomplete"
CAP_WITHOUT_EVIDENCE = 2
TARGET_LEVEL = {"critical": 4, "high": 3, "medium": 3, "low": 2}
HEALTH_BANDS = ((2.0, "research-grade"), (4.0, "basic productionization"),
                (6.0, "reasonably controlled"), (8.0, "strong"), (float("inf"), "exceptional"))
MTS_BANDS = ((0.0, "More of a research project than a productionized system"),
             (1.0, "Not totally untested, but possibly serious holes in reliability"),
             (2.0, "First pass at basic productionization; more investment may be needed"),
             (3.0, "Reasonably tested; more tests and procedures may be automated"),
             (5.0, "Strong automated testing and monitoring, appropriate for mission-critical "
                   "systems"),
             (float("inf"), "Exceptional levels of automated testing and monitoring"))
_LINK_RE = re.compile(r"^([a-z][a-z0-9+.-]*://|/[A-Za-z0-9_-])", re.IGNORECASE)
SEVERITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class Finding:
    """A current measured problem (drift now, a weak slice now), kept apart from maturity."""

    question_id: str
    severity: str
    title: str
    detail: str = ""
    link: str = ""

    def to_dict(self) -> dict:
        return {"question": self.question_id, "severity": self.severity, "title": self.title,
                "detail": self.detail, "link": self.link}


@dataclass(frozen=True)
class ItemScore:
    """How one answer counts: its confidence, any cap or staleness drop, and its 0–10 score."""

    question_id: str
    dimension: str
    weight_tier: str
    weight: float
    level: int | None
    effective_level: int | None
    na: bool
    unanswered: bool
    confidence: str
    capped: bool
    stale: bool

    @property
    def score(self) -> float | None:
        return None if self.na else LEVEL_POINTS * self.effective_level


@dataclass(frozen=True)
class Action:
    """Raise one item to its target level; `gain` is the rise of its dimension's health."""

    question_id: str
    title: str
    dimension: str
    weight_tier: str
    current_level: int
    target_level: int
    priority: float
    gain: float


@dataclass(frozen=True)
class MtsView:
    """The audit read as an ML Test Score: points per test, per section, and the final score."""

    tests: dict[str, float]
    sections: dict[str, float]
    final: float
    band: str


@dataclass(frozen=True)
class AuditScore:
    """Everything the score panel, the scorecard, the report and the CLI show for one audit."""

    questionnaire_version: str
    items: tuple[ItemScore, ...]
    dimensions: dict[str, float | None]
    verified_share: dict[str, float | None]
    headline: float | None
    weakest_dimension: str | None
    weighted_mean: float | None
    band: str
    red_flags: tuple[str, ...]
    actions: tuple[Action, ...]
    mts: MtsView
    findings: tuple[Finding, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def debt_index(self) -> float | None:
        return None if self.headline is None else 10.0 - self.headline

    @property
    def answered(self) -> int:
        """Questions with a level or N/A."""
        return sum(not i.unanswered for i in self.items)

    @property
    def unanswered(self) -> int:
        """Questions nobody answered (scored as level 0, counted apart)."""
        return sum(i.unanswered for i in self.items)

    @property
    def complete(self) -> bool:
        """At least `MIN_ANSWERED_SHARE` of the questions answered."""
        return bool(self.items) and self.answered >= MIN_ANSWERED_SHARE * len(self.items)

    @property
    def headline_text(self) -> str:
        """"4.5 / 10", or "incomplete: 13 of 37 answered" below the minimum answered share."""
        if not self.complete:
            return f"incomplete: {self.answered} of {len(self.items)} answered"
        return format_score(self.headline)

    def to_dict(self) -> dict:
        """JSON-safe dict; `overall` is the headline (minimum dimension) as in CLI_CONTRACT."""
        return jsonable({
            "questionnaire_version": self.questionnaire_version,
            "overall": self.headline, "weighted_mean": self.weighted_mean,
            "weakest_dimension": self.weakest_dimension, "band": self.band,
            "debt_index": self.debt_index, "dimensions": dict(self.dimensions),
            "verified_share": dict(self.verified_share),
            "answered": self.answered, "unanswered": self.unanswered,
            "total": len(self.items), "scale": SCALE, "complete": self.complete,
            "min_answered_share": MIN_ANSWERED_SHARE, "headline_text": self.headline_text,
            "red_flags": list(self.red_flags),
            "actions": [{"question": a.question_id, "title": a.title, "dimension": a.dimension,
                         "weight": a.weight_tier, "current_level": a.current_level,
                         "target_level": a.target_level, "priority": a.priority,
                         "gain": a.gain} for a in self.actions],
            "ml_test_score": {"final": self.mts.final, "band": self.mts.band,
                              "sections": dict(self.mts.sections), "tests": dict(self.mts.tests)},
            "findings": [f.to_dict() for f in self.findings],
            "items": [{"question": i.question_id, "dimension": i.dimension,
                       "weight": i.weight_tier, "level": "na" if i.na else i.level,
                       "effective_level": i.effective_level, "score": i.score,
                       "confidence": i.confidence, "capped": i.capped, "stale": i.stale,
                       "unanswered": i.unanswered} for i in self.items],
            "warnings": list(self.warnings),
        })

    def to_frame(self) -> pd.DataFrame:
        """One row per question: level, effective level, score and confidence."""
        return pd.DataFrame([{"question": i.question_id, "dimension": i.dimension,
                              "weight": i.weight_tier,
                              "level": "N/A" if i.na else i.level,
                              "effective level": i.effective_level, "score": i.score,
                              "confidence": i.confidence, "capped": i.capped,
                              "stale": i.stale} for i in self.items])


def evidence_confidence(answer: Answer) -> str:
    """verified (pre-filled by a measurement and kept), linked (a URL or page link), asserted."""
    if answer.source == "measured":
        return "verified"
    if _LINK_RE.match(answer.evidence.strip()) or _LINK_RE.match(answer.link.strip()):
        return "linked"
    return "asserted"


def format_score(value: float | None) -> str:
    """A 0–10 score with its scale: "4.5 / 10" ("n/a" when there is none)."""
    return "n/a" if value is None else f"{value:.1f} / {SCALE}"


def health_band(value: float | None) -> str:
    """The suggested 0–10 band name for a health score."""
    if value is None:
        return "not scored"
    return next(name for upper, name in HEALTH_BANDS if value < upper)


def mts_band(final: float) -> str:
    """Table V of the ML Test Score paper: 0, (0,1], (1,2], (2,3], (3,5], >5."""
    return next(name for upper, name in MTS_BANDS if final <= upper)


def _as_date(value: str | date | datetime | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(str(value)).date()
    except ValueError:
        raise AuditError(f"'{value}' is not an ISO date (YYYY-MM-DD).") from None


def score_item(question: Question, answer: Answer | None, weight: float,
               audit_date: date | None = None) -> ItemScore:
    """Apply the N/A, evidence-cap and staleness rules to one answer."""
    if answer is None:
        return ItemScore(question.id, question.dimension, question.weight, weight, None, 0,
                         False, True, "asserted", False, False)
    if answer.na:
        return ItemScore(question.id, question.dimension, question.weight, weight, None, None,
                         True, False, evidence_confidence(answer), False, False)
    confidence = evidence_confidence(answer)
    level = int(answer.level)
    effective = level
    capped = level > CAP_WITHOUT_EVIDENCE and confidence == "asserted"
    if capped:
        effective = CAP_WITHOUT_EVIDENCE
    stale = False
    evidence_day = _as_date(answer.evidence_date)
    if evidence_day and audit_date and (audit_date - evidence_day).days > question.cadence_days:
        stale = effective > 0
        effective = max(0, effective - 1)
    return ItemScore(question.id, question.dimension, question.weight, weight, level, effective,
                     False, False, confidence, capped, stale)


def _weighted_mean(items: list[ItemScore]) -> float | None:
    scored = [i for i in items if not i.na]
    total = sum(i.weight for i in scored)
    return None if total == 0 else sum(i.weight * i.score for i in scored) / total


def score_audit(questionnaire: Questionnaire, answers: dict[str, Answer],
                findings: tuple[Finding, ...] | list[Finding] = (),
                audit_date: str | date | None = None) -> AuditScore:
    """Score answers (question id → Answer) against a questionnaire."""
    known = questionnaire.by_id()
    unknown = sorted(set(answers) - set(known))
    if unknown:
        raise AuditError(f"Answers for unknown question(s) {', '.join(unknown)} in "
                         f"questionnaire {questionnaire.version}.")
    day = _as_date(audit_date) or date.today()
    items = [score_item(q, answers.get(q.id), questionnaire.weight_of(q), day)
             for q in questionnaire.questions]
    dims: dict[str, float | None] = {}
    verified: dict[str, float | None] = {}
    for dim in DIMENSIONS:
        in_dim = [i for i in items if i.dimension == dim]
        dims[dim] = _weighted_mean(in_dim)
        counted = [i for i in in_dim if not i.na]
        verified[dim] = (sum(i.confidence == "verified" for i in counted) / len(counted)
                         if counted else None)
    scored_dims = {d: v for d, v in dims.items() if v is not None}
    weakest = min(scored_dims, key=lambda d: (scored_dims[d], DIMENSIONS.index(d))) \
        if scored_dims else None
    headline = scored_dims[weakest] if weakest else None
    red_flags = tuple(
        f"{i.question_id} {known[i.question_id].title}: critical item at level "
        f"{i.effective_level}" + (" (unanswered)" if i.unanswered else "")
        for i in items if i.weight_tier == "critical" and not i.na and i.effective_level <= 1)
    warnings = tuple(f"{i.question_id}: level {i.level} capped at {CAP_WITHOUT_EVIDENCE} "
                     "(levels 3-4 need measured or linked evidence)" for i in items if i.capped)
    warnings += tuple(f"{i.question_id}: evidence older than "
                      f"{known[i.question_id].cadence_days} days, one level lower"
                      for i in items if i.stale)
    return AuditScore(
        questionnaire_version=questionnaire.version, items=tuple(items), dimensions=dims,
        verified_share=verified, headline=headline, weakest_dimension=weakest,
        weighted_mean=_weighted_mean(items), band=health_band(headline), red_flags=red_flags,
        actions=rank_actions(questionnaire, items), mts=mts_view(questionnaire, items),
        findings=tuple(findings), warnings=warnings)


def rank_actions(questionnaire: Questionnaire, items: list[ItemScore]) -> tuple[Action, ...]:
    """Items below their tier's target level, ranked by weight × level gap (then by gain)."""
    known = questionnaire.by_id()
    dim_weight = {d: sum(i.weight for i in items if i.dimension == d and not i.na)
                  for d in DIMENSIONS}
    actions = []
    for item in items:
        if item.na:
            continue
        target = TARGET_LEVEL[item.weight_tier]
        gap = target - item.effective_level
        if gap <= 0:
            continue
        gain = item.weight * gap * LEVEL_POINTS / dim_weight[item.dimension]
        actions.append(Action(item.question_id, known[item.question_id].title, item.dimension,
                              item.weight_tier, item.effective_level, target,
                              item.weight * gap, gain))
    actions.sort(key=lambda a: (-a.priority, -a.gain, a.question_id))
    return tuple(actions)


def mts_points(item: ItemScore) -> float:
    """The ML Test Score value of one answer: 0–1 → 0, 2 → ½ (manual), 3–4 → 1 (automated)."""
    if item.na or item.effective_level <= 1:
        return 0.0
    return 0.5 if item.effective_level == 2 else 1.0


def mts_view(questionnaire: Questionnaire, items: list[ItemScore]) -> MtsView:
    """Each of the 28 tests takes the lowest value of the items mapped to it (0 if none)."""
    by_id = {i.question_id: i for i in items}
    tests = {f"{s} {n}": 0.0 for s in MTS_SECTIONS for n in range(1, 8)}
    mapped: dict[str, list[float]] = {}
    for q in questionnaire.questions:
        item = by_id[q.id]
        if item.na:
            continue
        for test in q.mts:
            mapped.setdefault(test, []).append(mts_points(item))
    for test, values in mapped.items():
        tests[test] = min(values)
    sections = {s: sum(v for t, v in tests.items() if t.split()[0] == s) for s in MTS_SECTIONS}
    final = min(sections.values())
    return MtsView(tests=tests, sections=sections, final=final, band=mts_band(final))
