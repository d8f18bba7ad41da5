"""The sample scenario: a lender's default-risk model over 2025, with planted, documented debt.

Every effect is planted on purpose and written to `ground_truth.json`, so the tests can check
that each page finds it. Deterministic: the same seed gives byte-identical data files.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from aidebt_core.sample_models import (
    CATEGORICAL_FEATURES,
    CHALLENGER_FEATURES,
    NUMERIC_FEATURES,
    PRODUCTION_FEATURES,
    SampleModels,
    model_input,
)

SEED = 20250101
ROWS_PER_MONTH = 10_000
YEAR = 2025
REFERENCE_MONTHS = tuple(range(1, 7))
CURRENT_MONTHS = tuple(range(7, 13))
DECISION_THRESHOLD = 0.3

REGIONS = ("north", "south", "east", "west", "central", "coast", "mountain", "islands")
REGION_SHARES = (0.18, 0.16, 0.14, 0.14, 0.12, 0.10, 0.08, 0.08)
EMPLOYMENT = ("salaried", "self_employed", "contractor", "unemployed", "retired")
EMPLOYMENT_SHARES = (0.60, 0.15, 0.12, 0.05, 0.08)

# Planted effects (the ground truth the pages must find).
INCOME_GROWTH_PER_MONTH = 0.04      # income scale grows 4 %/month from month 7
CREDIT_SCORE_GAIN_PER_MONTH = 8.0   # credit score mean +8 points/month from month 7
NEW_CHANNEL, NEW_CHANNEL_FROM, NEW_CHANNEL_SHARE = "partner", 8, 0.15
MISSING_EMPLOYMENT_BASE, MISSING_EMPLOYMENT_JUMP, MISSING_JUMP_MONTH = 0.02, 0.30, 11
CORRELATION_BREAK_FROM = 9          # monthly_income decoupled from income (upstream feed change)
# From month 10 a hardship scheme (payment holidays for stretched borrowers) reverses what
# debt_to_income says about default: the model, which learnt "higher DTI, more risk", now ranks
# the wrong applicants first, so realized quality falls below the label-free estimate (which
# only sees the scores). A larger positive weight would make DTI MORE predictive and raise AUC.
CONCEPT_DRIFT_FROM = 10
DTI_COEF_BEFORE, DTI_COEF_AFTER = 0.6, -0.9
WEAK_SLICE_YOUNG_DAYS = 90          # mobile applicants with accounts younger than this
WEAK_SLICE_LOGIT_REFERENCE, WEAK_SLICE_LOGIT_CURRENT = 1.2, 2.2
LABELS_MISSING_MONTHS = (12,)

def generate_applications(seed: int = SEED) -> pd.DataFrame:
    """The unscored applications for all 12 months, with labels (month 12 unlabelled)."""
    months = [_month(m, np.random.default_rng([seed, m])) for m in range(1, 13)]
    frame = pd.concat(months, ignore_index=True)
    frame.insert(0, "application_id", [f"APP{i:07d}" for i in range(1, len(frame) + 1)])
    return frame


def _month(month: int, rng: np.random.Generator) -> pd.DataFrame:
    n = ROWS_PER_MONTH
    drift_months = max(0, month - 6)
    start = pd.Timestamp(YEAR, month, 1)
    seconds = (start + pd.offsets.MonthBegin(1) - start).total_seconds()
    applied_at = start + pd.to_timedelta(np.sort(rng.uniform(0, seconds, n)).round(), unit="s")

    age = np.clip(rng.normal(41, 11, n), 21, 75).round().astype(np.int64)
    income = rng.lognormal(np.log(52_000), 0.45, n) * (1 + INCOME_GROWTH_PER_MONTH * drift_months)
    income = income.round(-1)
    monthly_income = (income / 12 * (1 + rng.normal(0, 0.03, n))).round(2)
    if month >= CORRELATION_BREAK_FROM:
        # The upstream feed now joins monthly income on the wrong key: same values, wrong rows.
        monthly_income = rng.permutation(monthly_income)
    loan_amount = (rng.lognormal(np.log(15_000), 0.6, n)).round(-2).clip(500, None)
    term_months = rng.choice([12, 24, 36, 48, 60], n, p=[0.10, 0.25, 0.35, 0.15, 0.15])
    credit_score = np.clip(rng.normal(680 + CREDIT_SCORE_GAIN_PER_MONTH * drift_months, 60, n),
                           300, 850).round().astype(np.int64)
    debt_to_income = (rng.beta(2, 5, n) * 0.8).round(3)
    employment = rng.choice(EMPLOYMENT, n, p=EMPLOYMENT_SHARES)
    region_index = rng.choice(len(REGIONS), n, p=REGION_SHARES)
    region = np.asarray(REGIONS)[region_index]
    region_code = np.asarray([f"R{i + 1:02d}" for i in range(len(REGIONS))])[region_index]
    if month >= NEW_CHANNEL_FROM:
        channels, shares = ["branch", "web", "mobile", NEW_CHANNEL], [0.21, 0.34, 0.30, 0.15]
    else:
        channels, shares = ["branch", "web", "mobile"], [0.25, 0.40, 0.35]
    channel = rng.choice(channels, n, p=shares)
    device_os = np.where(
        channel == "mobile", rng.choice(["ios", "android"], n),
        np.where(channel == "branch", "branch_terminal",
                 rng.choice(["windows", "macos", "linux"], n, p=[0.55, 0.35, 0.10])))
    account_age_days = rng.exponential(400, n).astype(np.int64)
    prev_loans = rng.poisson(1.2, n)
    income_verified = rng.random(n) < 0.7

    # True default risk: a logistic model whose debt_to_income weight reverses from month 10
    # (concept drift) and whose mobile/young-account slice carries risk the model cannot see.
    dti_coef = DTI_COEF_AFTER if month >= CONCEPT_DRIFT_FROM else DTI_COEF_BEFORE
    slice_logit = WEAK_SLICE_LOGIT_CURRENT if month >= 7 else WEAK_SLICE_LOGIT_REFERENCE
    in_weak_slice = (channel == "mobile") & (account_age_days < WEAK_SLICE_YOUNG_DAYS)
    logit = (-2.3
             - 0.9 * (credit_score - 680) / 60
             + dti_coef * (debt_to_income - 0.23) / 0.15
             - 0.4 * np.log(income / 52_000) / 0.45
             + 0.3 * np.log(loan_amount / 15_000) / 0.6
             + 0.25 * (term_months >= 48)
             + 0.3 * (employment == "contractor") + 1.0 * (employment == "unemployed")
             - 0.3 * income_verified
             + 0.1 * prev_loans
             + slice_logit * in_weak_slice)
    defaulted = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    labels = pd.array(defaulted, dtype="Int64")
    if month in LABELS_MISSING_MONTHS:
        labels = pd.array([pd.NA] * n, dtype="Int64")

    missing_share = MISSING_EMPLOYMENT_JUMP if month >= MISSING_JUMP_MONTH \
        else MISSING_EMPLOYMENT_BASE
    employment_type = pd.array(employment, dtype="string")
    employment_type[rng.random(n) < missing_share] = pd.NA

    return pd.DataFrame({
        "applied_at": applied_at,
        "age": age,
        "income": income,
        "monthly_income": monthly_income,
        "loan_amount": loan_amount,
        "term_months": term_months.astype(np.int64),
        "credit_score": credit_score,
        "debt_to_income": debt_to_income,
        "employment_type": employment_type,
        "region": pd.array(region, dtype="string"),
        "region_code": pd.array(region_code, dtype="string"),
        "channel": pd.array(channel, dtype="string"),
        "device_os": pd.array(device_os, dtype="string"),
        "account_age_days": account_age_days,
        "prev_loans": prev_loans.astype(np.int64),
        "income_verified": income_verified,
        "defaulted": labels,
    })


def _pipeline(features: list[str], classifier) -> Pipeline:
    numeric = [f for f in features if f in NUMERIC_FEATURES or f == "monthly_income"]
    categorical = [f for f in features if f in CATEGORICAL_FEATURES or f == "region_code"]
    flags = [f for f in features if f == "income_verified"]
    if isinstance(classifier, LogisticRegression):
        # Unseen categories (the new channel) fall back to the first, dropped, category.
        encoder = OneHotEncoder(drop="first", handle_unknown="ignore", sparse_output=False)
        numeric_steps = [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
    else:
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        numeric_steps = [("impute", SimpleImputer(strategy="median"))]
    columns = ColumnTransformer([
        ("numeric", Pipeline(numeric_steps), numeric),
        ("categorical", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                                  ("encode", encoder)]), categorical),
        ("flags", "passthrough", flags),
    ], verbose_feature_names_out=False)
    return Pipeline([("features", columns), ("model", classifier)])


def train_models(applications: pd.DataFrame) -> SampleModels:
    """Fit the production (logistic) and challenger (boosted trees) models on months 1–6."""
    from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, log_loss, roc_auc_score

    month = applications["applied_at"].dt.month
    train = applications[month <= 5]
    valid = applications[month == 6]
    models, metrics = {}, {}
    for name, features, classifier in (
            ("production", PRODUCTION_FEATURES, LogisticRegression(C=1.0, max_iter=500)),
            ("challenger", CHALLENGER_FEATURES,
             HistGradientBoostingClassifier(max_iter=150, learning_rate=0.08, random_state=7))):
        pipe = _pipeline(features, classifier)
        pipe.fit(model_input(train, features), train["defaulted"].astype(int))
        score = pipe.predict_proba(model_input(valid, features))[:, 1]
        y = valid["defaulted"].astype(int)
        metrics[name] = {
            "roc_auc": float(roc_auc_score(y, score)),
            "accuracy": float(accuracy_score(y, score >= DECISION_THRESHOLD)),
            "f1": float(f1_score(y, score >= DECISION_THRESHOLD)),
            "log_loss": float(log_loss(y, score)),
            "brier": float(brier_score_loss(y, score)),
        }
        # Refit on all reference months, as the team did before deploying.
        reference = applications[month <= 6]
        pipe.fit(model_input(reference, features), reference["defaulted"].astype(int))
        models[name] = pipe
    return SampleModels(models["production"], models["challenger"], metrics["production"],
                        metrics["challenger"], applications[month <= 6])


def score_applications(applications: pd.DataFrame, model: Pipeline) -> pd.DataFrame:
    """Add the production model's score and thresholded decision, as it ran each month."""
    scored = applications.copy()
    with warnings.catch_warnings():
        # The new channel value from month 8 is unknown to the encoder: planted, not a bug.
        warnings.filterwarnings("ignore", message="Found unknown categories")
        score = model.predict_proba(model_input(applications, PRODUCTION_FEATURES))[:, 1]
    scored["default_score"] = score.round(6)
    scored["predicted_default"] = (scored["default_score"] >= DECISION_THRESHOLD).astype(np.int64)
    return scored


