"""aidebt: find, measure and score the hidden technical debt of machine-learning systems."""

import os

__version__ = "0.1.0"

# Nothing phones home: opt out of MLflow telemetry before any mlflow import happens.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
