"""Scorecard: the manager's view — one row per model (its latest audit) with the headline score,
dimension scores in colour bands, red flags, trend since the last audit, findings and actions."""

import json

import pandas as pd
import streamlit as st

from aidebt_app.audit_widgets import audit_store, show_skipped
from aidebt_app.context import current_selection, guard, page_header
from aidebt_core.audit.history import DIMENSION_COLUMNS, build_scorecard, headline_history
from aidebt_core.audit.records import export_document
from aidebt_core.audit.scoring import HEALTH_BANDS, health_band
from aidebt_core.plots.audit import (
    BAND_COLORS,
    DIMENSION_LABELS,
    dimension_bars,
    headline_trend,
    portfolio_heatmap,
    portfolio_radar,
)
from aidebt_core.reports.audit import headline_text, scorecard_report
from aidebt_core.textsafe import html_text, md

SCORE_COLUMNS = ["headline", "weighted_mean", *DIMENSION_COLUMNS]
SORTS = {"Headline (lowest first)": ("headline", True), "Red flags (most first)":
         ("red_flags", False), "Trend (worst first)": ("trend", True), "Model": ("model", True),
         "Last audited (oldest first)": ("audited_at", True)}


def tint(value) -> str:
    """A light background in the health band's colour."""
    if value is None or pd.isna(value):
        return ""
    return f"background-color: {BAND_COLORS[health_band(value)]}33"


page_header("Scorecard", "AI technical debt across models: the latest audit of each. The "
                         "headline is the weakest dimension, so one failing area shows.")
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
audits = stored.counted()          # withdrawn audits stay in the history, off the scorecard
scorecard = build_scorecard(audits)
frame = scorecard.to_frame()
if frame.empty:
    st.info("No audits saved yet. [Start one on the Audit page](/audit).")
    st.stop()

bands = [name for _, name in HEALTH_BANDS]
f1, f2, f3 = st.columns([2, 2, 1])
chosen = f1.multiselect("Headline band", bands, default=[], key="sc_bands",
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

m = st.columns(4)
m[0].metric("Models", f"{len(shown)} of {len(frame)}")
heads = shown["headline"].dropna()
m[1].metric("Median headline", "—" if heads.empty else f"{heads.median():.1f}",
            help=None if len(heads) < 2 else f"Portfolio mean {heads.mean():.1f} ± "
                                             f"{heads.std():.1f} (std)")
m[2].metric("Models with red flags", int((shown["red_flags"] > 0).sum()))
m[3].metric("Open findings", int(shown["open_findings"].sum()))
if shown.empty:
    st.info("No model matches the filters.")
    st.stop()

table = shown[["model", "model_version", "audited_at", *SCORE_COLUMNS, "band", "red_flags",
               "trend", "open_findings", "top_actions"]].rename(
    columns={c: DIMENSION_LABELS[c.removesuffix("_score")] for c in DIMENSION_COLUMNS}
    | {"weighted_mean": "weighted mean", "model_version": "version",
       "audited_at": "last audit", "red_flags": "red flags", "open_findings": "open findings",
       "top_actions": "top actions"})
table["trend"] = table["trend"].map(lambda v: "—" if pd.isna(v) else f"{v:+.1f}")
score_names = ["headline", "weighted mean", *DIMENSION_LABELS.values()]
styled = (table.style.map(tint, subset=score_names)
          .format("{:.1f}", subset=score_names, na_rep="N/A"))
st.dataframe(styled, hide_index=True, width="stretch", key="sc_table")
st.caption("Colours: " + " · ".join(f"{name}" for name in bands) + " (0–2, 2–4, 4–6, 6–8, "
           "≥8). Trend: headline change since the model's previous audit.")

left, right = st.columns([3, 2])
left.plotly_chart(portfolio_heatmap(shown), width="stretch", key="sc_heatmap")
right.plotly_chart(portfolio_radar(shown), width="stretch", key="sc_radar")
st.plotly_chart(headline_trend(headline_history(
    [r for r in audits if r.model in set(shown["model"])])), width="stretch", key="sc_trend")

st.subheader("One model")
model = st.selectbox("Model", list(shown["model"]), key="sc_model")
latest = next(r for r in reversed(audits) if r.model == model)
st.caption(headline_text(latest.scores))
a, b = st.columns(2)
a.plotly_chart(dimension_bars(latest.scores, f"{html_text(model)}: health by dimension"),
               width="stretch",
               key="sc_bars")
with b:
    flags = latest.scores.get("red_flags") or []
    if flags:
        st.error("**Red flags**\n\n" + "\n".join(f"- {md(f)}" for f in flags))
    else:
        st.success("No red flags: every critical item is above level 1.")
    actions = latest.scores.get("actions") or []
    st.markdown("**Top actions**")
    st.dataframe(pd.DataFrame(actions[:5], columns=["question", "title", "current_level",
                                                    "target_level", "gain"]),
                 hide_index=True, width="stretch",
                 column_config={"gain": st.column_config.NumberColumn(format="%.2f")})
    if latest.findings:
        st.markdown("**Open findings**")
        st.dataframe(pd.DataFrame(latest.findings)[["severity", "question", "title"]],
                     hide_index=True, width="stretch")

report = scorecard_report(build_scorecard([r for r in audits if r.model in set(shown["model"])]))
d1, d2 = st.columns(2)
d1.download_button("Download scorecard (HTML)", report.to_html, "aidebt-scorecard.html",
                   "text/html", key="sc_dl_html", on_click="ignore")
d2.download_button("Download scorecard (Markdown)", report.to_markdown, "aidebt-scorecard.md",
                   "text/markdown", key="sc_dl_md", on_click="ignore")
