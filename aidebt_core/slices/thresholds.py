"""Defaults shared by the options (entry.py) and the analysis (analysis.py), in a module of
their own so neither imports the other for them."""

# "Significantly worse" also needs a gap a review would act on: at least this far from overall
# on the metric's scale (a share of the overall value for MAE/RMSE, whose unit is the target's).
# On large data a gap of a thousandth is significant and still not a finding. The audit's
# slice rule uses the same default.
MIN_GAP = 0.02

__all__ = ["MIN_GAP"]
