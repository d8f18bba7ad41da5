"""Every performance alert as a sentence with direction and size; unlabelled chunks never in
the realized-metric alerts. Generated data: monthly scores `y_pred_proba`, label `repaid`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from aidebt_core.data import connect, open_table
from aidebt_core.performance import analyse_performance
from aidebt_core.performance.notes import alert_notes, headline
from aidebt_core.timeaxis import split_on_timestamp
from aidebt_core.workspace import Workspace


def _loans(concept_from=5, unlabelled=(6,), months=6, n=3000, seed=3):
    """Calibrated scores until `concept_from`; from then on the outcome ignores the score
    (the ranking breaks: realized AUC falls towards 0.5 while the estimate stays put)."""
    rng = np.random.default_rng(seed)
    parts = []
    for m in range(1, months + 1):
        s = rng.beta(2, 4, n)
        truth = s if m < concept_from else rng.permutation(s)
        y = (rng.uniform(size=n) < truth).astype(float)
        if m in unlabelled:
            y[:] = np.nan
        ts = pd.Timestamp(2023, m, 1) + pd.to_timedelta(rng.uniform(0, 27, n), "D")
        parts.append(pd.DataFrame({"applied": ts, "repaid": y, "y_pred_proba": s}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture
def analysed(tmp_path):
    frame = _loans()
    frame.to_parquet(tmp_path / "loans.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    ref, cur = split_on_timestamp(open_table(con, ws, "loans.parquet"), "applied",
                                  "2023-04-01")
    result = analyse_performance(ref, cur, "repaid", score="y_pred_proba", timestamp="applied")
    yield frame, result
    con.close()


def test_concept_drift_notes_give_direction_and_size(analysed):
    frame, result = analysed
    notes = [n for n in alert_notes(result) if n.kind == "concept_drift"]
    assert [n.chunk for n in notes] == ["2023-05"]
    may = frame[frame["applied"].dt.month == 5]
    auc = skm.roc_auc_score(may["repaid"], may["y_pred_proba"])
    note = notes[0]
    assert note.value == pytest.approx(auc, rel=1e-12)
    estimate = result.to_frame().set_index("chunk").loc["2023-05", "estimated"]
    assert note.compared_to == pytest.approx(estimate, rel=1e-12)
    assert note.difference == pytest.approx(auc - estimate) and note.difference < -0.1
    assert note.worse
    assert note.text == (f"2023-05: ROC AUC {auc:.3f}, {estimate - auc:.3f} below the "
                         f"label-free estimate {estimate:.3f} (worse)")


def test_lower_is_better_metric_reads_above_and_worse(analysed):
    _, result = analysed
    notes = [n for n in alert_notes(result, "log_loss") if n.kind == "concept_drift"]
    assert notes and all(n.difference > 0 and n.worse and " above " in n.text for n in notes)


def test_unlabelled_month_is_never_a_realized_alert(analysed):
    _, result = analysed
    for metric in result.metrics:
        alerts = result.alerts(metric)
        assert "2023-06" not in alerts["performance"], metric
        assert "2023-06" not in alerts["concept_drift"], metric
        assert alerts["unlabelled"] == ["2023-06"]
        for note in alert_notes(result, metric):
            assert not note.chunk.startswith("2023-06") or note.kind == "estimate_only"


def test_estimate_only_alert_is_said_so(tmp_path):
    """A month without labels whose scores collapse: no positive decisions are left, so the
    estimated recall falls below the band; the alert is named an estimate, not a measure."""
    frame = _loans(concept_from=99, unlabelled=(6,))
    june = frame["applied"].dt.month == 6
    frame.loc[june, "y_pred_proba"] = frame.loc[june, "y_pred_proba"] * 0.2
    frame.to_parquet(tmp_path / "l.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    ref, cur = split_on_timestamp(open_table(con, ws, "l.parquet"), "applied", "2023-04-01")
    result = analyse_performance(ref, cur, "repaid", score="y_pred_proba", timestamp="applied",
                                 metric="recall")
    con.close()
    alerts = result.alerts("recall")
    assert alerts["performance"] == [] and alerts["estimate_only"] == ["2023-06"]
    assert result.any_alert
    (note,) = alert_notes(result, "recall")
    assert note.kind == "estimate_only" and note.chunk == "2023-06 (no labels yet)"
    assert note.text.startswith("2023-06 (no labels yet): estimated Recall ")
    assert note.difference < 0 and note.worse and " below the reference band's lower edge " \
        in note.text
    assert headline(result, "recall").startswith("No measured alert; the estimated Recall is")


def test_headline_names_the_worst_gap(analysed):
    _, result = analysed
    gaps = result.to_frame().set_index("chunk")["gap"]
    assert headline(result) == (f"Concept drift in 2023-05: realized ROC AUC up to "
                                f"{abs(gaps['2023-05']):.3f} below the label-free estimate "
                                "(worse).")
