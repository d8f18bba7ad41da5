"""Pre-fill audit answers from what aidebt measured: a small registry of evidence providers.

Each provider runs one analysis through its public core function and turns the result into
`Measured` items: what was found (the debt items), the figure that justifies it, a link to the
page that shows it, and open findings (current problems, kept apart from maturity). Each
question's stated rule (questions.yaml `rule`, applied by `audit/rules.py`) turns that into the
proposed level, "proposed from measurement on DATE"; what a person attests in their answer
(`Evidence.attested`) can raise it only with an evidence link. A provider whose module,
columns or store is missing makes its questions stay manual, with a note "measurement not
available: <reason>", and proposes nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from aidebt_core import analyses
from aidebt_core.audit.providers import EvidenceContext, Measured, check_context
from aidebt_core.audit.questions import Answer, Question, Questionnaire
from aidebt_core.audit.rules import Measurement, Proposal, QuestionFinding, propose
from aidebt_core.audit.scoring import Finding
from aidebt_core.errors import AidebtError


@dataclass(frozen=True)
class Provider:
    """One analysis: the measurement keys it serves, the page that shows it, how to run it."""

    name: str
    module: str
    page: str
    measurements: tuple[str, ...]
    run: Callable[[EvidenceContext], dict[str, Measured]]


@dataclass(frozen=True)
class Prefill:
    """A pre-filled answer for one question, or why it could not be measured.

    `level` is the level the question's rule proposes (`proposal`), None when nothing is
    proposed; `found` the debt items the measurement found; `measured_level` the level a
    "logged" measurement read (MLflow); `measured_on` the day it was measured."""

    question_id: str
    measurement: str
    available: bool
    level: int | None = None
    evidence: str = ""
    link: str = ""
    note: str = ""
    findings: tuple[Finding, ...] = ()
    found: tuple[str, ...] = ()
    measured_level: int | None = None
    measured_on: date | None = None
    proposal: Proposal | None = None

    def as_measurement(self) -> Measurement:
        return Measurement(key=self.measurement, available=self.available, text=self.evidence,
                           found=self.found, level=self.measured_level, note=self.note,
                           link=self.link, measured_on=self.measured_on)

    def proposed(self, question: Question, attested: Answer | None = None) -> Prefill:
        """This pre-fill with the level `question`'s rule proposes (given what `attested`
        claims)."""
        proposal = propose(question, self.as_measurement(), attested)
        return replace(self, level=proposal.level, proposal=proposal)

    @property
    def label(self) -> str:
        """"proposed from measurement on DATE", or why nothing is proposed."""
        return self.proposal.label if self.proposal else self.note

    def as_answer(self) -> Answer | None:
        if not self.available or self.level is None:
            return None
        return Answer(level=self.level, evidence=self.evidence, source="measured",
                      measured_level=self.level, link=self.link)

    def to_dict(self) -> dict:
        return {"question": self.question_id, "measurement": self.measurement,
                "available": self.available, "level": self.level, "evidence": self.evidence,
                "link": self.link, "note": self.note,
                "findings": [f.to_dict() for f in self.findings], "found": list(self.found),
                "measured_level": self.measured_level,
                "measured_on": self.measured_on.isoformat() if self.measured_on else None,
                "proposal": self.proposal.to_dict() if self.proposal else None}


@dataclass(frozen=True)
class Evidence:
    """Pre-fills by question id, plus the de-duplicated open findings of all measurements.
    `questions` (the measured questions) lets `attested` apply their rules again; a plain
    tuple, so the evidence pickles (caches, worker threads)."""

    prefills: dict[str, Prefill] = field(default_factory=dict)
    questions: tuple[Question, ...] = field(default=(), compare=False, repr=False)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def attested(self, answers: dict[str, Answer]) -> Evidence:
        """The proposals again, taking what the person's `answers` attest into account (a
        level with an evidence link may raise a proposal, see `audit/rules.py`); answers that
        only repeat a measurement attest nothing."""
        prefills = {}
        for qid, prefill in self.prefills.items():
            question = self.question(qid)
            prefills[qid] = (prefill.proposed(question, answers.get(qid))
                             if question is not None and prefill.available else prefill)
        return replace(self, prefills=prefills)

    def finding_rows(self) -> tuple[QuestionFinding, ...]:
        """One row per measured question, in questionnaire order: what was measured, the
        proposed level (None: not measured, with the reason), the link, the open problems."""
        rows = []
        for qid, p in self.prefills.items():
            question = self.question(qid)
            proposal = p.proposal
            rows.append(QuestionFinding(
                question_id=qid, title=question.title if question else "",
                measurement=p.measurement,
                measured=p.evidence if p.available else f"not measured: {p.note}",
                proposed_level=p.level, cap=proposal.cap if proposal else None,
                reason=proposal.reason if proposal else p.note, measured_on=p.measured_on,
                link=p.link, found=p.found, issues=p.findings))
        return tuple(rows)

    @property
    def findings(self) -> tuple[Finding, ...]:
        seen, out = set(), []
        for prefill in self.prefills.values():
            for finding in prefill.findings:
                key = (finding.severity, finding.title)
                if key not in seen:
                    seen.add(key)
                    out.append(finding)
        order = {"high": 0, "medium": 1, "low": 2}
        return tuple(sorted(out, key=lambda f: order.get(f.severity, 3)))

    def answers(self) -> dict[str, Answer]:
        """The measured answers (only for questions a measurement could answer)."""
        return {qid: p.as_answer() for qid, p in self.prefills.items() if p.available}

    def merge(self, answers: dict[str, Answer], fill: bool = True) \
            -> tuple[dict[str, Answer], list[str]]:
        """People's answers laid over the measured ones, and the problems that block saving.

        An answer that keeps the measured level becomes a "measured" answer carrying the
        measurement's figure (after the person's own evidence); a different level or N/A is an
        "override" recording the measured level, and a changed level needs a note saying why.
        With `fill`, measured questions nobody answered get the measured answer.
        """
        merged: dict[str, Answer] = {}
        problems: list[str] = []
        for qid, prefill in self.prefills.items():
            if fill and prefill.available and qid not in answers:
                merged[qid] = prefill.as_answer()
        for qid, answer in answers.items():
            prefill = self.prefills.get(qid)
            if prefill is None or not prefill.available:
                merged[qid] = answer
                continue
            measured = prefill.level
            if not answer.na and answer.level == measured:
                own = answer.evidence.strip()
                merged[qid] = replace(
                    answer, evidence=f"{own} · measured: {prefill.evidence}" if own
                    else prefill.evidence, source="measured", measured_level=measured,
                    link=answer.link or prefill.link)
                continue
            if not answer.na and not answer.note.strip():
                problems.append(f"{qid}: the measurement says level {measured}; say in the "
                                f"note why you chose {answer.level}.")
            merged[qid] = replace(answer, source="override", measured_level=measured)
        return merged, problems

    def prefilled(self, answers: dict[str, Answer]) -> list[dict]:
        """The measured questions with the level, the figure behind it, and what the final
        answer did with it (kept: "measured", changed: "override")."""
        out = []
        for qid, p in self.prefills.items():
            if not p.available:
                continue
            final = answers.get(qid)
            out.append({"question": qid, "measurement": p.measurement, "level": p.level,
                        "figure": p.evidence, "link": p.link,
                        "source": final.source if final else "unanswered",
                        "answer_level": None if final is None else
                        ("na" if final.na else final.level),
                        "note": final.note if final else ""})
        return out

    def unmeasured(self) -> list[dict]:
        """The questions a measurement could answer but did not, with the reason."""
        return [{"question": qid, "measurement": p.measurement, "note": p.note}
                for qid, p in self.prefills.items() if not p.available]

    def to_dict(self) -> dict:
        return {"prefills": [p.to_dict() for p in self.prefills.values()],
                "findings": [f.to_dict() for f in self.findings]}


def registered_providers() -> dict[str, Provider]:
    """One provider per registered analysis that has one (aidebt_core/analyses.py): its
    measurements, its evidence function and the link of the page that shows it."""
    return {a.name: Provider(a.name, a.core_module, a.page_link or "", a.measurements,
                             a.resolve("evidence"))
            for a in analyses.all_analyses() if a.evidence is not None}


PROVIDERS: dict[str, Provider] = registered_providers()   # the built-in analyses'


def provider_for(measurement: str) -> Provider | None:
    return next((p for p in registered_providers().values()
                 if measurement in p.measurements), None)


def _run_provider(provider: Provider, context: EvidenceContext) -> dict[str, Measured] | str:
    """The provider's items, or the reason it could not run."""
    try:
        importlib.import_module(provider.module)
    except ImportError as exc:
        return f"the {provider.name} analysis is not installed ({exc})"
    try:
        return provider.run(context)
    except AidebtError as exc:  # the data cannot answer this: stay manual and say why
        return str(exc)
    # Anything else is a bug in an analysis or a provider: let it surface, never report it as
    # "measurement not available".


