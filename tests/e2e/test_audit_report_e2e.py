"""The audit and scorecard reports of the sample scenario: small (≤ 1.5 MB), open offline (no
script, no request leaves the file), and print on A4 in Chromium without a table row cut
across pages (small tables stay on one page). Page images go to tests/e2e/screenshots/."""

from __future__ import annotations

import io
import re
import sys

import pypdfium2 as pdfium
import pytest

from aidebt_core.audit.history import build_scorecard, compare
from aidebt_core.audit.questions import load_questionnaire
from aidebt_core.audit.sample_audits import sample_audit_records
from aidebt_core.reports.printable import SMALL_TABLE_ROWS
from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e
MAX_BYTES = 1_500_000


@pytest.fixture(scope="module")
def reports(sample_dir, ground_truth, tmp_path_factory) -> dict[str, str]:
    """The sample's audit report as the Audit page gives it (credit-default's latest audit
    compared with the one before), the pre-filled report of `aidebt audit --prefill --report`
    and the scorecard report."""
    from aidebt_core.cli import main
    from aidebt_core.reports.audit import audit_report, scorecard_report

    records = sample_audit_records(ground_truth)
    questionnaire = load_questionnaire()
    credit = [r for r in records if r.model == "credit-default"]
    latest, before = credit[-1], credit[-2]
    out = {"audit": audit_report(latest, questionnaire, compare(
        before, latest.answers, latest.scores, questionnaire.version), before).to_html(),
        "scorecard": scorecard_report(build_scorecard(records), records).to_html()}
    target = tmp_path_factory.mktemp("reports") / "prefill.html"
    saved = sys.stdout
    sys.stdout = io.StringIO()
    try:
        code = main(["audit", "--model", "credit-default", "--prefill",
                     "--data", str(sample_dir / "applications.parquet"),
                     "--timestamp", "applied_at", "--reference-end", "2025-07-01",
                     "--tracking-uri", f"sqlite:///{(sample_dir / 'mlflow.db').as_posix()}",
                     "--report", str(target), "--format", "json"])
    finally:
        sys.stdout = saved
    assert code == 0
    out["prefill"] = target.read_text(encoding="utf-8")
    return out


def _squash(text: str) -> str:
    """Text without white space; pdfium reads a hyphen where a line broke as U+FFFE."""
    return re.sub(r"\s+", "", text.replace("\ufffe", "-").replace("\u00ad", ""))


@pytest.mark.parametrize("name", ["audit", "scorecard", "prefill"])
def test_small_and_offline(reports, name, browser, tmp_path):
    text = reports[name]
    assert len(text.encode("utf-8")) <= MAX_BYTES
    assert "<script" not in text and "cdn." not in text      # nothing to fetch, nothing to run
    path = tmp_path / f"{name}.html"
    path.write_text(text, encoding="utf-8")
    context = browser.new_context(offline=True)
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    assert page.locator("h1").inner_text().startswith("AI technical debt")
    assert page.locator(".summary").inner_text()            # the manager summary leads
    assert page.locator("svg").count() >= 1                  # the charts are drawn
    assert [u for u in requests if not u.startswith("file:")] == []
    context.close()


def printed(browser, html: str, tmp_path, name: str,
            keep_images: bool = True) -> tuple[list[dict], list[str]]:
    """Print `html` to an A4 PDF in Chromium: its tables (rows' text, small or not) and each
    page's text; page images are saved for a person to look at."""
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page()
    page.goto(path.as_uri())
    tables = page.evaluate("""() => [...document.querySelectorAll('table')].map(t => ({
        small: t.classList.contains('small'),
        rows: [...t.querySelectorAll('tbody tr')].map(r => r.innerText),
        all: t.innerText}))""")
    pdf = tmp_path / f"{name}.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    page.close()
    texts = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for number, pdf_page in enumerate(pdfium.PdfDocument(str(pdf)), start=1):
        width, height = pdf_page.get_size()
        assert abs(width - 595.3) < 1.5 and abs(height - 841.9) < 1.5   # A4 in points
        texts.append(_squash(pdf_page.get_textpage().get_text_range()))
        if keep_images:
            pdf_page.render(scale=1).to_pil().save(SCREENSHOTS / f"report-{name}-p{number}.png")
    return tables, texts


def cut_rows(tables: list[dict], pages: list[str]) -> list[str]:
    """Rows whose text is not whole on one page, and small tables not whole on one page."""
    cut = []
    for table in tables:
        for row in table["rows"]:
            if not any(_squash(row) in text for text in pages):
                cut.append(row[:80])
        if table["small"] and not any(_squash(table["all"]) in text for text in pages):
            cut.append("small table: " + table["all"][:60])
    return cut


@pytest.mark.parametrize("name", ["audit", "scorecard", "prefill"])
def test_prints_on_a4_without_cutting_a_table(reports, name, browser, tmp_path):
    tables, pages = printed(browser, reports[name], tmp_path, name)
    assert tables and all(len(t["rows"]) <= SMALL_TABLE_ROWS for t in tables if t["small"])
    assert cut_rows(tables, pages) == []
    # the sections start on their own page: the answers table never shares the first page
    if name != "scorecard":
        assert "Allanswers" not in pages[0]


def test_the_check_sees_a_row_cut_across_pages(browser, tmp_path):
    """A row taller than a page must be split: the check has to report it."""
    tall = "<br>".join(f"line {i}" for i in range(120))
    html = (f"<html><body><table><tbody><tr><td>first</td></tr><tr><td>{tall}</td></tr>"
            "</tbody></table></body></html>")
    tables, pages = printed(browser, html, tmp_path, "check", keep_images=False)
    assert len(pages) > 1
    assert cut_rows(tables, pages) == [tables[0]["rows"][1][:80]]
