"""The Audit page's widgets and the page-side state behind them: per-question cards, where each
answer starts from (autosaved draft, last saved audit, measurement), the measurement run in the
background so the page opens at once, and the history/withdraw controls. Audit logic lives in
aidebt_core.audit; this module is what only a Streamlit page needs."""

from __future__ import annotations

import multiprocessing
import sys
import threading
import types
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import streamlit as st

from aidebt_core.audit.evidence import Evidence, Prefill, evidence_for_selection
from aidebt_core.audit.history import withdrawn_text
from aidebt_core.audit.questions import LEVEL_NAMES, Answer, Question
from aidebt_core.audit.records import (
    ACTION_STATUSES,
    STATUS_TEXT,
    AuditRecord,
    CarriedOver,
    StoredAudits,
    TrackedAction,
    new_action,
)
from aidebt_core.audit.rules import QuestionFinding
from aidebt_core.audit.session import CHOICES, NA, RawInput, tier_options
from aidebt_core.audit.store import AuditStore, default_store_path
from aidebt_core.errors import AidebtError
from aidebt_core.textsafe import md
from aidebt_core.workspace import Workspace

TIER_ICON = {"critical": ":red-badge[critical]", "high": ":orange-badge[high]",
             "medium": ":blue-badge[medium]", "low": ":gray-badge[low]"}
MEASURED_SEP = " · measured: "   # how Evidence.merge joins a person's evidence and the figure
FIELDS = ("choice", "note", "evidence", "tier", "evidence_date")

# Where a question's starting value came from (kept per model in session state).
DRAFT, CARRIED, CARRIED_MEASURED, MEASURED, CLEARED, NONE = (
    "draft", "carried", "carried-measured", "measured", "cleared", "none")

# The live score panel stays in view while the questions scroll: its column sticks to the top.
PANEL_CSS = """<style>
div[data-testid="stColumn"]:has(> div > div > .st-key-aud_panel),
div[data-testid="stColumn"]:has(.st-key-aud_panel) {
  position: sticky; top: 3.75rem; align-self: flex-start;
  max-height: calc(100vh - 4.5rem); overflow-y: auto;
}
.aud-bars svg { width: 100%; height: auto; }
</style>"""


def level_label(choice: str) -> str:
    return NA if choice == NA else f"{choice} · {LEVEL_NAMES[int(choice)]}"


def _as_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- starting values

def parse_tiers(note: str) -> dict[str, str]:
    """The record note of raised weight tiers ("M8=critical, P2=high") as a dict."""
    out = {}
    for part in (note or "").split(","):
        qid, _, tier = part.strip().partition("=")
        if qid and tier:
            out[qid.strip()] = tier.strip()
    return out


def _own_evidence(answer: Answer) -> str:
    """The evidence a person typed, without the measurement's figure that merging appended
    (it is measured afresh, so carrying it would repeat it)."""
    text = answer.evidence or ""
    if MEASURED_SEP in text:
        return text.split(MEASURED_SEP, 1)[0]
    return "" if answer.source == "measured" else text


def carried_inputs(carried: CarriedOver | None, tiers_note: str = "") -> dict[str, dict]:
    """The last saved answers (`AuditStore.carried_over`) as the page's starting values
    (question id -> widget fields, plus `measured` and the date it was `answered_on`)."""
    if carried is None:
        return {}
    tiers = parse_tiers(tiers_note)
    out = {}
    for qid, answer in carried.answers.items():
        out[qid] = {"choice": NA if answer.na else str(answer.level), "note": answer.note,
                    "evidence": _own_evidence(answer), "tier": tiers.get(qid, ""),
                    # a measurement is redone now: its old date would only make it look stale
                    "evidence_date": "" if answer.source == "measured"
                    else answer.evidence_date or "",
                    "measured": answer.source == "measured",
                    "answered_on": carried.answered_on.get(qid, carried.audited_at)}
    return out


def blank() -> dict:
    return {"choice": None, "note": "", "evidence": "", "tier": "", "evidence_date": "",
            "discussion": ""}


