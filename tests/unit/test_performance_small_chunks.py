"""Small chunks are honest: a 200-row partial last month and a month with 25 labels make no
performance or concept-drift claim, and alerts need the interval to clear the band; generated
car-loan data (not the sample), through `aidebt performance`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from aidebt_core.cli import main
from aidebt_core.performance.concept import Band, interval_outside, interval_worse_than_band
from aidebt_core.performance.realized import Estimate, wilson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generated import car_loans, write  # noqa: E402
from generated_time import loans_with_small_chunks  # noqa: E402

METRICS = ("roc_auc", "accuracy", "precision", "recall", "f1", "log_loss", "brier")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    frame = loans_with_small_chunks()
    path = write(frame, tmp_path_factory.mktemp("perf") / "loans.parquet")
    return frame, path


def performance(capsys, path, *extra):
    code = main(["performance", path, "--timestamp", "timestamp", "--reference-end",
                 "2019-01-01", "--format", "json", *extra])
    out = capsys.readouterr()
    return code, json.loads(out.out)


def test_small_chunks_are_marked_and_never_alert(capsys, data):
    frame, path = data
    code, doc = performance(capsys, path, "--fail-on-alert")
    assert code == 0, doc["alerts"]
    assert (doc["min_chunk_rows"], doc["min_chunk_labels"]) == (300, 100)
    chunks = {c["label"]: c for c in doc["chunks"]}
    july, may = chunks["2019-07"], chunks["2019-05"]
    assert (july["rows"], july["partial"], july["too_small"]) == (200, True, True)
    assert (may["labelled_rows"], may["too_few_labels"], may["too_small"]) == (25, True, False)
    assert not any(c["partial"] or c["too_small"] for label, c in chunks.items()
                   if label != "2019-07")
    assert doc["alerts"]["too_small"] == ["2019-07"]
    assert doc["alerts"]["too_few_labels"] == ["2019-05"]
    for metric in METRICS:
        for label in ("2019-07", "2019-05"):
            row = next(c for c in doc["metrics"][metric]["chunks"] if c["label"] == label)
            assert not row["alert"] and not row["concept_drift_alert"], (metric, label)
        assert doc["metrics"][metric]["alerts"]["performance"] == [], metric
        assert doc["metrics"][metric]["alerts"]["concept_drift"] == [], metric
    # May's realized accuracy is still reported (greyed on the page), computed independently.
    labelled = frame[frame["repaid"].notna() & (frame["timestamp"].dt.month == 5)
                     & (frame["timestamp"].dt.year == 2019)]
    accuracy = next(c for c in doc["metrics"]["accuracy"]["chunks"] if c["label"] == "2019-05")
    assert accuracy["realized"] == pytest.approx((labelled["repaid"] == labelled["y_pred"]).mean())
    assert accuracy["realized"] < 0.3 and "too few labels" in accuracy["note"]
    assert "too small to judge" in july["note"]


def test_the_same_chunks_alert_once_judged(capsys, data):
    _, path = data
    code, doc = performance(capsys, path, "--fail-on-alert", "--min-chunk-rows", "100",
                            "--min-chunk-labels", "10")
    assert code == 1
    assert doc["alerts"]["performance"] == ["2019-05", "2019-07"]
    assert doc["alerts"]["concept_drift"] == ["2019-05", "2019-07"]
    assert doc["alerts"]["too_small"] == [] and doc["alerts"]["too_few_labels"] == []


def test_an_alert_needs_the_interval_to_clear_the_band():
    band = Band(centre=0.90, sigma=0.01, k=3.0)          # 0.87 .. 0.93
    inside_reach = wilson(84, 100)                       # 0.84, interval reaches above 0.87
    assert inside_reach.value < band.lower < inside_reach.high
    assert not interval_worse_than_band("accuracy", inside_reach, band)
    clear = wilson(700, 1000)                            # 0.70 [0.67, 0.73]
    assert interval_worse_than_band("accuracy", clear, band)
    assert not interval_worse_than_band("log_loss", clear, band)  # lower is better: fine
    assert interval_worse_than_band("log_loss", Estimate(1.0, 0.95, 1.05), band)
    assert interval_worse_than_band("accuracy", Estimate(0.5, np.nan, np.nan), band)
    assert not interval_outside(0.92, 0.95, band) and interval_outside(0.94, 0.99, band)
    assert not interval_outside(np.nan, 0.5, band)


@pytest.mark.parametrize("option,value", [("--min-chunk-rows", "0"),
                                          ("--min-chunk-labels", "-5"),
                                          ("--min-chunk-labels", "nan"),
                                          ("--chunk", "0")])
def test_bad_sizes_exit_2(capsys, data, option, value):
    _, path = data
    try:
        code = main(["performance", path, "--timestamp", "timestamp", "--reference-end",
                     "2019-01-01", option, value])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and len([ln for ln in err.splitlines() if ln.startswith("error:")]) == 1


def test_an_estimate_alerts_only_when_its_interval_clears_the_band(tmp_path):
    """Two unlabelled months of generated loans whose scores are squeezed towards 0.5 (logit
    × 0.2 and × 0.75): the first estimate falls far below the band and alerts; the second
    falls just below it, within its own noise, and does not. The estimate's interval is the
    realized AUC's noise on the reference chunks (SE·√n, median) at the chunk's row count."""
    from aidebt_core.data import connect, open_table
    from aidebt_core.performance import analyse_performance
    from aidebt_core.performance.realized import Z_INTERVAL
    from aidebt_core.timeaxis import split_on_timestamp
    from aidebt_core.workspace import Workspace

    frame = car_loans(18_000, seed=21, start="2018-01-01", end="2019-06-30 23:59:59")
    frame["repaid"] = frame["repaid"].astype(float)
    for month, factor in (("2019-05", 0.2), ("2019-06", 0.75)):
        rows = frame["timestamp"].dt.strftime("%Y-%m") == month
        logit = np.log(frame.loc[rows, "y_pred_proba"] / (1 - frame.loc[rows, "y_pred_proba"]))
        frame.loc[rows, "y_pred_proba"] = 1 / (1 + np.exp(-factor * logit))
        frame.loc[rows, "repaid"] = np.nan
    frame.to_parquet(tmp_path / "loans.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    try:
        ref, cur = split_on_timestamp(open_table(con, ws, "loans.parquet"), "timestamp",
                                      "2019-01-01")
        result = analyse_performance(ref, cur, "repaid", score="y_pred_proba",
                                     prediction="y_pred", timestamp="timestamp")
    finally:
        con.close()
    table = result.to_frame().set_index("chunk")
    lower = result.series["roc_auc"].band.lower
    may, june = table.loc["2019-05"], table.loc["2019-06"]
    assert may["estimated_high"] < lower and may["alert"] and may["estimated_alert"]
    assert june["estimated"] < lower < june["estimated_high"]          # point out, interval in
    assert not june["alert"] and not june["estimated_alert"]
    reference = table[table["period"] == "reference"]
    unit = np.median((reference["ci_high"] - reference["ci_low"]) / 2 / Z_INTERVAL
                     * np.sqrt(reference["labelled_rows"]))
    for row in (may, june):
        half = Z_INTERVAL * unit / np.sqrt(row["rows"])
        assert (row["estimated_low"], row["estimated_high"]) == pytest.approx(
            (row["estimated"] - half, row["estimated"] + half), rel=1e-12)
