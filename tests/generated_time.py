"""Generated data for time-axis tests (drift over time, small chunks), built on the car-loan
log of `generated.py`: drift that starts mid-current, a short last month, a month whose labels
have not arrived. Seeded and deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
from generated import car_loans

ROWS, REFERENCE_ROWS, CHUNK = 60_000, 20_000, 5_000
SHIFT_FROM_ROW = 50_000       # the last two current chunks of 5,000 rows
SHIFTED = ("income", "debt_ratio")


def mid_current_drift() -> pd.DataFrame:
    """60,000 loans in time order; income and debt_ratio move by 0.3 std from row 50,000 on:
    a quarter of the current rows (rows 20,000 on), so the whole-period distance (about
    0.075) stays under the 0.1 threshold while each late 5,000-row chunk is far above its
    noise."""
    first = car_loans(ROWS, seed=4, start="2018-01-01", end="2019-12-31")
    shift_at = first["timestamp"].iloc[SHIFT_FROM_ROW]
    frame = car_loans(ROWS, seed=4, start="2018-01-01", end="2019-12-31",
                      shift_at=str(shift_at), shift=0.3)
    assert int((frame["timestamp"] >= shift_at).sum()) == ROWS - SHIFT_FROM_ROW
    return frame


def short_last_month() -> pd.DataFrame:
    """Loans 2018-01 .. 2019-06 (about 1,000 a month), then 200 rows on 1-3 July 2019 that
    are far off (income +4 std, debt ratio mirrored, every car a van in the north): a real
    change, but only 200 rows of it. (The PCA keeps the independent numeric columns' axes, so
    only the categorical change moves the reconstruction error.)"""
    body = car_loans(18_000, seed=6, start="2018-01-01", end="2019-06-30 23:59:59")
    tail = car_loans(200, seed=7, start="2019-07-01", end="2019-07-03")
    tail["income"] = tail["income"] + 4 * body["income"].std()
    tail["debt_ratio"] = 1 - tail["debt_ratio"]
    tail["car_type"], tail["region"] = "van", "north"
    return pd.concat([body, tail], ignore_index=True)


def loans_with_small_chunks() -> pd.DataFrame:
    """About 1,000 loans a month 2018-01 .. 2019-06, then 200 loans on 1-3 July 2019 scored
    by a broken model (scores mirrored). In May 2019 only 25 loans have their label yet, and
    those 25 are wrong (flipped): both would alert if they were judged."""
    body = car_loans(18_000, seed=11, start="2018-01-01", end="2019-06-30 23:59:59")
    tail = car_loans(200, seed=12, start="2019-07-01", end="2019-07-03")
    tail["y_pred_proba"] = 1 - tail["y_pred_proba"]
    tail["y_pred"] = 1 - tail["y_pred"]
    frame = pd.concat([body, tail], ignore_index=True)
    frame["repaid"] = frame["repaid"].astype(float)
    may = np.flatnonzero(frame["timestamp"].dt.strftime("%Y-%m") == "2019-05")
    kept, dropped = may[:25], may[25:]
    frame.loc[kept, "repaid"] = 1 - frame.loc[kept, "repaid"]
    frame.loc[dropped, "repaid"] = np.nan
    return frame