def starting_values(qid: str, draft: dict | None, carried: dict[str, dict],
                    prefill: Prefill | None, use_measurement: bool) -> tuple[dict, str]:
    """Where one question starts and why: the autosaved draft (work in progress), else the
    last saved audit's answer, else the fresh measurement (when pre-fill is on), else empty.
    A carried answer that was a measurement last time stays only while pre-fill is on."""
    if draft and qid in draft.get("inputs", {}):
        saved = {**draft["inputs"][qid],
                 "discussion": (draft.get("discussion") or {}).get(qid, "")}
        return {k: saved.get(k) or v for k, v in blank().items()}, DRAFT
    if qid in carried:
        start = {**blank(), **{k: carried[qid][k] for k in FIELDS}}
        if carried[qid]["measured"]:
            if use_measurement:
                return start, CARRIED_MEASURED
            return {**start, "choice": None}, CLEARED
        return start, CARRIED
    if prefill is not None and prefill.available and prefill.level is not None:
        if use_measurement:
            return {**blank(), "choice": str(prefill.level)}, MEASURED
        return blank(), CLEARED
    return blank(), NONE


def widget_keys(key: str) -> dict[str, str]:
    return {"choice": f"{key}_level", "note": f"{key}_note", "evidence": f"{key}_evidence",
            "tier": f"{key}_tier", "evidence_date": f"{key}_evdate"}


def seed(key: str, fields: dict, question: Question) -> None:
    """Put a question's values into its widgets' session state when its widgets are not there
    (first show, or shown again after another dimension was on screen: Streamlit forgets the
    state of widgets it did not draw). A person's later edits are never overwritten."""
    keys = widget_keys(key)
    state = st.session_state
    if keys["choice"] not in state:
        state[keys["choice"]] = fields["choice"] if fields["choice"] in CHOICES else None
    state.setdefault(keys["note"], fields["note"] or "")
    state.setdefault(keys["evidence"], fields["evidence"] or "")
    state.setdefault(f"{key}_discussion", fields.get("discussion") or "")
    tiers = tier_options(question)
    state.setdefault(keys["tier"], fields["tier"] if fields["tier"] in tiers else tiers[0])
    state.setdefault(keys["evidence_date"], _as_date(fields["evidence_date"]))


def sync_from_widgets(key: str, values: dict[str, dict], questions) -> None:
    """Copy what the drawn widgets hold into the kept values before the form is drawn, so an
    edit made just before switching to another dimension is not lost with its widget."""
    state = st.session_state
    for q in questions:
        keys = widget_keys(f"{key}_{q.id}")
        if keys["choice"] not in state:
            continue
        day = state.get(keys["evidence_date"])
        values[q.id] = {"choice": state[keys["choice"]], "note": state.get(keys["note"], ""),
                        "evidence": state.get(keys["evidence"], ""),
                        "tier": state.get(keys["tier"], q.weight),
                        "evidence_date": day.isoformat() if day else "",
                        "discussion": state.get(f"{key}_{q.id}_discussion", "")}


def as_raw(fields: dict, question: Question) -> RawInput:
    """A question's kept values as the page's input (the tier only when raised)."""
    tier = fields.get("tier") or ""
    return RawInput(fields.get("choice"), fields.get("note") or "", fields.get("evidence") or "",
                    "" if tier == question.weight else tier, fields.get("evidence_date") or "")


def set_choice(key: str, values: dict[str, dict], qid: str, choice: str | None) -> None:
    """Change one question's level in the kept values and, if drawn, in its widget."""
    values[qid] = {**values[qid], "choice": choice}
    level_key = widget_keys(f"{key}_{qid}")["choice"]
    if level_key in st.session_state:
        st.session_state[level_key] = choice


