"""The sample models' features and fitted models, shared by the data generator (`sample.py`)
and the MLflow store writer (`sample_mlflow/`), which both import it and not each other."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

NUMERIC_FEATURES = ["age", "income", "loan_amount", "term_months", "credit_score",
                    "debt_to_income", "account_age_days", "prev_loans"]
CATEGORICAL_FEATURES = ["employment_type", "region", "channel", "device_os"]
PRODUCTION_FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES + ["income_verified"]
CHALLENGER_FEATURES = PRODUCTION_FEATURES + ["monthly_income", "region_code"]


@dataclass(frozen=True)
class SampleModels:
    """The fitted models and their held-out metrics, for logging to MLflow."""

    production: Pipeline
    challenger: Pipeline
    production_metrics: dict[str, float]
    challenger_metrics: dict[str, float]
    training_frame: pd.DataFrame


def model_input(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The model's input columns, with text NA as NaN (what the sklearn encoders expect)."""
    data = frame[features].copy()
    for col in data.columns:
        if isinstance(data[col].dtype, pd.StringDtype):
            data[col] = data[col].astype(object).where(data[col].notna(), np.nan)
    return data
