"""Every table of the drift, performance and audit HTML reports, read back from the HTML as a
reader sees it: human headers (no snake_case), one number of decimals per numeric column, and
no literal None / nan / -0.000 cell. On the sample scenario and on generated data with other
names: a hostile column name (quotes, markup), `y_pred_proba`, an integer `year`, a target
called `repaid`, missing values, an unlabelled month."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from aidebt_core.audit.history import build_scorecard, compare
from aidebt_core.audit.questions import Answer, load_questionnaire
from aidebt_core.audit.records import Participant, TrackedAction
from aidebt_core.audit.sample_audits import sample_audit_records
from aidebt_core.audit.session import make_record
from aidebt_core.drift import DriftOptions, analyse_drift
from aidebt_core.performance import analyse_performance
from aidebt_core.reports.audit import audit_report, scorecard_report
from aidebt_core.reports.drift import drift_report
from aidebt_core.reports.performance import chunk_table, performance_report
from aidebt_core.reports.tables import readable_table
from aidebt_core.selection import sample_selection
from aidebt_core.timeaxis import split_on_timestamp

HOSTILE = '<b>"rate"</b> & \'x\''
SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
NUMBER = re.compile(r"^[+\-−±]?\d[\d,]*(\.(\d+))?%?$")
BAD = re.compile(r"^(None|nan|NaN|NaT|<NA>|inf|-inf|null)$|\bNone\b|\bnan\b|^[-−]0(\.0+)?%?$")
LOWER_OK = {"p-value", "q-value"}             # a statistic's own spelling


class _Tables(HTMLParser):
    """The text of every <table>: a list of rows (the first is the header row)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def problems(html: str) -> list[str]:
    """What a reader would object to in the report's tables (empty: none)."""
    found = []
    tables = tables_of(html)
    if not tables:
        return ["no table"]
    for t, (header, *rows) in enumerate(tables):
        for name in header:
            if SNAKE.match(name) or (name[:1].islower() and name not in LOWER_OK):
                found.append(f"table {t}: raw header {name!r}")
        for row in rows:
            found += [f"table {t}: cell {cell!r}" for cell in row if BAD.search(cell)]
        for j, name in enumerate(header):
            if name in LOWER_OK or "version" in name.lower():    # 3 significant digits; names
                continue
            decimals = {len(m.group(2) or "") for row in rows
                        if (m := NUMBER.match(row[j].replace("−", "-")))}
            if len(decimals) > 1:
                found.append(f"table {t}: column {name!r} mixes {sorted(decimals)} decimals")
    return found


def test_the_check_sees_what_it_must():
    """The check itself: each kind of problem is found in a table that has it."""
    def html(frame: pd.DataFrame) -> str:
        return frame.to_html(index=False)

    assert problems(html(pd.DataFrame({"ci_low": [0.5]}))) == ["table 0: raw header 'ci_low'"]
    assert problems(html(pd.DataFrame({"rows": [1]}))) == ["table 0: raw header 'rows'"]
    assert problems(html(pd.DataFrame({"A": ["None"]}))) == ["table 0: cell 'None'"]
    assert problems(html(pd.DataFrame({"A": [float("nan")]}))) == ["table 0: cell 'NaN'"]
    assert problems(html(pd.DataFrame({"A": ["-0.000"]}))) == ["table 0: cell '-0.000'"]
    assert problems(html(pd.DataFrame({"A": ["0.5", "0.25"]}))) == [
        "table 0: column 'A' mixes [1, 2] decimals"]
    assert problems(html(pd.DataFrame({"p-value": ["0.5", "1e-9"], "A": ["−1.0", "±0.0"]}))) \
        == []
    assert problems("<p>no table</p>") == ["no table"]


def test_readable_table_gives_text_headers_and_dashes():
    frame = pd.DataFrame({"ci_low": [0.12345, None, -0.0001], "year": [2024, 2025, 2026],
                          "y_pred_proba": [0.5, np.nan, 0.25], HOSTILE: ["a", None, "c"],
                          "labelled_rows": [1200, 0, 3]})
    shown = readable_table(frame, formats={"ci_low": 3})
    assert list(shown.columns) == ["CI low", "Year", "Y pred proba", HOSTILE, "Labelled rows"]
    assert shown["CI low"].tolist() == ["0.123", "—", "0.000"]
    assert shown["Year"].tolist() == ["2024", "2025", "2026"]          # no "2,024"
    assert shown[HOSTILE].tolist() == ["a", "—", "c"]
    assert shown["Labelled rows"].tolist() == ["1,200", "0", "3"]
    assert all(isinstance(v, str) for v in shown.to_numpy().ravel())