def apply_measurement_switch(key: str, origins: dict[str, str], starts: dict[str, dict],
                             values: dict[str, dict], use_measurement: bool) -> int:
    """Pre-fill switched off: clear every level that came from a measurement and that nobody
    changed (it must not stay as an unverified manual answer); switched on: put them back.
    Returns how many levels were cleared or restored."""
    changed = 0
    for qid, origin in list(origins.items()):
        start = starts.get(qid, {}).get("choice")
        now = values.get(qid, {}).get("choice")
        if not use_measurement and origin in (MEASURED, CARRIED_MEASURED):
            if now == start and start is not None:
                set_choice(key, values, qid, None)
                origins[qid] = CLEARED
                changed += 1
        elif use_measurement and origin == CLEARED and now is None and start is not None:
            set_choice(key, values, qid, start)
            origins[qid] = MEASURED
            changed += 1
    return changed


# --------------------------------------------------------------------------- question card

@dataclass(frozen=True)
class CardContext:
    """What one card shows beside the level: the measurement (or why there is none), where the
    start came from, the measured date, and the discussion note key."""

    found: Prefill | None
    origin: str
    carried_from: str = ""          # the date of the audit the answer was carried over from
    carried_choice: str | None = None
    proposal_label: str = ""        # e.g. "proposed from measurement on 2026-01-20"
    query: str = ""
    values: dict = field(default_factory=dict)  # the kept values, seeding missing widgets
    finding: QuestionFinding | None = None      # what was measured, the rule's proposal


def question_card(q: Question, key: str, ctx: CardContext,
                  on_change: Callable[[], None] | None = None) -> dict:
    """One question in a bordered box; widget keys are `{key}_level`, `_note`, `_evidence`,
    `_tier` and `_evdate`, seeded from `ctx.values` (see `seed`). Every widget calls
    `on_change` when changed (the page reruns just this card and the live score). Returns the
    fields as entered (the tier always named).

    The card shows the question, the measurement and the level; the note, evidence, discussion,
    tier and evidence date are typed in the card's "Note & evidence" popover (the browser
    builds its inputs only when it is opened: 9 cards drew 27 empty text boxes before) and
    what is filled in is shown under the level as text."""
    keys = widget_keys(key)
    tiers = tier_options(q)
    seed(key, ctx.values, q)
    state = st.session_state
    tier_now = state.get(keys["tier"]) or q.weight
    filled = sum(bool(state.get(k)) for k in (keys["note"], keys["evidence"],
                                               f"{key}_discussion", keys["evidence_date"]))
    with st.container(border=True, key=f"{key}_box"):
        head, more = st.columns([4, 2], vertical_alignment="center")
        head.markdown(f"**{q.id} · {q.title}** — {TIER_ICON.get(tier_now, tier_now)}")
        with more.popover("Note & evidence" + (f" ({filled})" if filled else ""),
                          icon=":material/edit_note:", key=f"{key}_more", width="stretch"):
            note = st.text_input("Note", key=keys["note"], on_change=on_change,
                                 help="Why this level; required for N/A and for a level other "
                                      "than the measured proposal.")
            ev = st.text_input("Evidence link or text", key=keys["evidence"],
                               on_change=on_change, placeholder=q.evidence_hint)
            talk = st.text_input("Discussion (meeting notes)", key=f"{key}_discussion",
                                 on_change=on_change,
                                 placeholder="what the meeting said about this question")
            a, b = st.columns(2)
            tier = a.selectbox("Weight tier", tiers, key=keys["tier"],
                               disabled=len(tiers) == 1, on_change=on_change,
                               help="Raise the weight for this model's context; a critical "
                                    "item cannot be lowered.")
            day = b.date_input("Evidence date", key=keys["evidence_date"], format="YYYY-MM-DD",
                               on_change=on_change,
                               help=f"Evidence older than {q.cadence_days} days before the "
                                    "audit date counts one level lower.")
        st.caption(f"{q.text} *Why:* {q.why}")
        _measurement_note(q, ctx)
        choice = st.radio("Level", CHOICES, horizontal=True, key=keys["choice"],
                          format_func=level_label, on_change=on_change)
        lines = []
        if ctx.carried_from and ctx.origin in (CARRIED, CARRIED_MEASURED):
            lines.append(f":violet[carried over from {md(ctx.carried_from)}]")
        if choice is not None and choice != NA:
            lines.append(f"Level {choice}: {q.levels[int(choice)]}")
        lines += _details_lines(note, ev, talk, day)
        if lines:
            st.caption("  \n".join(lines))
    return {"choice": choice, "note": note, "evidence": ev, "tier": tier,
            "evidence_date": day.isoformat() if day else "", "discussion": talk}


