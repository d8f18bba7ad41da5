"""The printable audit and scorecard reports: a manager summary first, static figures only
(no script), escaped cells, human headers, signed trends, tracked actions and red flags."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from aidebt_core.audit.history import build_scorecard
from aidebt_core.audit.questions import load_questionnaire
from aidebt_core.audit.records import TrackedAction
from aidebt_core.audit.sample_audits import sample_audit_records
from aidebt_core.reports.audit import (
    audit_report,
    headline_label,
    manager_summary,
    scorecard_report,
    signed,
)
from aidebt_core.reports.printable import SMALL_TABLE_ROWS, table_html


@pytest.fixture(scope="module")
def records(ground_truth):
    return sample_audit_records(ground_truth)


def test_table_cells_are_escaped_numbers_formatted_and_short_tables_kept_whole():
    frame = pd.DataFrame({"name": ["<script>alert(1)</script>", "b"], "value": [-0.0001, 2.25],
                          "n": np.array([3, 4])})
    html = table_html(frame, "{:.1f}")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert ">0.0<" in html and "-0.0" not in html and ">2.2<" in html   # 2.25 -> 2.2 (binary)
    assert '<table class="small">' in html
    long = table_html(pd.DataFrame({"x": range(SMALL_TABLE_ROWS + 1)}))
    assert '<table class="long">' in long and long.count("<tr>") == SMALL_TABLE_ROWS + 2


@pytest.mark.parametrize(("value", "text"), [(0.44, "+0.4"), (-1.26, "\u22121.3"),
                                             (-0.04, "±0.0"), (None, "—"),
                                             (float("nan"), "—")])
def test_trends_carry_their_sign(value, text):
    assert signed(value) == text


def test_headline_label_has_its_scale_or_says_incomplete():
    assert headline_label({"overall": 4.46, "answered": 37, "total": 37}) == "4.5 / 10"
    assert headline_label({"overall": 0.5, "answered": 13, "total": 37}) == \
        "incomplete: 13 of 37 answered"


def test_manager_summary_leads_with_result_flags_and_actions(records):
    today = date(2026, 2, 1)
    latest = [r for r in records if r.model == "credit-default"][-1]
    actions = (TrackedAction("a1", "D3", "weekly drift job", "ann", date(2026, 1, 10)),
               TrackedAction("a2", "E1", "slice gate", "bob", date(2026, 3, 1)),
               TrackedAction("a3", "P6", "quality gate", "cy", date(2026, 1, 1), "done"))
    record = replace(latest, actions=actions, signed_by="Carol", signed_at="2026-01-21T10:00")
    text = manager_summary(record, today=today)
    assert text.startswith(f"credit-default (version {latest.model_version}) was audited on "
                           f"{latest.audited_at}")
    assert f"Headline {headline_label(latest.scores)}" in text
    assert f"{len(latest.scores['red_flags'])} red flag(s)" in text
    assert "Actions: 2 open (1 overdue), 1 done." in text
    assert "Signed off by Carol on 2026-01-21." in text
    report = audit_report(record, load_questionnaire())
    html = report.to_html()
    assert html.index(text[:40]) < html.index("Scores by dimension")   # the summary leads
    assert "<script" not in html and "<svg" in html
    markdown = report.to_markdown()
    assert manager_summary(record) in markdown and "weekly drift job" in markdown
    assert "<svg" not in markdown


def test_scorecard_report_human_headers_flags_and_actions(records):
    card = scorecard_report(build_scorecard(records), records).to_markdown()
    assert "| Model | Version | Last audit | Headline (0–10) | Data health |" in card
    fraud = [r for r in records if r.model == "fraud"][-1]
    for flag in fraud.scores["red_flags"]:
        assert flag in card
    top = fraud.scores["actions"][0]
    assert f"{top['question']} {top['title']}" in card
    trend = build_scorecard(records).to_frame().set_index("model")["trend"]
    assert f"trend {signed(trend['credit-default'])}" in card