def ground_truth() -> dict:
    """Every planted effect, in a form tests and docs can read."""
    return {
        "scenario": "credit-default: a lender scores 2025 loan applications for default risk",
        "seed": SEED,
        "rows_per_month": ROWS_PER_MONTH,
        "files": {"applications": "applications.parquet",
                  "reference": "reference.parquet", "current": "current.parquet"},
        "reference_months": list(REFERENCE_MONTHS),
        "current_months": list(CURRENT_MONTHS),
        "reference_end": f"{YEAR}-07-01",
        "roles": {"id": "application_id", "timestamp": "applied_at", "target": "defaulted",
                  "score": "default_score", "prediction": "predicted_default"},
        "decision_threshold": DECISION_THRESHOLD,
        "model_features": PRODUCTION_FEATURES,
        "data_drift": {
            "convention": "distribution of non-missing values, reference months 1-6 vs current "
                          "months 7-12; missing-share changes are listed separately",
            "drifted_features": ["income", "monthly_income", "credit_score", "channel"],
            "drifted_outputs": ["default_score", "predicted_default"],
            "missing_share_changed": ["employment_type"],
            "details": [
                {"column": "income", "from_month": 7, "effect": "scale grows "
                 f"{INCOME_GROWTH_PER_MONTH:.0%} per month (x{1 + 6 * INCOME_GROWTH_PER_MONTH:.2f} "
                 "by month 12)"},
                {"column": "monthly_income", "from_month": 7,
                 "effect": "follows income (it is income / 12)"},
                {"column": "credit_score", "from_month": 7,
                 "effect": f"mean +{CREDIT_SCORE_GAIN_PER_MONTH:g} points per month"},
                {"column": "channel", "from_month": NEW_CHANNEL_FROM,
                 "effect": f"new value '{NEW_CHANNEL}' at {NEW_CHANNEL_SHARE:.0%}"},
            ],
        },
        "new_category": {"column": "channel", "value": NEW_CHANNEL, "from_month": NEW_CHANNEL_FROM,
                         "share": NEW_CHANNEL_SHARE},
        "missing_jump": {"column": "employment_type", "from_month": MISSING_JUMP_MONTH,
                         "missing_share_before": MISSING_EMPLOYMENT_BASE,
                         "missing_share_after": MISSING_EMPLOYMENT_JUMP},
        "correlation_break": {"columns": ["income", "monthly_income"],
                              "from_month": CORRELATION_BREAK_FROM,
                              "effect": "monthly_income keeps its distribution but is joined to "
                                        "the wrong applications (upstream feed change): Pearson "
                                        "~0.99 before, ~0 after"},
        "concept_drift": {"from_month": CONCEPT_DRIFT_FROM, "feature": "debt_to_income",
                          "logit_weight_before": DTI_COEF_BEFORE,
                          "logit_weight_after": DTI_COEF_AFTER,
                          "effect": "a hardship scheme reverses the debt_to_income effect: "
                                    "high-DTI applicants now default less",
                          "expected": "realized quality drops below the label-free estimate "
                                      "from month 10 on the default metric (ROC AUC) and on "
                                      "accuracy, log loss and Brier; months 7-9 show no "
                                      "concept drift"},
        "weak_slice": {"predicates": {"channel": "mobile",
                                      "account_age_days": f"< {WEAK_SLICE_YOUNG_DAYS}"},
                       "hidden_logit_reference": WEAK_SLICE_LOGIT_REFERENCE,
                       "hidden_logit_current": WEAK_SLICE_LOGIT_CURRENT,
                       "expected": "worse than overall in reference, worse still in current"},
        "redundant_pairs": [["income", "monthly_income"], ["region", "region_code"]],
        "knock_on_shifts": {
            "device_os": "derived from channel, so the new 'partner' channel (web devices) moves "
                         "its shares from month 8: Jensen-Shannon ~0.06 over months 7-12, under "
                         "the 0.1 effect-size threshold, but above per-month sampling noise"},
        "labels_missing_months": list(LABELS_MISSING_MONTHS),
    }


