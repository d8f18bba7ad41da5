"""Performance & concept drift: realized vs label-free estimated quality per chunk, the gap
between them, and how each feature's relation to the target changed."""

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from aidebt_app.cache import figure, run_analysis, run_on_data
from aidebt_app.context import current_selection, guard, page_header
from aidebt_app.tables import show_table
from aidebt_app.widgets import chunking_controls
from aidebt_core.analyses import get as analysis
from aidebt_core.chunks import PERIODS, where_between
from aidebt_core.performance import METRIC_NAMES
from aidebt_core.performance.entry import PerformanceOptions
from aidebt_core.performance.notes import alert_notes, headline
from aidebt_core.performance.relationship import rank_relationships
from aidebt_core.performance.result import realized_judged
from aidebt_core.plots.performance import gap_figure, performance_figure, relationship_figure
from aidebt_core.profiles.source import reads_rows
from aidebt_core.reports.performance import EXPLANATION
from aidebt_core.textsafe import md

NONE = "(none)"
# Next to a ranking metric (AUC), one that also punishes miscalibrated probabilities.
CALIBRATION_METRICS = ("brier", "log_loss")


def roles(data) -> dict:
    s = data.schema
    return {"columns": s.names, "target": s.first("target"), "score": s.first("score"),
            "prediction": s.first("prediction"), "timestamp": data.timestamp,
            "features": s.features,
            "rows": reads_rows(data.reference) and reads_rows(data.current)}


def relationships(data, features: tuple, target, timestamp, start, end, inclusive: bool):
    current = where_between(data.current, timestamp, start, end, inclusive) \
        if timestamp and start is not None else data.current
    return rank_relationships(data.reference, current, list(features), target)


def latest_judged(result, metric: str):
    """(chunk, value) of the last current chunk whose realized value can be judged."""
    pairs = [(c, v) for c, v in zip(result.chunks, result.series[metric].values, strict=True)
             if c.period == "current" and realized_judged(c, v)]
    return pairs[-1] if pairs else (None, None)


def realized_card(column, result, metric: str) -> None:
    """The latest judged realized value, with its change from the reference mean."""
    series = result.series[metric]
    chunk, value = latest_judged(result, metric)
    if chunk is None:
        column.metric(f"{series.name}, realized", "no labelled chunk",
                      help="No current chunk has enough labels to measure it.")
        return
    column.metric(f"{series.name}, realized ({chunk.label})", f"{value.realized:.3f}",
                  delta=f"{value.realized - series.band.centre:+.3f} vs reference",
                  delta_color="inverse" if series.lower_is_better else "normal",
                  help=f"Latest current chunk with enough labels ({chunk.labelled_rows:,} "
                       f"labelled rows). Reference mean {series.band.centre:.3f}, band "
                       f"{series.band.lower:.3f} – {series.band.upper:.3f}."
                       + (" Lower is better." if series.lower_is_better else ""))


def report_builder(result, metric: str):
    """The HTML report, built only when the button is clicked (it embeds plotly.js, and its
    figures cost a second per rerun). Every applicable metric's series is in the result; the
    picked one leads the report."""
    def build() -> str:
        return analysis("performance").make_report(replace(result, metric=metric)).to_html()
    return build


page_header("Performance & concept drift",
            "Realized quality where labels exist, a label-free estimate where they don't, "
            "and the gap between them.")
selection = current_selection()
with guard():
    cols = run_on_data(roles, selection, spinner="Reading columns…")

with st.expander("Columns and chunks", expanded=not cols["target"]):
    choices = [NONE, *cols["columns"]]

    def pick(label, role, key, help=None):
        default = cols[role] if cols[role] in choices else NONE
        value = st.selectbox(label, choices, index=choices.index(default), key=key, help=help)
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

if not target:
    st.info("**Pick the label column** under *Columns and chunks* above: this page compares "
            "the model's outputs with the true outcomes, so it needs the column that holds "
            "them (0/1, empty where the outcome is not known yet).",
            icon=":material/label:")
    st.stop()
