"""Data drift: which columns drifted, how much, since when, and what the distributions look like;
plus drift over time per chunk and multivariate (PCA) drift. Optional `?slice={"col": "v"}`."""

import numpy as np
import streamlit as st

from aidebt_app.cache import run_analysis, run_on_data
from aidebt_app.context import current_selection, guard, page_header
from aidebt_app.widgets import chunking_controls
from aidebt_core.analyses import get as analysis
from aidebt_core.chunks import PERIODS
from aidebt_core.data import ROWS
from aidebt_core.drift import METHODS, default_columns, methods
from aidebt_core.drift.entry import DriftColumnsOptions
from aidebt_core.drift.multivariate import multivariate_drift
from aidebt_core.drift.options import parse_column_thresholds
from aidebt_core.drift.over_time import drift_over_time, over_time_method
from aidebt_core.drift.summary import (
    current_since,
    dataset_verdict,
    drift_headline,
    recent_sentence,
    since_text,
)
from aidebt_core.drift.univariate import column_kind
from aidebt_core.errors import SchemaError
from aidebt_core.plots.drift import (
    chunk_unit,
    distribution_figure,
    drift_heatmap,
    drift_overview,
    feature_over_time,
    multivariate_figure,
)
from aidebt_core.plots.theme import format_value
from aidebt_core.profiles.multivariate import STATISTIC, multivariate_route
from aidebt_core.profiles.over_time import (
    ViewUnavailable,
    first_timestamp,
    over_time_route,
)
from aidebt_core.profiles.source import reads_rows
from aidebt_core.slices.define import apply_slice, parse_slice
from aidebt_core.textsafe import md
from aidebt_core.timeaxis import timestamp_sql

Slice = tuple[tuple[str, str], ...]


def _tables(data, slice_spec: Slice):
    if not slice_spec:
        return data.reference, data.current
    return apply_slice(data.reference, dict(slice_spec)), apply_slice(data.current,
                                                                       dict(slice_spec))


def columns_of(data) -> dict:
    s = data.schema
    start = None
    if data.timestamp and reads_rows(data.current):  # when the current period really starts
        start = data.current.execute(
            f"SELECT min({timestamp_sql(data.current, data.timestamp)}) FROM {ROWS}").fetchone()[0]
    elif data.timestamp:   # a saved profile: its first period's start
        start = first_timestamp(data.current)
    return {"features": default_columns(s), "all": default_columns(s, True),
            "timestamp": data.timestamp, "current_start": start,
            "kinds": {c: column_kind(s, c, data.reference.column_types[c], ())
                      for c in default_columns(s, True)}}


def over_time(data, columns: tuple, kinds: tuple, chunking: str, method: str, sigmas: float,
              min_rows: int, slice_spec: Slice):
    ref, cur = _tables(data, slice_spec)
    try:   # from profiles for a saved profile, a Spark source or very large sides
        routed = over_time_route(ref, cur, list(columns), list(kinds), chunking,
                                 data.timestamp, method=method, sigmas=sigmas,
                                 min_rows=min_rows)
    except ViewUnavailable as why:
        return str(why)   # the page says why in one line
    return routed or drift_over_time(ref, cur, list(columns), list(kinds), chunking,
                                     data.timestamp, method=method, sigmas=sigmas,
                                     min_rows=min_rows)


def multivariate(data, numeric: tuple, categorical: tuple, chunking: str, sigmas: float,
                 min_rows: int, slice_spec: Slice):
    ref, cur = _tables(data, slice_spec)
    try:   # from the profiles' moments for a saved profile, Spark or very large sides
        routed = multivariate_route(ref, cur, list(numeric), list(categorical), chunking,
                                    data.timestamp, sigmas=sigmas, min_rows=min_rows)
    except ViewUnavailable as why:
        return f"Multivariate drift not computed: {why}"
    return routed or multivariate_drift(ref, cur, list(numeric), list(categorical), chunking,
                                        data.timestamp, sigmas=sigmas, min_rows=min_rows)


def recent_words(chunking: str, k: int) -> str:
    """'the last month', 'the last 3 weeks', 'the last 2 chunks'."""
    unit = chunking if chunking in PERIODS else "chunk"
    return f"the last {unit}" if k == 1 else f"the last {k} {unit}s"


def report_builder(result, trend, mv):
    """The HTML report, built only when the button is clicked (it embeds plotly.js), from the
    results the page shows: it reads no data. The registry's drift report, given the
    over-time and PCA results too, so it holds every chart the page shows."""
    def build() -> str:
        return analysis("drift").resolve("report")(result, trend, mv).to_html()
    return build