def collect_evidence(questionnaire: Questionnaire, context: EvidenceContext,
                     providers: dict[str, Provider] | None = None,
                     today: date | None = None) -> Evidence:
    """Run every provider the questionnaire needs once, map its items onto the questions and
    apply each question's rule (measured on `today`, default: the current date)."""
    providers = registered_providers() if providers is None else providers
    today = today or date.today()
    needed = {q.measurement for q in questionnaire.questions if q.measurement}
    outcomes: dict[str, dict[str, Measured] | str] = {}
    for provider in providers.values():
        if needed & set(provider.measurements):
            outcomes[provider.name] = _run_provider(provider, context)
    prefills = {}
    for q in questionnaire.questions:
        if not q.measurement:
            continue
        provider = next((p for p in providers.values() if q.measurement in p.measurements),
                        None)
        if provider is None:
            prefills[q.id] = Prefill(q.id, q.measurement, False,
                                     note=f"measurement not available: no provider for "
                                          f"'{q.measurement}'")
            continue
        outcome = outcomes[provider.name]
        if isinstance(outcome, str):
            prefills[q.id] = Prefill(q.id, q.measurement, False, link=provider.page,
                                     note=f"measurement not available: {outcome}")
        elif q.measurement not in outcome:
            prefills[q.id] = Prefill(q.id, q.measurement, False, link=provider.page,
                                     note="measurement not available: the data lack what "
                                          f"'{q.measurement}' needs")
        elif outcome[q.measurement].unavailable:
            prefills[q.id] = Prefill(q.id, q.measurement, False, link=provider.page,
                                     note="measurement not available: "
                                          f"{outcome[q.measurement].unavailable}")
        else:
            item = outcome[q.measurement]
            findings = tuple(Finding(q.id, f.severity, f.title, f.detail, f.link or provider.page)
                             for f in item.findings)
            prefills[q.id] = Prefill(q.id, q.measurement, True, None, item.evidence,
                                     provider.page, findings=findings, found=item.found,
                                     measured_level=item.level)
    known = questionnaire.by_id()
    prefills = {qid: replace(p, measured_on=today).proposed(known[qid])
                for qid, p in prefills.items()}
    return Evidence(prefills, tuple(known[qid] for qid in prefills))


