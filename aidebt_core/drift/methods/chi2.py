"""Chi-square test of the 2×k count table (categorical columns): drifted when p < threshold."""

from aidebt_core.drift.methods.base import CATEGORICAL, P_VALUE, SMALL, Method


def statistic(reference, current) -> tuple[float, float]:
    """(χ², p) as `scipy.stats.chi2_contingency` (Yates' correction at one degree of freedom)."""
    from aidebt_core.drift import stats

    chi2, p, _ = stats.chi2_two_sample(reference, current)
    return chi2, p


METHOD = Method(
    name="chi2", kinds=(CATEGORICAL,), rule=P_VALUE, default_threshold=0.05,
    label="chi-square p-value", categorical=statistic, counterpart="ks", auto=SMALL,
    measure="chi2", p_value_measure="chi2_p_value",
    help="Chi-square test on categorical columns (KS on numeric ones): drifted when p < the "
         "threshold (0.05).")
