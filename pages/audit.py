"""Audit: walk the questionnaire for one model, starting from its last saved audit and the fresh
measurements (each measured question's rule proposes a level); live score in view, findings,
tracked actions, meeting record, save (complete or explicitly partial), sign-off, history and
report download."""

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from aidebt_app.audit_widgets import (
    CLEARED,
    MEASURED,
    NONE,
    PANEL_CSS,
    CardContext,
    action_problems,
    action_rows,
    actions_editor,
    apply_measurement_switch,
    as_raw,
    audit_store,
    background_evidence,
    carried_inputs,
    evidence_if_ready,
    question_card,
    set_choice,
    show_skipped,
    sign_off_control,
    starting_values,
    sync_from_widgets,
    widget_keys,
    withdraw_control,
)
from aidebt_app.auth import signed_in_user
from aidebt_app.context import current_selection, guard, page_header
from aidebt_app.tables import show_table
from aidebt_core.audit.history import compare, history_frame
from aidebt_core.audit.questions import DIMENSIONS, load_questionnaire
from aidebt_core.audit.records import Participant, TrackedAction, action_from_dict
from aidebt_core.audit.session import (
    CLOSING_QUESTIONS,
    TIERS_NOTE,
    RawInput,
    build_answers,
    carry_actions,
    chosen_tiers,
    draft_payload,
    make_record,
    save_problems,
)
from aidebt_core.plots.audit import DIMENSION_LABELS, dimension_bars_svg
from aidebt_core.reports.audit import audit_report, headline_label, headline_text
from aidebt_core.textsafe import md

NEW = "➕ New model…"
# The form is drawn at once, never waiting for the measurement (a cold one takes seconds; a
# finished one is simply there). A new measurement starts at the END of the run that needs it,
# so its thread does not compete with drawing the page; a small fragment looks every
# MEASURE_POLL seconds whether it ended and then reruns the page once with the proposed levels.
MEASURE_POLL = 1.0
CLOSING = "closing"
SECTIONS = [*DIMENSIONS, CLOSING]

page_header("Audit", "Walk the questions by dimension. The form starts from the model's last "
                     "saved audit; measured questions get the level their rule proposes from "
                     "the selected data, which you can override with a note. Levels 3–4 need "
                     "measured or linked evidence.")
st.html(PANEL_CSS)
selection = current_selection()
questionnaire = load_questionnaire()
questions = questionnaire.questions
with guard():
    store = audit_store(selection.workspace)        # opening it creates nothing
    known_models = store.models(recent_first=True)

top = st.columns([2, 1, 2, 1])
picked = top[0].selectbox("Model", [*known_models, NEW], key="aud_model")
model = top[0].text_input("New model name", key="aud_new_model") if picked == NEW else picked
version = top[1].text_input("Model version", key="aud_version")
signer = signed_in_user()  # with sign-in on, the signed-in user is the auditor: not editable
if signer:
    top[2].text_input("Auditor (signed in)", value=signer, disabled=True)
auditor = signer or top[2].text_input("Auditor(s)", key="aud_auditor")
day = top[3].date_input("Audit date", value=date.today(), key="aud_date", format="YYYY-MM-DD")
if not model or not model.strip():
    st.info("Name the model to audit.")
    st.stop()
model = model.strip()
key = f"aud_{model}"

prefill = st.toggle("Pre-fill from measurements on the selected data", value=True,
                    key="aud_prefill", help=f"Data: {md(selection.describe())}")
evidence = None
measuring = False
job = None
if prefill:
    job = background_evidence(selection, model, start=False)   # else started at the end
    with guard():
        evidence = evidence_if_ready(job) if job is not None else None
    measuring = evidence is None
with guard():
    stored = store.read(model)
    draft = store.load_draft(model)
    carried_over = store.carried_over(model)