# --- generated data -----------------------------------------------------------------------
@pytest.fixture
def loans(make_table):
    """Two years of loans, 250 a month: the hostile-named rate shifts in 2025, `grade` gains a
    value and has missing ones, `y_pred_proba` is the model's score of `repaid`, `year` an
    integer column; the last month has no labels yet and the month before only 40 rows."""
    rng = np.random.default_rng(11)
    months = []
    for i, month in enumerate(pd.period_range("2024-01", "2025-12", freq="M")):
        n = 40 if i == 22 else 250
        later = month.year == 2025
        rate = rng.normal(5 + (0.8 if later else 0), 1, n)
        proba = np.clip(1 / (1 + np.exp(-(rate - 5))) + rng.normal(0, 0.1, n), 0.001, 0.999)
        repaid = (rng.uniform(size=n) < proba).astype(float)
        if i == 23:
            repaid[:] = np.nan
        grade = rng.choice(list("ABC") + (["D"] if later else []), n).astype(object)
        grade[rng.uniform(size=n) < 0.05] = None
        months.append(pd.DataFrame({
            "issued": month.start_time + pd.to_timedelta(rng.uniform(0, 27, n), "D"),
            HOSTILE: rate, "grade": grade, "year": np.full(n, month.year, dtype="int64"),
            "y_pred_proba": proba, "decision": (proba > 0.5).astype("int64"),
            "repaid": pd.array(repaid, dtype="Int64")}))
    frame = pd.concat(months, ignore_index=True)
    return split_on_timestamp(make_table(frame, "loans.parquet"), "issued", "2025-01-01")


def test_drift_report_tables_on_generated_names(loans):
    reference, current = loans
    tests = analyse_drift(reference, current,
                          columns=[HOSTILE, "grade", "year", "y_pred_proba"],
                          options=DriftOptions(small_sample=100_000))
    html = drift_report(tests).to_html()
    assert problems(html) == []
    header, *rows = tables_of(html)[0]
    assert "p-value" in header                                    # KS / chi-square decide by p
    assert {r[0] for r in rows} == {HOSTILE, "grade", "year", "y_pred_proba"}   # escaped, whole
    distances = analyse_drift(reference, current,
                              columns=[HOSTILE, "grade", "year", "y_pred_proba"],
                              options=DriftOptions(method="psi"))
    assert problems(drift_report(distances).to_html()) == []


def test_performance_report_tables_on_generated_names(loans):
    reference, current = loans
    result = analyse_performance(reference, current, "repaid", score="y_pred_proba",
                                 timestamp="issued", min_rows=100)
    html = performance_report(result).to_html()
    assert problems(html) == []
    header, *rows = tables_of(html)[0]
    assert header[:6] == ["Chunk", "Period", "Rows", "Labelled rows", "ROC AUC (realized)",
                          "95% CI"]
    frame = result.to_frame()
    by_chunk = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    last = by_chunk["2025-12"]                          # no labels: no realized value, no CI
    assert (last["Labelled rows"], last["ROC AUC (realized)"], last["95% CI"]) == ("0", "—", "—")
    assert "no labels" in last["Note"]
    assert "too small" in by_chunk["2025-11"]["Note"]                # 40 rows < 100
    first = frame.iloc[0]
    assert by_chunk["2024-01"]["ROC AUC (realized)"] == f"{first['realized']:.3f}"
    assert by_chunk["2024-01"]["95% CI"] == f"{first['ci_low']:.3f}–{first['ci_high']:.3f}"
    assert by_chunk["2024-01"]["Rows"] == "250"
    # without a score: accuracy from a prediction, and no estimate columns
    labels = analyse_performance(reference, current, "repaid", prediction="decision",
                                 timestamp="issued", metric="accuracy", min_rows=100)
    table = chunk_table(labels)
    assert "Accuracy (estimated)" not in table.columns and "Concept drift" not in table.columns
    assert problems(performance_report(labels).to_html()) == []


