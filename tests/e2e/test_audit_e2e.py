"""The audit in a real browser: fill, save, download the report, reload, see it in the history
and on the scorecard, withdraw it (kept in the history, off the scorecard). Served by
`aidebt serve --workspace` on a copy of the sample data whose default store
(`.aidebt/audits.sqlite`) holds the sample audits, so the shared store stays clean."""

from __future__ import annotations

import shutil

import pytest

from aidebt_core.audit.sample_audits import write_sample_audits
from aidebt_core.audit.store import STORE_ENV, AuditStore, workspace_store_path
from tests.e2e.conftest import (
    aidebt_serve,
    assert_no_exception,
    browser_pages,
    screenshot,
    wait_for_app,
)

pytestmark = pytest.mark.e2e
MODEL = "e2e-model"


@pytest.fixture
def workspace(tmp_path, sample_dir, ground_truth, monkeypatch):
    monkeypatch.delenv(STORE_ENV, raising=False)        # the workspace's default store
    folder = tmp_path / "ws"
    folder.mkdir()
    shutil.copy(sample_dir / "applications.parquet", folder / "applications.parquet")
    write_sample_audits(folder, ground_truth)
    return folder


def _query(workspace) -> str:
    return (f"ws={workspace}&mode=split&src=applications.parquet&ts=applied_at"
            f"&at=2025-07-01")


def _pick(page, label: str, option: str) -> None:
    box = page.get_by_label(label, exact=True)
    if box.input_value() == option:
        return
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def _question(page, qid: str):
    return page.locator(f".st-key-aud_{MODEL}_{qid}_box")


def test_fill_save_reload_history_scorecard_and_withdraw(browser, workspace, tmp_path):
    with aidebt_serve(["--workspace", str(workspace)], tmp_path / "serve.log") as url, \
            browser_pages(browser, url) as open_page:
        _fill_save_and_withdraw(open_page, workspace, tmp_path)


def _fill_save_and_withdraw(open_page, workspace, tmp_path):
    page = open_page(f"audit?{_query(workspace)}", expect_text="Live score")
    screenshot(page, "audit-start")
    _pick(page, "Model", "➕ New model…")
    page.get_by_label("New model name").fill(MODEL)
    page.get_by_label("New model name").press("Enter")
    page.get_by_text("Measured: level 2").first.wait_for(timeout=120_000)
    wait_for_app(page)
    page.get_by_label("Auditor(s)").fill("e2e browser")
    page.get_by_label("Auditor(s)").press("Enter")
    wait_for_app(page)

    page.get_by_role("tab", name="Configuration").click()
    p6 = _question(page, "P6")
    p6.get_by_text("4 · automated and enforced").click()
    wait_for_app(page)
    p6.get_by_label("Evidence link or text").fill("https://ci.example.com/quality-gate")
    p6.get_by_label("Evidence link or text").press("Enter")
    wait_for_app(page)
    # raise P2's weight tier in its popover (critical items cannot be lowered, others go up)
    p2 = _question(page, "P2")
    p2.get_by_role("button", name="Tier & date").click()
    popover = page.locator('[data-testid="stPopoverBody"]')
    popover.get_by_role("combobox", name="Weight tier").click()
    page.get_by_role("option", name="critical", exact=True).click()
    wait_for_app(page)
    page.keyboard.press("Escape")
    p2.get_by_text("critical").wait_for()
    assert_no_exception(page)
    headline = page.locator('[data-testid="stMetric"]').filter(
        has_text="Headline").first.locator('[data-testid="stMetricValue"]').inner_text()
    screenshot(page, "audit")

    page.get_by_role("button", name="Save audit").click()
    page.get_by_text(f"Saved the audit of {MODEL}").wait_for()
    wait_for_app(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download report (HTML)").click()
    report = tmp_path / "report.html"
    info.value.save_as(report)
    html = report.read_text()
    assert f"AI technical debt audit: {MODEL}" in html
    assert f"Headline health {headline} / 10" in html
    assert "https://ci.example.com/quality-gate" in html
    assert "tiers: P2=critical" in html

    page.reload()
    wait_for_app(page)
    _pick(page, "Model", MODEL)
    page.get_by_text("1 saved audit(s)").wait_for()
    assert "by e2e browser" in page.inner_text("main")

    card = open_page(f"?{_query(workspace)}", expect_text="Median headline")
    models = card.locator('[data-testid="stMetric"]').filter(has_text="Models").first
    assert "4 of 4" in models.inner_text()
    _pick(card, "Model", MODEL)
    assert f"Headline health {headline} / 10" in card.inner_text("main")
    screenshot(card, "scorecard")

    # withdraw it from the history: a reason and a confirmation, then it stops counting
    page.get_by_role("button", name="Withdraw an audit…").click()
    popover = page.locator('[data-testid="stPopoverBody"]')
    popover.get_by_label("Withdrawn by").fill("e2e browser")
    popover.get_by_label("Withdrawn by").press("Enter")
    wait_for_app(page)
    popover.get_by_label("Reason").fill("scored against the wrong month")
    popover.get_by_label("Reason").press("Enter")
    wait_for_app(page)
    popover.get_by_text("Yes, withdraw this audit").click()
    wait_for_app(page)
    popover.get_by_role("button", name="Withdraw", exact=True).click()
    page.get_by_text("It stays in the history").wait_for()
    wait_for_app(page)
    assert_no_exception(page)
    page.wait_for_timeout(1_000)                 # let the history grid paint for the picture
    screenshot(page, "audit-withdrawn")
    saved = AuditStore(workspace_store_path(workspace)).read(MODEL).records
    assert len(saved) == 1 and saved[0].withdrawn.reason == "scored against the wrong month"
    assert saved[0].withdrawn.by == "e2e browser"
    card = open_page(f"?{_query(workspace)}", expect_text="Median headline")
    models = card.locator('[data-testid="stMetric"]').filter(has_text="Models").first
    assert "3 of 3" in models.inner_text()
