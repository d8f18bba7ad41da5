"""Audit: walk the questionnaire for one model, pre-filled from what aidebt measured; live score,
comparison with the previous audit, save, history and report download."""

from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from aidebt_app.audit_widgets import audit_store, question_card, show_skipped, withdraw_control
from aidebt_app.cache import run
from aidebt_app.context import current_selection, guard, page_header
from aidebt_core.audit.evidence import evidence_for_selection
from aidebt_core.audit.history import compare, history_frame
from aidebt_core.audit.questions import DIMENSIONS, load_questionnaire
from aidebt_core.audit.session import (
    CLOSING_QUESTIONS,
    RawInput,
    build_answers,
    chosen_tiers,
    draft_payload,
    edited,
    initial_choice,
    make_record,
)
from aidebt_core.plots.audit import DIMENSION_LABELS, comparison_bars, dimension_bars
from aidebt_core.reports.audit import audit_report, headline_text
from aidebt_core.textsafe import md

NEW = "➕ New model…"


page_header("Audit", "Walk the questions by dimension; measured answers are pre-filled and can "
                     "be overridden with a note. Levels 3–4 need measured or linked evidence.")
selection = current_selection()
questionnaire = load_questionnaire()
with guard():
    store = audit_store(selection.workspace)        # opening it creates nothing
    known_models = store.models(recent_first=True)

top = st.columns([2, 1, 2, 1])
picked = top[0].selectbox("Model", [*known_models, NEW], key="aud_model")
model = top[0].text_input("New model name", key="aud_new_model") if picked == NEW else picked
version = top[1].text_input("Model version", key="aud_version")
from aidebt_app.auth import signed_in_user  # noqa: E402  (sign-in, owned by aidebt_app/auth.py)

signer = signed_in_user()  # with sign-in on, the signed-in user is the auditor: not editable
if signer:
    top[2].text_input("Auditor (signed in)", value=signer, disabled=True)
auditor = signer or top[2].text_input("Auditor(s)", key="aud_auditor")
day = top[3].date_input("Audit date", value=date.today(), key="aud_date", format="YYYY-MM-DD")
if not model:
    st.info("Name the model to audit.")
    st.stop()

prefill = st.toggle("Pre-fill from measurements on the selected data", value=True,
                    key="aud_prefill", help=f"Data: {md(selection.describe())}")
evidence = None
if prefill:
    with guard():
        evidence = run(evidence_for_selection, selection, model,
                       spinner="Measuring evidence (drift, performance, entanglement, …)…")
with guard():
    draft = store.load_draft(model)
key = f"aud_{model}"
if draft and not st.session_state.get(f"{key}_restored"):
    st.toast(f"Restored the autosaved draft of {md(model)}.")
st.session_state[f"{key}_restored"] = True

raw: dict[str, RawInput] = {}
query = urlencode(selection.to_query_params())
main, panel = st.columns([3, 2], gap="large")
with main:
    progress = st.empty()
    tabs = st.tabs([DIMENSION_LABELS[d] for d in DIMENSIONS] + ["Closing questions"])
    for tab, dim in zip(tabs, DIMENSIONS, strict=False):
        with tab:
            for q in questionnaire.in_dimension(dim):
                found = evidence.prefills.get(q.id) if evidence else None
                raw[q.id] = question_card(q, f"{key}_{q.id}",
                                          initial_choice(q.id, draft, evidence), found, query)
    with tabs[-1]:
        st.caption("Sculley et al.'s closing questions, as free-text notes for the meeting.")
        notes = {name: st.text_area(text, value=(draft or {}).get("notes", {}).get(name, ""),
                                    key=f"{key}_close_{name}")
                 for name, text in CLOSING_QUESTIONS}

answers, problems = build_answers(questionnaire, raw, evidence)
meta = {"model": model, "model_version": version, "auditor": auditor,
        "audited_at": day.isoformat()}
tiers = chosen_tiers(questionnaire, raw)
with guard():
    record, score = make_record(questionnaire, meta, answers, evidence, notes, tiers)
answered = sum(r.choice is not None for r in raw.values())
progress.progress(answered / len(questionnaire.questions),
                  text=f"{answered} of {len(questionnaire.questions)} questions answered")
payload = draft_payload(meta, raw, notes)
if edited(raw, evidence, notes) and payload != st.session_state.get(f"{key}_draft"):
    with guard():
        store.save_draft(model, payload)
    st.session_state[f"{key}_draft"] = payload