def test_audit_and_scorecard_reports_on_generated_names():
    q = load_questionnaire()
    ids = [x.id for x in q.questions]
    meta = {"model": f"{HOSTILE} model", "model_version": "2", "auditor": "<i>Ann</i>",
            "audited_at": "2026-02-01"}
    before = {ids[0]: Answer(level=3, evidence="https://ci.example.com"),
              ids[1]: Answer(level=1)}
    answers = {ids[0]: Answer(level=0), ids[1]: Answer(level=None, na=True, note="n/a: batch"),
               ids[2]: Answer(level=3, evidence=HOSTILE, evidence_date="2025-01-01")}
    previous, _ = make_record(q, {**meta, "audited_at": "2025-08-01"}, before, None, {})
    record, score = make_record(
        q, meta, answers, None, {"what_changed": 'the "rate" <b>moved</b>'},
        {ids[1]: "critical"}, partial=True, participants=[Participant("Ann", "")],
        discussion={ids[0]: "agreed"},
        actions=[TrackedAction("a1", ids[0], HOSTILE),                  # no owner, no due date
                 TrackedAction("a2", ids[2], "gate", "bob", date(2026, 1, 1), "wont_do")])
    record = replace(record, findings=[{"severity": "high", "question": ids[0],
                                        "title": HOSTILE}])             # no detail
    comparison = compare(previous, answers, score.to_dict(), q.version,
                         {x.id: x.title for x in q.questions})
    html = audit_report(record, q, comparison, previous).to_html()
    assert problems(html) == []
    assert "&lt;b&gt;" in html and '<b>"rate"</b>' not in html         # escaped, never markup
    full = [replace(previous, partial=False), replace(record, partial=False)]
    assert problems(scorecard_report(build_scorecard(full), full).to_html()) == []


def test_sample_reports_have_readable_tables(sample_dir, ground_truth):
    with sample_selection(sample_dir).open() as data:
        drift = analyse_drift(data.reference, data.current)
        performance = analyse_performance(data.reference, data.current, "defaulted",
                                          score="default_score",
                                          prediction="predicted_default",
                                          timestamp="applied_at")
    assert problems(drift_report(drift).to_html()) == []
    for metric in ("roc_auc", "accuracy", "recall"):
        assert problems(performance_report(performance, metric).to_html()) == [], metric
    records = sample_audit_records(ground_truth)
    q = load_questionnaire()
    credit = [r for r in records if r.model == "credit-default"]
    comparison = compare(credit[-2], credit[-1].answers, credit[-1].scores, q.version,
                         {x.id: x.title for x in q.questions})
    assert problems(audit_report(credit[-1], q, comparison, credit[-2]).to_html()) == []
    assert problems(scorecard_report(build_scorecard(records), records).to_html()) == []


def test_columns_that_fit_keep_the_order_and_the_width():
    from aidebt_core.reports.tables import (
        CELL_PAD_PX,
        CHAR_PX,
        MAX_COLUMN_PX,
        MIN_COLUMN_PX,
        column_width_px,
        columns_that_fit,
    )

    assert column_width_px("Age", ["34", "40"]) == MIN_COLUMN_PX          # short: the minimum
    assert column_width_px("Applied at", ["2025-01-01 00:00"]) == int(16 * CHAR_PX + CELL_PAD_PX)
    assert column_width_px("x", ["y" * 500]) == MAX_COLUMN_PX
    display = pd.DataFrame({"ID": ["A" * 20], HOSTILE: ["1.5"], "year": ["2025"],
                            "y_pred_proba": ["0.123"], "Note": ["z" * 60]})
    widths = [column_width_px(c, display[c]) for c in display.columns]
    for budget in range(1, sum(widths) + 20, 7):
        shown = columns_that_fit(display, budget)
        assert shown == list(display.columns[:len(shown)])              # leading columns, in order
        assert len(shown) == 1 or sum(widths[:len(shown)]) <= budget     # they fit
        if len(shown) < len(widths):                                     # the next would not
            assert sum(widths[:len(shown) + 1]) > budget
