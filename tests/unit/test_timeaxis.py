"""aidebt_core.timeaxis: time axes from years, periods, date text and epochs, checked against
pandas on generated data; partial and too-small chunks; boundaries with a time of day."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aidebt_core.chunks import Chunking, plan_chunks
from aidebt_core.data import row_count
from aidebt_core.errors import OptionError, SchemaError
from aidebt_core.timeaxis import (
    parse_boundary,
    split_on_timestamp,
    time_axis,
    time_candidates,
)

N = 3000




def _instants(seed: int = 3, n: int = N) -> pd.Series:
    """Random times over about 26 months, to the second."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2018-11-20 07:00")
    return pd.Series(start + pd.to_timedelta(rng.uniform(0, 800, n), unit="D")).dt.floor("s")


def _month_counts(times: pd.Series) -> list[int]:
    return times.dt.to_period("M").value_counts().sort_index().tolist()


# Each case: how the generated instants are written, and what pandas reads back from that.
CASES = {
    "iso_text_with_T": (lambda t: t.dt.strftime("%Y-%m-%dT%H:%M:%S"), lambda t: t),
    "d/m/Y text with minutes": (lambda t: t.dt.strftime("%d/%m/%Y %H:%M"),
                                lambda t: t.dt.floor("min")),
    "m/d/Y text": (lambda t: t.dt.strftime("%m/%d/%Y"), lambda t: t.dt.normalize()),
    "Y/m/d text": (lambda t: t.dt.strftime("%Y/%m/%d %H:%M:%S"), lambda t: t),
    "d.m.Y text": (lambda t: t.dt.strftime("%d.%m.%Y"), lambda t: t.dt.normalize()),
    "epoch seconds": (lambda t: (t - pd.Timestamp(0)) // pd.Timedelta(seconds=1),
                      lambda t: t),
    "epoch milliseconds": (lambda t: (t - pd.Timestamp(0)) // pd.Timedelta(milliseconds=1),
                           lambda t: t),
    "DATE": (lambda t: t.dt.date, lambda t: t.dt.normalize()),
}


@pytest.mark.parametrize("case", list(CASES))
def test_chunks_and_split_match_pandas(make_table, case):
    write, truth = CASES[case]
    times = _instants()
    table = make_table(pd.DataFrame({"when": write(times), "x": np.arange(N)}))
    expected = truth(times)
    plan = plan_chunks(table, Chunking("month"), "when")
    assert [c.rows for c in plan.chunks] == _month_counts(expected), case
    assert plan.chunks[0].label == "2018-11" and plan.chunks[-1].label == "2021-01"
    boundary = "2019-06-15T12:30"
    reference, current = split_on_timestamp(table, "when", boundary)
    before = int((expected < pd.Timestamp(boundary)).sum())
    assert (row_count(reference), row_count(current)) == (before, N - before), case


def test_integer_year_and_period_columns(make_table):
    rng = np.random.default_rng(5)
    years = rng.integers(2015, 2023, N)
    months = rng.integers(1, 13, N)
    frame = pd.DataFrame({"year": years, "period": years * 100 + months,
                          "day": years * 10_000 + months * 100 + rng.integers(1, 29, N)})
    table = make_table(frame)
    by_year = plan_chunks(table, Chunking("year"), "year")
    assert [c.label for c in by_year.chunks] == [str(y) for y in range(2015, 2023)]
    assert [c.rows for c in by_year.chunks] == np.bincount(years - 2015).tolist()
    # 2019 stands for the whole year: no chunk is partial, though every value is Jan 1.
    assert not any(c.partial for c in by_year.chunks)
    assert time_axis(table, "year").form == "integer year"
    periods = pd.PeriodIndex.from_fields(year=years, month=months, freq="M")
    by_month = plan_chunks(table, Chunking("month"), "period")
    assert [c.rows for c in by_month.chunks] == pd.Series(periods).value_counts().sort_index(
        ).tolist()
    assert not any(c.partial for c in by_month.chunks)
    reference, current = split_on_timestamp(table, "year", "2019")
    assert row_count(reference) == int((years < 2019).sum())
    assert row_count(current) == int((years >= 2019).sum())
    reference, _ = split_on_timestamp(table, "period", "2019-04-01")
    assert row_count(reference) == int((periods < pd.Period("2019-04", "M")).sum())
    assert time_axis(table, "day").form == "integer yyyymmdd date"
    reference, _ = split_on_timestamp(table, "day", "2019-04-10")
    assert row_count(reference) == int((frame["day"] < 20190410).sum())


def test_day_and_month_are_told_apart_by_the_values(make_table):
    # 2019-03-04 (4 March): d/m/Y writes 04/03/2019; other rows have days above 12.
    dates = pd.Series(pd.to_datetime(["2019-03-04", "2019-03-25", "2019-04-13"]))
    dm = make_table(pd.DataFrame({"d": dates.dt.strftime("%d/%m/%Y")}), "dm.parquet")
    md = make_table(pd.DataFrame({"d": dates.dt.strftime("%m/%d/%Y")}), "md.parquet")
    assert time_axis(dm, "d").form == "text d/m/Y"
    assert time_axis(md, "d").form == "text m/d/Y"
    for table in (dm, md):
        assert [c.label for c in plan_chunks(table, Chunking("month"), "d").chunks] == \
            ["2019-03", "2019-04"]
    ambiguous = make_table(pd.DataFrame({"d": ["04/03/2019", "05/03/2019"]}), "amb.parquet")
    with pytest.raises(SchemaError, match="'d'.*'0[45]/03/2019'.*cannot be told apart.*ISO"):
        time_axis(ambiguous, "d")