def write_sample(outdir: str | Path, with_mlflow: bool = True, force: bool = False) -> dict:
    """Write the data files, ground truth, (optionally) the MLflow store and the sample audits
    to `outdir`.

    Never replaces a file it did not write (see `aidebt_core.sample_manifest`): a folder with
    such files is refused before anything is written, unless `force`, which writes next to
    them but still never over them.
    """
    from aidebt_core.audit.store import workspace_store_path
    from aidebt_core.sample_manifest import (
        SampleFolderError,
        SampleManifest,
        check_folder,
        record_files,
    )

    out = Path(outdir).expanduser().resolve()
    files = ground_truth()["files"]
    targets = [*files.values(), "ground_truth.json"]
    if with_mlflow:
        targets += ["mlflow.db", "mlartifacts"]
    store = workspace_store_path(Path(".")).as_posix()
    previous = check_folder(out, targets, kept=[store], force=force)
    # A foreign audit store (allowed next to the sample with --force) gets no sample audits.
    foreign_store = (out / store).exists() and store not in previous.files
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SampleFolderError(f"Cannot create the folder '{out}': "
                                f"{exc.strerror or exc}.") from None
    planned = {t: None for t in targets if t != "mlartifacts"}
    if not foreign_store:
        planned[store] = None
    SampleManifest({**previous.files, **planned},
                   ("mlartifacts/",) if with_mlflow else ()).write(out)

    applications = generate_applications()
    # One thread: the boosted trees' OpenMP threads oversubscribe a busy machine (~20x slower),
    # and single-threaded BLAS keeps the scores the same whatever machine writes them.
    with threadpool_limits(1):
        models = train_models(applications)
    scored = score_applications(applications, models.production)
    month = scored["applied_at"].dt.month
    _write_parquet(scored, out / files["applications"])
    _write_parquet(scored[month <= 6], out / files["reference"])
    _write_parquet(scored[month >= 7], out / files["current"])
    truth = ground_truth()
    truth["model_metrics"] = {"production": models.production_metrics,
                              "challenger": models.challenger_metrics}
    (out / "ground_truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    if with_mlflow:
        from aidebt_core.sample_mlflow import write_mlflow_store

        truth["mlflow"] = write_mlflow_store(out, models)
        (out / "ground_truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    if not foreign_store:
        from aidebt_core.audit.sample_audits import write_sample_audits

        write_sample_audits(out, truth)
    kept = {rel: digest for rel, digest in previous.files.items()
            if rel not in planned and (out / rel).is_file()}
    SampleManifest({**kept, **record_files(out, targets),
                    **({} if foreign_store else {store: None})}).write(out)
    return truth


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    # Fixed writer settings (no timestamps or library versions in row groups) keep bytes stable.
    frame.reset_index(drop=True).to_parquet(path, index=False, compression="zstd",
                                            row_group_size=50_000)
