"""The audit in a real browser, served by `aidebt serve --workspace` on a copy of the sample
data whose default store (`.aidebt/audits.sqlite`) holds the sample audits (the shared sample
folder is never written):

- a full save, then the page reopened: the saved answers are carried over and the headline is
  the same; Save on a partial form without "save as partial" is refused and the scorecard does
  not change;
- an audit with two actions (owner, due date), one marked done in a later audit: both statuses
  and the overdue one on the scorecard; sign-off, after which the audit cannot be edited;
- withdrawing an audit keeps it in the history and takes it off the scorecard.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest

from aidebt_core.audit.sample_audits import write_sample_audits
from aidebt_core.audit.store import STORE_ENV, AuditStore, AuditStoreError, workspace_store_path
from tests.e2e.conftest import (
    aidebt_serve,
    assert_no_exception,
    browser_pages,
    screenshot,
    wait_for_app,
)

pytestmark = pytest.mark.e2e
MODEL = "credit-default"
KEY = f"aud_{MODEL}"


@pytest.fixture
def workspace(tmp_path, sample_dir, ground_truth, monkeypatch):
    monkeypatch.delenv(STORE_ENV, raising=False)        # the workspace's default store
    folder = tmp_path / "ws"
    folder.mkdir()
    shutil.copy(sample_dir / "applications.parquet", folder / "applications.parquet")
    write_sample_audits(folder, ground_truth)
    return folder


@pytest.fixture
def served(browser, workspace, tmp_path):
    with aidebt_serve(["--workspace", str(workspace)], tmp_path / "serve.log") as url, \
            browser_pages(browser, url) as open_page:
        yield open_page


def _query(workspace) -> str:
    return f"ws={workspace}&mode=split&src=applications.parquet&ts=applied_at&at=2025-07-01"


def _pick(page, label: str, option: str, within=None) -> None:
    box = (within or page).get_by_label(label, exact=True)
    if box.input_value() == option:
        return
    box.click()
    choice = page.get_by_role("option", name=option, exact=True)
    try:
        choice.wait_for(timeout=5_000)
        choice.click()
    except Exception:            # the list did not open (a rerun took the focus): search it
        box.click()
        page.keyboard.type(option.lstrip("➕ "))
        page.keyboard.press("Enter")
    wait_for_app(page)
    assert box.input_value() == option


def _type(page, label: str, text: str, within=None) -> None:
    box = (within or page).get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")
    wait_for_app(page)


def _set_date(page, label: str, day: date, within=None) -> None:
    """Type a date into Streamlit's date field (year, month and day segments, in order)."""
    field = (within or page).get_by_label(label, exact=True)
    field.locator('[role="spinbutton"]').first.click()
    page.keyboard.type(f"{day.year:04d}{day.month:02d}{day.day:02d}")
    page.keyboard.press("Tab")


def _metric(page, label: str) -> str:
    return page.locator('[data-testid="stMetric"]').filter(has_text=label).first.locator(
        '[data-testid="stMetricValue"]').inner_text()


def _open_audit(open_page, workspace, model: str = MODEL, prefill: bool = False):
    """The Audit page on `model`, pre-fill off (the saved answers alone: no measurement)."""
    page = open_page(f"audit?{_query(workspace)}", expect_text="Live score")
    if model not in page.get_by_label("Model", exact=True).input_value():
        options = page.get_by_label("Model", exact=True)
        options.click()
        names = page.get_by_role("option").all_inner_texts()
        page.keyboard.press("Escape")
        if model in names:
            _pick(page, "Model", model)
        else:
            _pick(page, "Model", "➕ New model…")
            _type(page, "New model name", model)
    if not prefill:
        toggle = page.get_by_text("Pre-fill from measurements on the selected data")
        toggle.click()
        wait_for_app(page)
    page.get_by_text("Live score").first.wait_for()
    return page


def _header(page, version: str = "4", auditor: str = "e2e browser",
            day: date | None = None) -> None:
    _type(page, "Model version", version)
    _type(page, "Auditor(s)", auditor)
    if day is not None:
        _set_date(page, "Audit date", day)
        wait_for_app(page)


def _scorecard_row(open_page, workspace, model: str) -> dict:
    card = open_page(f"?{_query(workspace)}", expect_text="Median headline")
    grid = card.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    text = card.inner_text("main")
    return {"page": card, "text": text}