with guard():
    stored = store.read(model)
history = list(stored.records)
counted = stored.counted()
previous = counted[-1] if counted else None
scores = score.to_dict()
with panel:
    st.subheader("Live score")
    m1, m2, m3 = st.columns(3)
    m1.metric("Headline", f"{score.headline:.1f}" if score.headline is not None
              else "N/A", help="The minimum dimension: it cannot hide a failing dimension.")
    m2.metric("Weighted mean", f"{score.weighted_mean:.1f}" if score.weighted_mean is not None
              else "N/A")
    m3.metric("Red flags", len(score.red_flags))
    st.caption(headline_text(scores))
    st.plotly_chart(dimension_bars(scores), width="stretch", key="aud_bars")
    if score.red_flags:
        st.error("**Red flags**\n\n" + "\n".join(f"- {md(f)}" for f in score.red_flags))
    for warning in score.warnings:
        st.warning(md(warning))
    if score.findings:
        st.markdown("**Open findings** (measured now, not maturity)")
        st.dataframe(pd.DataFrame([f.to_dict() for f in score.findings])[
            ["severity", "question", "title"]], hide_index=True, width="stretch")
    st.markdown("**Top actions** (weight × level gap)")
    st.dataframe(pd.DataFrame([{"question": a.question_id, "action": a.title,
                                "level": f"{a.current_level} → {a.target_level}",
                                "gain": round(a.gain, 2)} for a in score.actions[:5]]),
                 hide_index=True, width="stretch")
    st.caption(f"ML Test Score view: {score.mts.final:g} — {score.mts.band}")

comparison = None
if previous is not None:
    st.subheader(f"Compared with the audit of {md(previous.audited_at)}")
    comparison = compare(previous, answers, scores, questionnaire.version,
                         {q.id: q.title for q in questionnaire.questions})
    if not comparison.same_questionnaire:
        st.warning("The previous audit used another questionnaire version; compare with care.")
    cols = st.columns(5)
    cols[0].metric("Headline", f"{score.headline:.1f}", delta=None if comparison.headline_delta
                   is None else f"{comparison.headline_delta:+.1f}")
    for col, dim in zip(cols[1:], DIMENSIONS, strict=True):
        now, delta = score.dimensions[dim], comparison.dimension_deltas[dim]
        col.metric(DIMENSION_LABELS[dim], "N/A" if now is None else f"{now:.1f}",
                   delta=None if delta is None else f"{delta:+.1f}")
    left, right = st.columns(2)
    left.plotly_chart(comparison_bars(previous.scores, scores, previous.audited_at,
                                      meta["audited_at"]), width="stretch", key="aud_cmp")
    right.markdown(f"**Changed answers** ({len(comparison.changed)})")
    right.dataframe(comparison.to_frame(), hide_index=True, width="stretch")

st.divider()
for problem in problems:
    st.warning(md(problem))
if st.button("Save audit", type="primary", disabled=bool(problems) or not answered,
             key="aud_save"):
    with guard():
        saved = store.save_audit(record)
    st.session_state[f"{key}_draft"] = payload  # saved: no draft until the next edit
    st.success(f"Saved the audit of {md(saved.model)} ({md(saved.audited_at)}, headline "
               f"{score.headline:.1f}).", icon=":material/check_circle:")
    with guard():
        stored = store.read(model)
    history = list(stored.records)

st.subheader(f"History of {md(model)}")
show_skipped(stored)
done = st.session_state.pop(f"{key}_wd_done", None)
if done:
    st.success(f"Audit {md(done)}. It stays in the history and no longer counts.",
               icon=":material/undo:")
if history:
    counted = [r for r in history if r.withdrawn is None]
    withdrawn = len(history) - len(counted)
    latest_text = (f"latest counted {counted[-1].audited_at} by {md(counted[-1].auditor or '—')}, "
                   f"headline {counted[-1].scores.get('overall') or 0:.1f}" if counted
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
report = audit_report(record, questionnaire.with_tiers(tiers), comparison, previous)
stem = f"audit-{Path(model).name}-{meta['audited_at']}"
d1, d2 = st.columns(2)
d1.download_button("Download report (HTML)", report.to_html, f"{stem}.html", "text/html",
                   key="aud_dl_html", on_click="ignore")
d2.download_button("Download report (Markdown)", report.to_markdown, f"{stem}.md",
                   "text/markdown", key="aud_dl_md", on_click="ignore")
