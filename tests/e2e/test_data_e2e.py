"""The Data page and the sidebar in a real browser."""

import pytest

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e


def test_data_page_renders_with_sample_numbers(open_page):
    page = open_page("data", expect_text="Summary statistics", name="data")
    body = page.inner_text("body")
    assert "Reference rows" in body and "60,000" in body
    assert "Column roles" in body


def test_sidebar_link_state_survives_reload(open_page):
    page = open_page("data?mode=files&ref=reference.parquet&cur=current.parquet",
                     expect_text="Reference rows", name="data-two-files")
    assert "mode=files" in page.url
    page.reload()
    page.get_by_text("Reference rows").first.wait_for()
    wait_for_app(page)
    assert "reference.parquet vs current.parquet" in page.inner_text("main")
