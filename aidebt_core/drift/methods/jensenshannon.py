"""Jensen–Shannon distance of the category shares (categorical): drifted when ≥ 0.1."""

from aidebt_core.drift.methods.base import CATEGORICAL, DISTANCE, LARGE, Method


def statistic(reference, current) -> tuple[float, None]:
    """As `scipy.spatial.distance.jensenshannon` (natural log)."""
    from aidebt_core.drift import stats

    return stats.jensen_shannon(reference, current), None


def null(kind: str, reference):
    from aidebt_core.drift import noise

    return noise.categorical_null(reference, "jensenshannon")


METHOD = Method(
    name="jensenshannon", kinds=(CATEGORICAL,), rule=DISTANCE, default_threshold=0.1,
    label="Jensen–Shannon distance", categorical=statistic, null=null,
    counterpart="wasserstein", auto=LARGE, measure="jensenshannon",
    help="Jensen–Shannon distance of the category shares (Wasserstein / std on numeric "
         "columns): drifted when ≥ the threshold (0.1).")
