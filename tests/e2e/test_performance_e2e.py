"""The Performance & concept drift page in a real browser, on the sample scenario."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import choose_option, wait_for_app

pytestmark = pytest.mark.e2e
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def test_performance_page_renders_alerts_and_charts(open_page):
    page = open_page("performance", expect_text="How the feature → target relation changed",
                     name="performance")
    body = page.inner_text("body")
    # The planted concept drift lowers realized quality below the estimate, said with size.
    assert "Concept drift in 2025-10, 2025-11: realized ROC AUC up to" in body
    assert "below the label-free estimate (worse)" in body
    assert "2025-10: ROC AUC 0.6" in body
    assert "No labels yet in 2025-12" in body
    assert "ROC AUC, realized (2025-11)" in body and "Brier score, realized (2025-11)" in body
    assert "ROC AUC, estimated (2025-12)" in body
    # Three plotly charts: performance over time, the gap, the feature relation.
    page.locator(".js-plotly-plot").nth(2).wait_for(timeout=60_000)
    assert page.locator(".js-plotly-plot").count() == 3
    chart = page.locator(".js-plotly-plot").first.inner_text()
    assert "realized" in chart and "estimated" in chart and "no labels" in chart
    gap = page.locator(".js-plotly-plot").nth(1).inner_text()
    assert "Concept-drift signal" in gap
    relation = page.locator(".js-plotly-plot").nth(2).inner_text()
    assert "debt_to_income" in relation
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / "performance-1440x900.png"))


def test_switching_metric_in_the_browser(open_page):
    page = open_page("performance", expect_text="How the feature → target relation changed",
                     name="performance-before-switch")
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Recall", exact=True).click()
    page.get_by_text("Recall outside the reference band").first.wait_for(timeout=60_000)
    body = page.inner_text("body")
    assert "Recall, realized (2025-11)" in body
    measured = page.locator('[data-testid="stAlert"]').filter(
        has_text="Recall outside the reference band").inner_text()
    assert "2025-12" not in measured        # no labels there: never a measured alert
    assert "2025-12 (no labels yet): estimated Recall" in body
    # The chart re-renders after the text above: wait for it rather than read it at once.
    expect(page.locator(".js-plotly-plot").first).to_contain_text(
        "Recall per chunk: realized vs estimated", timeout=60_000)
    page.screenshot(path=str(SCREENSHOTS / "performance-recall.png"), full_page=True)


def test_without_a_score_no_estimate_parts(open_page):
    page = open_page("performance", expect_text="How the feature → target relation changed",
                     name="performance-before-no-score")
    wait_for_app(page)
    page.get_by_text("Columns and chunks").first.click()
    choose_option(page, "Score", "(none)", typed="(none)")
    page.get_by_text("No score column").first.wait_for(timeout=60_000)
    wait_for_app(page)   # stale elements of the previous run go once the run ends
    expect(page.locator(".js-plotly-plot").first).to_contain_text(
        "Accuracy per chunk: realized", timeout=60_000)
    body = page.inner_text("body")
    assert "The estimate uses only the model's scores" not in body   # no estimate explanation
    assert "Concept-drift alerts" not in body and "estimated" not in body
    assert page.locator(".js-plotly-plot").count() == 2   # no empty gap chart
    page.screenshot(path=str(SCREENSHOTS / "performance-no-score.png"), full_page=True)
