"""`aidebt audit --prefill` on generated scenarios: the planted debt of a freshly written sample
scenario proposes lower levels than a generated clean scenario, planted drift in other data is
found exactly, time-like columns are not drift findings, and the JSON/table carry findings,
answered/unanswered counts and the scale."""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stdout

import pytest

from aidebt_core.cli import main
from tests.generated import car_loans, census, write

QUESTIONS = 37


def _prefill(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["audit", "--prefill", "--date", "2026-03-02", *argv])
    return code, out.getvalue()


def _json(argv: list[str]) -> dict:
    code, text = _prefill([*argv, "--format", "json"])
    assert code == 0
    return json.loads(text)


def _levels(payload: dict) -> dict[str, int | None]:
    return {f["question"]: f["proposed_level"] for f in payload["findings"]}


def _loans_args(path) -> list[str]:
    return ["--data", str(path), "--timestamp", "timestamp", "--reference-end", "2019-01-01"]


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    """The prefill JSON of: a fresh `aidebt sample` (data only), clean car loans (no planted
    debt), car loans with income and debt_ratio shifted by one sd from 2019, and a census
    split on its survey date (with an integer `year` column)."""
    root = tmp_path_factory.mktemp("scenarios")
    with redirect_stdout(io.StringIO()):
        assert main(["sample", str(root / "sample"), "--no-mlflow"]) == 0
    truth = json.loads((root / "sample" / "ground_truth.json").read_text())
    clean = write(car_loans(n=12_000, seed=0), root / "clean.parquet")
    shifted = write(car_loans(n=12_000, seed=0, shift_at="2019-01-01", shift=1.0),
                    root / "shifted.parquet")
    people = write(census(n=6000, seed=1), root / "census.parquet")
    return {
        "truth": truth, "clean_path": clean,
        "sample": _json(["--model", "credit-default", "--data",
                         str(root / "sample" / "applications.parquet"), "--timestamp",
                         "applied_at", "--reference-end", truth["reference_end"]]),
        "clean": _json(["--model", "loans", *_loans_args(clean)]),
        "shifted": _json(["--model", "loans", *_loans_args(shifted)]),
        "census": _json(["--model", "census", "--data", people, "--timestamp", "survey_date",
                         "--reference-end", "2018-01-01"]),
    }


def test_planted_debt_proposes_lower_levels_than_a_clean_scenario(scenarios):
    sample, clean = _levels(scenarios["sample"]), _levels(scenarios["clean"])
    # planted drift (D3), concept drift (D4), weak slice (E1): debt found, nothing attested
    for qid in ("D3", "D4", "E1"):
        assert sample[qid] == 0 and clean[qid] == 1, qid
    # the input invariants, redundancy and entanglement change planted in the sample too
    for qid in ("D2", "D7", "M7"):
        assert sample[qid] == 0 and clean[qid] == 1, qid
    # nothing measured proposes level 2 or more without an attested, linked answer
    assert max(v for v in (*sample.values(), *clean.values()) if v is not None) == 1


def test_sample_findings_name_the_planted_debt(scenarios):
    truth = scenarios["truth"]
    rows = {f["question"]: f for f in scenarios["sample"]["findings"]}
    assert set(rows["D3"]["found"]) == set(truth["data_drift"]["drifted_features"])
    assert set(rows["D2"]["found"]) == {truth["missing_jump"]["column"],
                                        truth["new_category"]["column"]}
    months = [int(x.split()[0].split("-")[1]) for x in rows["D4"]["found"]
              if x.endswith("(concept drift)")]
    assert months and min(months) >= truth["concept_drift"]["from_month"]
    assert any("channel = mobile" in s and "account_age_days" in s for s in rows["E1"]["found"])
    assert rows["D3"]["link"] == "/drift" and rows["D3"]["cap"] == 1
    assert rows["D3"]["label"] == f"proposed from measurement on {rows['D3']['measured_on']}"


def test_clean_scenario_finds_nothing(scenarios):
    for row in scenarios["clean"]["findings"]:
        assert row["found"] == [], row


def test_planted_shift_is_found_exactly(scenarios):
    rows = {f["question"]: f for f in scenarios["shifted"]["findings"]}
    assert set(rows["D3"]["found"]) == {"income", "debt_ratio"}
    assert rows["D3"]["proposed_level"] == 0


