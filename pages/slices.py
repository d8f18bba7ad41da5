"""Slices: metric per slice with intervals, weak slices found automatically, and how they
changed between reference and current.

The widgets map onto `SlicesOptions` (aidebt_core/slices/entry.py), the options and defaults
of `aidebt slices`: the same data and options give the same slices here and on the CLI."""

from dataclasses import replace
from urllib.parse import urlencode

import streamlit as st

from aidebt_app.cache import run_analysis, run_on_data
from aidebt_app.context import current_selection, guard, page_header
from aidebt_app.glossary import help_text
from aidebt_app.tables import show_table
from aidebt_core.analyses import get as analysis
from aidebt_core.errors import AidebtError
from aidebt_core.plots.slices import dumbbell_figure, forest_figure
from aidebt_core.profiles.slices import METRICS as PROFILE_METRICS
from aidebt_core.profiles.source import is_profile_table
from aidebt_core.reports.slices import changes_frame
from aidebt_core.slices import METRICS, apply_slice
from aidebt_core.slices.breakdown import frame
from aidebt_core.slices.entry import SlicesOptions
from aidebt_core.textsafe import md

DEFAULTS = SlicesOptions()
FDR_LEVELS = (0.01, 0.05, 0.1)
MAX_CHART_ROWS = 40  # a breakdown with more slices: the chart shows the worst 40, the table all
FORMATS = {"share": "rate", "metric": "statistic", "ci_low": "statistic", "ci_high": "statistic",
           "observed_rate": "rate", "mean_score": "rate", "gap": "signed",
           "p_value": "pvalue", "q_value": "pvalue", "score": "statistic", "size": "count"}
CHANGE_FORMATS = {c: "statistic" for c in (
    "reference", "reference_low", "reference_high", "current", "current_low", "current_high")} | {
    "change": "signed", "p_value": "pvalue", "q_value": "pvalue",
    "reference_size": "count", "current_size": "count"}
TIPS = {"q_value": help_text("q-value")}


def roles(data) -> dict:
    schema = data.schema
    target = schema.first("target")
    # Many distinct numeric target values: a regression model (MAE / RMSE per slice).
    task = ("regression" if target and schema[target].distinct > 20
            and schema[target].dtype.upper() not in ("VARCHAR", "BOOLEAN")
            else "classification")
    # A saved profile or a Spark source: slices from the profile's cell counts
    # (aidebt_core/profiles/slices.py), which give the count-based metrics only.
    counted = any(is_profile_table(t) or getattr(t, "engine", "") == "spark"
                  for t in (data.reference, data.current) if t is not None)
    return {"target": target, "task": task, "prediction": schema.first("prediction"),
            "score": schema.first("score"), "features": schema.features,
            "categorical": schema.with_role("categorical", "boolean"), "counted": counted}


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
          and (r["score"] if spec.needs_score else r["prediction"])
          and (m in PROFILE_METRICS or not r["counted"])]
if not usable:
    st.warning("No metric fits these roles: mark a prediction column on the Data page.")
    st.stop()
left, mid, right = st.columns([1, 2, 1])
metric = left.selectbox("Metric", usable, key="slices_metric",
                        format_func=lambda m: METRICS[m].label)
default_by = [c for c in ("channel",) if c in r["categorical"]] or r["categorical"][:1]
by = mid.multiselect("Break down by", r["features"], default=default_by, max_selections=3,
                     key="slices_by", help="Numeric columns are cut at reference quantiles.")
objectives = ["error", "calibration"] if r["score"] else ["error"]
objective = right.radio(
    "Rank discovered slices by", objectives, key="slices_objective", horizontal=True,
    index=objectives.index(DEFAULTS.objective),
    help="error (default): the metric's row-wise error, as SliceLine and Slice Finder rank. "
         "calibration: observed positive rate far from the mean score (the model is "
         "confidently wrong); the slices then show observed rate, mean score and their gap.")
with st.expander("Discovery settings"):
    c1, c2, c3, c4, c5, c6 = st.columns(6)
    max_order = c1.slider("Conditions per slice", 1, 3, DEFAULTS.max_order, key="slices_order")
    min_share = c2.slider("Minimum slice size (% of rows)", 0.2, 10.0, 1.0, 0.2,
                          key="slices_min", help="Default: 1% of the rows, at least 30 rows.")
    top_k = c3.slider("Slices to show", 3, 20, DEFAULTS.top_k, key="slices_k")
    bins = c4.slider("Bins per numeric column", 3, 10, DEFAULTS.bins, key="slices_bins",
                     help="Quantiles of the reference period.")
    alpha_fdr = c5.select_slider("Significance (FDR)", FDR_LEVELS, DEFAULTS.alpha_fdr,
                                 key="slices_fdr", help=help_text("q-value"))
    min_gap = c6.number_input(
        "Minimum gap", 0.0, 1.0, DEFAULTS.min_gap, 0.01, key="slices_min_gap",
        help="A slice counts as significantly worse only when it is also at least this much "
             "worse than overall (on the metric's scale; for MAE/RMSE a share of overall): "
             "large data make tiny gaps significant. `aidebt slices --min-gap`.")
    features = st.multiselect("Columns to search", r["features"], default=r["features"],
                              key="slices_features")

