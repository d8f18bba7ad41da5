"""Scorecard: the manager's view — one row per model (its latest complete audit) with the
headline score, dimension scores in colour bands, red flags, signed trend since the last audit,
open and overdue actions; then one model's red flags, tracked actions and top actions."""

import json
from datetime import date

import pandas as pd
import streamlit as st

from aidebt_app.audit_widgets import action_rows, audit_store, show_skipped
from aidebt_app.context import current_selection, guard, page_header
from aidebt_app.glossary import help_text
from aidebt_app.tables import show_table
from aidebt_core.audit.history import DIMENSION_COLUMNS, build_scorecard, headline_history
from aidebt_core.audit.records import export_document
from aidebt_core.plots.audit import (
    BAND_NAMES,
    band_legend,
    dimension_bars,
    headline_trend,
    portfolio_heatmap,
    portfolio_radar,
)
from aidebt_core.reports.audit import (
    SCORECARD_HEADERS,
    headline_label,
    headline_text,
    scorecard_report,
    signed,
)
from aidebt_core.textsafe import html_text, md

SORTS = {"Headline (lowest first)": ("headline", True), "Red flags (most first)":
         ("red_flags", False), "Overdue actions (most first)": ("overdue_actions", False),
         "Trend (worst first)": ("trend", True), "Model": ("model", True),
         "Last audited (oldest first)": ("audited_at", True)}
SHOWN = ["model", "audited_at", "headline", *DIMENSION_COLUMNS, "band", "trend", "red_flags",
         "open_actions", "overdue_actions"]
MORE = ["model_version", "auditor", "weighted_mean", "open_findings", "audits", "top_actions"]
# Short headers so the main table fits 1440 px; the full names are in each header's tooltip.
LABELS = {**SCORECARD_HEADERS, "model": "Model name", "headline": "Headline",
          "data_score": "Data", "model_score": "Model", "configuration_score": "Configuration",
          "evaluation_score": "Evaluation", "red_flags": "Flags", "open_actions": "Open",
          "overdue_actions": "Overdue"}

page_header("Scorecard", "AI technical debt across models: the latest complete audit of each. "
                         "The headline is the weakest dimension, so one failing area shows.")
selection = current_selection()
with guard():
    store = audit_store(selection.workspace)        # reading creates nothing
    stored = store.read()
with st.expander("Export or import audits (JSON)"):
    if stored.records:
        st.download_button("Export all audits (JSON)",
                           json.dumps(export_document(stored.records), allow_nan=False),
                           "aidebt-audits.json", "application/json", key="sc_export",
                           on_click="ignore")
    upload = st.file_uploader("Import audits exported from another workspace", type="json",
                              key="sc_upload")
    if upload is not None and st.button("Import", key="sc_import"):
        with guard():               # every audit is checked before anything is written
            added, present = store.import_text(upload.getvalue(), upload.name)
        st.success(f"Imported {added} audit(s); {present} were already here.")
        stored = store.read()
show_skipped(stored)
audits = stored.counted()     # withdrawn audits stay in the history, off the scorecard;
today = date.today()          # partial ones only carry action progress (build_scorecard)
scorecard = build_scorecard(audits, today)
frame = scorecard.to_frame()
if frame.empty:
    st.info("No audits saved yet. [Start one on the Audit page](/audit).")
    st.stop()

f1, f2, f3 = st.columns([2, 2, 1])
chosen = f1.multiselect("Headline band", list(BAND_NAMES), default=[], key="sc_bands",
                        placeholder="all bands")
sort = f2.selectbox("Sort by", list(SORTS), key="sc_sort")
flagged_only = f3.toggle("Only red-flagged", key="sc_flagged")
shown = frame
if chosen:
    shown = shown[shown["band"].isin(chosen)]
if flagged_only:
    shown = shown[shown["red_flags"] > 0]
column, ascending = SORTS[sort]
shown = shown.sort_values(column, ascending=ascending, na_position="last", kind="stable")

m = st.columns(5)
m[0].metric("Models", f"{len(shown)} of {len(frame)}")
heads = shown["headline"].dropna()
m[1].metric("Median headline", "—" if heads.empty else f"{heads.median():.1f} / 10",
            help=help_text("headline") + ("" if len(heads) < 2 else
                                          f" Portfolio mean {heads.mean():.1f} ± "
                                          f"{heads.std():.1f} (std)."))
