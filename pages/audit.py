"""Audit: walk the questionnaire for one model, starting from its last saved audit and the
fresh measurements; live score in view, comparison with the previous audit, save (complete or
explicitly partial), sign-off, history and report download."""

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
    apply_measurement_switch,
    as_raw,
    audit_store,
    background_evidence,
    carried_inputs,
    evidence_if_ready,
    question_card,
    set_choice,
    show_skipped,
    starting_values,
    withdraw_control,
)
from aidebt_app.auth import signed_in_user
from aidebt_app.context import current_selection, guard, page_header
from aidebt_core.audit.history import compare, history_frame
from aidebt_core.audit.questions import DIMENSIONS, load_questionnaire
from aidebt_core.audit.session import (
    CLOSING_QUESTIONS,
    RawInput,
    build_answers,
    chosen_tiers,
    draft_payload,
    make_record,
)
from aidebt_core.plots.audit import DIMENSION_LABELS, comparison_bars, dimension_bars
from aidebt_core.reports.audit import audit_report, headline_label, headline_text
from aidebt_core.textsafe import md

NEW = "➕ New model…"
MEASURE_WAIT = 1.0   # seconds the first open waits for the measurement before drawing the form

page_header("Audit", "Walk the questions by dimension. The form starts from the model's last "
                     "saved audit; measured answers are proposed from the selected data and "
                     "can be overridden with a note. Levels 3–4 need measured or linked "
                     "evidence.")
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
if not model:
    st.info("Name the model to audit.")
    st.stop()
model = model.strip()
key = f"aud_{model}"

prefill = st.toggle("Pre-fill from measurements on the selected data", value=True,
                    key="aud_prefill", help=f"Data: {md(selection.describe())}")
evidence = None
measuring = False
if prefill:
    job = background_evidence(selection, model, wait=MEASURE_WAIT)
    with guard():
        evidence = evidence_if_ready(job)
    measuring = evidence is None
with guard():
    stored = store.read(model)
    draft = store.load_draft(model)
history = list(stored.records)
counted = stored.counted()
last = counted[-1] if counted else None
carried = carried_inputs(last) if last is not None else {}
if draft and not st.session_state.get(f"{key}_restored"):
    st.toast(f"Restored the autosaved draft of {md(model)}.")
st.session_state[f"{key}_restored"] = True

# Where each question starts (draft, last audit, measurement) is decided once and kept with
# every later edit in `values` (the truth for all questions: only one dimension is drawn at a
# time, and Streamlit forgets the widgets it does not draw).
origins: dict = st.session_state.setdefault(f"{key}_origins", {})
starts: dict = st.session_state.setdefault(f"{key}_starts", {})
values: dict = st.session_state.setdefault(f"{key}_values", {})
for q in questions:
    found = evidence.prefills.get(q.id) if evidence else None
    if q.id not in values:
        start, origin = starting_values(q.id, draft, carried, found, prefill)
        origins[q.id], starts[q.id], values[q.id] = origin, start, dict(start)
    elif (prefill and found is not None and found.available and origins.get(q.id) in
          (NONE, CLEARED) and values[q.id].get("choice") is None):
        # the measurement arrived (or pre-fill was switched back on): propose its level
        starts[q.id] = {**starts[q.id], "choice": str(found.level)}
        set_choice(key, values, q.id, str(found.level))
        origins[q.id] = MEASURED
was = st.session_state.get(f"{key}_prefill_was", prefill)
if was != prefill:
    cleared = apply_measurement_switch(key, origins, starts, values, prefill)
    if not prefill and cleared:
        st.session_state[f"{key}_cleared_note"] = cleared
st.session_state[f"{key}_prefill_was"] = prefill
if not prefill and st.session_state.get(f"{key}_cleared_note"):
    st.info(f"Pre-fill is off: {st.session_state[f'{key}_cleared_note']} measured level(s) "
            "were cleared. Answer them by hand, or switch pre-fill back on.",
            icon=":material/info:")
if measuring:
    st.info("Measuring drift, performance, entanglement, slices and the MLflow runs on the "
            "selected data… the measured proposals appear here when ready; you can start "
            "answering.", icon=":material/hourglass_top:")

    @st.fragment(run_every=1.0)
    def _wait_for_measurement() -> None:
        if job.done():
            st.rerun(scope="app")

    _wait_for_measurement()
if last is not None:
    st.caption(f"Started from the audit of {md(last.audited_at)} by {md(last.auditor or '—')}"
               f" (answers marked *carried over*).")
if evidence is not None and evidence.findings:
    with st.expander(f"Findings from the measurement ({len(evidence.findings)})",
                     expanded=True, icon=":material/troubleshoot:"):
        st.dataframe(pd.DataFrame([{"Severity": f.severity, "Question": f.question_id,
                                    "Finding": f.title, "Detail": f.detail}
                                   for f in evidence.findings]),
                     hide_index=True, width="stretch", key="aud_findings")

