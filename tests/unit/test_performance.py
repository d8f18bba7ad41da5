"""Performance over time on the sample scenario (planted truth) and on synthetic data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn import metrics as skm

from aidebt_core.cli import main
from aidebt_core.data import connect, open_table
from aidebt_core.errors import SchemaError
from aidebt_core.performance import analyse_performance
from aidebt_core.performance.relationship import feature_relationship, rank_relationships
from aidebt_core.selection import sample_selection
from aidebt_core.timeaxis import split_on_timestamp
from aidebt_core.workspace import Workspace

CLEAR = ("roc_auc", "accuracy", "log_loss", "brier")   # metrics with a wide margin on the sample


@pytest.fixture(scope="module")
def sample_result(sample_dir):
    with sample_selection(sample_dir).open() as data:
        return analyse_performance(data.reference, data.current, "defaulted",
                                   score="default_score", prediction="predicted_default",
                                   timestamp="applied_at", chunking="month")


@pytest.fixture(scope="module")
def applications(sample_dir):
    return pd.read_parquet(sample_dir / "applications.parquet")


def _month_labels(months):
    return [f"2025-{m:02d}" for m in months]


def test_sample_last_month_gets_an_estimate_without_labels(sample_result, ground_truth):
    last = sample_result.chunks[-1]
    assert last.label == "2025-12" and last.labelled_rows == 0 and last.rows == 10_000
    assert sample_result.alerts()["unlabelled"] == _month_labels(
        ground_truth["labels_missing_months"])
    for metric in sample_result.metrics:
        frame = sample_result.to_frame(metric)
        assert np.isnan(frame["realized"].iloc[-1])
        assert 0 < frame["estimated"].iloc[-1] < 1, metric
        assert frame["note"].iloc[-1] == "no labels yet"


def test_sample_concept_drift_from_month_10(sample_result, ground_truth):
    start = ground_truth["concept_drift"]["from_month"]
    labelled_after = [m for m in ground_truth["current_months"]
                      if m >= start and m not in ground_truth["labels_missing_months"]]
    before = _month_labels(m for m in ground_truth["current_months"] if m < start)
    # No metric raises a concept-drift alert before the planted start (recall happens to be
    # insensitive to this drift: the defaults the model misses grow in step with the estimate).
    for metric in sample_result.metrics:
        found = sample_result.alerts(metric)["concept_drift"]
        assert not set(found) & set(before), (metric, found)
    for metric in CLEAR:
        assert sample_result.alerts(metric)["concept_drift"] == _month_labels(labelled_after)
    # No alert of any kind on the reference chunks the bands come from.
    frame = sample_result.to_frame()
    ref = frame[frame["period"] == "reference"]
    assert not ref["alert"].any() and not ref["concept_alert"].any()


def test_sample_realized_equals_sklearn_per_month(sample_result, applications):
    month = applications["applied_at"].dt.month
    for m, part in applications[applications["defaulted"].notna()].groupby(month):
        y, s, p = part["defaulted"], part["default_score"], part["predicted_default"]
        expected = {"roc_auc": skm.roc_auc_score(y, s), "accuracy": skm.accuracy_score(y, p),
                    "precision": skm.precision_score(y, p), "recall": skm.recall_score(y, p),
                    "f1": skm.f1_score(y, p), "log_loss": skm.log_loss(y, s),
                    "brier": skm.brier_score_loss(y, s)}
        for metric, value in expected.items():
            got = sample_result.to_frame(metric)["realized"].iloc[m - 1]
            assert got == pytest.approx(value, rel=1e-10), (m, metric)


def test_bands_come_from_reference_chunks(sample_result):
    frame = sample_result.to_frame("accuracy")
    ref = frame[frame["period"] == "reference"]
    band = sample_result.series["accuracy"].band
    spread = ref["realized"].std(ddof=1)
    se = np.sqrt(np.mean(((ref["ci_high"] - ref["ci_low"]) / 2 / norm.ppf(0.975)) ** 2))
    assert band.centre == pytest.approx(ref["realized"].mean(), rel=1e-12)
    assert band.upper - band.centre == pytest.approx(3 * max(spread, se), rel=1e-9)


def test_to_dict_follows_the_cli_contract(sample_result):
    payload = sample_result.to_dict()
    text = json.dumps(payload, allow_nan=False)
    assert payload["metric"] == "roc_auc"
    chunk = payload["chunks"][-1]
    for key in ("start", "end", "rows", "period", "realized", "estimated", "lower", "upper",
                "alert"):
        assert key in chunk
    assert chunk["realized"] is None and chunk["estimated"] > 0.5
    assert payload["alerts"]["concept_drift"] == ["2025-10", "2025-11"]
    assert set(payload["metrics"]) == set(sample_result.metrics)
    assert "NaN" not in text


def test_relationship_rates_equal_pandas(sample_dir, applications):
    with sample_selection(sample_dir).open() as data:
        rel = feature_relationship(data.reference, data.current, "debt_to_income", "defaulted")
    labelled = applications[applications["defaulted"].notna()]
    ref = labelled[labelled["applied_at"] < "2025-07-01"]
    cur = labelled[labelled["applied_at"] >= "2025-07-01"]
    inner = np.quantile(ref["debt_to_income"], np.arange(1, 10) / 10)
    for part, rows, rate in ((ref, rel.reference_rows, rel.reference_rate),
                             (cur, rel.current_rows, rel.current_rate)):
        b = np.searchsorted(inner, part["debt_to_income"], side="right")
        g = part.groupby(b)["defaulted"].agg(["size", "mean"])
        assert rows.tolist() == g["size"].tolist()
        np.testing.assert_allclose(rate, g["mean"], rtol=1e-12)


def test_relationship_points_at_the_planted_feature(sample_dir, ground_truth):
    feature = ground_truth["concept_drift"]["feature"]
    features = ground_truth["model_features"]
    with sample_selection(sample_dir).open() as data:
        after = data.current.where("applied_at >= TIMESTAMP '2025-10-01'")
        before = data.current.where("applied_at < TIMESTAMP '2025-10-01'")
        ranked_after = rank_relationships(data.reference, after, features, "defaulted")
        ranked_before = rank_relationships(data.reference, before, features, "defaulted")
    assert ranked_after[0].feature == feature
    assert [r.feature for r in ranked_before].index(feature) >= len(features) // 2


# ------------------------------------------------------------------------ synthetic & bad input

@pytest.fixture
def tables(tmp_path):
    cons = []

    def _make(frame: pd.DataFrame, split="2024-04-01", name="d.parquet"):
        path = tmp_path / name
        frame.to_parquet(path) if name.endswith(".parquet") else frame.to_csv(path, index=False)
        ws = Workspace.at(tmp_path)
        con = connect(ws)
        cons.append(con)
        table = open_table(con, ws, name)
        return split_on_timestamp(table, "ts", split) if split else (table, table)

    yield _make
    for con in cons:
        con.close()


def _synthetic(n_per_month=3000, months=6, seed=0, concept_from=None):
    rng = np.random.default_rng(seed)
    parts = []
    for m in range(1, months + 1):
        s = rng.beta(2, 5 - 0.3 * m, n_per_month)          # data drift of the scores
        truth = np.clip(s * (1.6 if concept_from and m >= concept_from else 1.0), 0, 1)
        y = (rng.uniform(size=n_per_month) < truth).astype(float)
        ts = pd.Timestamp(2024, m, 1) + pd.to_timedelta(rng.uniform(0, 27, n_per_month), "D")
        parts.append(pd.DataFrame({"ts": ts, "y": y, "s": s, "p": (s >= 0.4).astype(int)}))
    return pd.concat(parts, ignore_index=True)


def test_synthetic_without_concept_drift_has_no_concept_alert(tables):
    ref, cur = tables(_synthetic())
    result = analyse_performance(ref, cur, "y", score="s", prediction="p", timestamp="ts")
    assert [c.period for c in result.chunks] == ["reference"] * 3 + ["current"] * 3
    for metric in result.metrics:
        assert result.alerts(metric)["concept_drift"] == [], metric


def test_synthetic_concept_drift_is_found(tables):
    ref, cur = tables(_synthetic(concept_from=5))
    result = analyse_performance(ref, cur, "y", score="s", prediction="p", timestamp="ts")
    assert result.alerts()["concept_drift"] == ["2024-05", "2024-06"]
    assert result.alerts("precision")["concept_drift"] == ["2024-05", "2024-06"]


def test_regression_metrics(tables):
    rng = np.random.default_rng(1)
    frame = _synthetic()
    frame["y"] = rng.normal(100, 10, len(frame))
    frame["p"] = frame["y"] + rng.normal(0, 5, len(frame))
    ref, cur = tables(frame)
    result = analyse_performance(ref, cur, "y", prediction="p", timestamp="ts", metric="rmse")
    assert result.task == "regression" and result.metrics == ["mae", "rmse"]
    for i, (_, part) in enumerate(frame.groupby(frame["ts"].dt.month)):
        assert result.to_frame("mae")["realized"].iloc[i] == pytest.approx(
            skm.mean_absolute_error(part["y"], part["p"]), rel=1e-10)
        assert result.to_frame("rmse")["realized"].iloc[i] == pytest.approx(
            skm.root_mean_squared_error(part["y"], part["p"]), rel=1e-10)
    assert result.to_frame()["estimated"].isna().all()


def test_prediction_from_score_threshold(tables):
    frame = _synthetic()
    ref, cur = tables(frame)
    result = analyse_performance(ref, cur, "y", score="s", timestamp="ts", metric="f1",
                                 threshold=0.3)
    part = frame[frame["ts"].dt.month == 5]
    assert result.to_frame()["realized"].iloc[4] == pytest.approx(
        skm.f1_score(part["y"], part["s"] >= 0.3), rel=1e-12)


def test_one_class_chunk_shows_auc_undefined(tables):
    frame = _synthetic()
    frame.loc[frame["ts"].dt.month == 5, "y"] = 0.0
    ref, cur = tables(frame)
    result = analyse_performance(ref, cur, "y", score="s", prediction="p", timestamp="ts")
    row = result.to_frame().iloc[4]
    assert np.isnan(row["realized"]) and row["note"] == "undefined: all labels are 0"
    assert not row["alert"] and not row["concept_alert"] and np.isfinite(row["estimated"])


@pytest.mark.parametrize("change,message", [
    (lambda f: f.drop(columns=["y"]), r"no column\(s\) 'y'"),
    (lambda f: f.assign(s=f["s"] * 3), r"score column 's'.*\[0, 1\].*outside"),
    (lambda f: f.assign(y=np.where(f.index % 7 == 0, 2.0, f["y"])),
     r"label column 'y'.*not binary.*other than 0/1"),
    (lambda f: f.assign(y=f["y"].map({0.0: "no", 1.0: "yes"})), r"label column 'y'.*numbers"),
    (lambda f: f.assign(p=f["p"] + 1), r"prediction column 'p'.*0/1"),
    (lambda f: f.assign(s=f["s"].where(f.index % 5 != 0)), r"score column 's'.*missing"),
])
def test_bad_input_is_named(tables, change, message):
    ref, cur = tables(change(_synthetic()))
    with pytest.raises(SchemaError, match=message):
        analyse_performance(ref, cur, "y", score="s", prediction="p", timestamp="ts")


def test_unparsable_timestamps(tables):
    frame = _synthetic().assign(ts=lambda f: f["ts"].astype(str))
    frame.loc[5, "ts"] = "not a date"
    ref, cur = tables(frame, split=None, name="d.csv")
    with pytest.raises(SchemaError, match=r"'ts'.*1 value.*not timestamps.*not a date"):
        analyse_performance(ref, cur, "y", score="s", prediction="p", timestamp="ts")


def test_too_few_reference_chunks(tables):
    ref, cur = tables(_synthetic(), split="2024-02-01")
    with pytest.raises(SchemaError, match="at least two reference chunks"):
        analyse_performance(ref, cur, "y", score="s", prediction="p", timestamp="ts")


# ---------------------------------------------------------------------------------- CLI

def _cli(args, capsys):
    code = main(["performance", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json_and_fail_on_alert(sample_dir, capsys, monkeypatch):
    monkeypatch.chdir(sample_dir)
    base = ["applications.parquet", "--target", "defaulted", "--prediction",
            "predicted_default", "--score", "default_score", "--timestamp", "applied_at",
            "--reference-end", "2025-07-01"]
    code, out, _ = _cli([*base, "--metric", "accuracy", "--format", "json"], capsys)
    payload = json.loads(out)
    assert code == 0 and payload["metric"] == "accuracy"
    assert [c["concept_drift_alert"] for c in payload["chunks"]][6:] == \
        [False, False, False, True, True, False]
    assert payload["chunks"][-1]["realized"] is None
    code, out, _ = _cli([*base, "--fail-on-alert"], capsys)
    assert code == 1 and "concept drift in 2025-10, 2025-11" in out


def test_cli_bad_input_exits_2(sample_dir, capsys, monkeypatch):
    monkeypatch.chdir(sample_dir)
    code, out, err = _cli(["applications.parquet", "--target", "nope", "--score",
                           "default_score", "--timestamp", "applied_at", "--reference-end",
                           "2025-07-01"], capsys)
    assert code == 2 and out == "" and err.startswith("error:") and "'nope'" in err
    code, _, err = _cli(["applications.parquet", "--target", "income", "--score",
                         "default_score", "--timestamp", "applied_at", "--reference-end",
                         "2025-07-01"], capsys)
    assert code == 2 and "not binary" in err


def test_chunk_labels_stay_unique(tables):
    frame = _synthetic(n_per_month=1000)
    ref, cur = tables(frame)
    result = analyse_performance(ref, cur, "y", score="s", prediction="p", timestamp="ts",
                                 chunking="1000")
    assert [c.label for c in result.chunks] == [
        f"rows {i * 1000:,}–{i * 1000 + 999:,}" for i in range(6)]
    assert [c.index for c in result.chunks] == list(range(6))
    ref, cur = tables(frame, split="2024-02-15", name="mid.parquet")
    result = analyse_performance(ref, cur, "y", score="s", prediction="p", timestamp="ts")
    assert [c.label for c in result.chunks][:3] == ["2024-01", "2024-02", "2024-02 (current)"]
    assert sum(c.rows for c in result.chunks[1:3]) == (frame["ts"].dt.month == 2).sum()


def test_nan_labels_count_as_not_yet_known(tmp_path):
    # pyarrow keeps NaN (not NULL) when asked; such labels are treated like NULL ones.
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = _synthetic()
    y = frame["y"].to_numpy().copy()
    y[frame["ts"].dt.month == 6] = np.nan
    table = pa.table({"ts": frame["ts"], "y": pa.array(y, from_pandas=False),
                      "s": frame["s"], "p": frame["p"]})
    pq.write_table(table, tmp_path / "nan.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    try:
        ref, cur = split_on_timestamp(open_table(con, ws, "nan.parquet"), "ts", "2024-04-01")
        result = analyse_performance(ref, cur, "y", score="s", prediction="p", timestamp="ts")
    finally:
        con.close()
    assert result.alerts()["unlabelled"] == ["2024-06"]
    assert result.chunks[-1].labelled_rows == 0


def test_cli_report_and_table(sample_dir, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(sample_dir)
    out_file = tmp_path / "perf.html"
    code, out, err = _cli(["applications.parquet", "--target", "defaulted", "--score",
                           "default_score", "--timestamp", "applied_at", "--reference-end",
                           "2025-07-01", "--chunk", "quarter", "--metric", "brier",
                           "--report", str(out_file)], capsys)
    assert code == 0 and "report written" in err
    assert "2025-Q4" in out and "Brier score: performance alerts in" in out
    html = out_file.read_text()
    assert "Brier score over time" in html and "plotly" in html


def test_cli_metric_choices_match_the_core():
    from aidebt_core.commands.performance import METRICS
    from aidebt_core.performance import METRIC_NAMES

    assert METRICS == tuple(METRIC_NAMES)
