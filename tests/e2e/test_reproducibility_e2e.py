"""The Reproducibility page in a real browser: runs, completeness and the registry tab."""

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def test_reproducibility_page_renders_the_sample_store(open_page, ground_truth):
    page = open_page("reproducibility", expect_text="Manifest completeness per run",
                     name="reproducibility")
    main = page.inner_text("main")
    runs = ground_truth["mlflow"]["runs"]
    assert "Complete manifests" in main
    for run in runs:
        assert run["run_name"] in main
    mean = sum(r["completeness"] for r in runs) / len(runs)
    assert f"{mean:.0%}" in main
    page.locator('[data-testid="stPlotlyChart"]').first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot(page, "reproducibility")).replace(
        "reproducibility.png", "reproducibility-charts.png"))
    page.get_by_role("tab", name="Registry & lineage").click()
    page.get_by_text("Staleness of the deployed versions").first.wait_for()
    wait_for_app(page)
    assert_no_exception(page)
    assert "Versions and aliases" in page.inner_text("main")
    screenshot(page, "reproducibility-registry")
    page.get_by_role("tab", name="Compare two runs").click()
    page.get_by_text("Only differences").first.wait_for()
    wait_for_app(page)
    assert_no_exception(page)
    main = page.inner_text("main")   # the metrics legend names the default pair
    assert "logreg-prod\nhgb-challenger" in main
    screenshot(page, "reproducibility-diff")
    page.get_by_role("tab", name="Manifest card").click()
    page.get_by_text("Fix evaluation metrics").first.wait_for()     # newest run: the failed retrain
    wait_for_app(page)
    assert_no_exception(page)
    screenshot(page, "reproducibility-card")
