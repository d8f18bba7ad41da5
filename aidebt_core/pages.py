"""The dashboard's pages in menu order: file, title, icon, url path, section.

One table for `app.py` (which registers the pages) and for the audit (which links each
pre-filled answer to the page that measured it), so a renamed page cannot leave dead links.
Plain data: no streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    file: str
    title: str
    icon: str
    url_path: str
    section: str
    analysis: str | None = None  # the analysis (audit evidence provider) the page shows


PAGES = (
    PageSpec("pages/scorecard.py", "Scorecard", ":material/leaderboard:", "scorecard", "Overview"),
    PageSpec("pages/audit.py", "Audit", ":material/checklist:", "audit", "Overview"),
    PageSpec("pages/data.py", "Data", ":material/table_chart:", "data", "Overview"),
    PageSpec("pages/drift.py", "Drift", ":material/ssid_chart:", "drift", "Analyses", "drift"),
    PageSpec("pages/performance.py", "Performance & concept drift", ":material/monitoring:",
             "performance", "Analyses", "performance"),
    PageSpec("pages/entanglement.py", "Entanglement", ":material/hub:", "entanglement",
             "Analyses", "entanglement"),
    PageSpec("pages/slices.py", "Slices", ":material/splitscreen:", "slices", "Analyses",
             "slices"),
    PageSpec("pages/reproducibility.py", "Reproducibility", ":material/history:",
             "reproducibility", "Analyses", "runs"),
)
DEFAULT_PAGE = "scorecard"  # opens at "/"


def page_link(analysis: str) -> str:
    """The dashboard link ("/drift") of the page that shows `analysis`."""
    for page in PAGES:
        if page.analysis == analysis:
            return f"/{page.url_path}"
    raise KeyError(f"no dashboard page shows the analysis {analysis!r}")
