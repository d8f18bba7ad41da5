"""The Drift page in a real browser, on the sample scenario."""

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.e2e.conftest import aidebt_serve, browser_pages, choose_option, wait_for_app

pytestmark = pytest.mark.e2e
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def test_drift_page_renders_cards_table_and_charts(open_page):
    page = open_page("drift", expect_text="Multivariate drift", name="drift")
    page.get_by_text("First alert:").first.wait_for(timeout=60_000)
    # Plotly draws each chart after its data arrives; under load the last ones come later.
    for title in ("Drift per chunk", "Multivariate drift: PCA"):
        page.locator(".js-plotly-plot", has_text=title).first.wait_for(timeout=60_000)
    body = page.inner_text("body")
    # One headline, the CLI's definition: the 4 planted columns drift over the whole period;
    # device_os (a knock-on shift) only alerts in the recent months, said apart.
    assert "4 of 15 inputs drifted (since 2025-07)" in body
    assert "Drifted inputs" in body and "4 / 15" in body
    assert "Dataset drift" not in body and "Dataset level: no dataset drift" in body
    assert "device_os alert in the last month" in body
    assert "Worst input" in body and "credit_score" in body
    charts = page.locator(".js-plotly-plot")
    assert charts.count() >= 5
    overview = charts.first.inner_text()
    assert "Drift by column" in overview and "threshold" in overview and "1×" in overview
    texts = " ".join(charts.nth(i).inner_text() for i in range(charts.count()))
    assert "credit_score: distribution" in texts and "credit_score over time" in texts
    assert "monthly alert threshold" in texts
    assert "Drift per chunk" in texts and "Multivariate drift: PCA" in texts
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / "drift-1440x900.png"))
    with page.expect_download(timeout=120_000) as download:
        page.get_by_text("Download HTML report").click()
    html = Path(download.value.path()).read_text()
    assert "<h1>Data drift</h1>" in html and "4 of 15 columns drifted (since 2025-07)" in html
    for title in ("Drift per chunk", "Missing share per chunk", "Multivariate drift: PCA"):
        assert title in html, title
    report = page.context.new_page()
    report.set_viewport_size({"width": 1440, "height": 900})
    report.set_content(html, wait_until="load")
    widths = report.evaluate("Array.from(document.querySelectorAll('table'))"
                             ".map(t => t.getBoundingClientRect().width)")
    body_width = report.evaluate("document.body.getBoundingClientRect().width")
    assert widths and max(widths) <= min(body_width, 1100), (widths, body_width)
    report.screenshot(path=str(SCREENSHOTS / "drift-report.png"), full_page=True)
    report.close()
    for i in range(charts.count()):  # one picture per chart, to look at them
        chart = charts.nth(i)
        if chart.is_visible():
            chart.scroll_into_view_if_needed()
            chart.screenshot(path=str(SCREENSHOTS / f"drift-chart-{i}.png"))
            assert chart.locator(".main-svg").count() >= 1


def _overlaps(boxes: list[dict]) -> list[tuple[int, int]]:
    boxes = sorted(boxes, key=lambda b: b["x"])
    return [(i, i + 1) for i in range(len(boxes) - 1)
            if boxes[i]["x"] + boxes[i]["width"] > boxes[i + 1]["x"]]


def test_daily_chunks_have_readable_date_labels(open_page):
    page = open_page("drift", expect_text="Multivariate drift", name="drift-month")
    wait_for_app(page)
    page.get_by_text("Method, thresholds, columns and chunks").click()
    choose_option(page, "Chunk by", "day")
    heat = page.locator(".js-plotly-plot", has_text="Drift per chunk")
    heat.get_by_text("2025-12-").first.wait_for(timeout=120_000)
    wait_for_app(page)
    for title in ("Drift per chunk", "over time", "Multivariate drift: PCA"):
        chart = page.locator(".js-plotly-plot", has_text=title).first
        chart.scroll_into_view_if_needed()
        ticks = chart.locator(".xtick text")
        boxes = [ticks.nth(i).bounding_box() for i in range(ticks.count())]
        boxes = [b for b in boxes if b]
        assert 2 <= len(boxes) <= 15, (title, len(boxes))
        assert not _overlaps(boxes), title
    page.screenshot(path=str(SCREENSHOTS / "drift-daily.png"), full_page=True)


