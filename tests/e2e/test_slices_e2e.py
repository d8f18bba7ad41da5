"""The Slices page in a real browser on the sample scenario."""

import pandas as pd
import pytest

from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e


def test_slices_page_shows_weak_slice_charts_and_link(open_page, sample_dir):
    page = open_page("slices", expect_text="Weak slices found", name="slices")
    main = page.inner_text("main")
    df = pd.read_parquet(sample_dir / "applications.parquet")
    cur = df[(df.applied_at >= "2025-07-01") & df.defaulted.notna()]
    accuracy = (cur.defaulted == cur.predicted_default).mean()
    assert f"{accuracy:.3f}" in main
    assert "channel = mobile and account_age_days <" in main
    assert "Reference vs current" in main
    # three plotly charts: discovered slices, reference vs current, breakdown by channel
    charts = page.locator('[data-testid="stPlotlyChart"]')
    assert charts.count() == 3
    for i in range(3):  # the full-page shot stops at the viewport: keep each chart too
        charts.nth(i).scroll_into_view_if_needed()
        charts.nth(i).screenshot(path=str(SCREENSHOTS / f"slices-chart-{i + 1}.png"))
    link = page.get_by_role("link", name="Drift of the rows in this slice")
    assert "/drift?" in link.get_attribute("href") and "slice=" in link.get_attribute("href")