def test_full_save_reopens_with_the_same_answers_and_headline_partial_refused(
        served, workspace, tmp_path):
    store = AuditStore(workspace_store_path(workspace))
    page = _open_audit(served, workspace)
    assert "carried over from" in page.inner_text("main")
    before = _metric(page, "Headline")
    assert before.endswith(" / 10"), before
    _header(page)
    page.get_by_role("button", name="Save audit").click()
    page.get_by_text(f"Saved the audit of {MODEL}").wait_for()
    wait_for_app(page)
    saved = store.latest(MODEL)
    assert saved.audited_at == date.today().isoformat() and saved.auditor == "e2e browser"
    assert saved.scores["headline_text"] == before

    again = _open_audit(served, workspace)
    screenshot(again, "audit-reopened")
    # the live score stays in view while the questions scroll by
    panel = again.locator(".st-key-aud_panel")
    top_before = panel.bounding_box()["y"]
    again.mouse.move(600, 600)
    for _ in range(6):
        again.mouse.wheel(0, 400)
        again.wait_for_timeout(200)
    box = panel.bounding_box()
    assert 0 <= box["y"] < 150 < top_before, (top_before, box)
    screenshot(again, "audit-scrolled")
    assert _metric(again, "Headline") == before
    assert f"carried over from {saved.audited_at}" in again.inner_text("main")
    again.get_by_role("radio", name="Configuration").first.click()   # the dimension control
    wait_for_app(again)
    for qid, answer in saved.answers.items():
        if not qid.startswith("P"):
            continue
        card = again.locator(f".st-key-{KEY}_{qid}_box")
        expected = "N/A" if answer.na else f"{answer.level} · "
        checked = again.locator('input[type="radio"]:checked')
        assert card.locator('input[type="radio"]:checked').count() == 1, qid
        label = card.locator("label").filter(has=checked).inner_text()
        assert label.startswith(expected), (qid, label)

    # a partial form: Save without "save as partial" is refused; the scorecard is unchanged
    card = _scorecard_row(served, workspace, MODEL)
    audits_before = len(store.list_audits())
    partial = _open_audit(served, workspace, "e2e-partial")
    _header(partial)
    box = partial.locator(".st-key-aud_e2e-partial_D1_box")
    box.get_by_text("2 · manual and documented").click()
    wait_for_app(partial)
    assert _metric(partial, "Headline") == "incomplete: 1 of 37 answered"
    partial.get_by_role("button", name="Save audit").click()
    partial.get_by_text("Not saved.").wait_for()
    assert "save as partial" in partial.inner_text("main")
    screenshot(partial, "audit-partial-refused")
    assert len(store.list_audits()) == audits_before
    after = _scorecard_row(served, workspace, MODEL)
    assert "e2e-partial" not in after["text"]
    assert after["text"].count("\n") > 0 and _metric(after["page"], "Models") == \
        _metric(card["page"], "Models")


