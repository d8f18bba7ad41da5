"""Reproducibility: which MLflow runs could be re-made (code, data, seed, params, environment),
what each is missing and how to fix it, two runs side by side, and the registry's lineage."""

from datetime import UTC, datetime

import streamlit as st

from aidebt_app.cache import run_recent
from aidebt_app.context import current_selection, guard, page_header
from aidebt_core.plots.runs import (
    completeness_figure,
    fields_figure,
    importance_figure,
    lineage_figure,
    metrics_diff_figure,
    staleness_figure,
)
from aidebt_core.reports.runs import reproducibility_report
from aidebt_core.runs import (
    FIELD_BY_NAME,
    FIELD_NAMES,
    compare_runs,
    feature_importances,
    lineage,
    read_registry,
    read_runs,
    staleness,
)
from aidebt_core.runs.client import open_store
from aidebt_core.serving import display_uri
from aidebt_core.textsafe import md, md_code

CHART_RUNS = 40  # bars/rows per chart; the table above holds every run
MLFLOW_TTL = 60  # seconds: runs logged meanwhile show within a minute


def load(uri: str, required: tuple[str, ...]):
    store = open_store(uri)
    return read_runs(store, required=list(required)), read_registry(store)


def importances(uri: str, run_id: str):
    store = open_store(uri)
    return feature_importances(store.get_run(run_id), store)


def diff(uri: str, required: tuple[str, ...], a: str, b: str):
    table, _ = run_recent(load, uri, required, ttl=MLFLOW_TTL)
    return compare_runs(table, a, b, store=uri)


def naive(frame):
    """UTC times without the zone (Streamlit's table warns on tz-aware columns)."""
    zoned = [c for c in frame.columns if getattr(frame[c].dtype, "tz", None) is not None]
    return frame.assign(**{c: frame[c].dt.tz_convert(None) for c in zoned})


def pct(value: float) -> str:
    return f"{value:.1%}".replace(".0%", "%")


page_header("Reproducibility", "Can each model be re-made? Git commit, data snapshot, "
            "features, params, seed, metrics, model and environment, read from MLflow.")
uri = current_selection().tracking_uri
if not uri:
    st.info("Set an MLflow tracking URI in the sidebar to read runs.", icon=":material/info:")
    st.stop()

with st.expander("Required fields and budgets"):
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    required = c1.multiselect("Fields that count towards completeness", FIELD_NAMES,
                              default=list(FIELD_NAMES), key="rep_required",
                              format_func=lambda n: FIELD_BY_NAME[n].label)
    threshold = c2.slider("Good enough at", 0.0, 1.0, 0.75, 0.05, key="rep_threshold")
    age_budget = c3.number_input("Model age budget (days)", 1, 3650, 180, key="rep_age")
    data_budget = c4.number_input("Data age budget (days)", 1, 3650, 365, key="rep_data")
    alias = st.text_input("Deployed alias", "production", key="rep_alias") or "production"

with guard():
    table, registry = run_recent(load, uri, tuple(required or FIELD_NAMES), ttl=MLFLOW_TTL,
                                 spinner="Reading MLflow runs…")
    report = staleness(registry, table, alias=alias, now=datetime.now(UTC),
                       age_budget_days=age_budget, data_budget_days=data_budget)
st.caption(f"MLflow store: {md_code(display_uri(table.uri))} · experiments: "
           f"{', '.join(map(md, table.experiments)) or '—'}")
if not table.manifests:
    st.warning("This tracking store has no runs in its active experiments.",
               icon=":material/warning:")
    st.stop()

deployed = {m.run_id for m in report.models if m.run_id}
below = [m for m in table.manifests if m.run_id in deployed and m.completeness < threshold]
summary = table.summary()
m1, m2, m3, m4 = st.columns(4)
m1.metric("Runs", summary["runs"])
m2.metric("Complete manifests", summary["complete"])
m3.metric("Mean completeness", f"{summary['mean_completeness']:.0%}")
m4.metric(f"Deployed ({md(alias)}) below {threshold:.0%}", len(below),
          help=", ".join(md(m.label) for m in below) or "none")
st.download_button(
    "Download HTML report", lambda: reproducibility_report(
        table, registry, alias=alias, age_budget_days=age_budget,
        data_budget_days=data_budget).to_html(),
    file_name="aidebt-reproducibility.html", mime="text/html", key="rep_report",
    icon=":material/download:")

runs_tab, card_tab, diff_tab, registry_tab = st.tabs(
    ["Runs", "Manifest card", "Compare two runs", "Registry & lineage"])