def evidence_for_selection(selection, model: str,
                           questionnaire: Questionnaire | None = None) -> Evidence:
    """Evidence for `model` on a sidebar `Selection` (aidebt_core.selection): its data and
    MLflow store. Unreadable data leaves the data-based questions manual, with the reason."""
    from aidebt_core.audit.questions import load_questionnaire

    questionnaire = questionnaire or load_questionnaire()
    try:
        data = selection.open()
    except AidebtError as exc:
        return collect_evidence(questionnaire, EvidenceContext(
            tracking_uri=selection.tracking_uri, model=model,
            data_error=f"the selected data cannot be read ({exc})"))
    with data:
        return collect_evidence(questionnaire, EvidenceContext(
            data=data, tracking_uri=selection.tracking_uri, model=model))


def strict_evidence(model: str, tracking_uri: str = "", selection=None,
                    questionnaire: Questionnaire | None = None) -> Evidence:
    """Evidence for the command line, where the user named the model, its MLflow store and its
    data (`selection`, or None: the data-based questions stay manual). Data that cannot be
    opened, a store that cannot be read, a model the store does not know, or data that are
    not the model's raise `AidebtError` instead of leaving questions manual."""
    from aidebt_core.audit.questions import load_questionnaire

    questionnaire = questionnaire or load_questionnaire()
    if selection is None:
        context = EvidenceContext(tracking_uri=tracking_uri, model=model,
                                  data_error="no data given")
        check_context(context)
        return collect_evidence(questionnaire, context)
    with selection.open() as data:
        context = EvidenceContext(data=data, tracking_uri=tracking_uri, model=model)
        check_context(context)
        return collect_evidence(questionnaire, context)
