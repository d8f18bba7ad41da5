"""What the sample MLflow store logs: one plan per run (which manifest parts it leaves out),
the small churn/fraud models, and model-intrinsic feature importances."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aidebt_core.sample_models import (
    CHALLENGER_FEATURES,
    PRODUCTION_FEATURES,
    SampleModels,
    model_input,
)

# The manifest fields `aidebt_core.runs` requires by default, in display order.
REQUIRED_FIELDS = ("git_commit", "data_digest", "features", "params", "seed", "metrics",
                   "model", "environment")
PIP_REQUIREMENTS = ["scikit-learn==1.9.0", "pandas==3.1.0", "numpy==2.4.0"]
TRAINING_END_TAG = "training_data_end"
# Types the generator's own models contain; trusted because we just created these files.
SKOPS_TRUSTED = ["numpy.dtype", "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]
REPO_URL = "https://git.example.com/lending/credit-models.git"


@dataclass(frozen=True)
class RunPlan:
    """One run to log, and which parts of its manifest it leaves out."""

    experiment: str
    run_name: str
    start: str                       # ISO time the run started (back-dated)
    minutes: int                     # run duration
    commit: str | None
    dirty: str | None
    params: dict[str, str]
    seed: dict[str, str] = field(default_factory=dict)
    dataset: str | None = None       # key of the frame logged as a training input
    eval_dataset: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    model: str | None = None         # "flavor" (MLmodel + environment) or "pickle" (bare file)
    features: list[str] | None = None
    features_as: str = "signature"   # or "param"
    training_end: str | None = None
    status: str = "FINISHED"
    register: tuple[str, tuple[str, ...]] | None = None   # (model name, aliases)
    note: str = ""



def frames_and_models(models: SampleModels) -> tuple[dict, dict, dict]:
    """Training frames and fitted models for every run, including the small churn/fraud ones."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    train = models.training_frame
    month = train["applied_at"].dt.month
    frames = {
        "applications_h1": train,
        "applications_q1": train[month <= 3],
        "applications_m6": train[month == 6],
    }
    churn, fraud = _small_frame("churn", 3_000, 11), _small_frame("fraud", 4_000, 12)
    frames["churn"], frames["fraud"] = churn, fraud
    fitted = {"production": models.production, "challenger": models.challenger,
              "churn": RandomForestClassifier(n_estimators=40, max_depth=5, random_state=11),
              "fraud": LogisticRegression(max_iter=300)}
    metrics = {}
    for key in ("churn", "fraud"):
        metrics[key] = _fit_small(fitted[key], frames[key])
    return frames, fitted, metrics