with runs_tab:
    frame = table.to_frame()
    f1, f2, f3 = st.columns(3)
    experiments = f1.multiselect("Experiments", list(table.experiments), key="rep_exp")
    gaps = f2.multiselect("Missing any of", list(table.required), key="rep_gaps")
    minimum = f3.slider("Completeness at least", 0.0, 1.0, 0.0, 0.125, key="rep_min")
    shown = frame[frame["completeness"] >= minimum - 1e-9]
    if experiments:
        shown = shown[shown["experiment"].isin(experiments)]
    if gaps:
        shown = shown[shown[[f"has_{g}" for g in gaps]].eq(False).any(axis=1)]
    st.dataframe(
        naive(shown)[["experiment", "run_name", "status", "start_time", "completeness",
                      "missing", "git_commit", "seed", "data_digest", "n_params", "n_metrics",
                      "run_id"]],
        hide_index=True, width="stretch", key="rep_runs",
        column_config={
            "completeness": st.column_config.ProgressColumn(
                "completeness", min_value=0.0, max_value=1.0, format="percent"),
            "start_time": st.column_config.DatetimeColumn("started", format="YYYY-MM-DD HH:mm"),
        })
    st.caption(f"{len(shown)} of {len(frame)} runs shown.")
    shown_ids = set(shown["run_id"])
    view = type(table)(table.uri, table.experiments,
                       tuple(m for m in table.manifests if m.run_id in shown_ids)[:CHART_RUNS],
                       table.required)
    if len(shown_ids) > CHART_RUNS:
        st.caption(f"Charts show the {CHART_RUNS} newest of the {len(shown_ids)} runs shown.")
    if view.manifests:
        st.plotly_chart(completeness_figure(view, threshold), width="stretch",
                        key="rep_completeness")
        st.plotly_chart(fields_figure(view), width="stretch", key="rep_fields")

labels = {m.run_id: f"{m.label} · {pct(m.completeness)} · {m.run_id[:8]}"
          for m in table.manifests}
ids = list(labels)

with card_tab:
    run_id = st.selectbox("Run", ids, format_func=labels.get, key="rep_card_run")
    manifest = table.by_id(run_id)
    st.markdown(f"**{md(manifest.label)}** · status {md(manifest.status)} · started "
                f"{manifest.start_time:%Y-%m-%d %H:%M} UTC · completeness "
                f"**{pct(manifest.completeness)}** ({len(manifest.missing)} missing)")
    for warning in manifest.warnings:
        st.warning(md(warning), icon=":material/warning:")
    card = manifest.fields_frame()
    card.insert(0, "", card["present"].map({True: "✓", False: "✗"}))
    st.dataframe(card.drop(columns=["present", "field", "fix"]), hide_index=True,
                 width="stretch", key="rep_card")
    for name in manifest.missing:
        st.markdown(f"**Fix {FIELD_BY_NAME[name].label.lower()}:** {FIELD_BY_NAME[name].fix}")
    st.caption(f"Artifacts: {md_code(manifest.artifact_uri)} · model: "
               f"{md_code(manifest.model_uri or '—')} · "
               f"features from {md(manifest.features_source or '—')}")
    with guard():
        logged = run_recent(importances, uri, run_id, ttl=MLFLOW_TTL)
    if logged:
        st.plotly_chart(importance_figure(logged), width="stretch", key="rep_importances")

with diff_tab:
    d1, d2, d3 = st.columns([2, 2, 1])
    pair = next(((m.version_for(alias), m.version_for("challenger")) for m in registry.models
                 if m.version_for(alias) and m.version_for("challenger")), (None, None))
    index_a, index_b = (ids.index(v.run_id) if v and v.run_id in ids else i
                        for v, i in zip(pair, (0, min(1, len(ids) - 1)), strict=True))
    a = d1.selectbox("Run A", ids, index=index_a, format_func=labels.get, key="rep_diff_a")
    b = d2.selectbox("Run B", ids, index=index_b, format_func=labels.get, key="rep_diff_b")
    only = d3.toggle("Only differences", value=True, key="rep_diff_only")
    with guard():
        result = run_recent(diff, uri, tuple(table.required), a, b, ttl=MLFLOW_TTL,
                            spinner="Comparing runs…")
    st.metric("Differences", len(result.differences))
    st.dataframe(result.to_frame(only_differences=only), hide_index=True, width="stretch",
                 key="rep_diff", column_config={
                     "a": st.column_config.TextColumn(f"A: {result.a}"),
                     "b": st.column_config.TextColumn(f"B: {result.b}"),
                     "same": None if only else st.column_config.CheckboxColumn("same"),
                     "delta": st.column_config.NumberColumn("Δ (B − A)", format="%.4g")})
    if any(r.section == "metrics" for r in result.rows):
        st.plotly_chart(metrics_diff_figure(result), width="stretch", key="rep_diff_fig")

with registry_tab:
    if not registry.models:
        st.info("No registered models in this store.", icon=":material/info:")
    else:
        st.dataframe(naive(report.to_frame()), hide_index=True, width="stretch", key="rep_stale",
                     column_config={
                         c: st.column_config.NumberColumn(c.replace("_", " "), format="%.0f")
                         for c in ("age_days", "data_age_days", "age_budget_days")})
        st.plotly_chart(staleness_figure(report), width="stretch", key="rep_stale_fig")
        st.subheader("Versions and aliases")
        st.dataframe(naive(registry.to_frame()), hide_index=True, width="stretch",
                     key="rep_versions")
        st.plotly_chart(lineage_figure(lineage(registry, table)), width="stretch",
                        key="rep_lineage")