def _details_lines(note: str, evidence: str, discussion: str, day: date | None) -> list[str]:
    """What was typed in the card's popover, as text under the level (reviewers read it at a
    glance without opening anything)."""
    lines = []
    if note.strip():
        lines.append(f"**Note:** {md(note.strip())}")
    if evidence.strip() or day:
        dated = f" (dated {day.isoformat()})" if day else ""
        lines.append(f"**Evidence:** {md(evidence.strip()) or '—'}{dated}")
    if discussion.strip():
        lines.append(f"**Discussion:** {md(discussion.strip())}")
    return lines


def _measurement_note(q: Question, ctx: CardContext) -> None:
    """What was measured for this question, the level its rule proposes (or caps), when, the
    open problems found, and the carried-over answer where the measurement now differs."""
    found, row = ctx.found, ctx.finding
    if found is None:
        return
    if not found.available or (row is not None and row.proposed_level is None):
        st.caption(f":grey[{md(row.label if row is not None else found.note)}]")
        return
    link = f" ([open]({found.link}?{ctx.query}))" if found.link else ""
    level = row.proposed_level if row is not None else found.level
    differs = ctx.carried_choice is not None and ctx.carried_choice != str(level)
    lead = (f"Measured now: proposes level {level} (the carried-over answer is "
            f"{ctx.carried_choice})" if differs else f"Measured: proposes level {level}")
    cap = f" · caps any answer at {row.cap}" if row is not None and row.cap is not None else ""
    reason = f"  \n{md(row.reason)}" if row is not None and row.reason else ""
    label = row.label if row is not None else found.label
    st.info(f"{lead}{cap} — {md(found.evidence)}{link}{reason}  \n:grey[{md(label)}]",
            icon=":material/analytics:")
    for issue in found.findings:
        st.markdown(f":orange-badge[{md(issue.severity)} finding] {md(issue.title)}"
                    + (f" — {md(issue.detail)}" if issue.detail else ""))


# --------------------------------------------------------------------------- measurement

_JOBS: OrderedDict[tuple, Future] = OrderedDict()
_JOBS_LOCK = threading.Lock()
_MAX_JOBS = 16
_EXECUTOR: ProcessPoolExecutor | None = None     # made on first use, see _executor()


def _executor() -> ProcessPoolExecutor:
    """One worker process for the measurements (called under _JOBS_LOCK). A measurement is
    seconds of CPU-heavy Python: in a thread of the server it held the GIL that every page run
    needs (each first render and click on any page waited for it); in a process it runs beside
    them on another core. Spawned, not forked: the server has threads (DuckDB, tornado)."""
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ProcessPoolExecutor(max_workers=1,
                                        mp_context=multiprocessing.get_context("spawn"))
    return _EXECUTOR


def _submit(selection, model: str) -> Future:
    global _EXECUTOR
    with _bare_main():
        try:
            return _executor().submit(evidence_for_selection, selection, model)
        except BrokenProcessPool:      # the worker died (killed, out of memory): a new one
            _EXECUTOR = None
            return _executor().submit(evidence_for_selection, selection, model)


@contextmanager
def _bare_main():
    """A spawned process first imports the parent's __main__, and in a Streamlit server that
    is the page script being run: the worker would run the whole app (without a server, with a
    screenful of warnings). While the worker is started (in `submit`) __main__ is an empty
    module; the measurement itself needs only aidebt_core."""
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


