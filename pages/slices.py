"""Slices: metric per slice with intervals, weak slices found automatically, and how they
changed between reference and current."""

from dataclasses import replace
from urllib.parse import urlencode

import streamlit as st

from aidebt_app.cache import run_analysis, run_on_data
from aidebt_app.context import current_selection, guard, page_header
from aidebt_core.analyses import get as analysis
from aidebt_core.errors import AidebtError
from aidebt_core.plots.slices import dumbbell_figure, forest_figure
from aidebt_core.reports.slices import changes_frame
from aidebt_core.slices import METRICS, apply_slice
from aidebt_core.slices.breakdown import frame
from aidebt_core.slices.entry import SlicesOptions
from aidebt_core.textsafe import md

NUM = st.column_config.NumberColumn
FORMATS = {"share": NUM(format="percent"), "metric": NUM(format="%.3f"),
           "ci_low": NUM(format="%.3f"), "ci_high": NUM(format="%.3f"),
           "p_value": NUM(format="%.2e"), "q_value": NUM(format="%.2e"),
           "score": NUM(format="%.3f")}
CHANGE_FORMATS = {c: NUM(format="%.3f") for c in (
    "reference", "reference_low", "reference_high", "current", "current_low", "current_high")} | {
    "change": NUM(format="%+.3f"), "p_value": NUM(format="%.2e"),
    "q_value": NUM(format="%.2e")}


def roles(data) -> dict:
    schema = data.schema
    target = schema.first("target")
    # Many distinct numeric target values: a regression model (MAE / RMSE per slice).
    task = ("regression" if target and schema[target].distinct > 20
            and schema[target].dtype.upper() not in ("VARCHAR", "BOOLEAN")
            else "classification")
    return {"target": target, "task": task, "prediction": schema.first("prediction"),
            "score": schema.first("score"), "features": schema.features,
            "categorical": schema.with_role("categorical", "boolean")}


def slice_drift(data, spec: tuple[tuple[str, str], ...]) -> dict:
    result = analysis("drift").run_on(replace(data, **{
        side: apply_slice(getattr(data, side), dict(spec)) for side in ("reference", "current")}))
    return {"reference_rows": result.reference_rows, "current_rows": result.current_rows,
            "columns": len(result.columns), "drifted": result.drifted_columns}


page_header("Slices", "Where the model fails a sub-population that the overall metric hides.")
selection = current_selection()
with guard():
    r = run_on_data(roles, selection, spinner="Reading column roles…")
    if not r["target"] or not (r["prediction"] or r["score"]):
        st.warning("Mark a target and a prediction or score column on the Data page first.")
        st.stop()

usable = [m for m, spec in METRICS.items() if spec.task == r["task"]
          and (r["score"] if spec.needs_score else r["prediction"])]
if not usable:
    st.warning("No metric fits these roles: mark a prediction column on the Data page.")
    st.stop()
left, mid, right = st.columns([1, 2, 1])
metric = left.selectbox("Metric", usable, key="slices_metric",
                        format_func=lambda m: METRICS[m].label)
default_by = [c for c in ("channel",) if c in r["categorical"]] or r["categorical"][:1]
by = mid.multiselect("Break down by", r["features"], default=default_by, max_selections=3,
                     key="slices_by", help="Numeric columns are cut at reference quantiles.")
objective = right.radio(
    "Rank discovered slices by", ["calibration", "error"], key="slices_objective",
    horizontal=True, disabled=not r["score"], index=0 if r["score"] else 1,
    help="calibration: observed positive rate far from the mean score (the model is "
         "confidently wrong). error: the metric's row-wise error (also finds slices that are "
         "merely hard to predict).")
with st.expander("Discovery settings"):
    c1, c2, c3, c4 = st.columns(4)
    max_order = c1.slider("Conditions per slice", 1, 3, 3, key="slices_order")
    min_share = c2.slider("Minimum slice size (% of rows)", 0.2, 10.0, 1.0, 0.2,
                          key="slices_min")
    top_k = c3.slider("Slices to show", 3, 20, 8, key="slices_k")
    bins = c4.slider("Bins per numeric column", 3, 10, 10, key="slices_bins",
                     help="Quantiles of the reference period, rounded to 3 digits.")
    features = st.multiselect("Columns to search", r["features"], default=r["features"],
                              key="slices_features")