if not score and not prediction:
    st.info("**Pick the model's score or prediction** under *Columns and chunks* above: "
            "quality is measured on what the model said, and neither column is set.",
            icon=":material/label:")
    st.stop()

with guard():
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
notes = alert_notes(result, metric)
has_estimate = series.gap_band is not None

st.markdown(f"**{md(headline(result, metric))}**")
cards = st.columns(4)
realized_card(cards[0], result, metric)
calibration = next((m for m in CALIBRATION_METRICS if m in result.series and m != metric),
                   None)
if calibration:
    realized_card(cards[1], result, calibration)
else:
    cards[1].metric("Realized alerts", len(alerts["performance"]),
                    help=", ".join(alerts["performance"]) or "none")
if has_estimate:
    last = result.chunks[-1]
    est = series.values[-1].estimated
    cards[2].metric(f"{series.name}, estimated ({last.label})",
                    "—" if np.isnan(est) else f"{est:.3f}",
                    help="From the scores alone, calibrated on the reference: no labels "
                         "needed, so it also covers chunks whose outcomes are not known yet.")
    cards[3].metric("Concept-drift alerts", len(alerts["concept_drift"]),
                    help=", ".join(alerts["concept_drift"]) or "none")
else:
    cards[2].metric("Labelled current chunks",
                    sum(c.period == "current" and c.labelled_rows > 0 for c in result.chunks))

if has_estimate:
    st.info(EXPLANATION, icon=":material/lightbulb:")
else:
    st.caption("No score column: only realized quality (where labels exist) is shown. Pick a "
               "score to get a label-free estimate and the concept-drift signal.")


def bullet_list(kind: str) -> str:
    return "\n".join(f"- {md(n.text)}" for n in notes if n.kind == kind)


if alerts["concept_drift"]:
    st.warning("**Concept drift**: realized quality left the label-free estimate by more "
               "than the reference chunks vary — the inputs alone do not explain it; the "
               "feature → target relation changed.\n\n" + bullet_list("concept_drift"),
               icon=":material/warning:")
if alerts["performance"]:
    st.error(f"**{series.name} outside the reference band** (measured on labels):\n\n"
             + bullet_list("performance"), icon=":material/trending_down:")
if alerts["estimate_only"]:
    st.warning("**Estimate only** (no or too few labels, so nothing is measured yet): the "
               "label-free estimate is beyond the reference band.\n\n"
               + bullet_list("estimate_only"), icon=":material/query_stats:")
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
    st.caption(f"No labels yet in {', '.join(alerts['unlabelled'])}: "
               + ("only the estimate is shown (shaded)." if has_estimate
                  else "nothing can be measured there."))

bounds = [(v.realized_bound, v.estimated_bound) for v in series.values]
if any(b is not None for pair in bounds for b in pair):   # from profiles: say what is binned
    largest = [max((b for b in col if b is not None and np.isfinite(b)), default=0.0)
               for col in zip(*bounds, strict=True)]
    st.caption("From profiles: " + "; ".join(
        f"{what} {'exact' if worst == 0 else f'≈, within ±{worst:.2g} (binned scores)'}"
        for what, worst in zip(("realized", "estimated"), largest, strict=True)
        if any(pair[what == "estimated"] is not None for pair in bounds)) + ".")
st.plotly_chart(figure(performance_figure, result, metric), width="stretch", key="perf_fig")
if has_estimate:
    st.plotly_chart(figure(gap_figure, result, metric), width="stretch", key="gap_fig")

main_columns = ["chunk", "period", "rows", "labelled_rows", "realized", "estimated", "gap",
                "alert", "concept_alert", "note"]
frame = result.to_frame(metric).drop(columns=["start", "end", "gap_lower", "gap_upper"])
frame = frame[main_columns + [c for c in frame.columns if c not in main_columns]]
estimate_columns = ["estimated", "estimated_low", "estimated_high", "gap", "estimated_alert",
                    "concept_alert"]