def background_evidence(selection, model: str, wait: float = 0.0,
                        start: bool = True) -> Future | None:
    """The measurement for `model` on the selection, started once per (data files, model) and
    shared by every session: the page opens at once and shows the measured answers when the
    run ends (a rewritten data file changes the selection's fingerprint: a fresh run). With
    `start=False` only a measurement already started (or done) is returned, else None."""
    job = (selection.fingerprint(), model)
    with _JOBS_LOCK:
        future = _JOBS.get(job)
        if future is None:
            if not start:
                return None
            future = _submit(selection, model)
            _JOBS[job] = future
        _JOBS.move_to_end(job)
        while len(_JOBS) > _MAX_JOBS:
            _JOBS.popitem(last=False)
    if wait:
        try:
            future.result(timeout=wait)
        except Exception:  # noqa: BLE001  (the page shows it through guard())
            pass
    return future


def evidence_if_ready(future: Future) -> Evidence | None:
    """The measurement once it is there (its error raised), else None."""
    if not future.done():
        return None
    try:
        return future.result()
    except BrokenProcessPool as exc:
        with _JOBS_LOCK:               # measured again on the next open
            for job in [j for j, f in _JOBS.items() if f is future]:
                del _JOBS[job]
        raise AidebtError("The measurement stopped before it finished (its process ended, "
                          "e.g. out of memory); reload the page to measure again.") from exc


# --------------------------------------------------------------------------- store and history

def audit_store(workspace: str) -> AuditStore:
    """The store the pages read and save to: the server's `--store` when given, else the
    default store of the server's first root (one portfolio per server, whichever root the
    sidebar shows), else the workspace's own. Opening it creates nothing."""
    from aidebt_app.context import serve_config

    config = serve_config()
    if config.store:
        return AuditStore(Path(config.store))
    served = [root for root in config.roots if Path(workspace) == Path(root)]
    home = config.roots[0] if served else workspace
    return AuditStore(default_store_path(Workspace.at(home).folder))


def show_skipped(stored: StoredAudits) -> None:
    """One warning per stored audit that could not be read (the rest still show)."""
    for line in stored.skipped:
        st.warning(md(line), icon=":material/warning:")


def withdraw_control(store: AuditStore, history: list[AuditRecord], who: str, key: str) -> None:
    """Withdraw a saved audit: pick it, say why, confirm. It stays in the history, marked."""
    counted = [r for r in history if r.withdrawn is None and not r.signed]  # signed: final
    if not counted:
        return
    with st.popover("Withdraw an audit…", icon=":material/undo:", key=f"{key}_withdraw"):
        st.caption("A withdrawn audit stays in the history, marked with who withdrew it, when "
                   "and why, and no longer counts on the scorecard or in trends. This cannot "
                   "be undone.")
        labels = {f"{r.audited_at} · v{r.model_version or '—'} · {r.auditor or '—'} · "
                  f"{r.id[:8]}": r for r in reversed(counted)}
        picked = st.selectbox("Audit", list(labels), key=f"{key}_wd_pick")
        by = st.text_input("Withdrawn by", value=who, key=f"{key}_wd_by")
        reason = st.text_input("Reason", key=f"{key}_wd_reason",
                               placeholder="e.g. scored against the wrong data set")
        sure = st.checkbox("Yes, withdraw this audit", key=f"{key}_wd_confirm")
        if st.button("Withdraw", type="primary", key=f"{key}_wd_go",
                     disabled=not (sure and reason.strip() and by.strip())):
            record = store.withdraw(labels[picked].id, by=by, reason=reason)
            st.session_state[f"{key}_wd_done"] = withdrawn_text(record)
            st.rerun()


# --------------------------------------------------------------------------- actions

def action_rows(actions, today: date | None = None) -> list[dict]:
    """Tracked actions as table rows with human headers (overdue marked)."""
    return [{"Action": a.text, "Question": a.question_id, "Owner": a.owner or "—",
             "Due": a.due.isoformat() if a.due else "—",
             "Status": STATUS_TEXT.get(a.status, a.status)
             + (" · overdue" if a.overdue(today) else ""),
             "Note": a.note, "Measured effect": a.effect} for a in actions]


