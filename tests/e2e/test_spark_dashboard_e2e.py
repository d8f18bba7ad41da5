"""The dashboard on Spark sources, end to end: `aidebt serve --workspace WS` where WS lists two
`spark:parquet:` sources in its aidebt-spark.yaml, the server's SPARK_REMOTE pointing at a real
Spark Connect server on 127.0.0.1 (tests/spark_fixtures.py), Chromium opening the Drift page.

The data (generated here, outside the workspace) carry planted drift; the page must show it,
say that Spark read the data through profiles, and refuse a link that names a spark: source
the workspace does not list — that source is never read.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tests.e2e.conftest as e2e
from tests.e2e.conftest import aidebt_serve, browser_pages
from tests.spark_fixtures import loans, shared_connect_server

pytestmark = pytest.mark.e2e
ROWS = 2_000
SLOW_RENDER_MS = 240_000  # every Drift view computed by Spark on a shared 2-core machine


@pytest.fixture(scope="module")
def spark_site(tmp_path_factory):
    base = tmp_path_factory.mktemp("spark_site")
    data, workspace, secret = base / "data", base / "ws", base / "secret"
    for folder in (data, workspace, secret):
        folder.mkdir()
    pq.write_table(loans(11, ROWS, False, "2025-01-01"), data / "applications_h1.parquet")
    pq.write_table(loans(12, ROWS, True, "2025-07-01"), data / "applications_h2.parquet")
    pq.write_table(pa.table({"secret_salary": [123456.0] * 50, "zz_token": ["hunter2"] * 50}),
                   secret / "payroll.parquet")
    (workspace / "aidebt-spark.yaml").write_text(
        "# Spark sources this dashboard offers (the server's SPARK_REMOTE reads them)\n"
        "sources:\n"
        f"  - spark:parquet:{data / 'applications_h1.parquet'}\n"
        f"  - spark:parquet:{data / 'applications_h2.parquet'}\n")
    url = shared_connect_server()
    with aidebt_serve(["--workspace", str(workspace)], base / "serve.log",
                      env={"SPARK_REMOTE": url}) as served:
        yield {"url": served, "data": data, "secret": secret / "payroll.parquet"}


@pytest.fixture
def slow_pages(monkeypatch):
    monkeypatch.setattr(e2e, "RENDER_TIMEOUT_MS", SLOW_RENDER_MS)


def _metric(page, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return card.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _alerts(page) -> str:
    return " ".join(page.locator('[data-testid="stAlert"]').all_inner_texts()).replace(
        "\u2060", "")


def test_drift_page_shows_the_planted_drift_read_by_spark(spark_site, browser, slow_pages):
    with browser_pages(browser, spark_site["url"]) as open_:
        page = open_("drift", expect_text="inputs drifted")
        body = page.inner_text("body").replace("\u2060", "")
        # The workspace's two Spark sources are the default pair (reference, current).
        assert "applications_h1.parquet vs spark:parquet:" in body
        assert "read by Apache Spark: computed from profiles" in body
        # Planted: income, credit_score, debt_ratio (a wider range), region (a new
        # category), channel; the widest move is debt_ratio's.
        assert _metric(page, "Worst input") == "debt_ratio"
        drifted, compared = _metric(page, "Drifted inputs").split(" / ")
        assert int(drifted) >= 4 and int(compared) == 17
        assert f"{drifted} of 17 inputs drifted" in body
        e2e.assert_no_exception(page)
        e2e.screenshot(page, "drift-spark")


def test_a_link_naming_an_unlisted_spark_source_is_refused(spark_site, browser, slow_pages):
    secret = spark_site["secret"]
    listed = f"spark:parquet:{spark_site['data'] / 'applications_h2.parquet'}"
    with browser_pages(browser, spark_site["url"]) as open_:
        for ref in (f"spark:parquet:{secret}", f"spark:parquet:{secret.parent}",
                    f"spark:parquet:{Path('/etc')}"):
            page = open_(f"drift?mode=files&ref={quote(ref)}&cur={quote(listed)}",
                         expect_text="is not in the workspace")
            assert f"Data source '{ref}' is not in the workspace" in _alerts(page)
            body = page.inner_text("body")
            # never read: none of its columns or values reach the page
            assert "secret_salary" not in body and "hunter2" not in body
            # the link is rewritten to the selection actually shown, which is not `ref`
            assert quote(ref, safe="") not in page.url and ref not in page.url
