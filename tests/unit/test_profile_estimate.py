"""The label-free estimate from profiles vs the rows path, on generated repayments (not the
sample): a `y_pred_proba` score, `repaid` labels that stop two months before the end, and
P(repaid | score) changed in two current months (concept drift). Binned scores: every
estimate within its stated bound and the same alerts; a score with few distinct values:
equal to the rows (≤ 1e-9)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from aidebt_core.cli import main
from aidebt_core.performance.analysis import analyse_performance
from aidebt_core.profiles import duckdb_engine as engine
from aidebt_core.profiles.performance import performance_from_profiles

METRICS = ("roc_auc", "accuracy", "precision", "recall", "f1")
ROLES = dict(target="repaid", prediction="y_pred", score="y_pred_proba")


def repayments(n: int, seed: int, start: str, months: int, concept: tuple = (),
               unlabelled_from: str | None = None, decimals: int | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    when = pd.Timestamp(start) + pd.to_timedelta(
        np.sort(rng.integers(0, months * 30 * 86_400, n)), unit="s")
    score = 1 / (1 + np.exp(-rng.normal(0.3, 1.4, n)))
    if decimals is not None:
        score = np.round(score, decimals)
    month = when.strftime("%Y-%m")
    truth = np.where(np.isin(month, concept), 0.5 + 0.2 * (score - 0.5), score)
    repaid = (rng.random(n) < truth).astype(float)
    if unlabelled_from:
        repaid[np.asarray(when >= pd.Timestamp(unlabelled_from))] = np.nan
    return pd.DataFrame({"decided_on": when, "y_pred_proba": score,
                         "y_pred": (score >= 0.5).astype(np.int64), "repaid": repaid,
                         "branch": rng.choice(["north", "south"], n)})


def _both(tmp_path, ref: pd.DataFrame, cur: pd.DataFrame):
    from aidebt_core.data import connect, open_table
    from aidebt_core.workspace import Workspace

    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    r, c = (open_table(con, ws, n) for n in ("ref.parquet", "cur.parquet"))
    kinds = engine.profile_kinds(r, columns=["repaid", "y_pred_proba", "y_pred"],
                                 timestamp="decided_on")
    plan = engine.plan_profile(r, kinds, timestamp="decided_on", chunk="month", **ROLES)
    profiles = engine.compute_profile(r, plan), engine.compute_profile(c, plan)
    rows = {m: analyse_performance(r, c, timestamp="decided_on", chunking="month", metric=m,
                                   **ROLES) for m in METRICS}
    con.close()
    return rows, performance_from_profiles(*profiles)


@pytest.fixture(scope="module")
def binned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("binned")
    ref = repayments(24_000, 1, "2024-01-01", 6)
    cur = repayments(20_000, 2, "2024-07-01", 6, concept=("2024-09", "2024-10"),
                     unlabelled_from="2024-11-01")
    return _both(folder, ref, cur)


@pytest.mark.parametrize("metric", METRICS)
def test_binned_estimates_lie_within_their_bound_and_alert_alike(binned, metric):
    rows, prof = binned
    exact, got = rows[metric].series[metric], prof.series[metric]
    assert [c.label for c in prof.chunks] == [c.label for c in rows[metric].chunks]
    assert [c.labelled_rows for c in prof.chunks] == [
        c.labelled_rows for c in rows[metric].chunks]
    ratios = []
    for info, a, b in zip(prof.chunks, exact.values, got.values, strict=True):
        bound = b.estimated_bound
        assert 0 < bound < 0.003 and f"estimate ±{bound:.2g} (bound)" in b.note, info.label
        assert abs(a.estimated - b.estimated) <= bound, (info.label, a.estimated, b.estimated)
        ratios.append(abs(a.estimated - b.estimated) / bound)
        if info.labelled_rows:   # the gap: realized − the estimate on the labelled rows
            assert (b.realized_bound == 0) == (metric != "roc_auc")
            assert abs(a.gap - b.gap) <= bound + b.realized_bound + 1e-12, info.label
        else:
            assert np.isnan(b.gap) and np.isnan(b.realized) and "no labels yet" in b.note
        assert (a.estimated_alert, a.concept_alert) == (b.estimated_alert, b.concept_alert)
    assert max(ratios) < 1
    # the planted concept drift is found from the profiles
    assert [c.label for c, v in zip(prof.chunks, got.values, strict=True)
            if v.concept_alert] == ["2024-09", "2024-10"]
    assert got.gap_band is not None and exact.gap_band.lower == pytest.approx(
        got.gap_band.lower, abs=0.01)


def test_few_distinct_scores_give_the_rows_estimate_exactly(tmp_path):
    ref = repayments(9_000, 3, "2024-01-01", 6, decimals=2)
    cur = repayments(8_000, 4, "2024-07-01", 5, unlabelled_from="2024-11-01", decimals=2)
    rows, prof = _both(tmp_path, ref, cur)
    for metric in METRICS:
        exact, got = rows[metric].series[metric], prof.series[metric]
        for a, b in zip(exact.values, got.values, strict=True):
            assert b.estimated == pytest.approx(a.estimated, abs=1e-9), metric
            assert "estimate ±" not in b.note and b.estimated_bound == 0.0
            if np.isfinite(a.gap):
                assert b.gap == pytest.approx(a.gap, abs=1e-9), metric
        assert [v.estimated_alert for v in got.values] == [
            v.estimated_alert for v in exact.values]


def test_without_a_threshold_prediction_or_a_score_the_page_is_told_why(tmp_path):
    ref = repayments(6_000, 5, "2024-01-01", 4)
    cur = repayments(5_000, 6, "2024-05-01", 3)
    rng = np.random.default_rng(0)
    for frame in (ref, cur):   # decisions that are not a threshold of the score
        frame["y_pred"] = (rng.random(len(frame)) < 0.5).astype(np.int64)
    _, prof = _both(tmp_path, ref, cur)
    assert prof.series["roc_auc"].gap_band is not None
    accuracy = prof.series["accuracy"]
    assert accuracy.gap_band is None and all(np.isnan(v.estimated) for v in accuracy.values)
    assert "no label-free estimate (The estimate of accuracy from profiles assumes the " \
           "prediction is a threshold of the score" in accuracy.values[0].note


def test_cli_performance_from_saved_profiles_has_the_estimate(tmp_path, capsys):
    repayments(6_000, 7, "2024-01-01", 4).to_parquet(tmp_path / "ref.parquet")
    repayments(5_000, 8, "2024-05-01", 3, unlabelled_from="2024-07-01").to_parquet(
        tmp_path / "cur.parquet")
    roles = ["--target", "repaid", "--prediction", "y_pred", "--score", "y_pred_proba",
             "--timestamp", "decided_on"]
    assert main(["profile", str(tmp_path / "ref.parquet"), "--chunk", "month", *roles,
                 "--out", str(tmp_path / "ref.aidebt")]) == 0
    assert main(["profile", str(tmp_path / "cur.parquet"), "--like",
                 str(tmp_path / "ref.aidebt"), *roles, "--out",
                 str(tmp_path / "cur.aidebt")]) == 0
    capsys.readouterr()
    assert main(["performance", str(tmp_path / "ref.aidebt"), str(tmp_path / "cur.aidebt"),
                 *roles, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["metrics"]) == set(METRICS)
    first = doc["chunks"][0]
    assert first["estimated_exact"] is False and 0 < first["estimated_bound"] < 0.01
    assert first["realized_exact"] is False   # ROC AUC from binned scores
    accuracy = doc["metrics"]["accuracy"]["chunks"][0]
    assert accuracy["realized_exact"] is True and accuracy["realized_bound"] == 0
    from aidebt_core.performance.result import PerformanceResult

    back = PerformanceResult.from_dict(doc).series["roc_auc"].values[0]
    assert back.estimated_bound == pytest.approx(first["estimated_bound"])
    last = doc["chunks"][-1]
    assert last["label"] == "2024-07" and last["realized"] is None
    assert 0.5 < last["estimated"] < 1 and last["estimated_low"] < last["estimated"]
    assert doc["alerts"]["unlabelled"] == ["2024-07"]


def test_performance_page_shows_the_estimate_from_saved_profiles(tmp_path):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from aidebt_core.selection import FILES, Selection

    repayments(6_000, 9, "2024-01-01", 4).to_parquet(tmp_path / "ref.parquet")
    repayments(5_000, 10, "2024-05-01", 3, concept=("2024-06",),
               unlabelled_from="2024-07-01").to_parquet(tmp_path / "cur.parquet")
    roles = ["--target", "repaid", "--prediction", "y_pred", "--score", "y_pred_proba",
             "--timestamp", "decided_on"]
    assert main(["profile", str(tmp_path / "ref.parquet"), "--chunk", "month", *roles,
                 "--out", str(tmp_path / "ref.aidebt")]) == 0
    assert main(["profile", str(tmp_path / "cur.parquet"), "--like",
                 str(tmp_path / "ref.aidebt"), *roles, "--out",
                 str(tmp_path / "cur.aidebt")]) == 0
    page = str(Path(__file__).resolve().parents[2] / "pages" / "performance.py")
    at = AppTest.from_file(page, default_timeout=120)
    at.session_state["aidebt_selection"] = Selection(
        workspace=str(tmp_path), mode=FILES, reference="ref.aidebt", current="cur.aidebt")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # the only error box is the planted month's realized alert, none says "needs the rows"
    assert [e.value.splitlines()[0] for e in at.error] == [
        "**ROC AUC outside the reference band** (measured on labels):"]
    cards = {m.label: m.value for m in at.metric}
    assert "ROC AUC, estimated (2024-07)" in cards and cards["Concept-drift alerts"] == "1"
    assert any("2024-06" in w.value for w in at.warning)   # the concept-drift warning
    assert any(c.value.startswith("Needs each row's features") for c in at.caption)
    assert any(c.value.startswith("From profiles: realized ≈, within ±") and
               "; estimated ≈, within ±" in c.value for c in at.caption)
    at.segmented_control(key="perf_metric").set_value("accuracy").run()
    assert not at.exception and not any("saved profile" in e.value for e in at.error)
    assert "Accuracy, estimated (2024-07)" in {m.label for m in at.metric}
    assert any(c.value.startswith("From profiles: realized exact; estimated ≈")
               for c in at.caption)


def test_partial_first_and_last_months_from_profiles_match_the_rows(tmp_path):
    """A profile's chunks carry their first/last times, so performance from profiles marks
    the partial first and last months as the rows path does."""
    ref = repayments(6_000, 11, "2024-01-17", 4)     # 2024-01-17 .. mid-May
    cur = repayments(5_000, 12, "2024-06-20", 3)     # 2024-06-20 .. mid-September
    rows, got = _both(tmp_path, ref, cur)
    want = [(c.label, c.partial) for c in rows["accuracy"].chunks]
    assert [(c.label, c.partial) for c in got.chunks] == want
    assert [label for label, partial in want if partial] == [
        "2024-01", "2024-05", "2024-06", "2024-09"]