query = urlencode(selection.to_query_params())
CLOSING = "closing"
SECTIONS = [*DIMENSIONS, CLOSING]
closing: dict = st.session_state.setdefault(f"{key}_closing", {
    name: (draft or {}).get("notes", {}).get(name, last.notes.get(name, "") if last else "")
    for name, _ in CLOSING_QUESTIONS})
meta = {"model": model, "model_version": version.strip(), "auditor": (auditor or "").strip(),
        "audited_at": day.isoformat()}


def _card_context(q) -> CardContext:
    found = evidence.prefills.get(q.id) if evidence else None
    origin = origins.get(q.id, NONE)
    carried_choice = carried.get(q.id, {}).get("choice") if q.id in carried else None
    return CardContext(found=found, origin=origin,
                       carried_from=last.audited_at if last is not None else "",
                       carried_choice=carried_choice, query=query, values=values[q.id])


@st.fragment
def audit_form() -> None:
    """The questions and the live score: a level click reruns only this part (the measurement
    is not repeated; it is kept above)."""
    main, panel = st.columns([3, 2], gap="large")
    with main:
        shown = st.segmented_control("Dimension", SECTIONS, key="aud_section",
                                     default=SECTIONS[0], format_func=_section_label,
                                     label_visibility="collapsed") or SECTIONS[0]
        if shown == CLOSING:
            st.caption("Sculley et al.'s closing questions, as free-text notes for the "
                       "meeting.")
            for name, text in CLOSING_QUESTIONS:
                closing[name] = st.text_area(text, value=closing[name],
                                             key=f"{key}_close_{name}")
        else:
            for q in questionnaire.in_dimension(shown):
                values[q.id] = question_card(q, f"{key}_{q.id}", _card_context(q))
    raw = {q.id: as_raw(values[q.id], q) for q in questions}
    notes = dict(closing)
    answers, problems = build_answers(questionnaire, raw, evidence)
    tiers = chosen_tiers(questionnaire, raw)
    with guard():
        record, score = make_record(questionnaire, meta, answers, evidence, notes, tiers)
    scores = score.to_dict()
    answered = sum(r.choice is not None for r in raw.values())
    payload = draft_payload(meta, raw, notes)
    if _edited(raw, notes) and payload != st.session_state.get(f"{key}_draft"):
        with guard():
            store.save_draft(model, payload)
        st.session_state[f"{key}_draft"] = payload
    with panel, st.container(key="aud_panel"):
        _live_score(score, scores, answered)
    _comparison(answers, scores)
    _save_area(record, score, scores, problems, answered, payload)
    report = audit_report(record, questionnaire.with_tiers(tiers),
                          *_compared(answers, scores))
    stem = f"audit-{Path(model).name}-{meta['audited_at']}"
    d1, d2 = st.columns(2)
    d1.download_button("Download report (HTML)", report.to_html, f"{stem}.html", "text/html",
                       key="aud_dl_html", on_click="ignore")
    d2.download_button("Download report (Markdown)", report.to_markdown, f"{stem}.md",
                       "text/markdown", key="aud_dl_md", on_click="ignore")


def _section_label(section: str) -> str:
    if section == CLOSING:
        return "Closing questions"
    ids = [q.id for q in questionnaire.in_dimension(section)]
    done = sum(values[qid].get("choice") is not None for qid in ids)
    return f"{DIMENSION_LABELS[section]} ({done}/{len(ids)})"


def _edited(raw: dict[str, RawInput], notes: dict[str, str]) -> bool:
    """Whether a person changed anything the page started with: only then is a draft worth
    autosaving (opening the page writes nothing)."""
    for q in questions:
        start, now = as_raw(starts[q.id], q), raw[q.id]
        if origins.get(q.id) == CLEARED and now.choice is None:
            start = RawInput(None, start.note, start.evidence, start.tier, start.evidence_date)
        if now != start:
            return True
    saved_notes = last.notes if last is not None else {}
    return any(text.strip() != (saved_notes.get(name) or "").strip()
               for name, text in notes.items())


def _live_score(score, scores: dict, answered: int) -> None:
    total = len(questions)
    st.subheader("Live score")
    st.progress(answered / total, text=f"{answered} of {total} questions answered")
    m1, m2, m3 = st.columns(3)
    m1.metric("Headline", headline_label(scores),
              help="The weakest dimension on a 0–10 scale: it cannot hide a failing "
                   "dimension. Until enough questions are answered it says how many are.")
    m2.metric("Weighted mean", "N/A" if score.weighted_mean is None
              else f"{score.weighted_mean:.1f} / 10")
    m3.metric("Red flags", len(score.red_flags))
    st.caption(headline_text(scores))
    st.plotly_chart(dimension_bars(scores), width="stretch", key="aud_bars",
                    config={"displayModeBar": False})
    if score.red_flags:
        st.error("**Red flags**\n\n" + "\n".join(f"- {md(f)}" for f in score.red_flags))
    for warning in score.warnings:
        st.warning(md(warning))
    st.markdown("**Top actions** (weight × level gap)")
    st.dataframe(pd.DataFrame([{"Question": a.question_id, "Action": a.title,
                                "Level": f"{a.current_level} → {a.target_level}",
                                "Gain": f"{a.gain:.2f}"} for a in score.actions[:5]],
                              columns=["Question", "Action", "Level", "Gain"]),
                 hide_index=True, width="stretch", key="aud_top_actions")
    st.caption(f"ML Test Score view: {score.mts.final:g} — {score.mts.band}")


