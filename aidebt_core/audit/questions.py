"""Load and validate the versioned audit questionnaire, and read filled answer files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import yaml

from aidebt_core.errors import AidebtError

QUESTIONS_FILE = Path(__file__).with_name("questions.yaml")
DIMENSIONS = ("data", "model", "configuration", "evaluation")
WEIGHT_TIERS = ("critical", "high", "medium", "low")
MTS_SECTIONS = ("Data", "Model", "Infra", "Monitor")
LEVEL_NAMES = ("not done / unknown", "ad hoc", "manual and documented",
               "automated and repeated", "automated and enforced")
SOURCES = ("manual", "measured", "override")
_MTS_RE = re.compile(r"^(Data|Model|Infra|Monitor) ([1-7])$")
_ID_RE = re.compile(r"^[A-Z][A-Z0-9_-]{0,15}$")


class AuditError(AidebtError):
    """A questionnaire, answer file or audit that cannot be used as it is."""


@dataclass(frozen=True)
class Question:
    """One audit item: what is asked, why, its weight and the behaviour behind each level."""

    id: str
    dimension: str
    title: str
    text: str
    why: str
    weight: str
    levels: tuple[str, ...]
    evidence_hint: str
    mts: tuple[str, ...] = ()
    measurement: str | None = None
    debt_types: tuple[str, ...] = ()
    cadence_days: int = 365
    rule: Rule | None = None


RULE_KINDS = ("debt", "logged")


@dataclass(frozen=True)
class Rule:
    """How a measured question's measurement proposes a level (applied by `audit/rules.py`).

    `text` is what the question's help shows. `kind` "debt": the measurement lists debt found
    (drifted features, weak slices, ...): found and nothing attested → `debt_level`; found and
    a level asserted without a link → at most `debt_cap`; found and a level attested with an
    evidence link → at most `attested_debt_cap`; nothing found → `clean_level` (one run of
    aidebt is not a documented schedule), or the attested level when attested with a link.
    `kind` "logged": the level read from what MLflow logged (0–3); an attested 4 with a link
    counts only on top of the highest level the measurement can show (`measured_max`).
    """

    kind: str
    text: str
    debt_level: int = 0
    debt_cap: int = 1
    attested_debt_cap: int = 3
    clean_level: int = 1
    measured_max: int = 3

    def to_dict(self) -> dict:
        return {"kind": self.kind, "text": self.text, "debt_level": self.debt_level,
                "debt_cap": self.debt_cap, "attested_debt_cap": self.attested_debt_cap,
                "clean_level": self.clean_level, "measured_max": self.measured_max}


@dataclass(frozen=True)
class Questionnaire:
    """A versioned list of questions with the tier weights and dimension labels."""

    version: str
    title: str
    weights: MappingProxyType
    dimensions: MappingProxyType
    questions: tuple[Question, ...]

    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def weight_of(self, question: Question) -> float:
        return float(self.weights[question.weight])

    def in_dimension(self, dimension: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.dimension == dimension)

    def with_tiers(self, tiers: dict[str, str]) -> Questionnaire:
        """This questionnaire with some items' weight tiers changed for a model's context
        (e.g. feedback loops matter more for a recommender). A critical item stays critical."""
        known = self.by_id()
        changed = []
        for q in self.questions:
            tier = tiers.get(q.id, q.weight)
            if tier not in WEIGHT_TIERS:
                raise AuditError(f"tiers: '{tier}' for {q.id} is not one of "
                                 f"{', '.join(WEIGHT_TIERS)}.")
            if q.weight == "critical" and tier != "critical":
                raise AuditError(f"tiers: {q.id} is critical and cannot be lowered to '{tier}'.")
            changed.append(replace(q, weight=tier))
        unknown = sorted(set(tiers) - set(known))
        if unknown:
            raise AuditError(f"tiers: no question {', '.join(unknown)} in questionnaire "
                             f"{self.version}.")
        return replace(self, questions=tuple(changed))

    def to_list(self) -> list[dict]:
        """The questions as plain dicts (what `aidebt audit --questions` prints)."""
        return [{"id": q.id, "dimension": q.dimension, "title": q.title, "text": q.text,
                 "why": q.why, "weight": q.weight, "weight_value": self.weight_of(q),
                 "levels": list(q.levels), "evidence_hint": q.evidence_hint, "mts": list(q.mts),
                 "measurement": q.measurement, "debt_types": list(q.debt_types),
                 "cadence_days": q.cadence_days,
                 "rule": q.rule.to_dict() if q.rule else None,
                 "questionnaire_version": self.version}
                for q in self.questions]


@dataclass(frozen=True)
class Answer:
    """A level 0–4 (or N/A) for one question, with its evidence, note and where it came from.

    `source` is "measured" when a measurement pre-filled it and nobody changed it, "override"
    when a person changed a pre-filled level (the note says why), else "manual".
    """

    level: int | None
    na: bool = False
    evidence: str = ""
    note: str = ""
    source: str = "manual"
    measured_level: int | None = None
    evidence_date: str | None = None
    link: str = ""

    def to_dict(self) -> dict:
        return {"level": "na" if self.na else self.level, "evidence": self.evidence,
                "note": self.note, "source": self.source, "measured_level": self.measured_level,
                "evidence_date": self.evidence_date, "link": self.link}


@lru_cache(maxsize=4)
def load_questionnaire(path: str | Path = QUESTIONS_FILE) -> Questionnaire:
    """Read and validate a questionnaire YAML file (cached: it is immutable once loaded)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AuditError(f"Cannot read questionnaire '{path}': {exc.strerror}.") from exc
    except yaml.YAMLError as exc:
        raise AuditError(f"Questionnaire '{path}' is not valid YAML: {exc}.") from exc
    return parse_questionnaire(raw, str(path))


