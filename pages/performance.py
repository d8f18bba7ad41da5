"""Performance & concept drift: realized vs label-free estimated quality per chunk, the gap
between them, and how each feature's relation to the target changed."""

from dataclasses import replace

import streamlit as st

from aidebt_app.cache import run_analysis, run_on_data
from aidebt_app.context import current_selection, guard, page_header
from aidebt_app.widgets import chunking_controls
from aidebt_core.analyses import get as analysis
from aidebt_core.chunks import PERIODS, where_between
from aidebt_core.errors import SchemaError
from aidebt_core.performance import METRIC_NAMES
from aidebt_core.performance.entry import PerformanceOptions
from aidebt_core.performance.relationship import rank_relationships
from aidebt_core.plots.performance import gap_figure, performance_figure, relationship_figure
from aidebt_core.reports.performance import EXPLANATION

NONE = "(none)"


def roles(data) -> dict:
    s = data.schema
    return {"columns": s.names, "target": s.first("target"), "score": s.first("score"),
            "prediction": s.first("prediction"), "timestamp": data.timestamp,
            "features": s.features}


def relationships(data, features: tuple, target, timestamp, start, end, inclusive: bool):
    current = where_between(data.current, timestamp, start, end, inclusive) \
        if timestamp and start is not None else data.current
    return rank_relationships(data.reference, current, list(features), target)


page_header("Performance & concept drift",
            "Realized quality where labels exist, a label-free estimate where they don't, "
            "and the gap between them.")
selection = current_selection()
with guard():
    cols = run_on_data(roles, selection, spinner="Reading columns…")

with st.expander("Columns and chunks", expanded=not cols["target"]):
    options = [NONE, *cols["columns"]]

    def pick(label, role, key, help=None):
        default = cols[role] if cols[role] in options else NONE
        value = st.selectbox(label, options, index=options.index(default), key=key, help=help)
        return None if value == NONE else value

    a, b, c, d = st.columns(4)
    with a:
        target = pick("Label", "target", "perf_target", "0/1 outcome; empty where not known yet")
    with b:
        score = pick("Score", "score", "perf_score", "predicted probability in [0, 1]")
    with c:
        prediction = pick("Prediction", "prediction", "perf_pred", "the 0/1 decision")
    with d:
        timestamp = pick("Timestamp", "timestamp", "perf_ts")
    chunks = chunking_controls(
        "perf", bool(timestamp), default_rows=10_000, rows_step=1000,
        band_label="Band width (reference σ)",
        band_help="Thresholds are the reference chunks' mean ± this many σ; a chunk alerts "
                  "when its whole confidence interval lies beyond them.", labels=True)
    chunking, k = chunks.chunking, chunks.sigmas

with guard():
    if not target:
        raise SchemaError("Pick the label column (no column has the 'target' role).")
    options = PerformanceOptions(chunk=chunking, k=k, min_rows=chunks.min_rows,
                                 min_labels=chunks.min_labels, roles_from_schema=False,
                                 target=target, score=score, prediction=prediction,
                                 timestamp=timestamp)
    result = run_analysis("performance", selection, options,
                          spinner="Computing performance per chunk…")

metric = st.segmented_control("Metric", result.metrics, default=result.metric,
                              format_func=METRIC_NAMES.get, key="perf_metric") or result.metric
series = result.series[metric]
alerts = result.alerts(metric)
frame = result.to_frame(metric)
current = frame[frame["period"] == "current"]
last = current.iloc[-1] if len(current) else frame.iloc[-1]

m1, m2, m3, m4 = st.columns(4)
m1.metric(f"{series.name}, reference mean", f"{series.band.centre:.3f}",
          help=f"band {series.band.lower:.3f} – {series.band.upper:.3f}")
m2.metric(f"Latest chunk ({last['chunk']})",
          "too small to judge" if last["too_small"] else "no labels"
          if last["labelled_rows"] == 0 else f"{last['realized']:.3f}",
          help=f"realized value ({int(last['rows']):,} rows, {int(last['labelled_rows']):,} "
               "labelled)")