with guard():
    # 1% is the default minimum size itself (1% of rows, at least 30): no option then.
    options = replace(DEFAULTS, metric=metric, by=tuple(by), features=tuple(features),
                      max_order=max_order, top_k=top_k, objective=objective, bins=bins,
                      min_share=None if min_share == 1.0 else min_share / 100,
                      alpha_fdr=alpha_fdr, min_gap=float(min_gap))
    res = run_analysis("slices", selection, options, spinner="Searching slices…")

label = res.metric_label
ref_value = res.reference_overall.metric if res.reference_overall else None
a, b, c, d = st.columns(4)
a.metric(f"Overall {label} (current)", f"{res.overall.metric:.3f}",
         delta=None if ref_value is None else f"{res.overall.metric - ref_value:+.3f} vs ref",
         delta_color="normal" if res.higher_is_better else "inverse")
b.metric("Labelled current rows", f"{res.overall.rows:,}")
c.metric(f"Weak slices (q < {res.alpha_fdr:g})", len(res.weak()),
         help=f"Significantly worse: {res.rule}. " + help_text("q-value"))
d.metric("Slices worse than in reference", sum(ch.worsened for ch in res.changes))
for note in res.notes:
    st.info(md(note), icon=":material/info:")

st.subheader("Weak slices found")
weak = res.weak()
if weak:
    st.markdown("\n".join(f"- **{md(res.sentence(s))}**" for s in weak))
elif res.found:
    st.info(md(res.verdict()), icon=":material/info:")
if res.found:
    s = res.search
    shown = ("observed rate vs mean score (their gap)" if res.calibration
             else res.metric_label)
    st.caption(f"Searched {len(s['columns'])} columns, up to {s['max_order']} conditions, "
               f"slices of at least {s['min_size']:,} rows, ranked by {s['objective']} "
               f"(SliceLine score, α = {s['alpha']}), significant slices ({res.rule}) first. "
               f"q-values of "
               f"the {md(shown)}: Benjamini–Hochberg over {s['tests']:,} slices examined.")
    st.plotly_chart(forest_figure(res.found, res.shown_overall, res.shown_label,
                                  res.higher_is_better, level=res.alpha_fdr,
                                  rule=res.rule),
                    key="slices_found_chart")
    show_table(frame(res.found, calibration=res.calibration), key="slices_found_table",
               key_columns=["slice", "significant"], formats=FORMATS, help=TIPS,
               raw_columns=["p_value", "score"])
else:
    st.success("No slice of the minimum size is worse than average.")

if res.changes or res.breakdown_changes:
    st.subheader("Reference vs current")
    which = st.segmented_control("Slices", ["found", "breakdown"], key="slices_which",
                                 default="found" if res.changes else "breakdown",
                                 format_func={"found": "weak slices found",
                                              "breakdown": "breakdown"}.get) or "found"
    changes = res.changes if which == "found" else res.breakdown_changes
    st.caption(f"The same slices in both periods, on {label}; a red bar is a significant "
               "change for the worse (BH q < 0.05 over the slices shown).")
    if changes:
        st.plotly_chart(dumbbell_figure(changes[:MAX_CHART_ROWS], label),
                        key="slices_change_chart")
        show_table(changes_frame(changes), key="slices_change_table",
                   key_columns=["slice", "worsened"], formats=CHANGE_FORMATS, help=TIPS,
                   raw_columns=["reference_low", "reference_high", "current_low",
                                "current_high", "p_value"])

if res.breakdown:
    st.subheader(f"{label} by {', '.join(map(md, res.by))}")
    shown_by = res.breakdown
    if len(shown_by) > MAX_CHART_ROWS:
        worst = sorted(shown_by, key=lambda s: s.metric, reverse=not res.higher_is_better)
        shown_by = worst[:MAX_CHART_ROWS]
        st.caption(f"The chart shows the {MAX_CHART_ROWS} slices with the worst {label}; "
                   f"the table lists all {len(res.breakdown):,}.")
    st.plotly_chart(forest_figure(shown_by, res.overall.metric, label,
                                  res.higher_is_better, level=res.alpha_fdr,
                                  rule=res.rule),
                    key="slices_by_chart")
    show_table(frame(res.breakdown).drop(columns=["score"]), key="slices_by_table",
               key_columns=["slice", "significant"], formats=FORMATS, help=TIPS,
               raw_columns=["p_value"])

st.download_button("Download report (HTML)", analysis("slices").make_report(res).to_html(),
                   file_name="aidebt-slices.html", mime="text/html", key="slices_download")

st.subheader("Drill into a slice")
options = [s.slice for s in (*res.found, *res.breakdown)
           if "(other)" not in s.slice.as_dict().values()]
if options:
    chosen = st.selectbox("Slice", options, format_func=lambda sl: sl.describe(),
                          key="slices_pick")
    # On demand: a drift run on the slice's rows costs about as much as the slice search, and
    # the picked slice changes with every metric switch.
    if st.toggle("Count the columns that drifted within this slice", key="slices_drill"):
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