def parse_questionnaire(raw: object, origin: str = "questionnaire") -> Questionnaire:
    """Validate a questionnaire given as plain data; every problem names the item and field."""
    if not isinstance(raw, dict):
        raise AuditError(f"{origin}: expected a mapping with 'version' and 'questions'.")
    for key in ("version", "weights", "dimensions", "questions"):
        if key not in raw:
            raise AuditError(f"{origin}: missing top-level key '{key}'.")
    weights = raw["weights"]
    if set(weights) != set(WEIGHT_TIERS):
        raise AuditError(f"{origin}: 'weights' must give exactly {', '.join(WEIGHT_TIERS)}.")
    if set(raw["dimensions"]) != set(DIMENSIONS):
        raise AuditError(f"{origin}: 'dimensions' must be exactly {', '.join(DIMENSIONS)}.")
    questions, seen = [], set()
    for i, item in enumerate(raw["questions"] or []):
        questions.append(_parse_question(item, f"{origin}: question #{i + 1}"))
        if questions[-1].id in seen:
            raise AuditError(f"{origin}: question id '{questions[-1].id}' appears twice.")
        seen.add(questions[-1].id)
    for dim in DIMENSIONS:
        if not any(q.dimension == dim for q in questions):
            raise AuditError(f"{origin}: dimension '{dim}' has no question.")
    return Questionnaire(version=str(raw["version"]), title=str(raw.get("title", "")),
                         weights=MappingProxyType({k: float(v) for k, v in weights.items()}),
                         dimensions=MappingProxyType(dict(raw["dimensions"])),
                         questions=tuple(questions))


def _parse_question(item: object, where: str) -> Question:
    if not isinstance(item, dict):
        raise AuditError(f"{where}: expected a mapping.")
    for key in ("id", "dimension", "title", "text", "why", "weight", "levels", "evidence_hint"):
        if not item.get(key):
            raise AuditError(f"{where}: missing '{key}'.")
    qid = str(item["id"])
    where = f"{where} ({qid})"
    if not _ID_RE.match(qid):
        raise AuditError(f"{where}: id must be upper-case letters/digits, e.g. 'D3'.")
    if item["dimension"] not in DIMENSIONS:
        raise AuditError(f"{where}: dimension '{item['dimension']}' is not one of "
                         f"{', '.join(DIMENSIONS)}.")
    if item["weight"] not in WEIGHT_TIERS:
        raise AuditError(f"{where}: weight '{item['weight']}' is not one of "
                         f"{', '.join(WEIGHT_TIERS)}.")
    levels = item["levels"]
    if not isinstance(levels, list) or len(levels) != 5 or not all(levels):
        raise AuditError(f"{where}: 'levels' must list the behaviour for each level 0-4 (5 items).")
    mts = tuple(item.get("mts") or ())
    bad = [m for m in mts if not _MTS_RE.match(str(m))]
    if bad:
        raise AuditError(f"{where}: unknown ML Test Score test(s) {bad}; use e.g. 'Monitor 2'.")
    rule = _parse_rule(item.get("rule"), where)
    if item.get("measurement") and rule is None:
        raise AuditError(f"{where}: a measured question needs a 'rule' (how its measurement "
                         "proposes a level).")
    return Question(id=qid, dimension=item["dimension"], title=str(item["title"]),
                    text=str(item["text"]), why=str(item["why"]), weight=item["weight"],
                    levels=tuple(str(x) for x in levels),
                    evidence_hint=str(item["evidence_hint"]), mts=mts,
                    measurement=item.get("measurement"),
                    debt_types=tuple(item.get("debt_types") or ()),
                    cadence_days=int(item.get("cadence_days", 365)), rule=rule)


