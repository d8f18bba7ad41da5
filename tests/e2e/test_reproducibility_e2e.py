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


def _overlaps(boxes: list[dict]) -> list[tuple[int, int]]:
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes) if i < j
            and a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]]


def test_lineage_labels_do_not_overlap_and_a_missing_alias_is_said(open_page):
    """Issue 17: the lineage diagram's labels overlapped; "nosuchalias" fell back silently."""
    page = open_page("reproducibility", expect_text="Manifest completeness per run",
                     name="reproducibility-lineage")
    page.get_by_role("tab", name="Registry & lineage").click()
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(
        has_text="Lineage: model").first
    chart.wait_for()
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    labels = chart.locator("g.annotation")
    boxes = [labels.nth(i).bounding_box() for i in range(labels.count())]
    texts = [labels.nth(i).text_content() for i in range(labels.count())]
    assert len(boxes) >= 4 + 12, texts  # 4 column titles + the sample's 12 nodes
    assert not _overlaps(boxes), [(texts[i], texts[j]) for i, j in _overlaps(boxes)]
    chart.screenshot(path=str(screenshot(page, "reproducibility-lineage")))
    page.get_by_text("Required fields and budgets").first.click()
    alias = page.locator('input[aria-label="Deployed alias"]')
    alias.fill("nosuchalias")
    alias.press("Enter")
    page.get_by_text("No registered model has the alias").first.wait_for()
    wait_for_app(page)
    assert "Aliases in use: challenger, production" in page.inner_text("main")
    assert "Ages are judged as of 2025-09-01" in page.inner_text("main")