page_header("Data drift", "Which inputs moved away from the reference, how much, and since when.")
selection = current_selection()
slice_spec: Slice = ()
with guard():
    cols = run_on_data(columns_of, selection, spinner="Reading columns…")
    if "slice" in st.query_params:
        slice_spec = tuple(parse_slice(st.query_params["slice"]).items())
if slice_spec:
    st.info("Only rows in the slice " + " and ".join(f"**{md(k)} {md(v)}**" if v[:1] in "<>=["
                                                     else f"**{md(k)} = {md(v)}**"
                                                     for k, v in slice_spec)
            + " (from the link). Remove `slice` from the URL to see all rows.",
            icon=":material/filter_alt:")

with st.expander("Method, thresholds, columns and chunks"):
    a, b, c, d = st.columns(4)
    method = a.selectbox("Method", METHODS, key="drift_method",
                         help="auto: KS / chi-square (p < 0.05) below 1,000 values a side, "
                              "Wasserstein / Jensen–Shannon (≥ 0.1) above.\n\n"
                              + "\n\n".join(f"{m.name}: {m.help}"
                                             for m in methods.all_methods()))
    threshold = b.number_input("Threshold (0 = default)", min_value=0.0, value=0.0,
                               step=0.05, format="%.3f", key="drift_threshold",
                               help="p-value for the tests ("
                                    + "/".join(m.name for m in methods.all_methods()
                                               if m.by_p_value)
                                    + "), distance otherwise; under auto the distance.")
    share = c.slider("Dataset drift when share ≥", 0.05, 1.0, 0.5, 0.05, key="drift_share")
    outputs = d.toggle("Include model outputs", key="drift_outputs",
                       help="Also compare the prediction and score columns.")
    pool = cols["all"] if outputs else cols["features"]
    chosen = st.multiselect("Columns", pool, default=pool,
                            key="drift_columns_all" if outputs else "drift_columns")
    per_column = st.text_input("Per-column thresholds", key="drift_col_thresholds",
                               placeholder="income=0.2, channel=0.05")
    chunks = chunking_controls(
        "drift", bool(cols["timestamp"]), default_rows=5000, rows_step=500,
        band_label="Alert band (reference σ)",
        band_help="Chunk thresholds: the larger of a no-drift chunk's σ-equivalent quantile "
                  "(3σ: 0.135 % false alerts) and mean + this many σ of the reference chunks.")
    chunking, sigmas = chunks.chunking, chunks.sigmas
    recent = int(st.number_input(
        "Recent chunks in the headline", min_value=1, max_value=24, value=1, key="drift_recent",
        help="A column also counts as drifted when it alerts in one of the last this many "
             "current chunks that are large enough to judge."))

with guard():
    if not chosen:
        raise SchemaError("Pick at least one column.")
    options = DriftColumnsOptions(method=method, threshold=threshold or None, drift_share=share,
                                  column_thresholds=parse_column_thresholds(per_column),
                                  columns=tuple(chosen))
    result = run_analysis("drift", selection, options, rows=slice_spec,
                          spinner="Comparing every column…")
    kinds = tuple(cols["kinds"][c] for c in chosen)
    trend = run_on_data(over_time, selection, tuple(chosen), kinds, chunking,
                        over_time_method(method), sigmas, chunks.min_rows,
                        slice_spec, spinner="Drift per chunk…")
    no_trend = trend if isinstance(trend, str) else None   # why there is no trend
    trend = None if no_trend else trend

noun = "columns" if outputs else "inputs"
since = since_text(cols["current_start"], chunking) \
    if cols["current_start"] is not None and chunking in PERIODS else current_since(trend)
drifted = result.drifted_columns
recent_alerts = trend.recent_alerts(recent) if trend else {}
recent_span = recent_words(chunking, recent)
worst = result.worst
# One headline, the CLI's definition (whole current period vs the reference); the dataset
# verdict and the recent alerts follow as consequences and extras, never as rival verdicts.
st.subheader(drift_headline(result, since, noun), anchor=False)
m1, m2, m3, m4 = st.columns(4)
m1.metric(f"Drifted {noun}", f"{len(drifted)} / {len(result.testable)}",
          help=f"Whole current period vs the reference: {', '.join(map(md, drifted)) or 'none'}.")
m2.metric(f"Worst {noun[:-1]}", md(worst.name) if worst else "—",
          help=f"{worst.method} = {worst.statistic:.3g}, threshold {worst.threshold:.3g}"
          if worst and worst.statistic is not None else None)
m3.metric("Missing share changed", len(result.missing_changed),
          help=", ".join(map(md, result.missing_changed)) or "none")