def _parse_rule(raw: object, where: str) -> Rule | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw.get("text") or raw.get("kind") not in RULE_KINDS:
        raise AuditError(f"{where}: 'rule' needs 'text' and a 'kind' of "
                         f"{', '.join(RULE_KINDS)}.")
    unknown = sorted(set(raw) - {"kind", "text", "debt_level", "debt_cap",
                                 "attested_debt_cap", "clean_level", "measured_max"})
    if unknown:
        raise AuditError(f"{where}: unknown rule field(s) {', '.join(unknown)}.")
    levels = {}
    for key in ("debt_level", "debt_cap", "attested_debt_cap", "clean_level", "measured_max"):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
                raise AuditError(f"{where}: rule '{key}' must be a level 0-4, got {value!r}.")
            levels[key] = value
    return Rule(kind=raw["kind"], text=" ".join(str(raw["text"]).split()), **levels)


@dataclass(frozen=True)
class AnswerFile:
    """A parsed answers file: the model it is about and the answers by question id."""

    model: str
    model_version: str
    answers: dict[str, Answer] = field(default_factory=dict)
    tiers: dict[str, str] = field(default_factory=dict)


def parse_level(value: object, where: str) -> tuple[int | None, bool]:
    """A level from user input: 0..4, or "na" / "n/a" → (None, True)."""
    if isinstance(value, str) and value.strip().lower() in ("na", "n/a"):
        return None, True
    if isinstance(value, int) and not isinstance(value, bool):
        level = value
    elif isinstance(value, float) and value.is_integer():
        level = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        level = int(value.strip())
    else:
        raise AuditError(f"{where}: level must be 0-4 or \"na\", got {value!r}.")
    if not 0 <= level <= 4:
        raise AuditError(f"{where}: level must be 0-4 or \"na\", got {value!r}.")
    return level, False


def parse_answers(raw: object, questionnaire: Questionnaire, origin: str = "answers") \
        -> AnswerFile:
    """Validate answers given as plain data (the CLI_CONTRACT answer-file format)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("answers", {}), dict):
        raise AuditError(f"{origin}: expected a mapping with an 'answers' mapping "
                         "(question id -> {level, evidence, note}).")
    known = questionnaire.by_id()
    answers: dict[str, Answer] = {}
    for qid, item in (raw.get("answers") or {}).items():
        where = f"{origin}: answer '{qid}'"
        if str(qid) not in known:
            raise AuditError(f"{where}: no such question in questionnaire "
                             f"{questionnaire.version}.")
        if not isinstance(item, dict):
            item = {"level": item}
        if "level" not in item:
            raise AuditError(f"{where}: missing 'level'.")
        level, na = parse_level(item["level"], where)
        note = str(item.get("note") or "")
        if na and not note.strip():
            raise AuditError(f"{where}: N/A needs a justification in 'note'.")
        source = str(item.get("source") or "manual")
        if source not in SOURCES:
            raise AuditError(f"{where}: source '{source}' is not one of {', '.join(SOURCES)}.")
        measured = item.get("measured_level")
        answers[str(qid)] = Answer(
            level=level, na=na, evidence=str(item.get("evidence") or ""), note=note,
            source=source, measured_level=None if measured is None
            else _measured_level(measured, where),
            evidence_date=_evidence_date(item.get("evidence_date"), where),
            link=str(item.get("link") or ""))
    tiers = raw.get("tiers") or {}
    if not isinstance(tiers, dict):
        raise AuditError(f"{origin}: 'tiers' must map question ids to weight tiers.")
    tiers = {str(k): str(v) for k, v in tiers.items()}
    try:
        questionnaire.with_tiers(tiers)
    except AuditError as exc:
        raise AuditError(f"{origin}: {exc}") from None
    return AnswerFile(model=str(raw.get("model") or ""),
                      model_version=str(raw.get("model_version") or ""), answers=answers,
                      tiers=tiers)


def _measured_level(value: object, where: str) -> int:
    level, na = parse_level(value, f"{where}: measured_level")
    if na:
        raise AuditError(f"{where}: measured_level must be 0-4, got {value!r}.")
    return level


def _evidence_date(value: object, where: str) -> str | None:
    """An evidence date as ISO text (YAML may already have made it a date); None if empty."""
    if value is None or value == "":
        return None
    text = value.isoformat() if isinstance(value, date) else str(value)
    try:
        date.fromisoformat(text)
    except ValueError:
        raise AuditError(f"{where}: evidence_date must be a date YYYY-MM-DD, got "
                         f"{text[:40]!r}.") from None
    return text


def read_answer_file(path: str | Path, questionnaire: Questionnaire) -> AnswerFile:
    """Read a YAML or JSON answers file (size and depth capped, no YAML aliases)."""
    from aidebt_core.safeload import DocumentError, load_document

    path = Path(path)
    try:
        raw = load_document(path)
    except DocumentError as exc:
        if not path.is_file():
            raise AuditError(f"Cannot read answers file '{path}': {exc}") from None
        raise AuditError(f"Answers file '{path}' cannot be parsed: {exc}") from None
    return parse_answers(raw, questionnaire, origin=str(path))