m3.metric("Latest estimate", "—" if last["estimated"] != last["estimated"]
          else f"{last['estimated']:.3f}", help="from scores alone")
m4.metric("Concept-drift alerts", len(alerts["concept_drift"]),
          help=", ".join(alerts["concept_drift"]) or "none")

st.info(EXPLANATION, icon=":material/lightbulb:")
if alerts["concept_drift"]:
    st.warning(f"Concept drift: in {', '.join(alerts['concept_drift'])} realized "
               f"{series.name} left the label-free estimate beyond the reference variation — "
               "the inputs alone do not explain it; the feature → target relation changed.",
               icon=":material/warning:")
if alerts["performance"]:
    st.error(f"{series.name} is worse than the reference band in "
             f"{', '.join(alerts['performance'])}.", icon=":material/trending_down:")
partial = [c.label for c in result.chunks if c.partial]
if alerts["too_small"] or alerts["too_few_labels"] or partial:
    st.caption(
        (f"Greyed, too small to judge (under {result.min_rows:,} rows; no alerts): "
         f"{', '.join(alerts['too_small'])}. " if alerts["too_small"] else "")
        + (f"Too few labels for a realized or concept-drift claim (under "
           f"{result.min_labels:,}): {', '.join(alerts['too_few_labels'])}. "
           if alerts["too_few_labels"] else "")
        + (f"Partial periods (the data does not cover them fully): {', '.join(partial)}."
           if partial else ""))
if alerts["unlabelled"]:
    st.caption(f"No labels yet in {', '.join(alerts['unlabelled'])}: only the estimate is shown "
               "(shaded).")

st.plotly_chart(performance_figure(result, metric), width="stretch", key="perf_fig")
st.plotly_chart(gap_figure(result, metric), width="stretch", key="gap_fig")
st.dataframe(frame.drop(columns=["start", "end", "gap_lower", "gap_upper"]), hide_index=True,
             width="stretch", key="perf_table")
# Every applicable metric's series is in the result; the picked one leads the report.
report = analysis("performance").make_report(replace(result, metric=metric))
st.download_button("Download HTML report", report.to_html(),
                   file_name="performance.html", mime="text/html", key="perf_report")

st.subheader("How the feature → target relation changed")
labelled = [c for c in result.chunks if c.period == "current" and c.labelled_rows > 0]
if not cols["features"] or not labelled:
    st.caption("Needs feature columns and labelled current chunks.")
    st.stop()
names = [c.label for c in labelled]
flagged = [n for n in names if n in alerts["concept_drift"]]
window = st.select_slider("Current chunks to compare with the reference", names,
                          value=(flagged[0] if flagged else names[0], names[-1]),
                          key="perf_window")
chosen = labelled[names.index(window[0]):names.index(window[1]) + 1] or labelled
period_chunks = result.chunking in PERIODS
with guard():
    ranked = run_on_data(relationships, selection, tuple(cols["features"]), target, timestamp,
                         chosen[0].start, chosen[-1].end, not period_chunks,
                         spinner="Comparing feature → target relations…")
st.caption("Shape change = average change of the target rate per feature bin after removing "
           "the overall level change. Largest first.")
feature = st.selectbox("Feature", [r.feature for r in ranked], key="perf_feature")
rel = next(r for r in ranked if r.feature == feature)
span = chosen[0].label if len(chosen) == 1 else f"{chosen[0].label} – {chosen[-1].label}"
st.plotly_chart(relationship_figure(rel, f"current ({span})"), width="stretch", key="rel_fig")
left, right = st.columns([1, 2])
left.dataframe([{"feature": r.feature, "shape change": round(r.shift, 4)} for r in ranked],
               hide_index=True, key="rel_rank")
right.dataframe(rel.to_frame(), hide_index=True, width="stretch", key="rel_table")
