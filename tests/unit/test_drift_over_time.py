"""Drift over time, multivariate drift and distributions: planted truth and independent numbers."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from aidebt_core.data import connect, open_table
from aidebt_core.drift import stats as drift_stats
from aidebt_core.drift.distribution import column_distribution
from aidebt_core.drift.multivariate import multivariate_drift
from aidebt_core.drift.noise import (
    categorical_null,
    noise_thresholds,
    numeric_null,
    tail_probability,
)
from aidebt_core.drift.over_time import drift_over_time
from aidebt_core.errors import SchemaError
from aidebt_core.selection import sample_selection
from aidebt_core.workspace import Workspace

FEATURES = ["age", "income", "monthly_income", "loan_amount", "credit_score",
            "employment_type", "channel", "region"]
KINDS = ["numeric"] * 5 + ["categorical"] * 3


@pytest.fixture(scope="module")
def opened(sample_dir):
    with sample_selection(sample_dir).open() as data:
        yield data


@pytest.fixture(scope="module")
def monthly(opened):
    return drift_over_time(opened.reference, opened.current, FEATURES, KINDS, "month",
                           opened.timestamp)


def test_planted_effects_appear_when_they_were_planted(monthly, ground_truth):
    assert [c.label for c in monthly.chunks] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert monthly.threshold_source == "reference chunks"
    for detail in ground_truth["data_drift"]["details"]:
        if detail["column"] in FEATURES:
            assert monthly.first_alert(detail["column"]) == f"2025-{detail['from_month']:02d}"
    jump = ground_truth["missing_jump"]
    assert monthly.first_alert(jump["column"], missing=True) == f"2025-{jump['from_month']:02d}"
    i = monthly.columns.index(jump["column"])
    assert monthly.missing[i, -1] == pytest.approx(jump["missing_share_after"], abs=0.015)
    assert monthly.first_alert("age") is None


def test_chunk_values_and_thresholds_match_independent_computation(monthly, sample_dir):
    frame = pd.read_parquet(sample_dir / "applications.parquet")
    month = frame["applied_at"].dt.month
    ref = frame[month <= 6]
    i = monthly.columns.index("income")
    oct_ = frame.loc[month == 10, "income"]
    expected = stats.wasserstein_distance(ref["income"], oct_) / ref["income"].std(ddof=0)
    assert monthly.values[i, 9] == pytest.approx(expected, rel=1e-9)
    rest = ref.loc[ref["applied_at"].dt.month != 3, "income"]
    march = ref.loc[ref["applied_at"].dt.month == 3, "income"]
    assert monthly.values[i, 2] == pytest.approx(  # leave-one-out for reference chunks
        stats.wasserstein_distance(rest, march) / rest.std(ddof=0), rel=1e-9)
    ref_vals = monthly.values[i, :6]
    observed = ref_vals.mean() + 3 * ref_vals.std()
    # Never below the reference chunks' own band; above it where sampling noise demands.
    assert (monthly.chunk_thresholds[i] >= observed * (1 - 1e-12)).all()
    assert monthly.chunk_thresholds[i, 6:].max() > 1.2 * observed
    assert monthly.thresholds[i] == pytest.approx(np.median(monthly.chunk_thresholds[i, 6:]))
    j = monthly.columns.index("channel")
    counts = ref["channel"].value_counts()
    aug = frame.loc[month == 8, "channel"].value_counts()
    cats = sorted(set(counts.index) | set(aug.index))
    assert monthly.values[j, 7] == pytest.approx(
        jensenshannon(counts.reindex(cats, fill_value=0), aug.reindex(cats, fill_value=0)),
        rel=1e-9)
    k = monthly.columns.index("employment_type")
    nov = frame.loc[month == 11, "employment_type"]
    assert monthly.missing[k, 10] == pytest.approx(nov.isna().mean(), rel=1e-12)
    records = monthly.to_frame()
    assert len(records) == len(FEATURES) * 12
    assert monthly.to_dict()["columns"][1]["first_alert"] == "2025-07"
    np.testing.assert_array_equal(records["threshold"], monthly.chunk_thresholds.ravel())


def test_no_alert_on_columns_that_did_not_drift(opened, ground_truth):
    """Every column the ground truth leaves alone, every current month: no drift alert, and no
    missing-share alert except on the planted column. device_os is left out: it is generated
    from channel (mobile -> ios/android, branch -> terminal), so the new 'partner' channel
    really moves it (JS 0.068 against a noise level of 0.01)."""
    truth = ground_truth["data_drift"]
    drifted = set(truth["drifted_features"]) | {"device_os"}
    quiet = [c for c in [*ground_truth["model_features"], "region_code"] if c not in drifted]
    kinds = ["categorical" if c in ("employment_type", "region", "region_code",
                                    "income_verified") else "numeric" for c in quiet]
    result = drift_over_time(opened.reference, opened.current, quiet, kinds, "month",
                             opened.timestamp)
    current = result.current_mask
    assert current.sum() == len(ground_truth["current_months"])
    alerts = {c: [result.chunks[j].label for j in np.flatnonzero(result.alerts[i] & current)]
              for i, c in enumerate(quiet)}
    assert alerts == {c: [] for c in quiet}
    missing = {c: result.first_alert(c, missing=True) for c in quiet}
    assert missing == {c: None for c in quiet} | {"employment_type": "2025-11"}
    # The old band (mean + 3 std of the six reference months) flagged three of them.
    old = result.values[:, :6].mean(axis=1) + 3 * result.values[:, :6].std(axis=1)
    flagged = {c for i, c in enumerate(quiet) if (result.values[i, current] > old[i]).any()}
    assert flagged == {"loan_amount", "term_months", "account_age_days"}


def test_row_chunks_and_single_reference_chunk(opened):
    by_rows = drift_over_time(opened.reference, opened.current, ["income"], ["numeric"], "20000",
                              opened.timestamp, method="psi")
    assert [c.rows for c in by_rows.chunks] == [20000] * 6
    assert by_rows.methods == ("psi",)
    assert by_rows.first_alert("income") is not None
    single = drift_over_time(opened.reference, opened.current, ["age"], ["numeric"], "year",
                             opened.timestamp)
    assert single.threshold_source == "default" and single.thresholds[0] == 0.1
    with pytest.raises(SchemaError, match="method"):
        drift_over_time(opened.reference, opened.current, ["age"], ["numeric"], "month",
                        opened.timestamp, method="magic")
    with pytest.raises(SchemaError, match="timestamp"):
        drift_over_time(opened.reference, opened.current, ["age"], ["numeric"], "month", None)


def test_multivariate_finds_the_correlation_break(opened, ground_truth):
    brk = ground_truth["correlation_break"]
    result = multivariate_drift(opened.reference, opened.current,
                                [*brk["columns"], "age", "loan_amount", "debt_to_income"], [],
                                "month", opened.timestamp)
    assert result.first_alert() == f"2025-{brk['from_month']:02d}"
    assert not result.alerts[:brk["from_month"] - 1].any()
    errors = result.errors
    assert errors[brk["from_month"] - 1:].min() > 1.3 * errors[:6].max()
    # Band: the larger of the reference months' spread and a chunk mean's sampling noise
    # (5,000 rows scored per month, 30,000 in the reference).
    noise = result.row_std * np.sqrt(1 / 5000 + 1 / 30000)
    assert result.upper == pytest.approx(
        errors[:6].mean() + 3 * max(errors[:6].std(), noise), rel=1e-12)
    assert noise > errors[:6].std()  # here the sampling-noise floor sets the band
    again = multivariate_drift(opened.reference, opened.current,
                               [*brk["columns"], "age", "loan_amount", "debt_to_income"], [],
                               "month", opened.timestamp)
    np.testing.assert_array_equal(again.errors, result.errors)  # the row sample is repeatable
    assert result.to_dict()["first_alert"] == result.first_alert()
    with pytest.raises(SchemaError, match="two columns"):
        multivariate_drift(opened.reference, opened.current, ["age"], [], "month",
                           opened.timestamp)


def test_distribution_shares_match_pandas(opened, sample_dir):
    ref = pd.read_parquet(sample_dir / "reference.parquet")
    cur = pd.read_parquet(sample_dir / "current.parquet")
    dist = column_distribution(opened.reference, opened.current, "channel", "categorical")
    shares = cur["channel"].value_counts(normalize=True)
    assert dict(zip(dist.labels, dist.current, strict=True)) == pytest.approx(shares.to_dict())
    assert dist.reference[list(dist.labels).index("partner")] == 0
    num = column_distribution(opened.reference, opened.current, "credit_score", "numeric", 30)
    edges = num.edges.copy()
    edges[0], edges[-1] = -np.inf, np.inf
    expected = np.histogram(cur["credit_score"], edges)[0] / len(cur)
    np.testing.assert_allclose(num.current, expected, rtol=1e-12)
    expected_ref = np.histogram(ref["credit_score"], edges)[0] / len(ref)
    np.testing.assert_allclose(num.reference, expected_ref, rtol=1e-12)


def test_distribution_with_an_empty_side(tmp_path):
    pd.DataFrame({"v": [1.0, 2.0, 3.0]}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"v": [None, None]}, dtype=float).to_parquet(tmp_path / "b.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    try:
        dist = column_distribution(open_table(con, ws, "a.parquet"),
                                   open_table(con, ws, "b.parquet"), "v", "numeric", 4)
    finally:
        con.close()
    assert dist.current.sum() == 0 and dist.reference.sum() == pytest.approx(1.0)


# Generated data: 8 numeric columns of different shapes (two with 5 % missing), 4 categorical
# ones (binary, five values with 10 % missing, 30 values of which 25 are rare, eight even).
NUMERIC = {"normal": lambda r, n: r.normal(50, 10, n),
           "lognormal": lambda r, n: r.lognormal(9, .6, n),
           "exponential": lambda r, n: r.exponential(400, n),
           "pareto": lambda r, n: r.pareto(3.5, n),
           "poisson": lambda r, n: r.poisson(1.2, n).astype(float),
           "uniform": lambda r, n: r.uniform(0, 1, n),
           "terms": lambda r, n: r.choice([12., 24, 36, 48, 60], n, p=[.1, .25, .35, .15, .15]),
           "beta": lambda r, n: r.beta(2, 5, n)}
CATEGORICAL = {"binary": (["yes", "no"], [.7, .3]), "five": (list("abcde"), [.3, .25, .2, .15, .1]),
               "rare30": ([f"v{i}" for i in range(30)], [.17] * 5 + [.006] * 25),
               "region": ([f"r{i}" for i in range(8)], [.125] * 8)}
GENERATED = [*NUMERIC, *CATEGORICAL]
GENERATED_KINDS = ["numeric"] * len(NUMERIC) + ["categorical"] * len(CATEGORICAL)


def _generated(rows: int, seed: list[int], shift_from: int | None = None) -> pd.DataFrame:
    """No drift, or from row `shift_from` on: normal +0.2 std, binary 'yes' 70 % -> 60 %,
    beta 4 % missing (from none)."""
    rng = np.random.default_rng(seed)
    after = np.arange(rows) >= (rows if shift_from is None else shift_from)
    cols = {"ts": pd.date_range("2024-01-01", periods=rows, freq="min")}
    for name, draw in NUMERIC.items():
        cols[name] = draw(rng, rows)
    cols["normal"][after] += 2.0
    for name in ("normal", "lognormal"):
        cols[name][rng.random(rows) < 0.05] = np.nan
    cols["beta"][after & (rng.random(rows) < 0.04)] = np.nan
    for name, (values, shares) in CATEGORICAL.items():
        cols[name] = rng.choice(values, rows, p=shares).astype(object)
    cols["binary"][after] = np.where(rng.random(after.sum()) < 0.6, "yes", "no")
    cols["five"][rng.random(rows) < 0.1] = None
    return pd.DataFrame({k: pd.array(v, dtype="string") if k in CATEGORICAL else v
                         for k, v in cols.items()})


def _generated_over_time(tmp_path, seed: int, sigmas: list[float], shift_from=None,
                         multivariate: bool = False):
    _generated(12_000, [seed, 1]).to_parquet(tmp_path / f"ref{seed}.parquet")
    _generated(80_000, [seed, 2], shift_from).to_parquet(tmp_path / f"cur{seed}.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    try:
        ref = open_table(con, ws, f"ref{seed}.parquet")
        cur = open_table(con, ws, f"cur{seed}.parquet")
        if multivariate:
            return [multivariate_drift(ref, cur, list(NUMERIC), ["five", "region"], "2000",
                                       "ts", sigmas=k) for k in sigmas]
        return [drift_over_time(ref, cur, GENERATED, GENERATED_KINDS, "2000", "ts", sigmas=k)
                for k in sigmas]
    finally:
        con.close()


def test_false_alert_rate_without_drift_is_at_most_nominal(tmp_path):
    """12 columns × 40 current chunks of 2,000 rows × 3 data sets, nothing drifted: the share
    of column-chunks that alert stays at or below the nominal rate Φ(-k) (k = 3: 0.135 %;
    k = 2: 2.3 %); the missing share (a two-sided band) at or below 2Φ(-k). The old band,
    mean + k std of the six reference chunks, alerted several times as often as nominal."""
    counts = {2.0: [0, 0, 0], 3.0: [0, 0, 0]}
    tests = 0
    for seed in range(3):
        for k, result in zip((2.0, 3.0), _generated_over_time(tmp_path, seed, [2.0, 3.0]),
                             strict=True):
            current = result.current_mask
            assert current.sum() == 40 and result.threshold_source == "reference chunks"
            ref = result.values[:, ~current]
            old = ref.mean(axis=1) + k * ref.std(axis=1)
            counts[k][0] += int(result.alerts[:, current].sum())
            counts[k][1] += int(result.missing_alerts[:, current].sum())
            counts[k][2] += int((result.values[:, current] > old[:, None]).sum())
        tests += 40 * len(GENERATED)
    for k, (alerts, missing, old) in counts.items():
        nominal = tail_probability(k)
        assert alerts / tests <= nominal, (k, alerts, tests)
        assert missing / tests <= 2 * nominal, (k, missing, tests)
        assert old / tests > 5 * nominal, (k, old, tests)
    assert counts[2.0][0] > 0  # not so wide that nothing ever alerts


def test_multivariate_band_without_drift(tmp_path):
    """3 data sets × 40 current chunks without drift: at 2σ (nominal 2.3 %) at most that share
    of chunks alerts. (Before the reference rows were scored out of sample and the band got
    its sampling-noise floor, 22 of these 120 chunks alerted.)"""
    alerts = chunks = 0
    for seed in range(3):
        (result,) = _generated_over_time(tmp_path, seed, [2.0], multivariate=True)
        assert result.components == 7
        alerts += int(result.alerts[6:].sum())
        chunks += len(result.errors[6:])
    assert chunks == 120 and alerts / chunks <= tail_probability(2.0)


def test_planted_shift_is_caught_from_its_chunk(tmp_path):
    (result,) = _generated_over_time(tmp_path, 7, [3.0], shift_from=40_000)  # current chunk 20
    start = result.chunks[6 + 20].label
    for column in ("normal", "binary"):
        i = result.columns.index(column)
        assert result.first_alert(column) == start
        assert result.alerts[i, 6 + 20:].all(), column
    assert result.first_alert("beta", missing=True) == start


def test_noise_thresholds_match_simulated_quantiles():
    """The bootstrap-plus-tail quantile against plain Monte Carlo with scipy: a lognormal
    column (Wasserstein ÷ reference std, 2,000 two-sample draws, 99 % quantile) and a
    categorical one with rare values (Jensen–Shannon, 20,000 draws, 99.865 % = 3σ quantile).
    Sizes give an effective size of exactly 1,024 (n·N/(n + N), 1,280 vs 5,120), so no
    rounding widens the threshold; tolerance: Monte-Carlo and bootstrap error."""
    rng = np.random.default_rng(11)
    n, big = 1280, 5120
    sample = np.sort(rng.lognormal(0, 0.6, big))
    null = numeric_null(drift_stats.Sample(sample), "auto")
    got = noise_thresholds(null, np.array([big, n]), 1, 0.01, "lognormal")[1]
    draws = []
    for _ in range(2000):
        ref = rng.lognormal(0, 0.6, big)
        draws.append(stats.wasserstein_distance(ref, rng.lognormal(0, 0.6, n)) / ref.std())
    assert got == pytest.approx(np.quantile(draws, 0.99), rel=0.08)

    shares = np.array([.17] * 5 + [.006] * 25)
    refs, curs = rng.multinomial(big, shares, 20_000), rng.multinomial(n, shares, 20_000)
    js = [jensenshannon(r, c) for r, c in zip(refs, curs, strict=True)]
    alpha = tail_probability(3.0)
    got = noise_thresholds(categorical_null(refs[0], "auto"), np.array([big, n]), 1, alpha,
                           "rare30")[1]
    assert got == pytest.approx(np.quantile(js, 1 - alpha), rel=0.08)
    again = noise_thresholds(categorical_null(refs[0], "auto"), np.array([big, n]), 1, alpha,
                             "rare30")[1]
    assert again == got  # seeded


def test_multivariate_noise_follows_each_chunks_size(tmp_path):
    """Generated loans with a 200-row last month: each chunk's band uses its own scored rows,
    σ_row·√(1/m + 1/M), so the short month's band is wider; judged (min 100 rows) it alerts
    (its cars all became vans in the north), at the default minimum it is too small."""
    import sys
    from pathlib import Path

    from aidebt_core.timeaxis import split_on_timestamp

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from generated_time import short_last_month

    short_last_month().to_parquet(tmp_path / "loans.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    try:
        ref, cur = split_on_timestamp(open_table(con, ws, "loans.parquet"), "timestamp",
                                      "2019-01-01")
        numeric = ["loan_amount", "income", "age", "term_months", "debt_ratio"]
        judged = multivariate_drift(ref, cur, numeric, ["car_type", "region"], "month",
                                    "timestamp", min_rows=100)
        default = multivariate_drift(ref, cur, numeric, ["car_type", "region"], "month",
                                     "timestamp")
    finally:
        con.close()
    rows = np.array([c.rows for c in judged.chunks], dtype=float)   # all under 5,000 scored
    n_ref = sum(c.period == "reference" for c in judged.chunks)
    ref_err = judged.errors[:n_ref]
    noise = judged.row_std * np.sqrt(1 / rows + 1 / rows[:n_ref].sum())
    expected = ref_err.mean() + 3 * np.maximum(ref_err.std(), noise)
    np.testing.assert_allclose(judged.uppers, expected, rtol=1e-12)
    assert rows[-1] == 200 and judged.uppers[-1] > judged.uppers[:-1].max()
    assert judged.alerts.tolist() == [False] * (len(rows) - 1) + [True]
    assert default.chunks[-1].too_small and default.chunks[-1].partial
    assert not default.alerts.any() and default.errors[-1] > default.uppers[-1]
    assert default.first_alert() is None and judged.first_alert() == "2019-07"


def test_a_split_inside_a_month_gives_two_partial_chunks_with_their_own_labels(tmp_path):
    """One source split on 15 January: January is a partial chunk on both sides; the current
    one is labelled '(current)' so the heatmap keeps both; row chunks continue the count."""
    from aidebt_core.timeaxis import split_on_timestamp

    days = pd.date_range("2024-11-01", "2025-03-31 23:00", freq="h")
    rng = np.random.default_rng(3)
    pd.DataFrame({"ts": days, "x": rng.normal(size=len(days))}).to_parquet(tmp_path / "h.parquet")
    ws = Workspace.at(tmp_path)
    con = connect(ws)
    try:
        ref, cur = split_on_timestamp(open_table(con, ws, "h.parquet"), "ts", "2025-01-15")
        monthly = drift_over_time(ref, cur, ["x"], ["numeric"], "month", "ts")
        by_rows = drift_over_time(ref, cur, ["x"], ["numeric"], "1000", "ts")
    finally:
        con.close()
    assert [(c.label, c.period, c.partial) for c in monthly.chunks] == [
        ("2024-11", "reference", False), ("2024-12", "reference", False),
        ("2025-01", "reference", True), ("2025-01 (current)", "current", True),
        ("2025-02", "current", False), ("2025-03", "current", False)]
    assert [c.rows for c in monthly.chunks] == [30 * 24, 31 * 24, 14 * 24, 17 * 24, 28 * 24,
                                                31 * 24]
    n_ref = 31 * 24 + 30 * 24 + 14 * 24
    labels = [c.label for c in by_rows.chunks]
    assert len(set(labels)) == len(labels)
    current = [c for c in by_rows.chunks if c.period == "current"]
    assert current[0].label == f"rows {n_ref:,}–{n_ref + 999:,}"
    # 1,800 reference and 1,824 current rows: the last chunk of each side is short.
    assert [(c.rows, c.partial) for c in by_rows.chunks] == [
        (1000, False), (800, True), (1000, False), (824, True)]
