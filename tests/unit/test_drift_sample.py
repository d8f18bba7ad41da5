"""On the sample scenario, drift finds exactly what was planted (ground_truth.json)."""

import pandas as pd
import pytest
from scipy import stats

from aidebt_core.drift import DriftOptions, analyse_drift
from aidebt_core.selection import sample_selection


@pytest.fixture(scope="module")
def opened(sample_dir):
    with sample_selection(sample_dir).open() as data:
        yield data


@pytest.fixture(scope="module")
def result(opened):
    return analyse_drift(opened.reference, opened.current, opened.schema,
                         include_outputs=True)


def test_exactly_the_planted_features_drift(result, ground_truth):
    truth = ground_truth["data_drift"]
    features = [c for c in result.columns if c.name not in truth["drifted_outputs"]]
    assert sorted(c.name for c in features if c.drifted) == sorted(truth["drifted_features"])
    assert all(c.method in ("wasserstein", "jensenshannon") for c in result.columns)


def test_model_outputs_drift_too(result, opened, ground_truth):
    outputs = ground_truth["data_drift"]["drifted_outputs"]
    assert result.column("default_score").drifted  # effect size ≥ 0.1
    tested = analyse_drift(opened.reference, opened.current, opened.schema, columns=outputs,
                           options=DriftOptions(method="ks"))
    assert tested.drifted_columns == outputs  # both significant (KS / chi-square, p < 0.05)


def test_new_channel_and_missing_jump(result, ground_truth):
    assert result.column("channel").new_categories == (ground_truth["new_category"]["value"],)
    jump = ground_truth["missing_jump"]
    emp = result.column(jump["column"])
    assert result.missing_changed == [jump["column"]]
    assert not emp.drifted  # the non-missing distribution is unchanged
    assert emp.missing_share_reference == pytest.approx(jump["missing_share_before"], abs=0.003)
    months_after = 12 - jump["from_month"] + 1
    expected = (jump["missing_share_before"] * (6 - months_after)
                + jump["missing_share_after"] * months_after) / 6
    assert emp.missing_share_current == pytest.approx(expected, abs=0.006)


def test_sample_numbers_match_scipy_on_the_raw_columns(result, sample_dir):
    ref = pd.read_parquet(sample_dir / "reference.parquet")
    cur = pd.read_parquet(sample_dir / "current.parquet")
    income = result.column("income")
    ks = stats.ks_2samp(ref["income"], cur["income"])
    assert (income.measures["ks"], income.p_value) == (ks.statistic, ks.pvalue)
    assert income.statistic == pytest.approx(stats.wasserstein_distance(
        ref["income"], cur["income"]) / ref["income"].std(ddof=0), rel=1e-12)
    table = pd.crosstab(pd.concat([ref["channel"], cur["channel"]]),
                        [0] * len(ref) + [1] * len(cur)).T.to_numpy()
    assert result.column("channel").measures["chi2"] == pytest.approx(
        stats.chi2_contingency(table).statistic, rel=1e-12)
    assert result.reference_rows == len(ref) and result.current_rows == len(cur)