show_table(
    frame, key="perf_table", hide=() if has_estimate else estimate_columns,
    key_columns=["chunk"],
    raw_columns=["ci_low", "ci_high", "estimated_low", "estimated_high", "lower", "upper",
                 "partial", "too_small", "too_few_labels", "estimated_alert"],
    formats={c: 3 for c in ("realized", "estimated", "ci_low", "ci_high", "estimated_low",
                            "estimated_high", "lower", "upper")} | {"gap": "signed"},
    labels={"realized": f"{series.name} (realized)", "estimated": f"{series.name} (estimated)",
            "gap": "Realized − estimate", "alert": "Outside band",
            "concept_alert": "Concept drift", "labelled_rows": "Labelled rows",
            "lower": "Band low", "upper": "Band high", "estimated_alert": "Estimate outside band",
            "note": "Note"},
    help={"alert": "realized value (or, without enough labels, the estimate) beyond the "
                   "reference band on the worse side",
          "gap": "realized minus the label-free estimate on the same labelled rows"},
    raw_label="Intervals, band edges and flags")
st.download_button("Download HTML report", report_builder(result, metric),
                   file_name="performance.html", mime="text/html", key="perf_report",
                   on_click="ignore")

@st.fragment
def relation_view(result, alerts: dict, features: tuple, target: str, timestamp) -> None:
    """How each feature's relation to the target changed over a window of current chunks.
    A fragment: moving the window or picking a feature reruns only this part."""
    st.subheader("How the feature → target relation changed")
    labelled = [c for c in result.chunks if c.period == "current" and c.labelled_rows > 0]
    if not features or not labelled:
        st.caption("Needs feature columns and labelled current chunks.")
        return
    if not cols["rows"]:   # a saved profile or a Spark source: counts only
        st.caption("Needs each row's features and label; a saved profile or a Spark source "
                   "holds counts only.")
        return
    names = [c.label for c in labelled]
    flagged = [n for n in names if n in alerts["concept_drift"]]
    window = st.select_slider("Current chunks to compare with the reference", names,
                              value=(flagged[0] if flagged else names[0], names[-1]),
                              key="perf_window")
    chosen = labelled[names.index(window[0]):names.index(window[1]) + 1] or labelled
    period_chunks = result.chunking in PERIODS
    with guard():
        ranked = run_on_data(relationships, selection, features, target, timestamp,
                             chosen[0].start, chosen[-1].end, not period_chunks,
                             spinner="Comparing feature → target relations…")
    st.caption("Shape change = average change of the target rate per feature bin after removing "
               "the overall level change. Largest first.")
    feature = st.selectbox("Feature", [r.feature for r in ranked], key="perf_feature")
    rel = next(r for r in ranked if r.feature == feature)
    span = chosen[0].label if len(chosen) == 1 else f"{chosen[0].label} – {chosen[-1].label}"
    st.plotly_chart(figure(relationship_figure, rel, f"current ({span})"), width="stretch",
                    key="rel_fig")
    left, right = st.columns([1, 2])
    with left:
        show_table(pd.DataFrame({"feature": [r.feature for r in ranked],
                                 "shape_change": [r.shift for r in ranked]}),
                   key="rel_rank", formats={"shape_change": 3},
                   labels={"feature": "Feature", "shape_change": "Shape change"})
    with right:
        show_table(rel.to_frame(), key="rel_table",
                   formats={"reference_rate": "rate", "current_rate": "rate",
                            "reference_rows": "count", "current_rows": "count"},
                   labels={"bin": "Bin", "reference_rate": "Target rate (reference)",
                           "current_rate": "Target rate (current)",
                           "reference_rows": "Rows (reference)",
                           "current_rows": "Rows (current)"})


relation_view(result, alerts, tuple(cols["features"]), target, timestamp)
