"""`aidebt drift --chunk`: drift over time and multivariate drift in the CLI, the recent-chunks
gate, and small chunks that never alert, on generated car-loan data (not the sample)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from aidebt_core.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generated import CAR_FEATURES, car_loans, write  # noqa: E402
from generated_time import (  # noqa: E402
    CHUNK,
    REFERENCE_ROWS,
    SHIFT_FROM_ROW,
    SHIFTED,
    mid_current_drift,
    short_last_month,
)


def run(capsys, *argv):
    try:
        code = main(["drift", *argv])
    except SystemExit as exc:   # argparse refusing an option value
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def loans(tmp_path_factory):
    """`mid_current_drift` as reference/current files and as one file."""
    folder = tmp_path_factory.mktemp("loans")
    frame = mid_current_drift()
    return {"frame": frame, "folder": folder,
            "ref": write(frame.iloc[:REFERENCE_ROWS], folder / "ref.parquet"),
            "cur": write(frame.iloc[REFERENCE_ROWS:], folder / "cur.parquet"),
            "all": write(frame, folder / "all.parquet"),
            "boundary": frame["timestamp"].iloc[REFERENCE_ROWS].isoformat()}


def _json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--format", "json")
    return code, json.loads(out), err


def test_over_time_shows_the_alerts_from_the_right_chunk(capsys, loans):
    code, doc, err = _json(capsys, loans["ref"], loans["cur"], "--timestamp", "timestamp",
                           "--chunk", str(CHUNK))
    assert code == 0 and err == ""
    assert not any(c["drifted"] for c in doc["columns"])   # the whole-period test sees nothing
    over = doc["over_time"]
    chunks = over["chunks"]
    assert [c["period"] for c in chunks] == ["reference"] * 4 + ["current"] * 8
    assert [c["rows"] for c in chunks] == [CHUNK] * 12
    assert not any(c["partial"] or c["too_small"] for c in chunks)
    frame = loans["frame"]
    assert chunks[10]["start"] == frame["timestamp"].iloc[SHIFT_FROM_ROW].isoformat()
    columns = {c["name"]: c for c in over["columns"]}
    assert sorted(columns) == sorted(CAR_FEATURES)
    first = f"rows {SHIFT_FROM_ROW:,}–{SHIFT_FROM_ROW + CHUNK - 1:,}"
    for name, col in columns.items():
        shifted = name in SHIFTED
        assert col["alert"] == [False] * 10 + [shifted] * 2, name
        assert col["first_alert"] == (first if shifted else None), name
        assert all(t > 0 for t in col["threshold"])
    # The statistic of the last chunk, independently: Wasserstein / reference std.
    ref = frame["income"].iloc[:REFERENCE_ROWS]
    last = frame["income"].iloc[-CHUNK:]
    assert columns["income"]["statistic"][-1] == pytest.approx(
        stats.wasserstein_distance(ref, last) / ref.std(ddof=0), rel=1e-9)
    assert over["recent_chunks"] == [chunks[-1]["label"]]
    assert sorted(over["recent_alerts"]) == sorted(SHIFTED)
    mv = doc["multivariate"]
    assert len(mv["error"]) == len(mv["alert"]) == len(mv["chunk_thresholds"]) == 12
    assert isinstance(mv["threshold"], float) and not any(mv["alert"][:4])
    assert sorted(mv["columns"]) == sorted(CAR_FEATURES)


def test_fail_on_drift_gates_on_the_recent_chunks(capsys, loans):
    base = [loans["ref"], loans["cur"], "--timestamp", "timestamp"]
    assert run(capsys, *base, "--fail-on-drift")[0] == 0
    assert run(capsys, *base, "--fail-on-drift=any")[0] == 0
    code, out, err = run(capsys, *base, "--chunk", str(CHUNK), "--fail-on-drift", "--recent",
                         "2")
    assert code == 1 and err == ""
    assert "Drift over time (chunks by 5000 rows" in out
    assert ("Alerts in the last 2 judged chunk(s) (rows 50,000–54,999, rows 55,000–59,999): "
            "income (rows 50,000–54,999, rows 55,000–59,999); debt_ratio") in out
    # Every chunk below the minimum size: nothing is judged, nothing fails.
    code, doc, _ = _json(capsys, *base, "--chunk", str(CHUNK), "--fail-on-drift",
                         "--min-chunk-rows", "6000")
    assert code == 0 and all(c["too_small"] for c in doc["over_time"]["chunks"])
    assert not any(any(c["alert"]) for c in doc["over_time"]["columns"])
    assert not any(doc["multivariate"]["alert"])


def test_one_source_split_at_a_full_timestamp_chunks_both_sides(capsys, loans):
    _, two, _ = _json(capsys, loans["ref"], loans["cur"], "--timestamp", "timestamp",
                      "--chunk", str(CHUNK))
    code, one, _ = _json(capsys, loans["all"], "--timestamp", "timestamp", "--reference-end",
                         loans["boundary"], "--chunk", str(CHUNK))
    assert code == 0
    assert one["reference_rows"] == REFERENCE_ROWS
    assert one["over_time"]["chunks"] == two["over_time"]["chunks"]
    assert [c["alert"] for c in one["over_time"]["columns"]] == \
        [c["alert"] for c in two["over_time"]["columns"]]


@pytest.fixture(scope="module")
def short_month(tmp_path_factory):
    return write(short_last_month(), tmp_path_factory.mktemp("short") / "loans.parquet")


def test_a_200_row_last_month_is_marked_and_raises_no_alert(capsys, short_month):
    base = [short_month, "--timestamp", "timestamp", "--reference-end", "2019-01-01",
            "--chunk", "month"]
    code, doc, _ = _json(capsys, *base, "--fail-on-drift")
    assert code == 0
    july = doc["over_time"]["chunks"][-1]
    assert (july["label"], july["rows"], july["partial"], july["too_small"]) == \
        ("2019-07", 200, True, True)
    assert not any(c["partial"] or c["too_small"] for c in doc["over_time"]["chunks"][:-1])
    assert not any(c["alert"][-1] for c in doc["over_time"]["columns"])
    assert doc["multivariate"]["alert"][-1] is False
    # The same chunk judged (minimum 100 rows) does alert: the rule, not the data, is quiet.
    code, judged, _ = _json(capsys, *base, "--fail-on-drift", "--min-chunk-rows", "100")
    assert code == 1
    alerting = {c["name"] for c in judged["over_time"]["columns"] if c["alert"][-1]}
    assert alerting == {"income", "debt_ratio", "car_type", "region"}
    assert judged["multivariate"]["alert"][-1] is True
    code, out, _ = run(capsys, *base)
    assert "2019-07   current   200 partial, too small to judge" in out


@pytest.mark.parametrize("extra,message", [
    (["--chunk", "0"], "positive whole size"),
    (["--chunk", "fortnight"], "neither a period"),
    (["--chunk", "month", "--recent", "0"], "--recent"),
    (["--chunk", "month", "--recent", "-1"], "--recent"),
    (["--chunk", "month", "--recent", "nan"], "--recent"),
    (["--chunk", "month", "--min-chunk-rows", "0"], "--min-chunk-rows"),
    (["--recent", "2"], "--recent applies to chunks"),
    (["--chunk", "month", "--timestamp", "car_type"], "'car_type'.*not timestamps"),
])
def test_bad_time_options_exit_2_with_one_error_line(capsys, loans, extra, message):
    argv = [loans["ref"], loans["cur"], *extra]
    if "--timestamp" not in extra:
        argv += ["--timestamp", "timestamp"]
    code, out, err = run(capsys, *argv)
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(lines) == 1 and out == "", err
    assert re.search(message, lines[0]), lines[0]


def test_period_chunks_need_a_time_column(capsys, tmp_path):
    frame = car_loans(3000, seed=2).drop(columns=["timestamp"])
    ref = write(frame.iloc[:1500], tmp_path / "r.parquet")
    cur = write(frame.iloc[1500:], tmp_path / "c.parquet")
    code, _, err = run(capsys, ref, cur, "--chunk", "month")
    assert code == 2 and "needs a time column" in err
    code, out, _ = run(capsys, ref, cur, "--chunk", "500", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and [c["rows"] for c in doc["over_time"]["chunks"]] == [500] * 6
    assert doc["over_time"]["chunks"][0]["start"] is None
    assert np.isfinite(doc["multivariate"]["threshold"])
