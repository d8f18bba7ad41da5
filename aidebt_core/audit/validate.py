"""The schema of a saved audit, checked before an audit is imported and when one is read.

An exported audit file comes from another machine or another hand: a record whose date is
not a date, whose levels are out of range or whose scores are not numbers used to be stored
as is and then broke the Scorecard for good (saved audits cannot be deleted). Every record
goes through `validate_record` (pydantic) first; the first problem is reported in one line
that names the record and the field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aidebt_core.audit.questions import SOURCES, AuditError

MAX_LEVEL = 4
MAX_SCORE = 10.0


class AuditValidationError(AuditError):
    """An audit record (imported or stored) does not match the audit schema."""


def _iso_date(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a date YYYY-MM-DD, got {type(value).__name__}")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date YYYY-MM-DD: {value[:40]!r}") from None
    return value


def _iso_datetime(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO date-time, got {type(value).__name__}")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO date-time: {value[:40]!r}") from None
    return value


def _level(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("na", "n/a"):
        return "na"
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LEVEL:
        raise ValueError(f"level must be 0-4 or \"na\", got {str(value)[:40]!r}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class AnswerSchema(_Strict):
    level: int | str | None
    evidence: str = ""
    note: str = ""
    source: str = "manual"
    measured_level: int | None = None
    evidence_date: str | None = None
    link: str = ""

    _check_level = field_validator("level", mode="before")(
        lambda v: None if v is None else _level(v))

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        if value not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {value[:40]!r}")
        return value

    @field_validator("measured_level")
    @classmethod
    def _measured(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= MAX_LEVEL:
            raise ValueError(f"measured_level must be 0-4, got {value}")
        return value

    @field_validator("evidence_date")
    @classmethod
    def _evidence_date(cls, value: str | None) -> str | None:
        return None if value is None else _iso_date(value)


class FindingSchema(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    question: str
    severity: str
    title: str
    detail: str = ""
    link: str = ""


class ActionSchema(BaseModel):
    model_config = ConfigDict(extra="allow", strict=False)
    question: str = Field(strict=True)
    title: str = Field(default="", strict=True)
    current_level: int | None = None
    target_level: int | None = None
    gain: float | None = None


def _score(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not 0 <= value <= MAX_SCORE:
        raise ValueError(f"expected a score 0-10 or null, got {str(value)[:40]!r}")
    return float(value)


class ScoresSchema(BaseModel):
    """The fields of the saved score summary that the history and the Scorecard read."""

    model_config = ConfigDict(extra="allow")
    overall: float | None = None
    weighted_mean: float | None = None
    band: str = Field(default="not scored", strict=True)
    dimensions: dict[str, float | None] = Field(default_factory=dict)
    red_flags: list[str] = Field(default_factory=list)
    actions: list[ActionSchema] = Field(default_factory=list)

    _check_scores = field_validator("overall", "weighted_mean", mode="before")(_score)

    @field_validator("dimensions", mode="before")
    @classmethod
    def _dimensions(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError("expected a mapping of dimension -> score")
        return {str(k): _score(v) for k, v in value.items()}

    @field_validator("red_flags", mode="before")
    @classmethod
    def _flags(cls, value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("expected a list of texts")
        return value


class WithdrawalSchema(_Strict):
    by: str = Field(min_length=1)
    at: str
    reason: str = Field(min_length=1)

    _check_at = field_validator("at", mode="before")(_iso_datetime)


class ParticipantSchema(_Strict):
    name: str = Field(min_length=1)
    role: str = ""


class TrackedActionSchema(_Strict):
    id: str = Field(min_length=1)
    question: str
    text: str = Field(min_length=1)
    owner: str = ""
    due: str | None = None
    status: str = "open"
    note: str = ""
    opened_on: str = ""
    found: list[str] = Field(default_factory=list)
    effect: str = ""

    @field_validator("due")
    @classmethod
    def _due(cls, value: str | None) -> str | None:
        return None if value is None else _iso_date(value)

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        if value not in ("open", "done", "wont_do"):
            raise ValueError(f"status must be open, done or wont_do, got {value[:40]!r}")
        return value


class SignOffSchema(_Strict):
    by: str = Field(min_length=1)
    at: str

    _check_at = field_validator("at", mode="before")(_iso_datetime)


class AuditSchema(_Strict):
    id: str = ""
    model: str = Field(min_length=1)
    model_version: str = ""
    audited_at: str
    questionnaire_version: str
    auditor: str = ""
    saved_at: str = ""
    answers: dict[str, AnswerSchema]
    findings: list[FindingSchema] = Field(default_factory=list)
    scores: ScoresSchema = Field(default_factory=ScoresSchema)
    notes: dict[str, str] = Field(default_factory=dict)
    withdrawn: WithdrawalSchema | None = None
    partial: bool = False
    participants: list[ParticipantSchema] = Field(default_factory=list)
    discussion: dict[str, str] = Field(default_factory=dict)
    actions: list[TrackedActionSchema] = Field(default_factory=list)
    supersedes: str = ""
    signed: SignOffSchema | None = None

    _check_audited_at = field_validator("audited_at", mode="before")(_iso_date)

    @field_validator("saved_at", mode="before")
    @classmethod
    def _saved_at(cls, value: Any) -> Any:
        return value if value == "" else _iso_datetime(value)

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an audit needs a model name")
        return value


def check_audit(raw: Any, where: str, question_ids: frozenset[str] | None = None) -> dict:
    """`raw` itself once it matches the audit schema; `AuditValidationError` with one line
    naming `where` and the first bad field otherwise. With `question_ids`, answers
    to questions outside that set are refused too."""
    if not isinstance(raw, dict):
        raise AuditValidationError(f"{where}: expected an audit object, got "
                                   f"{type(raw).__name__}.")
    label = f"{where} (id {str(raw.get('id'))[:40]})" if raw.get("id") else where
    try:
        checked = AuditSchema.model_validate(raw)  # raw is kept as is: values round-trip
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "record"
        message = "missing" if first["type"] == "missing" else \
            first["msg"].removeprefix("Value error, ")
        raise AuditValidationError(f"{label}: field '{field}': {message}.") from None
    ids = [a.id for a in checked.actions]
    if len(ids) != len(set(ids)):
        raise AuditValidationError(f"{label}: field 'actions': an action id appears twice.")
    if question_ids is not None:
        unknown = sorted(set(checked.answers) - question_ids)
        if unknown:
            raise AuditValidationError(f"{label}: field 'answers.{unknown[0]}': no such "
                                       "question in the questionnaire.")
    return raw