def _compared(answers, scores):
    if last is None:
        return None, None
    titles = {q.id: q.title for q in questions}
    return compare(last, answers, scores, questionnaire.version, titles), last


def _comparison(answers, scores: dict) -> None:
    comparison, previous = _compared(answers, scores)
    if comparison is None:
        return
    st.subheader(f"Compared with the audit of {md(previous.audited_at)}")
    if not comparison.same_questionnaire:
        st.warning("The previous audit used another questionnaire version; compare with care.")
    cols = st.columns(5)
    now = scores.get("overall")
    cols[0].metric("Headline", "N/A" if now is None else f"{now:.1f}",
                   delta=None if comparison.headline_delta is None
                   else f"{comparison.headline_delta:+.1f}")
    for col, dim in zip(cols[1:], DIMENSIONS, strict=True):
        value, delta = scores["dimensions"][dim], comparison.dimension_deltas[dim]
        col.metric(DIMENSION_LABELS[dim], "N/A" if value is None else f"{value:.1f}",
                   delta=None if delta is None else f"{delta:+.1f}")
    left, right = st.columns(2)
    left.plotly_chart(comparison_bars(previous.scores, scores, previous.audited_at,
                                      meta["audited_at"]), width="stretch", key="aud_cmp")
    right.markdown(f"**Changed answers** ({len(comparison.changed)})")
    right.dataframe(comparison.to_frame().rename(columns=str.capitalize), hide_index=True,
                    width="stretch")


def _save_area(record, score, scores: dict, problems: list[str], answered: int,
               payload: dict) -> None:
    st.divider()
    for problem in problems:
        st.warning(md(problem))
    total = len(questions)
    complete = answered == total
    same_day = [r for r in counted if r.audited_at == meta["audited_at"]]
    c1, c2 = st.columns(2)
    partial = c1.checkbox("Save as partial", key=f"{key}_partial",
                          disabled=complete, help="A partial audit keeps the answers so far; "
                          "it stays off the scorecard until a complete audit is saved.")
    again = False
    if same_day:
        again = c2.checkbox(f"Save another audit for {meta['audited_at']} (the one saved "
                            f"earlier that day stays in the history)", key=f"{key}_again")
    missing = [name for name, value in (("model version", meta["model_version"]),
                                        ("auditor", meta["auditor"])) if not value]
    if st.button("Save audit", type="primary", key="aud_save"):
        refusal = _refusal(problems, missing, complete, partial, bool(same_day), again,
                           answered, total)
        if refusal:
            st.error(refusal, icon=":material/block:")
            return
        with guard():
            saved = store.save_audit(record)
        st.session_state[f"{key}_draft"] = payload      # saved: no draft until the next edit
        st.session_state[f"{key}_saved_msg"] = (
            f"Saved the audit of {md(saved.model)} ({md(saved.audited_at)}, headline "
            f"{headline_label(scores)}).")
        st.rerun(scope="app")
    st.caption("Saving needs the model version, the auditor and either every question "
               "answered (N/A with a note counts) or *Save as partial*.")


def _refusal(problems, missing, complete, partial, same_day, again, answered, total) -> str:
    if problems:
        return "Not saved: fix the notes asked for above first."
    if missing:
        return f"Not saved: fill in the {' and '.join(missing)}."
    if not answered:
        return "Not saved: no question is answered yet."
    if not complete and not partial:
        return (f"Not saved: {answered} of {total} questions are answered. Answer the rest, "
                "or tick *Save as partial* (a partial audit stays off the scorecard).")
    if same_day and not again:
        return (f"Not saved: an audit of {model} for {meta['audited_at']} is already saved. "
                "Tick the box to save a second one for the same day.")
    return ""


audit_form()

saved_msg = st.session_state.pop(f"{key}_saved_msg", None)
if saved_msg:
    st.success(saved_msg, icon=":material/check_circle:")
st.subheader(f"History of {md(model)}")
show_skipped(stored)
done = st.session_state.pop(f"{key}_wd_done", None)
if done:
    st.success(f"Audit {md(done)}. It stays in the history and no longer counts.",
               icon=":material/undo:")
if history:
    withdrawn = len(history) - len(counted)
    latest_text = (f"latest counted {counted[-1].audited_at} by {md(counted[-1].auditor or '—')}"
                   f", headline {headline_label(counted[-1].scores)}" if counted
                   else "none counts")
    st.caption(f"{len(history)} saved audit(s)"
               + (f", {withdrawn} withdrawn" if withdrawn else "") + f"; {latest_text}.")
    st.dataframe(history_frame(history), hide_index=True, width="stretch", column_config={
        c: st.column_config.NumberColumn(format="%.1f") for c in ("headline", "weighted mean")},
        key="aud_history")
    with guard():
        withdraw_control(store, history, auditor, key)
else:
    st.caption("No saved audit of this model yet.")
