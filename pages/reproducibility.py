"""Reproducibility: which MLflow runs could be re-made (code, data, seed, params, environment),
what each is missing and how to fix it, two runs side by side, and the registry's lineage."""

from datetime import UTC, date, datetime, time

import streamlit as st

from aidebt_app.cache import run_on_data, run_recent
from aidebt_app.context import current_selection, guard, page_header
from aidebt_app.glossary import help_text
from aidebt_app.tables import fixed, show_table
from aidebt_core.errors import AidebtError
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
    latest_activity,
    lineage,
    read_registry,
    read_runs,
    staleness,
)
from aidebt_core.runs.client import open_store
from aidebt_core.serving import display_uri
from aidebt_core.textsafe import md, md_code
from aidebt_core.timeaxis import timestamp_sql

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


def data_end(data) -> date | None:
    """The last day of the data being scored (the current side, else the only one): ages are
    judged to it, so an old sample is judged in its own time frame, not against today."""
    if not data.timestamp:
        return None
    table = data.current if data.current is not None else data.reference
    value = table.execute(f"SELECT max({timestamp_sql(table, data.timestamp)}) FROM ROWS"
                          ).fetchone()[0]
    return value.date() if value is not None else None


def reference_date(selection, table) -> tuple[date, str]:
    """The date ages are measured to by default, and what it is: the store's own time frame
    (its newest run), else the end of the current data, else today."""
    newest = latest_activity(table)
    if newest is not None:
        return newest.date(), "the newest run in this store"
    try:
        end = run_on_data(data_end, selection)
    except AidebtError:  # no readable data or time axis
        end = None
    if end is not None:
        return end, "the last day of the current data"
    return datetime.now(UTC).date(), "today"


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
    a1, a2 = st.columns([3, 1])
    alias = a1.text_input("Deployed alias", "production", key="rep_alias",
                          help=help_text("alias")) or "production"

with guard():
    table, registry = run_recent(load, uri, tuple(required or FIELD_NAMES), ttl=MLFLOW_TTL,
                                 spinner="Reading MLflow runs…")
default_as_of, as_of_basis = reference_date(current_selection(), table)
as_of = a2.date_input("Judge ages as of", default_as_of, key="rep_as_of",
                      help="Model and data ages are measured to this date, not to today, so "
                           "an older store is judged in its own time frame. Default: "
                           f"{as_of_basis}. Pick today's date to judge against today.")
if as_of != default_as_of:
    as_of_basis = "the date picked"
now = datetime.combine(as_of, time(23, 59, 59), tzinfo=UTC)
with guard():
    report = staleness(registry, table, alias=alias, now=now,
                       age_budget_days=age_budget, data_budget_days=data_budget)
if report.unknown_alias:
    st.warning(f"No registered model has the alias **{md(alias)}**, so no model is judged "
               "against it. Aliases in use: "
               f"{', '.join(map(md, report.aliases_in_use)) or 'none'}.",
               icon=":material/warning:")
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
m4.metric(f"Deployed ({md(alias)}) below {threshold:.0%}",
          "—" if report.unknown_alias else len(below),
          help=", ".join(md(m.label) for m in below) or "none")
st.caption(f"Ages are judged as of {as_of:%Y-%m-%d} ({as_of_basis}).")
st.download_button(
    "Download HTML report", lambda: reproducibility_report(
        table, registry, alias=alias, now=now, age_budget_days=age_budget,
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
    show_table(
        naive(shown)[["experiment", "run_name", "status", "start_time", "completeness",
                      "missing", "git_commit", "seed", "data_digest", "n_params", "n_metrics",
                      "run_id"]],
        key_columns=["run_name", "completeness", "missing"], key="rep_runs",
        formats={"completeness": "rate"},
        labels={"run_name": "Run", "start_time": "Started", "missing": "Missing fields",
                "n_params": "Params", "n_metrics": "Metrics"},
        raw_columns=["git_commit", "seed", "data_digest", "n_params", "n_metrics", "run_id"],
        raw_label="Commit, seed, data digest, counts and run id")
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
    show_table(card.drop(columns=["present", "field", "fix"]), key="rep_card",
               labels={"": "", "label": "Field"})
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
    compared = result.to_frame(only_differences=only)
    show_table(compared, key="rep_diff", hide=["same"] if only else [],
               formats={"delta": fixed(4, signed=True)},
               labels={"a": f"A: {result.a}", "b": f"B: {result.b}", "delta": "Δ (B − A)",
                       "key": "What"})
    if any(r.section == "metrics" for r in result.rows):
        st.plotly_chart(metrics_diff_figure(result), width="stretch", key="rep_diff_fig")

with registry_tab:
    if not registry.models:
        st.info("No registered models in this store.", icon=":material/info:")
    else:
        show_table(naive(report.to_frame()), key="rep_stale",
                   key_columns=["model", "alias", "version", "stale"],
                   raw_columns=["trained_at", "training_data_end", "age_budget_days"],
                   raw_label="Training dates and budget",
                   formats=dict.fromkeys(("age_days", "data_age_days", "age_budget_days"), 0),
                   labels={"run_name": "Run", "age_days": "Model age (days)",
                           "data_age_days": "Data age (days)", "trained_at": "Trained",
                           "age_budget_days": "Age budget (days)",
                           "training_data_end": "Training data end",
                           "newer_runs": "Newer runs"},
                   help={"stale": help_text("staleness"),
                         "age_budget_days": help_text("budget")})
        st.plotly_chart(staleness_figure(report), width="stretch", key="rep_stale_fig")
        st.subheader("Versions and aliases")
        show_table(naive(registry.to_frame()), key="rep_versions",
                   key_columns=["model", "version", "aliases"], raw_columns=["run_id", "source"],
                   raw_label="Run ids and model sources")
        st.plotly_chart(lineage_figure(lineage(registry, table)), width="stretch",
                        key="rep_lineage")
