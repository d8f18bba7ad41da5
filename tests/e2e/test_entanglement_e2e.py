"""The Entanglement page in a real browser: the sample scenario, and a 35-feature table."""

from urllib.parse import urlencode

import numpy as np
import pandas as pd
import pytest

from tests.e2e.conftest import aidebt_serve, assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def _wide_table(n: int, seed: int) -> pd.DataFrame:
    """35 features: five entangled numeric blocks, a categorical block, noise."""
    rng = np.random.default_rng(seed)
    cols = {}
    for block in range(5):
        base = rng.normal(size=n)
        for k in range(5):
            cols[f"block{block}_feature_{k}"] = base + rng.normal(0, 0.3, n)
    group = rng.integers(0, 4, n)
    for k in range(4):
        cols[f"segment_{k}"] = np.where(rng.random(n) < 0.9, group, rng.integers(0, 4, n))
        cols[f"segment_{k}"] = np.array(list("abcd"))[cols[f"segment_{k}"]]
    for k in range(6):
        cols[f"noise_with_a_long_name_{k}"] = rng.normal(size=n)
    return pd.DataFrame(cols)


def test_sample_scenario_page(open_page):
    page = open_page("entanglement", expect_text="Redundant groups", name="entanglement")
    # The ripple section renders last; under load it can still be on its way.
    page.get_by_text("Ripple risk").first.wait_for()
    wait_for_app(page)
    body = page.inner_text("body")
    assert "Changed pairs" in body and "Ripple risk" in body
    assert "income, monthly_income" in body or "monthly_income, income" in body
    assert "region_code, region" in body or "region, region_code" in body
    # The heatmap drew one labelled tick per feature (15 in the sample scenario).
    ticks = page.locator(".js-plotly-plot .xtick text").all_text_contents()
    assert "monthly_income" in ticks and "region_code" in ticks
    page.get_by_text("Difference", exact=True).click()
    wait_for_app(page)
    assert_no_exception(page)
    page.get_by_text("Change in association").first.wait_for()
    screenshot(page, "entanglement_difference")


def test_35_features_render_readably(browser, tmp_path):
    data = tmp_path / "wide"
    data.mkdir()
    frame = _wide_table(3000, 1)
    frame.to_parquet(data / "reference.parquet", index=False)
    _wide_table(3000, 2).to_parquet(data / "current.parquet", index=False)
    # The folder is a root the operator served: a link may only choose among such roots.
    query = urlencode({"ws": str(data), "mode": "files", "ref": "reference.parquet",
                       "cur": "current.parquet"})
    with aidebt_serve(["--workspace", str(data)], tmp_path / "serve.log") as server:
        _check_35_features(browser, f"{server}/entanglement?{query}", frame)


def _check_35_features(browser, url: str, frame: pd.DataFrame) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        wait_for_app(page)
        page.get_by_text("Redundant groups").first.wait_for()
        wait_for_app(page)
        assert_no_exception(page)
        heatmap = page.locator(".js-plotly-plot").first
        ticks = heatmap.locator(".ytick text").all_text_contents()
        assert len(ticks) == 35 and set(ticks) == set(frame.columns)
        # Clustered: each entangled block's five features sit next to each other.
        for block in range(5):
            rows = [i for i, t in enumerate(ticks) if t.startswith(f"block{block}_")]
            assert rows == list(range(rows[0], rows[0] + 5)), ticks
        # Labels do not overlap: consecutive y tick labels are at least a font height apart.
        boxes = [heatmap.locator(".ytick text").nth(i).bounding_box() for i in range(35)]
        gaps = np.diff(sorted(b["y"] for b in boxes))
        assert gaps.min() >= 0.9 * max(b["height"] for b in boxes), gaps.min()
        assert "block0_feature_0" in page.inner_text("body")
        heatmap.scroll_into_view_if_needed()
        screenshot(page, "entanglement_35_features")
    finally:
        context.close()
