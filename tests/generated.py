"""Data sets the tests make themselves, with names and types real users have (not the sample's).

`car_loans` is a car-loan model's log: `id`, `timestamp`, the model's `y_pred_proba` and
`y_pred`, the label `repaid`, and seven features. `census` is a survey with an integer `year`,
a `survey_date` string and the label `employed`. Both are seeded and deterministic; any helper's
test may import them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CAR_FEATURES = ("loan_amount", "income", "age", "term_months", "car_type", "region",
                "debt_ratio")


def car_loans(n: int = 4000, seed: int = 0, start: str = "2018-01-01",
              end: str = "2019-12-31", shift_at: str | None = None,
              shift: float = 0.0) -> pd.DataFrame:
    """Car loans; the model's score separates repaid from not (accuracy about 0.93 at 0.5).

    With `shift_at`, `income` and `debt_ratio` move by `shift` standard deviations for rows at
    or after that time (planted drift that starts mid-period).
    """
    rng = np.random.default_rng(seed)
    span = (pd.Timestamp(end) - pd.Timestamp(start)).total_seconds()
    seconds = np.sort(rng.uniform(0, span, n))
    timestamp = pd.Timestamp(start) + pd.to_timedelta(seconds, unit="s")
    repaid = (rng.uniform(size=n) < 0.8).astype(np.int64)
    # Logit 2.5·(±1) plus noise sd 1.7: P(correct at 0.5) = Φ(2.5/1.7) ≈ 0.929.
    logit = 2.5 * (2 * repaid - 1) + rng.normal(0, 1.7, n)
    proba = 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame({
        "id": np.arange(100_000, 100_000 + n, dtype=np.int64),
        "timestamp": timestamp.astype("datetime64[us]"),
        "y_pred_proba": proba,
        "y_pred": (proba >= 0.5).astype(np.int64),
        "repaid": repaid,
        "loan_amount": np.round(rng.lognormal(9.6, 0.4, n), 2),
        "income": np.round(rng.normal(52_000, 12_000, n) + 6_000 * repaid, 2),
        "age": rng.integers(19, 75, n).astype(np.int64),
        "term_months": rng.choice([24, 36, 48, 60, 72], n).astype(np.int64),
        "car_type": rng.choice(["sedan", "suv", "hatchback", "van"], n, p=[.4, .3, .2, .1]),
        "region": rng.choice(["north", "south", "east", "west"], n),
        "debt_ratio": np.clip(rng.beta(2, 5, n) - 0.05 * repaid, 0, 1),
    })
    if shift_at is not None:
        after = frame["timestamp"] >= pd.Timestamp(shift_at)
        frame.loc[after, "income"] += shift * frame["income"].std()
        frame.loc[after, "debt_ratio"] += shift * frame["debt_ratio"].std()
    return frame


def census(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Survey rows: integer `year`, `survey_date` as 'YYYY-MM-DD' text, two-valued `employed`."""
    rng = np.random.default_rng(seed)
    year = rng.integers(2015, 2021, n).astype(np.int64)
    day = rng.integers(0, 365, n)
    dates = pd.to_datetime(year.astype(str), format="%Y") + pd.to_timedelta(day, unit="D")
    age = rng.integers(18, 70, n).astype(np.int64)
    hours = np.clip(rng.normal(38, 9, n), 0, 80).round(1)
    education = rng.choice(["primary", "secondary", "bachelor", "master"], n)
    employed = (rng.uniform(size=n) < 0.55 + 0.1 * (education == "master")).astype(np.int64)
    return pd.DataFrame({
        "person_id": np.arange(n, dtype=np.int64),
        "year": year,
        "survey_date": dates.strftime("%Y-%m-%d"),
        "age": age,
        "hours_per_week": hours,
        "education": education,
        "region": rng.choice(["a", "b", "c"], n),
        "employed": employed,
    })


def write(frame: pd.DataFrame, path) -> str:
    """Write a frame as Parquet (or CSV for .csv) and return the path as text."""
    path = str(path)
    if path.endswith(".csv"):
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path