with guard():
    options = SlicesOptions(metric=metric, by=tuple(by), features=tuple(features),
                            max_order=max_order, min_share=min_share / 100, top_k=top_k,
                            objective=objective, bins=bins)
    res = run_analysis("slices", selection, options, spinner="Searching slices…")

label = res.metric_label
ref_value = res.reference_overall.metric if res.reference_overall else None
a, b, c, d = st.columns(4)
a.metric(f"Overall {label} (current)", f"{res.overall.metric:.3f}",
         delta=None if ref_value is None else f"{res.overall.metric - ref_value:+.3f} vs ref",
         delta_color="normal" if res.higher_is_better else "inverse")
b.metric("Labelled current rows", f"{res.overall.rows:,}")
c.metric("Weak slices (q < 0.05)", len(res.weak()))
d.metric("Slices worse than in reference", sum(ch.worsened for ch in res.changes))
for note in res.notes:
    st.info(md(note), icon=":material/info:")

st.subheader("Weak slices found")
if res.weak():
    st.markdown("\n".join(f"- **{md(res.sentence(s))}**" for s in res.weak()))
if res.found:
    s = res.search
    st.caption(f"Searched {len(s['columns'])} columns, up to {s['max_order']} conditions, "
               f"slices of at least {s['min_size']:,} rows, ranked by {s['objective']} "
               f"(SliceLine score, α = {s['alpha']}). q-values: Benjamini–Hochberg over "
               f"{s['tests']:,} slices examined.")
    st.plotly_chart(forest_figure(res.found, res.overall.metric, label, res.higher_is_better),
                    key="slices_found_chart")
    st.dataframe(frame(res.found), hide_index=True, width="stretch", key="slices_found_table",
                 column_config=FORMATS)
else:
    st.success("No slice of the minimum size is worse than average.")

if res.changes or res.breakdown_changes:
    st.subheader("Reference vs current")
    which = st.segmented_control("Slices", ["found", "breakdown"], key="slices_which",
                                 default="found" if res.changes else "breakdown",
                                 format_func={"found": "weak slices found",
                                              "breakdown": "breakdown"}.get) or "found"
    changes = res.changes if which == "found" else res.breakdown_changes
    st.caption("The same slices in both periods; a red bar is a significant change for the "
               "worse (BH q < 0.05 over the slices shown).")
    if changes:
        st.plotly_chart(dumbbell_figure(changes, label), key="slices_change_chart")
        st.dataframe(changes_frame(changes), hide_index=True, width="stretch",
                     key="slices_change_table", column_config=CHANGE_FORMATS)

if res.breakdown:
    st.subheader(f"{label} by {', '.join(map(md, res.by))}")
    st.plotly_chart(forest_figure(res.breakdown, res.overall.metric, label,
                                  res.higher_is_better), key="slices_by_chart")
    st.dataframe(frame(res.breakdown).drop(columns=["score"]), hide_index=True, width="stretch",
                 key="slices_by_table", column_config=FORMATS)

st.download_button("Download report (HTML)", analysis("slices").make_report(res).to_html(),
                   file_name="aidebt-slices.html", mime="text/html", key="slices_download")

st.subheader("Drill into a slice")
options = [s.slice for s in (*res.found, *res.breakdown)
           if "(other)" not in s.slice.as_dict().values()]
if options:
    chosen = st.selectbox("Slice", options, format_func=lambda sl: sl.describe(),
                          key="slices_pick")
    try:
        d = run_on_data(slice_drift, selection, tuple(chosen.as_dict().items()),
                        spinner="Drift within the slice…")
        st.markdown(f"Within this slice ({d['reference_rows']:,} reference rows, "
                    f"{d['current_rows']:,} current rows), **{len(d['drifted'])} of "
                    f"{d['columns']} columns drifted**"
                    + (": " + ", ".join(map(md, d["drifted"])) if d["drifted"] else "."))
    except AidebtError as exc:
        st.warning(f"No drift summary for this slice: {md(exc)}")
    query = urlencode({**selection.to_query_params(), "slice": chosen.link_query()})
    st.markdown(f"[Drift of the rows in this slice →](/drift?{query})")