history = list(stored.records)
counted = stored.counted()          # not withdrawn (partial ones included)
scored = stored.scored()            # on the scorecard: the comparison's baseline
last = counted[-1] if counted else None
previous = scored[-1] if scored else None
carried = carried_inputs(carried_over, last.notes.get(TIERS_NOTE, "") if last else "")
rows = {r.question_id: r for r in evidence.finding_rows()} if evidence else {}
if draft and not st.session_state.get(f"{key}_restored"):
    st.toast(f"Restored the autosaved draft of {md(model)}.")
st.session_state[f"{key}_restored"] = True

# Where each question starts (draft, last audit, measurement) is decided once and kept with
# every later edit in `values` (the truth for all questions: only one dimension is drawn at a
# time, and Streamlit forgets the widgets it does not draw).
origins: dict = st.session_state.setdefault(f"{key}_origins", {})
starts: dict = st.session_state.setdefault(f"{key}_starts", {})
values: dict = st.session_state.setdefault(f"{key}_values", {})
sync_from_widgets(key, values, questions)
for q in questions:
    found = evidence.prefills.get(q.id) if evidence else None
    if q.id not in values:
        start, origin = starting_values(q.id, draft, carried, found, prefill)
        origins[q.id], starts[q.id], values[q.id] = origin, start, dict(start)
    elif (prefill and found is not None and found.available and found.level is not None
          and origins.get(q.id) in (NONE, CLEARED) and values[q.id].get("choice") is None):
        # the measurement arrived (or pre-fill was switched back on): propose its level
        starts[q.id] = {**starts[q.id], "choice": str(found.level)}
        set_choice(key, values, q.id, str(found.level))
        origins[q.id] = MEASURED
was = st.session_state.get(f"{key}_prefill_was", prefill)
if was != prefill:
    cleared = apply_measurement_switch(key, origins, starts, values, prefill)
    st.session_state[f"{key}_cleared_note"] = cleared if not prefill else 0
st.session_state[f"{key}_prefill_was"] = prefill
if not prefill and st.session_state.get(f"{key}_cleared_note"):
    st.info(f"Pre-fill is off: {st.session_state[f'{key}_cleared_note']} measured level(s) "
            "were cleared, not kept as unverified manual answers. Answer them by hand, or "
            "switch pre-fill back on.", icon=":material/info:")
if measuring:
    st.info("Measuring drift, performance, entanglement, slices and the MLflow runs on the "
            "selected data… the proposed levels appear when ready; you can start answering.",
            icon=":material/hourglass_top:")

    @st.fragment(run_every=MEASURE_POLL)
    def _wait_for_measurement() -> None:
        running = background_evidence(selection, model, start=False)
        if running is not None and running.done():
            st.rerun(scope="app")

    _wait_for_measurement()
if carried_over is not None:
    st.caption(f"Started from the saved answers of {md(model)} (latest audit "
               f"{md(carried_over.audited_at)}, version {md(carried_over.model_version or '—')})"
               "; each carried answer is marked *carried over from DATE*.")
if rows:
    problems_found = sum(len(r.issues) for r in rows.values())
    with st.expander(f"Findings: {len(rows)} measured question(s), {problems_found} open "
                     "problem(s)", expanded=True, icon=":material/troubleshoot:"):
        st.dataframe(pd.DataFrame([{
            "Question": f"{r.question_id} {r.title}", "Measured": r.measured,
            "Proposed level": "—" if r.proposed_level is None else str(r.proposed_level),
            "Why": r.reason, "Problems": "; ".join(i.title for i in r.issues),
            "Page": r.link} for r in rows.values()]), hide_index=True, width="stretch",
            key="aud_findings", column_config={"Page": st.column_config.LinkColumn(
                "Page", display_text="open"), "Measured": st.column_config.TextColumn(
                width="large")})

query = urlencode(selection.to_query_params())
meta = {"model": model, "model_version": version.strip(), "auditor": (auditor or "").strip(),
        "audited_at": day.isoformat()}
closing: dict = st.session_state.setdefault(f"{key}_closing", {
    name: (draft or {}).get("notes", {}).get(name, last.notes.get(name, "") if last else "")
    for name, _ in CLOSING_QUESTIONS})
