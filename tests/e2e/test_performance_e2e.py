"""The Performance & concept drift page in a real browser, on the sample scenario."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_performance_page_renders_alerts_and_charts(open_page):
    page = open_page("performance", expect_text="How the feature → target relation changed",
                     name="performance")
    body = page.inner_text("body")
    assert "Concept drift: in 2025-10, 2025-11" in body
    assert "No labels yet in 2025-12" in body
    assert "Latest chunk (2025-12)" in body and "no labels" in body
    # Three plotly charts: performance over time, the gap, the feature relation.
    assert page.locator(".js-plotly-plot").count() == 3
    chart = page.locator(".js-plotly-plot").first.inner_text()
    assert "realized" in chart and "estimated" in chart and "no labels" in chart
    gap = page.locator(".js-plotly-plot").nth(1).inner_text()
    assert "Concept-drift signal" in gap
    relation = page.locator(".js-plotly-plot").nth(2).inner_text()
    assert "debt_to_income" in relation


def test_switching_metric_in_the_browser(open_page):
    page = open_page("performance", expect_text="How the feature → target relation changed",
                     name="performance-before-switch")
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Accuracy", exact=True).click()
    page.get_by_text("realized Accuracy left the label-free estimate").first.wait_for(
        timeout=60_000)
    body = page.inner_text("body")
    assert "Accuracy, reference mean" in body and "0.827" in body
    # The chart re-renders after the text above: wait for it rather than read it at once.
    expect(page.locator(".js-plotly-plot").first).to_contain_text(
        "Accuracy per chunk: realized vs estimated", timeout=60_000)
