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