def test_time_like_year_is_not_a_drift_finding(scenarios):
    d3 = {f["question"]: f for f in scenarios["census"]["findings"]}["D3"]
    assert "year" not in d3["found"] and d3["proposed_level"] == 1
    assert "not counted: year (time-like)" in d3["measured"]


def test_json_counts_answers_and_carries_the_scale(scenarios):
    payload = scenarios["sample"]
    assert payload["scale"] == 10 and payload["total"] == QUESTIONS
    measured = [p for p in payload["prefilled"]]
    assert payload["answered"] == len(measured) == 8        # the data questions (no MLflow)
    assert payload["unanswered"] == QUESTIONS - 8
    assert payload["headline_text"] == f"incomplete: 8 of {QUESTIONS} answered"
    assert payload["complete"] is False
    proposed = _levels(payload)
    for p in measured:                        # each pre-filled level is the rule's proposal
        assert p["level"] == proposed[p["question"]]
    unmeasured = [f for f in payload["findings"] if f["proposed_level"] is None]
    assert {f["question"] for f in unmeasured} == {"D8", "M1", "M2", "M3", "M4"}
    assert all(f["measured"].startswith("not measured: ") for f in unmeasured)
    assert all(set(f) >= {"question", "measured", "proposed_level", "link"}
               for f in payload["findings"])
    assert payload["open_findings"] and all("severity" in f for f in payload["open_findings"])


def test_table_lists_findings_and_scores_with_their_scale(scenarios):
    code, text = _prefill(["--model", "loans", *_loans_args(scenarios["clean_path"])])
    assert code == 0
    assert "headline (minimum dimension): incomplete: 8 of 37 answered" in text
    assert "answered: 8 of 37 (29 unanswered" in text
    assert "weighted mean: " in text and " / 10" in text
    assert "findings (levels proposed from measurement on " in text
    assert "  - D3 Data drift monitored per feature: proposed level 1: nothing found; one " \
           "measurement is not a documented schedule: level 1 [/drift]" in text
    assert "  - M1 Model traceable to a reviewed commit: not measured: " in text


def test_an_attested_linked_level_counts_only_where_nothing_was_found(scenarios, tmp_path,
                                                                      capsys):
    answers = tmp_path / "answers.yaml"
    answers.write_text("model: loans\nanswers:\n  D3: {level: 4, evidence: "
                       "'https://monitor.example.com/drift'}\n")
    clean = _json(["--answers", str(answers), *_loans_args(scenarios["clean_path"])])
    assert _levels(clean)["D3"] == 4
    d3 = {p["question"]: p for p in clean["prefilled"]}["D3"]
    assert d3["source"] == "measured" and d3["answer_level"] == 4
    shifted = tmp_path / "shifted.parquet"
    write(car_loans(n=12_000, seed=0, shift_at="2019-01-01", shift=1.0), shifted)
    drifted = _json(["--answers", str(answers), *_loans_args(shifted)])
    assert _levels(drifted)["D3"] == 3          # drift is open: at most 3 even when linked
    d3 = {p["question"]: p for p in drifted["prefilled"]}["D3"]
    assert d3["source"] == "override" and d3["answer_level"] == 4
    assert "D3: the measurement says level 3" in capsys.readouterr().err
    assert sys.modules["aidebt_core.audit.rules"]          # the rules module did the work


def test_without_labels_the_quality_questions_propose_nothing(tmp_path):
    import pandas as pd

    frame = car_loans(n=6000, seed=2)
    frame["repaid"] = frame["repaid"].astype("Int64")
    frame.loc[frame["timestamp"] >= pd.Timestamp("2019-01-01"), "repaid"] = pd.NA
    path = write(frame, tmp_path / "unlabelled.parquet")
    payload = _json(["--model", "loans", *_loans_args(path)])
    rows = {f["question"]: f for f in payload["findings"]}
    for qid in ("D4", "M9", "E5", "E1"):
        assert rows[qid]["proposed_level"] is None, qid
        assert rows[qid]["measured"].startswith("not measured: measurement not available: ")
    assert "no labels in the current data" in rows["D4"]["reason"]
    assert {p["question"] for p in payload["prefilled"]} == {"D2", "D3", "D7", "M7"}
    assert rows["D3"]["proposed_level"] == 1