def actions_editor(key: str, carried: list[TrackedAction], question_ids: list[str],
                   suggested: tuple[str, str] | None, found: dict[str, tuple[str, ...]],
                   audit_day: str) -> list[TrackedAction]:
    """The audit's tracked actions: last time's open ones (`carried`: status and note to
    update) and new ones added here (action, question, owner, due date; kept in session
    state). Returns them all with the statuses as set now."""
    added: list = st.session_state.setdefault(f"{key}_actions_new", [])
    with st.popover("Add an action…", icon=":material/add_task:", key=f"{key}_act_add"):
        default_q, default_text = suggested or (question_ids[0], "")
        with st.form(f"{key}_act_form", clear_on_submit=True, border=False):
            text = st.text_input("Action", value=default_text, key=f"{key}_act_new_text")
            qid = st.selectbox("Question", question_ids, key=f"{key}_act_new_q",
                               index=question_ids.index(default_q))
            owner = st.text_input("Owner", key=f"{key}_act_new_owner")
            due = st.date_input("Due date", value=None, key=f"{key}_act_new_due",
                                format="YYYY-MM-DD")
            submitted = st.form_submit_button("Add action", type="primary")
    if submitted:
        if text.strip() and owner.strip() and due:
            added.append(new_action(qid, text, owner, due, found.get(qid, ()), audit_day))
        else:
            st.warning("An action needs its text, an owner and a due date.")
    out = []
    today = date.fromisoformat(audit_day)
    for action in [*carried, *added]:
        with st.container(border=True, key=f"{key}_act_{action.id}"):
            head, status_col, note_col = st.columns([3, 1, 2], vertical_alignment="bottom")
            due_text = action.due.isoformat() if action.due else "no due date"
            late = " · :red[overdue]" if action.overdue(today) else ""
            head.markdown(f"**{md(action.text)}** ({action.question_id})  \n"
                          f":grey[owner {md(action.owner or '—')} · due {due_text}{late}"
                          + (f" · opened {md(action.opened_on)}" if action.opened_on else "")
                          + "]" + (f"  \n:violet[{md(action.effect)}]" if action.effect else ""))
            status = status_col.selectbox("Status", ACTION_STATUSES, key=f"{key}_act_{action.id}"
                                          "_status", index=ACTION_STATUSES.index(action.status),
                                          format_func=STATUS_TEXT.get)
            note = note_col.text_input("Status note", value=action.note,
                                       key=f"{key}_act_{action.id}_note",
                                       placeholder="what was done, or why not")
            out.append(action.with_status(status, note.strip()))
    return out


def action_problems(actions: list[TrackedAction]) -> list[str]:
    """Why the actions block saving: a won't-do needs a note saying why."""
    return [f"Action '{a.text}': won't do needs a note saying why." for a in actions
            if a.status == "wont_do" and not a.note.strip()]


# --------------------------------------------------------------------------- sign-off

def sign_off_control(store: AuditStore, record: AuditRecord, who: str, key: str) -> None:
    """Sign the latest saved audit off: a named reviewer and a confirmation; then it is final."""
    with st.popover(f"Sign off the audit of {record.audited_at}…", icon=":material/verified:",
                    key=f"{key}_signoff"):
        st.caption("A signed audit is final: it cannot be edited or withdrawn, only "
                   "superseded by a new audit. The sign-off records who signed and when.")
        by = st.text_input("Reviewer", value=who, key=f"{key}_sign_by")
        sure = st.checkbox("I reviewed this audit and sign it off", key=f"{key}_sign_sure")
        if st.button("Sign off", type="primary", key=f"{key}_sign_go",
                     disabled=not (sure and by.strip())):
            signed = store.sign_off(record.id, by)
            st.session_state[f"{key}_signed_msg"] = (
                f"Signed off the audit of {signed.audited_at} by {signed.signed_by} at "
                f"{signed.signed_at[:16].replace('T', ' ')} UTC.")
            st.rerun()
