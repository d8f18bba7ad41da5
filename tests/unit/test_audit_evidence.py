"""Evidence pre-fill on the sample scenario, checked against the planted ground truth, and the
registry's graceful degradation when an analysis or its data is missing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aidebt_core.audit.evidence import (
    PROVIDERS,
    EvidenceContext,
    Provider,
    collect_evidence,
)
from aidebt_core.audit.providers import Measured
from aidebt_core.audit.questions import load_questionnaire
from aidebt_core.audit.scoring import score_audit
from aidebt_core.errors import AidebtError
from aidebt_core.selection import sample_selection


@pytest.fixture(scope="module")
def questionnaire():
    return load_questionnaire()


@pytest.fixture(scope="module")
def credit(sample_dir, questionnaire):
    selection = sample_selection(sample_dir)
    with selection.open() as data:
        return collect_evidence(questionnaire, EvidenceContext(
            data=data, tracking_uri=selection.tracking_uri, model="credit-default"))


def _titles(evidence, qid):
    return [f.title for f in evidence.prefills[qid].findings]


def test_drift_question_prefilled_from_measured_drift(credit, ground_truth):
    d3 = credit.prefills["D3"]
    # planted drift, nothing attested: the rule proposes 0 (issue 15: debt lowers the level)
    assert d3.available and d3.level == 0 and d3.link == "/drift"
    assert set(d3.found) == set(ground_truth["data_drift"]["drifted_features"])
    drifted = ground_truth["data_drift"]["drifted_features"]
    count = int(re.search(r": (\d+) of \d+ features drifted", d3.evidence).group(1))
    assert count == len(drifted)
    assert all(name in d3.evidence for name in drifted)
    assert any(all(n in t for n in drifted) for t in _titles(credit, "D3"))


def test_input_invariants_from_missing_share_and_new_categories(credit, ground_truth):
    titles = _titles(credit, "D2")
    column = ground_truth["missing_jump"]["column"]
    new = ground_truth["new_category"]
    assert f"Missing-value share changed in {column}" in titles
    assert f"New categories in {new['column']}: {new['value']}" in titles


def test_concept_drift_question_from_performance_alerts(credit, ground_truth):
    d4 = credit.prefills["D4"]
    assert d4.available and d4.level == 0          # concept drift found, nothing attested
    months = re.search(r"concept-drift alerts: ([0-9, -]+)", d4.evidence).group(1)
    alerted = [int(m.split("-")[1]) for m in months.split(", ")]
    start = ground_truth["concept_drift"]["from_month"]
    assert start in alerted and min(alerted) >= start
    unlabelled = ground_truth["labels_missing_months"]
    assert f"no labels yet for 2025-{unlabelled[0]:02d}" in credit.prefills["E5"].evidence


def test_entanglement_questions(credit, ground_truth):
    broken = ground_truth["correlation_break"]["columns"]
    assert any(all(c in t for c in broken) and "changed" in t for t in _titles(credit, "M7"))
    groups = _titles(credit, "D7")
    for pair in ground_truth["redundant_pairs"]:
        assert any(all(c in t for c in pair) for t in groups), pair


def test_slice_question_finds_the_planted_weak_slice(credit, ground_truth):
    e1 = credit.prefills["E1"]
    assert e1.available and e1.level == 0          # weak slice found, nothing attested
    # the planted slice is among the weak slices counted as debt (the slice search, not the
    # audit, decides which one is worst)
    planted = ground_truth["weak_slice"]["predicates"]
    assert any(all(column in s for column in planted) and "channel = mobile" in s
               for s in e1.found), e1.found


def test_reproducibility_questions_from_manifest_completeness(credit, ground_truth):
    mlflow = ground_truth["mlflow"]
    production = mlflow["registered_models"]["credit-default"]["production_run"]
    runs = [r for r in mlflow["runs"] if r["experiment"] == "credit-default"]
    prod = next(r for r in runs if r["run_name"] == production)
    m4 = credit.prefills["M4"]
    assert f"manifest {prod['completeness']:.0%} complete" in m4.evidence
    assert m4.level == (2 if prod["completeness"] == 1.0 else 1)
    with_commit = sum(r["git_commit"] is not None for r in runs)
    m1 = credit.prefills["M1"]
    assert f"{with_commit} of {len(runs)} runs" in m1.evidence
    # production run has a commit; level 3 only if every run of the experiment has one
    assert m1.level == (3 if with_commit == len(runs) else 2)
    incomplete = {r["run_name"] for r in runs if r["missing"]}
    assert {t.split(":")[0].removeprefix("Run ") for t in _titles(credit, "M4")
            if t.startswith("Run ")} == incomplete


def test_measured_answers_count_as_verified(credit, questionnaire):
    answers = credit.answers()
    assert answers["D3"].source == "measured" and answers["D3"].measured_level == 0
    score = score_audit(questionnaire, answers, credit.findings)
    items = {i.question_id: i for i in score.items}
    assert items["D3"].confidence == "verified"
    assert score.findings and all(f.question_id for f in score.findings)


def test_other_models_data_is_not_used(sample_dir, questionnaire):
    selection = sample_selection(sample_dir)
    providers = {k: PROVIDERS[k] for k in ("drift", "runs")}
    with selection.open() as data:
        evidence = collect_evidence(questionnaire, EvidenceContext(
            data=data, tracking_uri=selection.tracking_uri, model="fraud"), providers)
    assert not evidence.prefills["D3"].available
    assert "lack" in evidence.prefills["D3"].note and "fraud" in evidence.prefills["D3"].note
    assert evidence.prefills["M1"].available and evidence.prefills["M1"].level == 0


def _boom(context):
    raise KeyError("renamed_field")


def _needs_data(context):
    if context.data is None:
        raise AidebtError("no reference/current data selected")
    return {"drift": Measured(2, "x")}


def test_missing_module_or_user_error_keeps_questions_manual(questionnaire):
    providers = {
        "drift": Provider("drift", "aidebt_core.no_such_analysis", "/drift",
                          ("drift", "drift_invariants"), _needs_data),
        "entanglement": Provider("entanglement", "aidebt_core.audit.scoring", "/entanglement",
                                 ("entanglement", "redundancy"), _needs_data),
    }
    evidence = collect_evidence(questionnaire, EvidenceContext(), providers)
    d3 = evidence.prefills["D3"]
    assert not d3.available and d3.as_answer() is None
    assert d3.note.startswith("measurement not available: the drift analysis is not installed")
    assert evidence.prefills["M7"].note == ("measurement not available: no reference/current "
                                            "data selected")
    assert "no provider" in evidence.prefills["E1"].note    # slices not in this registry
    assert evidence.answers() == {} and evidence.findings == ()


def test_a_bug_in_a_provider_surfaces_instead_of_reading_as_not_available(questionnaire):
    # KeyError/TypeError/AttributeError are bugs (a renamed field, a changed shape), not "this
    # data cannot answer": hiding them as "measurement not available" hid real failures.
    providers = {"performance": Provider("performance", "aidebt_core.audit.scoring",
                                         "/performance",
                                         ("performance", "staleness", "fresh_evaluation"), _boom)}
    with pytest.raises(KeyError, match="renamed_field"):
        collect_evidence(questionnaire, EvidenceContext(), providers)


def test_evidence_links_are_the_dashboard_pages():
    from aidebt_core.pages import PAGES, page_link

    url_paths = {f"/{p.url_path}" for p in PAGES}
    assert {p.page for p in PROVIDERS.values()} <= url_paths
    assert PROVIDERS["runs"].page == "/reproducibility" == page_link("runs")
    assert all(Path(p.file).name == f"{p.url_path}.py" for p in PAGES)
    with pytest.raises(KeyError, match="no dashboard page"):
        page_link("no_such_analysis")


def test_unreadable_data_keeps_data_questions_manual(sample_dir, questionnaire):
    from dataclasses import replace

    from aidebt_core.audit.evidence import evidence_for_selection

    selection = replace(sample_selection(sample_dir), source="missing.parquet")
    evidence = evidence_for_selection(selection, "fraud", questionnaire)
    d3 = evidence.prefills["D3"]
    assert not d3.available
    assert "the selected data cannot be read" in d3.note and "missing.parquet" in d3.note
    assert evidence.prefills["M1"].available           # MLflow answers still filled
