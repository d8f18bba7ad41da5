"""`aidebt serve --workspace DIR` on a user's own folder (issue 12, "Done when").

DIR holds one generated Parquet file that has nothing of the sample scenario: other names,
an integer `year` column, no target. Every page opens without an exception box and without any
message about the sample's file, column or date, and nothing is written into DIR.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.e2e.conftest import aidebt_serve, browser_pages, screenshot
from tests.e2e.test_boundary_e2e import PAGES, snapshot

pytestmark = pytest.mark.e2e

SAMPLE_WORDS = ("applications.parquet", "applied_at", "2025-07-01")


@pytest.fixture(scope="module")
def own_folder(tmp_path_factory):
    base = tmp_path_factory.mktemp("own")
    folder = base / "survey"
    folder.mkdir()
    rng = np.random.default_rng(5)
    n = 900
    pd.DataFrame({
        "year": rng.choice([2018, 2019, 2020, 2021], n).astype("int64"),
        "region": rng.choice(["north", "south", "east", "west"], n),
        "household_size": rng.integers(1, 7, n),
        "weekly_hours": rng.normal(35, 8, n).round(1),
        "sector": rng.choice(["public", "private", "self"], n),
    }).to_parquet(folder / "survey.parquet")
    before = snapshot(folder)
    with aidebt_serve(["--workspace", str(folder)], base / "serve.log") as url:
        yield {"url": url, "folder": folder, "before": before}


def test_every_page_opens_on_the_users_data(own_folder, browser):
    with browser_pages(browser, own_folder["url"]) as open_:
        for path in PAGES:
            page = open_(path)
            screenshot(page, f"own-folder-{path}")
            body = page.inner_text("body")
            leaked = [w for w in SAMPLE_WORDS if w in body]
            assert not leaked, (path, leaked)
            assert "survey.parquet" in body, path  # the page header names the data used
    assert snapshot(own_folder["folder"]) == own_folder["before"]


ROW_PX = 35  # Streamlit's data grid: header and rows are 35 px high


def _choose_role(page, row: int, role: str) -> None:
    """Open the role cell of a row in the roles editor (a canvas grid) and pick a role from its
    drop-down; retried, since the grid may still be drawing when the page is idle."""
    editor = page.locator('[data-testid="stDataFrame"]').nth(1)  # after the sources table
    for _ in range(5):
        box = editor.bounding_box()
        # 'role' is the third of five columns
        page.mouse.dblclick(box["x"] + box["width"] * 0.47, box["y"] + ROW_PX * row + ROW_PX / 2)
        option = page.get_by_text(role, exact=True).last
        try:
            option.wait_for(timeout=5000)
        except Exception:  # noqa: BLE001 - the editor did not open yet; try again
            page.keyboard.press("Escape")
            page.wait_for_timeout(1000)
            continue
        option.click()
        return
    pytest.fail(f"could not open the role editor of row {row}")


def test_a_role_edit_travels_in_the_link_and_is_saved_for_a_reload(browser, tmp_path):
    folder = tmp_path / "loans"
    folder.mkdir()
    rng = np.random.default_rng(8)
    n = 300
    pd.DataFrame({"year": rng.choice([2019, 2020, 2021], n), "grade": rng.choice(list("ABC"), n),
                  "amount": rng.gamma(2.0, 100.0, n), "repaid": rng.integers(0, 2, n)}
                 ).to_parquet(folder / "loans.parquet")
    with aidebt_serve(["--workspace", str(folder)], tmp_path / "serve.log") as url, \
            browser_pages(browser, url) as open_:
        page = open_("data", expect_text="Column roles")
        _choose_role(page, row=3, role="ignore")  # 'amount' is the third row
        page.get_by_text("Your role changes (not saved)").first.wait_for()
        assert "amount → ignore" in page.inner_text("main")
        link = page.url
        assert "roles=" in link and not (folder / "aidebt.yaml").exists()
        # the link alone, in a new session, carries the edit
        shared = open_(link.removeprefix(url + "/"), expect_text="Your role changes")
        assert "amount → ignore" in shared.inner_text("main")
        page.get_by_role("button", name="Save roles").click()
        page.get_by_text("Saved the roles of loans.parquet").first.wait_for()
        assert "ignore" in (folder / "aidebt.yaml").read_text()
        # a reload without the link's roles shows the saved role and no unsaved change
        fresh = open_("data", expect_text="Column roles")
        assert "not saved" not in fresh.inner_text("main")
        assert "roles=" not in fresh.url