def test_unreadable_time_columns_say_what_would_work(make_table):
    table = make_table(pd.DataFrame({
        "when": ["2019-04-01", "soon", "2019-05-01"], "amount": [5, 7, 9],
        "bad_period": [201901, 201913, 201902], "flag": [True, False, True]}))
    with pytest.raises(SchemaError, match=r"'when' has 1 value\(s\) of 3 .*'soon'.*ISO.*"
                                          r"integer year.*epoch"):
        time_axis(table, "when")
    with pytest.raises(SchemaError, match="'amount'.*values from 5 to 9.*not a year.*epoch"):
        plan_chunks(table, Chunking("month"), "amount")
    with pytest.raises(SchemaError, match="'bad_period'"):
        time_axis(table, "bad_period")
    with pytest.raises(SchemaError, match="'flag'.*BOOLEAN, not a time"):
        split_on_timestamp(table, "flag", "2019-01-01")


def test_time_candidates_best_first(make_table):
    times = _instants(n=200)
    table = make_table(pd.DataFrame({
        "id": np.arange(200), "amount": np.full(200, 2019), "note": ["x"] * 200,
        "opened": times.dt.strftime("%d.%m.%Y"), "year": times.dt.year,
        "ts": times, "price": np.linspace(1, 2, 200)}))
    # A timestamp first, then time-named columns; 'amount' holds 2019 but is not named as time.
    assert time_candidates(table) == ["ts", "year", "opened"]


def test_partial_and_too_small_chunks(make_table):
    # Every day of 2024-01-15 .. 2024-06-02: January and June are only partly covered.
    days = pd.date_range("2024-01-15", "2024-06-02 23:00", freq="h")
    table = make_table(pd.DataFrame({"ts": days, "x": 1.0}))
    plan = plan_chunks(table, Chunking("month"), "ts", min_rows=400)
    assert [c.label for c in plan.chunks] == [f"2024-{m:02d}" for m in range(1, 7)]
    assert [c.partial for c in plan.chunks] == [True, False, False, False, False, True]
    assert [c.rows for c in plan.chunks] == [17 * 24, 29 * 24, 31 * 24, 30 * 24, 31 * 24, 48]
    assert [c.too_small for c in plan.chunks] == [False] * 5 + [True]
    # A DATE column whose last day is the 30th of June covers June to its end.
    dates = make_table(pd.DataFrame({"d": pd.date_range("2024-04-01", "2024-06-30").date}),
                       "dates.parquet")
    assert not any(c.partial for c in plan_chunks(dates, Chunking("month"), "d").chunks)
    rows = plan_chunks(table, Chunking("rows", 1000), "ts")
    assert [c.partial for c in rows.chunks] == [False] * 3 + [True]
    assert rows.chunks[-1].rows == len(days) - 3000
    with pytest.raises(OptionError, match="whole number"):
        plan_chunks(table, Chunking("month"), "ts", min_rows=0)


def test_parse_boundary():
    assert parse_boundary("2019-04-01") == pd.Timestamp("2019-04-01")
    assert parse_boundary("2019-04-01T12:30") == pd.Timestamp("2019-04-01 12:30")
    assert parse_boundary("2019-04-01 12:30:15") == pd.Timestamp("2019-04-01 12:30:15")
    assert parse_boundary("2019-04-01T12:30:00+02:00") == pd.Timestamp("2019-04-01 10:30")
    assert parse_boundary(pd.Timestamp("2020-01-02").date()) == pd.Timestamp("2020-01-02")
    assert parse_boundary("2019") == pd.Timestamp("2019-01-01")       # for a year axis
    assert parse_boundary(" 2019-04 ") == pd.Timestamp("2019-04-01")  # for a yyyymm axis
    for bad in ("yesterday", "", "01/04/2019", None, float("nan"), "2019-13-01", "2019-13",
                "19"):
        with pytest.raises(SchemaError, match="YYYY-MM-DD"):
            parse_boundary(bad)


def test_format_chosen_on_a_sample_is_checked_on_every_row(make_table):
    """20,000 distinct 'd/m/Y H:M' values and 40 date-only ones: whichever the sample of
    distinct values holds, every row is read (the narrowed format is widened when rows
    outside the sample need it) and the month counts match pandas."""
    times = _instants(seed=8, n=20_040).dt.floor("min")
    text = times.dt.strftime("%d/%m/%Y %H:%M")
    text.iloc[-40:] = times.iloc[-40:].dt.strftime("%d/%m/%Y")
    truth = times.copy()
    truth.iloc[-40:] = truth.iloc[-40:].dt.normalize()
    table = make_table(pd.DataFrame({"when": text}), "mixed.parquet")
    plan = plan_chunks(table, Chunking("month"), "when")
    assert [c.rows for c in plan.chunks] == _month_counts(truth)
    assert time_axis(table, "when").form == "text d/m/Y"