def test_actions_statuses_overdue_on_the_scorecard_and_sign_off(served, workspace):
    store = AuditStore(workspace_store_path(workspace))
    today = date.today()
    page = _open_audit(served, workspace)
    _header(page)
    for text, owner, due in (("Gate releases on slice accuracy", "Ann", today - timedelta(3)),
                             ("Weekly drift job with alerts", "Bob", today + timedelta(40))):
        page.get_by_role("button", name="Add an action…").click()
        body = page.locator('[data-testid="stPopoverBody"]')
        body.get_by_label("Action", exact=True).fill(text)
        body.get_by_label("Owner", exact=True).fill(owner)
        _set_date(page, "Due date", due, within=body)
        body.get_by_role("button", name="Add action").click()
        wait_for_app(page)
        page.keyboard.press("Escape")
        page.get_by_text(text).first.wait_for()
    page.get_by_role("button", name="Save audit").click()
    page.get_by_text(f"Saved the audit of {MODEL}").wait_for()
    wait_for_app(page)
    first = store.latest(MODEL)               # last time's open actions come first
    assert [(a.text, a.owner, a.due, a.status) for a in first.actions[-2:]] == [
        ("Gate releases on slice accuracy", "Ann", today - timedelta(3), "open"),
        ("Weekly drift job with alerts", "Bob", today + timedelta(40), "open")]

    # a later audit (tomorrow) opens with both actions; the drift job is marked done
    later = _open_audit(served, workspace)
    _header(later, day=today + timedelta(1))
    assert "Actions of the audit of" in later.inner_text("main")
    job = later.locator(f'[class*="st-key-{KEY}_act_"]').filter(
        has_text="Weekly drift job with alerts").first
    status = job.get_by_label("Status", exact=True)
    status.click()
    later.keyboard.type("done")
    later.keyboard.press("Enter")
    wait_for_app(later)
    assert status.input_value() == "done"
    _type(later, "Status note", "running since Monday", within=job)
    later.get_by_role("button", name="Save audit").click()
    later.get_by_text(f"Saved the audit of {MODEL}").wait_for()
    wait_for_app(later)
    second = store.latest(MODEL)
    statuses = {a.text: a.status for a in second.actions}
    assert statuses["Gate releases on slice accuracy"] == "open"
    assert statuses["Weekly drift job with alerts"] == "done"
    overdue = sum(a.overdue(today) for a in second.actions)

    card = served(f"?{_query(workspace)}", expect_text="Median headline")
    assert _metric(card, "Overdue actions") == str(overdue)
    _pick(card, "Sort by", "Model")
    _pick(card, "Model", MODEL)
    card.get_by_text("Tracked actions").first.wait_for()
    card.wait_for_timeout(800)                    # let the grids paint for the picture
    screenshot(card, "scorecard-actions")
    # the grids draw on a canvas; their accessible table holds the visible cells
    cells = card.locator('[data-testid="stDataFrame"] [role="gridcell"]')
    statuses = set(cells.all_inner_texts())
    assert "done" in statuses and "open · overdue" in statuses, statuses

    # sign off the latest audit: named, confirmed; then it is final
    signed_page = _open_audit(served, workspace)
    signed_page.get_by_role("button", name=f"Sign off the audit of {second.audited_at}…").click()
    body = signed_page.locator('[data-testid="stPopoverBody"]')
    _type(signed_page, "Reviewer", "Carol Reviewer", within=body)
    body.get_by_text("I reviewed this audit and sign it off").click()
    wait_for_app(signed_page)
    body.get_by_role("button", name="Sign off", exact=True).click()
    signed_page.get_by_text("signed off by Carol Reviewer").first.wait_for()
    wait_for_app(signed_page)
    assert_no_exception(signed_page)
    screenshot(signed_page, "audit-signed")
    signed = store.get(second.id)
    assert signed.signed_by == "Carol Reviewer"
    main = signed_page.inner_text("main")
    assert "It is final: it cannot be edited or withdrawn" in main
    assert signed_page.get_by_role("button", name=f"Sign off the audit of "
                                                  f"{second.audited_at}…").count() == 0
    with pytest.raises(AuditStoreError, match="signed"):
        store.withdraw(second.id, by="someone", reason="try to edit")
    with pytest.raises(AuditStoreError, match="signed off"):
        from dataclasses import replace

        store.save_audit(replace(signed, signed_by="", signed_at="", auditor="edited"))
    assert store.get(second.id).auditor == second.auditor


def test_withdraw_keeps_it_in_the_history_and_off_the_scorecard(served, workspace):
    store = AuditStore(workspace_store_path(workspace))
    page = _open_audit(served, workspace)
    _header(page)
    page.get_by_role("button", name="Save audit").click()
    page.get_by_text(f"Saved the audit of {MODEL}").wait_for()
    wait_for_app(page)
    page.get_by_role("button", name="Withdraw an audit…").click()
    popover = page.locator('[data-testid="stPopoverBody"]')
    _type(page, "Reason", "scored against the wrong month", within=popover)
    popover.get_by_text("Yes, withdraw this audit").click()
    wait_for_app(page)
    popover.get_by_role("button", name="Withdraw", exact=True).click()
    page.get_by_text("It stays in the history and no longer counts").wait_for()
    wait_for_app(page)
    assert_no_exception(page)
    saved = [r for r in store.read(MODEL).records if r.auditor == "e2e browser"]
    assert len(saved) == 1 and saved[0].withdrawn.reason == "scored against the wrong month"
    assert saved[0].withdrawn.by == "e2e browser"
    assert store.latest(MODEL).auditor != "e2e browser"
