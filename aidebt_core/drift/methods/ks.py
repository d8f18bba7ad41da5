"""Two-sample Kolmogorov–Smirnov test (numeric columns): drifted when p < threshold."""

from aidebt_core.drift.methods.base import NUMERIC, P_VALUE, SMALL, Method


def statistic(reference, current) -> tuple[float, float]:
    """(D, p) exactly as `scipy.stats.ks_2samp(reference, current)` (see `stats.ks_test`)."""
    from aidebt_core.drift import stats

    pair = stats.ks_and_wasserstein(reference.values, current.values, reference.counts,
                                    current.counts)
    return stats.ks_test(reference, current, pair.ks_statistic)


METHOD = Method(
    name="ks", kinds=(NUMERIC,), rule=P_VALUE, default_threshold=0.05,
    label="KS p-value", numeric=statistic, counterpart="chi2", auto=SMALL,
    measure="ks", p_value_measure="ks_p_value",
    help="Kolmogorov–Smirnov test on numeric columns (chi-square on categorical ones): "
         "drifted when p < the threshold (0.05). Every difference is significant on large "
         "samples, so auto uses it below 1,000 values a side.")
