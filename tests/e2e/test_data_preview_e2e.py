"""The Data page's preview fits 1440 px (issue 17): the key columns first and the inputs that
fit, without sideways scrolling; every other column is one pick away in "Columns shown"."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.e2e

WIDTHS_JS = """() => {
  const grid = document.querySelector('.st-key-data_preview [data-testid="stDataFrame"]');
  const scroller = grid && grid.querySelector('.dvn-scroller');
  return scroller ? {content: scroller.scrollWidth, visible: scroller.clientWidth} : null;
}"""


def _preview_width(page) -> dict:
    page.locator(".st-key-data_preview").scroll_into_view_if_needed()
    page.wait_for_function(WIDTHS_JS, timeout=30_000)
    return page.evaluate(WIDTHS_JS)


def test_the_preview_fits_1440_px_and_the_rest_is_one_pick_away(open_page):
    page = open_page("data", expect_text="Columns shown", name="data-preview")
    widths = _preview_width(page)
    assert widths["content"] <= widths["visible"], widths          # no sideways scrolling
    caption = page.get_by_text("reference rows:").first.inner_text()
    shown, total = (int(x) for x in caption.split(": ")[1].split(" columns")[0].split(" of "))
    assert total == 20 and 6 <= shown < total                       # the sample's 20 columns
    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Columns shown")
    chips = picker.locator('[data-tag]')
    assert chips.count() == shown
    assert chips.nth(0).inner_text().startswith("Application ID")  # the id, time, label first
    assert chips.nth(1).inner_text().startswith("Applied at")
    # a column that did not fit is one pick away
    picker.get_by_label("Columns shown", exact=True).click()
    page.get_by_role("option", name="Device os").click()
    page.keyboard.press("Escape")
    # the rerun may not have started when the page first looks idle: wait for its caption
    expect(page.locator("main")).to_contain_text(f"{shown + 1} of {total} columns",
                                                 timeout=30_000)
    wait_for_app(page)
    screenshot(page, "data-preview-picked")