participants_start = "\n".join(
    f"{p.name}, {p.role}" if p.role else p.name
    for p in (carried_over.participants if carried_over else ()))
if f"{key}_participants" not in st.session_state:
    st.session_state[f"{key}_participants"] = (draft or {}).get("participants_text",
                                                                participants_start)
if f"{key}_actions" not in st.session_state:      # last time's open actions, then new ones
    drafted = (draft or {}).get("actions")
    st.session_state[f"{key}_actions"] = (
        [action_from_dict(a) for a in drafted] if drafted is not None
        else list(carry_actions(carried_over, evidence)))


def _participants(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        name, _, role = line.partition(",")
        if name.strip():
            out.append((name.strip(), role.strip()))
    return out


def _card_context(q) -> CardContext:
    found = evidence.prefills.get(q.id) if evidence else None
    return CardContext(found=found, origin=origins.get(q.id, NONE),
                       carried_from=carried.get(q.id, {}).get("answered_on", ""),
                       carried_choice=carried.get(q.id, {}).get("choice"), query=query,
                       values=values[q.id], finding=rows.get(q.id))


def _section_label(section: str) -> str:
    if section == CLOSING:
        return "Closing"
    ids = [q.id for q in questionnaire.in_dimension(section)]
    done = sum(values[qid].get("choice") is not None for qid in ids)
    return f"{DIMENSION_LABELS[section]} ({done}/{len(ids)})"


@dataclass(frozen=True)
class Now:
    """What the form's kept values give at this moment: inputs, answers, problems, record and
    score (the record without the actions and meeting record, which do not change the score)."""

    raw: dict
    discussion: dict
    notes: dict
    answers: dict
    problems: list
    tiers: dict
    record: object
    score: object


def _now() -> Now:
    raw = {q.id: as_raw(values[q.id], q) for q in questions}
    discussion = {qid: v.get("discussion") or "" for qid, v in values.items()}
    notes = dict(closing)
    answers, problems = build_answers(questionnaire, raw, evidence)
    tiers = chosen_tiers(questionnaire, raw)
    with guard():
        record, score = make_record(questionnaire, meta, answers, evidence, notes, tiers)
    return Now(raw, discussion, notes, answers, problems, tiers, record, score)


def _autosave(now: Now, participants_text: str, actions: list[TrackedAction]) -> dict:
    """Autosave the work in progress once a person changed something; returns the draft."""
    payload = {**draft_payload(meta, now.raw, now.notes), "participants_text": participants_text,
               "discussion": {k: v for k, v in now.discussion.items() if v.strip()},
               "actions": [a.to_dict() for a in actions]}
    if _edited(now.raw, now.notes, participants_text, now.discussion, actions) and \
            payload != st.session_state.get(f"{key}_draft"):
        with guard():
            store.save_draft(model, payload)
        st.session_state[f"{key}_draft"] = payload
    return payload


# A click reruns as little as it can (issue 17: a level click <= 0.5 s in the browser): the
# form is a fragment (switching the dimension redraws only it), each question card is a
# fragment of its own, and so are the live score panel and the checks below the form. A card's
# widget reruns its card, the score and the checks, and the dimension switch only when the
# question became answered or unanswered (its "(done/total)" counts change). The dimension's
# other cards are not sent again. Every part reads the kept `values` after `sync_from_widgets`, so
# the order in which the parts rerun does not matter.
CARD, SCORE, CHECKS, DIMS, FORM = ("aud_card_", "aud_score", "aud_checks", "aud_dims",
                                    "aud_form")


def _card_changed(qid: str) -> None:
    level = st.session_state.get(widget_keys(f"{key}_{qid}")["choice"])
    parts = [f"{CARD}{qid}", SCORE, CHECKS]
    if (level is None) != (values[qid].get("choice") is None):
        parts.append(DIMS)
    st.rerun(parts)


def _question(q) -> None:
    @st.fragment(key=f"{CARD}{q.id}")
    def card() -> None:
        values[q.id] = question_card(q, f"{key}_{q.id}", _card_context(q),
                                     on_change=lambda: _card_changed(q.id))
    card()


@st.fragment(key=DIMS)
def _dimension_switch() -> None:
    sync_from_widgets(key, values, questions)
    st.segmented_control("Dimension", SECTIONS, key="aud_section", default=SECTIONS[0],
                         format_func=_section_label, label_visibility="collapsed",
                         on_change=lambda: st.rerun(FORM))


@st.fragment(key=SCORE)
def _score_panel() -> None:
    sync_from_widgets(key, values, questions)
    now = _now()
    _autosave(now, st.session_state.get(f"{key}_participants", ""),
              st.session_state.get(f"{key}_actions_now", st.session_state[f"{key}_actions"]))
    with st.container(key="aud_panel"):
        _live_score(now.score, now.score.to_dict())


@st.fragment(key=CHECKS)
def _checks() -> None:
    sync_from_widgets(key, values, questions)
    now = _now()
    for problem in now.problems:
        st.warning(md(problem))
    _comparison(now.answers, now.score.to_dict())


@st.fragment(key=FORM)
def audit_form() -> None:
    """The questions, the live score, the problems and the comparison (nothing is measured
    again on a click; actions, meeting record and Save below are drawn by the full run, which
    recomputes everything from the kept values)."""
    sync_from_widgets(key, values, questions)
    main, panel = st.columns([3, 2], gap="large")
    with main:
        _dimension_switch()
        shown = st.session_state.get("aud_section") or SECTIONS[0]
        if shown == CLOSING:
            st.caption("Sculley et al.'s closing questions, as free-text notes for the "
                       "meeting.")
            for name, text in CLOSING_QUESTIONS:
                closing[name] = st.text_area(text, value=closing[name],
                                             key=f"{key}_close_{name}")
        else:
            for q in questionnaire.in_dimension(shown):
                _question(q)
    with panel:
        _score_panel()
    _checks()


def _actions_and_save() -> None:
    """Actions, meeting record, Save and the report downloads (drawn by full runs only)."""
    now = _now()
    st.subheader("Actions")
    _last_actions()
    suggested = ((now.score.actions[0].question_id, now.score.actions[0].title)
                 if now.score.actions else None)
    actions = actions_editor(key, st.session_state[f"{key}_actions"], [q.id for q in questions],
                             suggested, {qid: r.found for qid, r in rows.items()},
                             meta["audited_at"])
    st.session_state[f"{key}_actions_now"] = actions
    if not actions:
        st.caption("No tracked actions yet: add the ones the meeting agrees on (owner and due "
                   "date); the next audit of this model opens with them and their status.")
    with st.expander("Meeting record", icon=":material/groups:",
                     expanded=not st.session_state[f"{key}_participants"]):
        participants_text = st.text_area(
            "Participants (one per line: name, role)", key=f"{key}_participants",
            placeholder="Ada Lovelace, model owner\nGrace Hopper, reviewer")
    participants = _participants(participants_text)
    for problem in action_problems(actions):
        st.warning(md(problem))
    record = replace(now.record, participants=tuple(Participant(*p) for p in participants),
                     discussion={k: v.strip() for k, v in now.discussion.items() if v.strip()},
                     actions=tuple(actions))
    payload = _autosave(now, participants_text, actions)
    _save_area(record, now.score, now.problems + action_problems(actions), payload)
    stem = f"audit-{Path(model).name}-{meta['audited_at']}"
    on_paper = questionnaire.with_tiers(now.tiers)

    def report():   # built only when a download is clicked, not on every run
        comparison = None if previous is None else compare(
            previous, now.answers, now.score.to_dict(), questionnaire.version,
            {q.id: q.title for q in questions})
        return audit_report(record, on_paper, comparison, previous)

    d1, d2 = st.columns(2)
    d1.download_button("Download report (HTML)", lambda: report().to_html(), f"{stem}.html",
                       "text/html", key="aud_dl_html", on_click="ignore")
    d2.download_button("Download report (Markdown)", lambda: report().to_markdown(),
                       f"{stem}.md", "text/markdown", key="aud_dl_md", on_click="ignore")


def _last_actions() -> None:
    if carried_over is None or not carried_over.actions:
        return
    st.markdown(f"**Actions of the audit of {md(carried_over.audited_at)}** (status then; the "
                "open ones are carried into this audit below)")
    st.dataframe(pd.DataFrame(action_rows(carried_over.actions, day)), hide_index=True,
                 width="stretch", key="aud_last_actions")


def _edited(raw: dict[str, RawInput], notes: dict[str, str], participants_text: str,
            discussion: dict[str, str], actions: list[TrackedAction]) -> bool:
    """Whether a person changed anything the page started with: only then is a draft worth
    autosaving (opening the page writes nothing)."""
    for q in questions:
        start, now = as_raw(starts[q.id], q), raw[q.id]
        if origins.get(q.id) == CLEARED and now.choice is None:
            start = replace(start, choice=None)
        if now != start or discussion.get(q.id, "") != (starts[q.id].get("discussion") or ""):
            return True
    saved_notes = last.notes if last is not None else {}
    if participants_text.strip() != participants_start.strip():
        return True
    initial = {a.id: (a.status, a.note) for a in st.session_state[f"{key}_actions"]}
    if any(initial.get(a.id) != (a.status, a.note) for a in actions):
        return True
    return any(text.strip() != (saved_notes.get(name) or "").strip()
               for name, text in notes.items())


def _live_score(score, scores: dict) -> None:
    total = len(questions)
    st.subheader("Live score")
    st.progress(score.answered / total, text=f"{score.answered} of {total} questions "
                f"answered · {score.unanswered} unanswered")
    m1, m2, m3 = st.columns(3)
    m1.metric("Headline", headline_label(scores),
              help="The weakest dimension on a 0–10 scale: it cannot hide a failing "
                   "dimension. Until enough questions are answered it says how many are.")
    m2.metric("Weighted mean", "n/a" if score.weighted_mean is None
              else f"{score.weighted_mean:.1f} / 10")
    m3.metric("Red flags", len(score.red_flags))
    st.caption(headline_text(scores))
    # a static drawing: redrawn in the browser at once on every click (a plotly chart is not)
    st.image(dimension_bars_svg(scores, "Health by dimension (0–10)", width=380),
             width="stretch")
    if score.red_flags:
        st.error("**Red flags**\n\n" + "\n".join(f"- {md(f)}" for f in score.red_flags))
    if score.warnings:
        st.warning("\n".join(f"- {md(w)}" for w in score.warnings))
    if score.actions:
        st.markdown("**Top actions** (weight × level gap)  \n" + "  \n".join(
            f"{a.question_id} {md(a.title)}: level {a.current_level} → {a.target_level} "
            f"(+{a.gain:.2f})" for a in score.actions[:5]))
    st.caption(f"ML Test Score view: {score.mts.final:g} — {score.mts.band}")


def _comparison(answers, scores: dict):
    if previous is None:
        return None
    titles = {q.id: q.title for q in questions}
    comparison = compare(previous, answers, scores, questionnaire.version, titles)
    st.subheader(f"Compared with the audit of {md(previous.audited_at)}")
    if not comparison.same_questionnaire:
        st.warning("The previous audit used another questionnaire version; compare with care.")
    cols = st.columns(5)
    now = scores.get("overall")
    cols[0].metric("Headline", "n/a" if now is None else f"{now:.1f}",
                   delta=None if comparison.headline_delta is None
                   else f"{comparison.headline_delta:+.1f}")
    for col, dim in zip(cols[1:], DIMENSIONS, strict=True):
        value, delta = scores["dimensions"][dim], comparison.dimension_deltas[dim]
        col.metric(DIMENSION_LABELS[dim], "n/a" if value is None else f"{value:.1f}",
                   delta=None if delta is None else f"{delta:+.1f}")
    with st.expander(f"Changed answers ({len(comparison.changed)})"):
        st.dataframe(comparison.to_frame().rename(columns=str.capitalize), hide_index=True,
                     width="stretch")
    return comparison


def _save_area(record, score, problems: list[str], payload: dict) -> None:
    st.divider()
    same_day = store.same_day(model, meta["audited_at"])
    partial = st.checkbox("Save as partial", key=f"{key}_partial", disabled=score.complete,
                          help="A partial audit keeps the answers so far; it stays off the "
                               "scorecard and the trends.")
    again = False
    if same_day is not None:
        what = (f"the earlier one, signed off by {same_day.signed_by}, stays unchanged and "
                "is superseded" if same_day.signed else "the earlier one stays in the history")
        again = st.checkbox(f"Save another audit for {meta['audited_at']} ({what})",
                            key=f"{key}_again")
    if st.button("Save audit", type="primary", key="aud_save"):
        refusal = problems + save_problems(meta, score, partial)
        if same_day is not None and not again:
            refusal.append(f"An audit of {model} for {meta['audited_at']} is already saved: "
                           "tick the box to save another one for the same day.")
        if refusal:
            st.error("**Not saved.**\n\n" + "\n".join(f"- {md(r)}" for r in refusal),
                     icon=":material/block:")
            return
        to_save = replace(record, partial=partial and not score.complete,
                          supersedes=same_day.id if same_day is not None else "")
        with guard():
            saved = store.save_audit(to_save)
        st.session_state[f"{key}_draft"] = payload      # saved: no draft until the next edit
        st.session_state[f"{key}_actions"] = list(saved.actions)
        st.session_state.pop(f"{key}_actions_new", None)
        st.session_state[f"{key}_saved_msg"] = (
            f"Saved the {'partial ' if saved.partial else ''}audit of {md(saved.model)} "
            f"({md(saved.audited_at)}, headline {headline_label(saved.scores)}).")
        st.rerun(scope="app")
    st.caption("Saving needs the model version, the auditor and either enough questions "
               "answered for a headline (N/A with a note counts) or *Save as partial*.")


audit_form()
_actions_and_save()

for flash in (f"{key}_saved_msg", f"{key}_signed_msg"):
    text = st.session_state.pop(flash, None)
    if text:
        st.success(text, icon=":material/check_circle:")
st.subheader(f"History of {md(model)}")
show_skipped(stored)
done = st.session_state.pop(f"{key}_wd_done", None)
if done:
    st.success(f"Audit {md(done)}. It stays in the history and no longer counts.",
               icon=":material/undo:")
if history:
    withdrawn = len(history) - len(counted)
    latest_text = (f"latest counted {scored[-1].audited_at} by {md(scored[-1].auditor or '—')}"
                   f", headline {headline_label(scored[-1].scores)}" if scored
                   else "none on the scorecard")
    st.caption(f"{len(history)} saved audit(s)"
               + (f", {withdrawn} withdrawn" if withdrawn else "") + f"; {latest_text}.")
    show_table(history_frame(history), key="aud_history", key_columns=["audited", "status"],
               raw_columns=["questionnaire", "id"], formats={"headline": 1,
                                                            "weighted mean": 1},
               labels={"audited": "Audited", "status": "Status", "version": "Version",
                       "auditor": "Auditor", "headline": "Headline",
                       "weighted mean": "Weighted mean", "red flags": "Red flags"},
               raw_label="More columns (questionnaire, audit id)")
    if last is not None and last.signed:
        st.success(f"The audit of {md(last.audited_at)} was signed off by "
                   f"{md(last.signed_by)} at {last.signed_at[:16].replace('T', ' ')} UTC. "
                   "It is final: it cannot be edited or withdrawn, only superseded by a new "
                   "audit.", icon=":material/verified:")
    c1, c2 = st.columns(2)
    with c1, guard():
        if last is not None and not last.signed:
            sign_off_control(store, last, signer or "", key)
    with c2, guard():
        withdraw_control(store, history, auditor, key)
else:
    st.caption("No saved audit of this model yet.")

if prefill and job is None:
    background_evidence(selection, model)   # the page is drawn: now measure (see MEASURE_POLL)
