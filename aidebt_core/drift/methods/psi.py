"""Population stability index (both kinds): drifted when PSI ≥ threshold (0.2)."""

from aidebt_core.drift.methods.base import CATEGORICAL, DISTANCE, NUMERIC, Method


def numeric(reference, current) -> tuple[float, None]:
    """PSI on the reference's decile bins (`stats.psi_numeric`)."""
    from aidebt_core.drift import stats

    return stats.psi_numeric(reference, current), None


def categorical(reference, current) -> tuple[float, None]:
    from aidebt_core.drift import stats

    return stats.psi_from_counts(reference, current), None


def null(kind: str, reference):
    """PSI of a chunk drawn from the reference (a Sample, or category counts)."""
    from aidebt_core.drift import noise

    if kind == NUMERIC:
        return noise.numeric_null(reference, "psi")
    return noise.categorical_null(reference, "psi")


METHOD = Method(
    name="psi", kinds=(NUMERIC, CATEGORICAL), rule=DISTANCE, default_threshold=0.2,
    label="PSI", numeric=numeric, categorical=categorical, null=null, measure="psi",
    help="Population stability index over the reference's deciles (numeric) or the "
         "categories: drifted when ≥ the threshold (0.2).")
