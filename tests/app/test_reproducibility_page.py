"""The Reproducibility page on the sample MLflow store: values shown equal the planted truth."""

from __future__ import annotations

from dataclasses import replace

import pytest
from mlflow import MlflowClient

from aidebt_core.selection import sample_selection

PAGE = "pages/reproducibility.py"


# st.dataframe keys are not exposed by AppTest: find each table by a column only it has.
_MARKERS = {"rep_runs": "Missing fields", "rep_card": "Required", "rep_diff": "Section",
            "rep_stale": "Newer runs", "rep_versions": "Created"}


def _frame(at, key):
    return next(d.value for d in at.dataframe if _MARKERS[key] in d.value.columns)


def test_summary_and_runs_table_match_the_truth(run_page, ground_truth):
    at = run_page(PAGE)
    runs = ground_truth["mlflow"]["runs"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Runs"] == str(len(runs))
    assert metrics["Complete manifests"] == "1"
    mean = sum(r["completeness"] for r in runs) / len(runs)
    assert metrics["Mean completeness"] == f"{mean:.0%}"
    # deployed runs: logreg-prod 100 %, churn-rf 87.5 %, fraud-logreg 62.5 % < 75 %
    assert metrics["Deployed (production) below 75%"] == "1"
    table = _frame(at, "rep_runs").set_index("Run")  # human headers (issue 17)
    for planted in runs:
        row = table.loc[planted["run_name"]]
        assert row["Completeness"] == pytest.approx(planted["completeness"])
        assert row["Missing fields"] == ", ".join(planted["missing"])


def test_filter_by_missing_field(run_page, ground_truth):
    at = run_page(PAGE)
    at.multiselect(key="rep_gaps").set_value(["seed"]).run()
    shown = set(_frame(at, "rep_runs")["Run"])
    assert shown == {r["run_name"] for r in ground_truth["mlflow"]["runs"]
                     if "seed" in r["missing"]}
    at.slider(key="rep_min").set_value(0.75).run()
    assert set(_frame(at, "rep_runs")["Run"]) == {"hgb-challenger"}


def _run_id(sample_dir, name: str) -> str:
    client = MlflowClient(tracking_uri=f"sqlite:///{sample_dir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("credit-default").experiment_id
    (run,) = client.search_runs([experiment], f"attributes.run_name = '{name}'")
    return run.info.run_id


def test_manifest_card_marks_gaps_and_says_how_to_fix(run_page, sample_dir):
    at = run_page(PAGE)
    at.selectbox(key="rep_card_run").set_value(_run_id(sample_dir, "hgb-challenger")).run()
    card = _frame(at, "rep_card").set_index("Field")
    assert card.loc["Random seed", ""] == "✗"
    assert card.loc["Training data snapshot (digest)", ""] == "✗"
    assert card.loc["Git commit", ""] == "✓"
    fixes = " ".join(m.value for m in at.markdown)
    assert "mlflow.log_param('seed', seed)" in fixes and "mlflow.log_input(" in fixes
    assert any("dirty" in w.value for w in at.warning)


def test_diff_defaults_to_production_vs_challenger(run_page, ground_truth, sample_dir):
    at = run_page(PAGE)
    client = MlflowClient(registry_uri=f"sqlite:///{sample_dir / 'mlflow.db'}",
                          tracking_uri=f"sqlite:///{sample_dir / 'mlflow.db'}")
    prod = client.get_model_version_by_alias("credit-default", "production").run_id
    challenger = client.get_model_version_by_alias("credit-default", "challenger").run_id
    assert at.selectbox(key="rep_diff_a").value == prod
    assert at.selectbox(key="rep_diff_b").value == challenger
    diff = _frame(at, "rep_diff")
    assert "Same" not in diff.columns  # only differences: the column would be all "no"
    planted = ground_truth["mlflow"]["planted_diff"]
    params = {k.split(" ")[0] for k in diff[diff.Section == "params"]["What"]}
    assert params == set(planted["params_differ"])
    at.toggle(key="rep_diff_only").set_value(False).run()
    full = _frame(at, "rep_diff")
    assert set(full[full.Section == "params"]["What"]) >= set(planted["params_same"])
    assert {m.label: m.value for m in at.metric}["Differences"] == str(len(diff))


def test_registry_tab_shows_staleness_and_aliases(run_page, ground_truth):
    at = run_page(PAGE)
    stale = _frame(at, "rep_stale").set_index("Model")
    for name, planted in ground_truth["mlflow"]["registered_models"].items():
        assert stale.loc[name, "Run"] == planted["production_run"]
        assert stale.loc[name, "Newer runs"] == len(planted["newer_runs_than_production"])
    versions = _frame(at, "rep_versions")
    aliased = versions[versions.Aliases != ""].set_index(["Model", "Aliases"])["Version"]
    assert aliased[("credit-default", "production")] == 2
    assert aliased[("credit-default", "challenger")] == 3


def test_unreachable_tracking_uri_is_an_error_message(run_page, sample_dir):
    selection = replace(sample_selection(sample_dir), tracking_uri="http://127.0.0.1:9")
    at = run_page(PAGE, selection=selection)
    assert any("Cannot reach the MLflow server" in e.value for e in at.error)


def test_empty_store_shows_a_warning(run_page, sample_dir, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(tracking_uri=uri).search_experiments()
    at = run_page(PAGE, selection=replace(sample_selection(sample_dir), tracking_uri=uri))
    assert any("no runs" in w.value for w in at.warning)


def test_card_shows_the_importances_the_run_logged(run_page, sample_dir, monkeypatch):
    import json

    at = run_page(PAGE)
    run_id = _run_id(sample_dir, "logreg-prod")
    at.selectbox(key="rep_card_run").set_value(run_id).run()
    monkeypatch.chdir(sample_dir)  # MLflow reads a relative artifact location from the cwd
    client = MlflowClient(tracking_uri=f"sqlite:///{sample_dir / 'mlflow.db'}")
    with open(client.download_artifacts(run_id, "feature_importances.json")) as handle:
        logged = json.load(handle)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    chart = next(c for c in charts
                 if c["layout"]["title"]["text"] == "Logged feature importances")
    shown = dict(zip(chart["data"][0]["y"], chart["data"][0]["x"], strict=True))
    top = sorted(logged, key=lambda k: -abs(logged[k]))[:20]
    assert shown == pytest.approx({k: logged[k] for k in top})
    at.selectbox(key="rep_card_run").set_value(_run_id(sample_dir, "logreg-retrain")).run()
    assert not any(json.loads(c.proto.spec)["layout"]["title"]["text"] ==
                   "Logged feature importances" for c in at.get("plotly_chart"))


def test_an_alias_no_model_has_is_said_not_judged(run_page):
    """Issue 17: "nosuchalias" used to fall back silently to each model's latest version."""
    at = run_page(PAGE)
    at.text_input(key="rep_alias").set_value("nosuchalias").run()
    warning = " ".join(w.value for w in at.warning)
    assert "No registered model has the alias **nosuchalias**" in warning
    assert "challenger, production" in warning
    assert {m.label: m.value for m in at.metric}["Deployed (nosuchalias) below 75%"] == "—"
    stale = _frame(at, "rep_stale")
    assert stale["Version"].isna().all()
    assert stale["Note"].str.contains("no registered model has the 'nosuchalias' alias").all()


def test_ages_are_judged_in_the_stores_own_time_frame(run_page, ground_truth):
    """The 2025 sample is judged as of its newest run (2025-09-01), stated on the page, not
    against today: only the planted old model (fraud, trained 2024-11-20) is over the
    180-day budget; picking a later date makes the others age too."""
    at = run_page(PAGE)
    newest = max(r["start_time"] for r in ground_truth["mlflow"]["runs"])[:10]
    assert newest == "2025-09-01"
    assert any(f"judged as of {newest} (the newest run in this store)" in c.value
               for c in at.caption)
    stale = _frame(at, "rep_stale").set_index("Model")
    assert dict(stale["Stale"]) == {"churn": False, "credit-default": False, "fraud": True}
    # credit-default's production run started 2025-07-03 08:30 UTC; as of 2025-09-01 23:59:59
    assert stale.loc["credit-default", "Model age (days)"] == pytest.approx(
        (60 * 86_400 + 15 * 3600 + 29 * 60 + 59) / 86_400)
    import datetime as dt

    at.date_input(key="rep_as_of").set_value(dt.date(2026, 1, 1)).run()
    stale = _frame(at, "rep_stale").set_index("Model")
    assert stale.loc["credit-default", "Stale"]
    assert any("judged as of 2026-01-01 (the date picked)" in c.value for c in at.caption)