m4.metric(f"Alerting in {recent_span}", len(recent_alerts),
          help="Columns past their chunk threshold (drift over time) in "
               f"{recent_span}: {', '.join(map(md, recent_alerts)) or 'none'}.")
extra = recent_sentence(trend, recent, drifted, recent_span) if trend else None
st.caption(dataset_verdict(result) + (" " + md(extra) if extra else ""))
st.caption(f"Reference {result.reference_rows:,} rows · current {result.current_rows:,} rows")

table = result.to_frame().drop(columns=["missing_reference", "missing_current"])
# A p-value only where the method decides by it (KS, chi-square); a distance method's
# column would show a tiny p beside "not drifted" and read as a contradiction.
by_p = {c.name: c.method_info.by_p_value for c in result.columns}
table["p_value"] = [p if by_p[c] else np.nan for c, p in zip(table["column"], table["p_value"],
                                                                strict=True)]
if not any(by_p.values()):
    table = table.drop(columns=["p_value"])
table["missing_change"] = (table["missing_change"] * 100).round(1) + 0.0  # no "-0.0"
# The sparkline leaves chunks too small to judge empty: a spike there is not an alert.
if trend is not None:
    judged_ratios = np.where(trend.judged, trend.ratios, np.nan)
    table.insert(table.columns.get_loc("drifted") + 1, "recent_alert",
                 [c in recent_alerts for c in table["column"]])
    # A line needs two judged chunks: the grid draws one point as a bare number.
    table.insert(table.columns.get_loc("recent_alert") + 1, "trend",
                 [[None if np.isnan(v) else float(v) for v in row]
                  if np.count_nonzero(~np.isnan(row)) >= 2 else None
                  for row in (judged_ratios[trend.columns.index(c)] for c in table["column"])])
# Fit 1440 px: the kind is in the method's name, and empty columns carry nothing.
table = table.drop(columns=["kind"])
for name in ("new_categories", "vanished_categories", "note"):
    table[name] = table[name].replace("", None)
    if table[name].isna().all():
        table = table.drop(columns=[name])
if (table["status"] == "ok").all():
    table = table.drop(columns=["status"])
st.dataframe(table, hide_index=True, width="stretch", key="drift_table", placeholder="—",
             column_config={
    "column": st.column_config.TextColumn("Column", pinned=True),
    "method": "Method",
    "statistic": st.column_config.NumberColumn("Statistic", format="%.3f",
                                               help="the method's measure, whole period"),
    "p_value": st.column_config.NumberColumn(
        "p-value", format="%.3g", help="only for tests that decide by it (drifted when "
                                       "p < threshold); distance methods have none"),
    "threshold": st.column_config.NumberColumn(
        "Threshold", format="%.3g",
        help="whole-period threshold: the method's default or yours. The drift-over-time "
             "view judges single chunks by their own, noise-based thresholds."),
    "drifted": st.column_config.CheckboxColumn("Drifted", help="whole current period vs "
                                                               "the reference"),
    "recent_alert": st.column_config.CheckboxColumn(
        "Recent alert", help="past its chunk threshold in "
                                        f"{recent_span} (drift over time, judged chunks)"),
    "trend": st.column_config.LineChartColumn(
        "Over time", width="small", y_min=0, y_max=3,
        help="drift per chunk ÷ the column's chunk threshold (above 1 = alert; axis 0–3)"),
    "missing_change": st.column_config.NumberColumn(
        "Missing Δ (pp)", format="%+.1f",
        help="change of the missing share, current − reference, in percentage points"),
    "new_categories": "New values", "vanished_categories": "Vanished values",
    "status": "Status", "note": "Note"})
st.plotly_chart(drift_overview(result), width="stretch", key="drift_overview")