def test_slice_link_from_the_slices_page(open_page):
    spec = quote(json.dumps({"channel": "mobile"}))
    page = open_page(f"drift?slice={spec}", expect_text="Multivariate drift", name="drift-slice")
    body = page.inner_text("body")
    assert "Only rows in the slice" in body and "channel = mobile" in body
    assert "Reference 20,877 rows" in body  # the mobile rows of the reference (35 %)


def test_categorical_detail_and_missing_tab(open_page):
    page = open_page("drift", expect_text="Multivariate drift", name="drift-detail")
    page.get_by_text("First alert:").first.wait_for(timeout=60_000)
    page.get_by_label("Column", exact=True).click()
    page.keyboard.type("channel")  # the option list is virtualised: filter it by typing
    page.get_by_role("option", name="channel", exact=True).click()
    page.get_by_text("channel: share per value").first.wait_for(timeout=60_000)
    folder = Path(__file__).resolve().parent / "screenshots"
    bars = page.locator(".js-plotly-plot").filter(has_text="channel: share per value")
    bars.scroll_into_view_if_needed()
    bars.screenshot(path=str(folder / "drift-channel.png"))
    assert "partner" in bars.inner_text()
    page.get_by_role("tab", name="Missing share").click()
    heat = page.locator(".js-plotly-plot").filter(has_text="Missing share per chunk")
    heat.wait_for(timeout=30_000)
    heat.scroll_into_view_if_needed()
    heat.screenshot(path=str(folder / "drift-missing.png"))
    assert "employment_type" in heat.inner_text()


def test_small_chunks_are_greyed_in_the_browser(browser, tmp_path):
    """Generated loans with a 200-row last month (and, for performance, a 25-label month):
    the drift heatmap greys July and marks it partial; the performance chart shades it.
    Screenshots: drift-small-chunk-heatmap.png, -multivariate.png, performance-small-chunk.png."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from generated_time import loans_with_small_chunks, short_last_month

    data = tmp_path / "data"
    data.mkdir()
    short_last_month().to_parquet(data / "loans.parquet")
    loans_with_small_chunks().to_parquet(data / "scored.parquet")
    link = f"ws={quote(str(data))}&mode=split&ts=timestamp&at=2019-01-01"
    with aidebt_serve(["--workspace", str(data)], tmp_path / "serve.log") as url, \
            browser_pages(browser, url) as open_:
        page = open_(f"drift?{link}&src=loans.parquet", expect_text="Multivariate drift")
        page.get_by_text("First alert:").first.wait_for(timeout=60_000)
        body = page.inner_text("body")
        assert "Greyed, too small to judge (under 300 rows; they never alert): 2019-07" in body
        heat = page.locator(".js-plotly-plot").filter(has_text="grey: too small to judge")
        heat.first.scroll_into_view_if_needed()
        heat.first.screenshot(path=str(SCREENSHOTS / "drift-small-chunk-heatmap.png"))
        assert "too small" in heat.first.inner_text() and "partial" in heat.first.inner_text()
        mv = page.locator(".js-plotly-plot").filter(has_text="Multivariate drift: PCA")
        mv.first.scroll_into_view_if_needed()
        mv.first.screenshot(path=str(SCREENSHOTS / "drift-small-chunk-multivariate.png"))
        assert "too small" in mv.first.inner_text()
        page = open_(f"performance?{link}&src=scored.parquet",
                     expect_text="realized vs estimated")
        body = page.inner_text("body")
        assert "too small to judge" in body and "Too few labels" in body
        chart = page.locator(".js-plotly-plot").filter(has_text="realized vs estimated")
        chart.first.scroll_into_view_if_needed()
        chart.first.screenshot(path=str(SCREENSHOTS / "performance-small-chunk.png"))
        gap = page.locator(".js-plotly-plot").filter(has_text="Concept-drift signal")
        gap.first.scroll_into_view_if_needed()
        gap.first.screenshot(path=str(SCREENSHOTS / "performance-small-chunk-gap.png"))