m[2].metric("Models with red flags", int((shown["red_flags"] > 0).sum()),
            help=help_text("red flag"))
m[3].metric("Open actions", int(shown["open_actions"].sum()))
m[4].metric("Overdue actions", int(shown["overdue_actions"].sum()),
            help="Tracked actions still open after their due date, at each model's latest "
                 "audit.")
if shown.empty:
    st.info("No model matches the filters.")
    st.stop()

table = shown[SHOWN + MORE].copy()
table["trend"] = table["trend"].map(signed)
show_table(table, key_columns=["model"], raw_columns=MORE, labels=LABELS,
           formats={c: 1 for c in ("headline", "weighted_mean", *DIMENSION_COLUMNS)}
           | {c: "count" for c in ("red_flags", "open_actions", "overdue_actions",
                                   "open_findings", "audits")},
           help={"headline": help_text("headline") + " (0–10)", "band": help_text("band"),
                 "red_flags": help_text("red flag"),
                 "open_actions": "Tracked actions still open at the model's latest audit.",
                 "overdue_actions": "Open tracked actions past their due date.",
                 **{c: f"{LABELS[c]} dimension health (0–10)" for c in DIMENSION_COLUMNS}},
           raw_label="More columns (version, auditor, weighted mean, findings, top actions)",
           key="sc_table")
st.caption(f"Bands: {band_legend()}. Trend: headline change since the model's previous "
           "complete audit.")

left, right = st.columns([3, 2])
left.plotly_chart(portfolio_heatmap(shown), width="stretch", key="sc_heatmap")
right.plotly_chart(portfolio_radar(shown), width="stretch", key="sc_radar")
st.plotly_chart(headline_trend(headline_history(
    [r for r in audits if r.model in set(shown["model"])])), width="stretch", key="sc_trend")

st.subheader("One model")
model = st.selectbox("Model", list(shown["model"]), key="sc_model")
scored = [r for r in audits if r.model == model and r.counts]
latest = scored[-1]
with_actions = [r for r in audits if r.model == model][-1]   # a partial one may be newer
st.caption(headline_text(latest.scores))
a, b = st.columns(2)
a.plotly_chart(dimension_bars(latest.scores, f"{html_text(model)}: health by dimension, "
                                             f"headline {headline_label(latest.scores)}"),
               width="stretch", key="sc_bars")
with b:
    flags = latest.scores.get("red_flags") or []
    if flags:
        st.error("**Red flags**\n\n" + "\n".join(f"- {md(f)}" for f in flags))
    else:
        st.success("No red flags: every critical item is above level 1.")
    if latest.signed:
        st.caption(f":material/verified: Signed off by {md(latest.signed_by)} on "
                   f"{latest.signed_at[:10]}.")
st.markdown(f"**Tracked actions** (audit of {md(with_actions.audited_at)})")
if with_actions.actions:
    show_table(pd.DataFrame(action_rows(with_actions.actions, today)), key="sc_actions",
               key_columns=["Action", "Status"], raw_columns=["Measured effect"])
else:
    st.caption("No tracked actions recorded for this model.")
st.markdown("**Top actions** (weight × level gap)")
ranked = pd.DataFrame(latest.scores.get("actions") or [],
                      columns=["question", "title", "current_level", "target_level",
                               "gain"])[:5]
show_table(ranked, key="sc_top", labels={"question": "Question", "title": "Action",
                                         "current_level": "Level now", "target_level": "Target",
                                         "gain": "Gain"},
           formats={"gain": 2, "current_level": "count", "target_level": "count"})

report = scorecard_report(build_scorecard([r for r in audits if r.model in set(shown["model"])],
                                          today), audits, today)
d1, d2 = st.columns(2)
d1.download_button("Download scorecard (HTML)", report.to_html, "aidebt-scorecard.html",
                   "text/html", key="sc_dl_html", on_click="ignore")
d2.download_button("Download scorecard (Markdown)", report.to_markdown, "aidebt-scorecard.md",
                   "text/markdown", key="sc_dl_md", on_click="ignore")