@st.fragment
def column_detail(result, trend, chosen: list[str], default: int) -> None:
    """One column's distributions and drift over time. A fragment: picking another column
    or the ECDF reruns only this part, not the page's tables and heatmaps."""
    st.subheader("One column in detail")
    detail = st.selectbox("Column", chosen, key="drift_detail", index=default)
    col = result.column(detail)
    if col.status != "ok":
        st.warning(f"{md(detail)}: {col.status} — {md(col.note)}", icon=":material/info:")
        return
    shown = {k for m in methods.all_methods() for k in (m.measure, m.p_value_measure)}
    measures = ", ".join(f"{k} {format_value(v, 'pvalue' if 'p_value' in k else 'statistic')}"
                         for k, v in col.measures.items() if k in shown and v is not None)
    st.caption(f"{md(detail)}: {measures}"
               + (f" · new values: {', '.join(map(md, col.new_categories[:10]))}"
                  if col.new_categories else ""))
    if trend is None:   # no drift over time from these profiles (said below)
        st.plotly_chart(distribution_figure(result.distribution(detail), False),
                        width="stretch", key="drift_dist")
        return
    row = trend.columns.index(detail)
    unit = chunk_unit(trend.chunking)
    st.caption(
        f"Two thresholds, two questions: the table's **{col.threshold:.3g}** ({col.method}) "
        f"judges the whole current period at once; the chart's **{unit} alert threshold "
        f"{trend.thresholds[row]:.3g}** ({trend.methods[row]}) judges one chunk, from how much "
        "the reference chunks vary and a chunk's own sampling noise."
        if trend.threshold_source != "default" else
        f"The table's threshold {col.threshold:.3g} judges the whole current period; with "
        "fewer than two reference chunks the chart uses the method's default per chunk.")
    dist = result.distribution(detail)  # carried by the result: no query
    left, right = st.columns(2)
    ecdf = col.kind == "numeric" and left.toggle("Cumulative (ECDF)", key="drift_ecdf")
    left.plotly_chart(distribution_figure(dist, ecdf), width="stretch", key="drift_dist")
    right.plotly_chart(feature_over_time(trend, detail), width="stretch", key="drift_line")


column_detail(result, trend, chosen,
              chosen.index(worst.name) if worst and worst.name in chosen else 0)

st.subheader("Drift over time")
if trend is None:
    st.info(f"Not computed: {md(no_trend)}", icon=":material/info:")
    st.download_button("Download HTML report", report_builder(result, None, None),
                       file_name="aidebt-drift.html", mime="text/html", key="drift_report",
                       on_click="ignore")
    st.stop()
n_ref = sum(c.period == "reference" for c in trend.chunks)
st.caption(f"Each chunk's threshold is the larger of its sampling noise (the level a chunk of "
           f"its size drawn from the reference exceeds with the one-sided probability of "
           f"{sigmas:g}σ; 3σ: 0.135 %) and mean + {sigmas:g}σ of the {n_ref} reference chunks; "
           "each reference chunk is compared with the rest of the reference." if
           trend.threshold_source != "default" else
           "Fewer than two reference chunks: default thresholds are used.")
small = [c.label for c in trend.chunks if c.too_small]
partial = [c.label for c in trend.chunks if c.partial]
if small or partial:
    st.caption((f"Greyed, too small to judge (under {trend.min_rows:,} rows; they never "
                f"alert): {', '.join(small)}. " if small else "")
               + (f"Partial periods (the data does not cover them fully): "
                  f"{', '.join(partial)}." if partial else ""))
binned = [c for c, exact in zip(trend.columns, trend.exact or [True] * len(trend.columns),
                                 strict=True) if not exact]
if binned:
    st.caption(f"From binned profiles, approximate (each value within its bound, ≈): "
               f"{', '.join(map(md, binned))}." + (f" {md(trend.note)}." if trend.note else ""))
elif trend.note:
    st.caption(md(trend.note) + ".")
tab_drift, tab_missing = st.tabs(["Drift", "Missing share"])
tab_drift.plotly_chart(drift_heatmap(trend), width="stretch", key="drift_heat")
tab_missing.plotly_chart(drift_heatmap(trend, missing=True), width="stretch",
                         key="drift_heat_missing")

st.subheader("Multivariate drift")
numeric = tuple(c for c in chosen if cols["kinds"][c] == "numeric")
categorical = tuple(c for c in chosen if cols["kinds"][c] == "categorical")
with guard():
    mv = run_on_data(multivariate, selection, numeric, categorical, chunking, sigmas,
                     chunks.min_rows, slice_spec, spinner="Fitting the PCA on the reference…")
if isinstance(mv, str):   # not from profiles: say why, keep the report of the rest
    st.info(md(mv), icon=":material/info:")
    mv = None
else:
    st.caption("A PCA fitted on the reference rebuilds every row; when relations between "
               "columns change (a broken correlation), rows are rebuilt worse even if each "
               "column alone looks unchanged. Each chunk's threshold follows its own size. "
               f"First alert: {mv.first_alert() or 'none'}.")
    mv_settings = dict(mv.settings)
    if mv_settings.get("source") == "profiles":
        left_out = mv_settings.get("left_out") or ()
        st.caption(f"From the profiles: the {STATISTIC}, numeric columns only"
                   + (f" ({', '.join(map(md, left_out))} left out: categorical columns need "
                      "the rows)" if left_out else "") + ".")
    st.plotly_chart(multivariate_figure(mv), width="stretch", key="drift_mv")

st.download_button("Download HTML report", report_builder(result, trend, mv),
                   file_name="aidebt-drift.html", mime="text/html", key="drift_report",
                   on_click="ignore")