def _fit_small(model, frame: pd.DataFrame) -> dict[str, float]:
    """Fit on the first 80 % of rows; ROC AUC and accuracy on the last 20 %."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    cut = int(len(frame) * 0.8)
    x, y = frame.drop(columns="label"), frame["label"]
    model.fit(x.iloc[:cut], y.iloc[:cut])
    score = model.predict_proba(x.iloc[cut:])[:, 1]
    return {"roc_auc": round(float(roc_auc_score(y.iloc[cut:], score)), 6),
            "accuracy": round(float(accuracy_score(y.iloc[cut:], score >= 0.5)), 6)}


def _small_frame(kind: str, n: int, seed: int) -> pd.DataFrame:
    """A small labelled table for the portfolio's other two models."""
    rng = np.random.default_rng([seed, 2025])
    if kind == "churn":
        frame = pd.DataFrame({
            "tenure_months": rng.integers(1, 72, n),
            "monthly_charges": rng.normal(65, 20, n).round(2),
            "support_calls": rng.poisson(1.5, n),
            "contract_months": rng.choice([1, 12, 24], n, p=[0.5, 0.3, 0.2]),
        })
        logit = (-1.0 - 0.04 * frame.tenure_months + 0.02 * (frame.monthly_charges - 65)
                 + 0.5 * frame.support_calls - 0.06 * frame.contract_months)
    else:
        frame = pd.DataFrame({
            "amount": rng.lognormal(4, 1, n).round(2),
            "hour": rng.integers(0, 24, n),
            "merchant_risk": rng.beta(2, 8, n).round(3),
            "card_age_days": rng.integers(1, 3_000, n),
        })
        logit = (-4.0 + 0.4 * np.log(frame.amount) + 4.0 * frame.merchant_risk
                 - 0.0005 * frame.card_age_days + 0.6 * (frame.hour < 6))
    frame["label"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return frame


def _commit(n: int) -> str:
    return f"{n:08x}" * 5


def run_plans(models: SampleModels, small: dict[str, dict[str, float]]) -> list[RunPlan]:
    prod, chal = models.production_metrics, models.challenger_metrics
    lr = models.production.named_steps["model"]
    hgb = models.challenger.named_steps["model"]
    lr_params = {"model_type": "LogisticRegression", "C": str(lr.C),
                 "max_iter": str(lr.max_iter), "decision_threshold": "0.3"}
    hgb_params = {"model_type": "HistGradientBoostingClassifier",
                  "max_iter": str(hgb.max_iter), "learning_rate": str(hgb.learning_rate),
                  "decision_threshold": "0.3"}
    return [
        RunPlan("credit-default", "logreg-notebook", "2025-04-02T10:15:00", 12,
              commit=None, dirty=None, params=lr_params, seed={"seed": "42"},
              dataset="applications_q1", metrics={k: round(v - 0.01, 6) for k, v in prod.items()
                                                  if k in ("roc_auc", "accuracy")},
              model="flavor", features=PRODUCTION_FEATURES, training_end="2025-03-31",
              register=("credit-default", ()),
              note="first model, trained in a notebook outside git"),
        RunPlan("credit-default", "logreg-prod", "2025-07-03T08:30:00", 18,
              commit=_commit(0xC0FFEE01), dirty="false", params=lr_params,
              seed={"seed": "42"}, dataset="applications_h1", eval_dataset="applications_m6",
              metrics=prod, model="flavor", features=PRODUCTION_FEATURES,
              training_end="2025-06-30", register=("credit-default", ("production",)),
              note="complete manifest: the production model"),
        RunPlan("credit-default", "hgb-challenger", "2025-07-20T14:05:00", 25,
              commit=_commit(0xC0FFEE02), dirty="true", params=hgb_params, seed={},
              dataset=None, metrics=chal, model="flavor", features=CHALLENGER_FEATURES,
              training_end="2025-06-30", register=("credit-default", ("challenger",)),
              note="challenger: random_state not logged, no dataset input, dirty tree"),
        RunPlan("credit-default", "logreg-retrain", "2025-09-01T06:00:00", 3,
              commit=_commit(0xC0FFEE03), dirty="false", params=lr_params,
              seed={"seed": "42"}, dataset="applications_h1", metrics={}, model=None,
              features=PRODUCTION_FEATURES, features_as="param", training_end="2025-08-31",
              status="FAILED", note="scheduled retrain that failed: no metrics, no model"),
        RunPlan("churn", "churn-rf", "2025-05-12T09:00:00", 6,
              commit=_commit(0xC4A11001), dirty="false",
              params={"model_type": "RandomForestClassifier", "n_estimators": "40",
                      "max_depth": "5"},
              seed={"random_state": "11"}, dataset="churn", metrics=small["churn"],
              model="pickle", features=["tenure_months", "monthly_charges", "support_calls",
                                        "contract_months"],
              features_as="param", training_end="2025-04-30",
              register=("churn", ("production",)),
              note="model saved as a bare pickle: no MLmodel file, no environment"),
        RunPlan("fraud", "fraud-logreg", "2024-11-20T16:45:00", 4,
              commit=None, dirty=None,
              params={"model_type": "LogisticRegression", "max_iter": "300"}, seed={},
              dataset=None, metrics=small["fraud"], model="flavor",
              features=["amount", "hour", "merchant_risk", "card_age_days"],
              training_end="2024-10-31", register=("fraud", ("production",)),
              note="legacy model: no commit, no seed, no dataset digest"),
    ]



def model_key(plan: RunPlan) -> str:
    if plan.experiment != "credit-default":
        return plan.experiment
    return "challenger" if plan.params["model_type"].startswith("Hist") else "production"


def model_inputs(key: str, frames: dict, features: list[str] | None) -> pd.DataFrame:
    if key in ("churn", "fraud"):
        return frames[key].drop(columns="label")
    return model_input(frames["applications_m6"], list(features or []))


def model_importances(plan: RunPlan, fitted: dict, frames: dict) -> dict[str, float] | None:
    """Importances per input feature, summing to 1, read from the fitted model itself:
    |coefficient| x spread of the encoded column for the logistic model, split gain for
    the boosted trees. Deterministic and instant (no re-scoring)."""
    if plan.model != "flavor" or plan.experiment != "credit-default":
        return None
    pipe = fitted[model_key(plan)]
    features = list(plan.features or [])
    encoded = list(pipe.named_steps["features"].get_feature_names_out())
    classifier = pipe.named_steps["model"]
    if hasattr(classifier, "coef_"):
        sample = model_input(frames["applications_m6"].iloc[:5_000], features)
        spread = pipe.named_steps["features"].transform(sample).astype(float).std(axis=0)
        weights = np.abs(classifier.coef_[0]) * spread
    else:
        weights = np.zeros(len(encoded))
        for iteration in classifier._predictors:
            for tree in iteration:
                split = tree.nodes[tree.nodes["is_leaf"] == 0]
                np.add.at(weights, split["feature_idx"], split["gain"])
    totals = dict.fromkeys(features, 0.0)
    for name, weight in zip(encoded, weights, strict=True):
        owner = max((f for f in features if name == f or name.startswith(f + "_")), key=len)
        totals[owner] += float(weight)
    total = sum(totals.values()) or 1.0
    return {f: round(v / total, 6) for f, v in totals.items()}

