"""Wasserstein-1 distance in units of the reference's std (numeric): drifted when ≥ 0.1."""

from aidebt_core.drift.methods.base import DISTANCE, LARGE, NUMERIC, Method


def statistic(reference, current) -> tuple[float, None]:
    """W1(reference, current) / std(reference) (0 or inf for a constant reference)."""
    from aidebt_core.drift import stats

    pair = stats.ks_and_wasserstein(reference.values, current.values, reference.counts,
                                    current.counts)
    return pair.normalised(reference), None


def null(kind: str, reference):
    from aidebt_core.drift import noise

    return noise.numeric_null(reference, "wasserstein")


METHOD = Method(
    name="wasserstein", kinds=(NUMERIC,), rule=DISTANCE, default_threshold=0.1,
    label="Wasserstein / ref. std", numeric=statistic, null=null, counterpart="jensenshannon",
    auto=LARGE, measure="wasserstein",
    help="Wasserstein distance divided by the reference's std on numeric columns "
         "(Jensen–Shannon on categorical ones): drifted when ≥ the threshold (0.1).")
