"""aidebt dashboard: the sidebar picks the data, each page shows one kind of debt."""

import streamlit as st

from aidebt_app.auth import require_sign_in
from aidebt_app.context import render_sidebar

st.set_page_config(page_title="aidebt", page_icon=":material/account_balance:", layout="wide")

# (file, title, icon, url_path, section); the first page marked default opens at "/".
PAGES = [
    ("pages/scorecard.py", "Scorecard", ":material/leaderboard:", "scorecard", "Overview"),
    ("pages/audit.py", "Audit", ":material/checklist:", "audit", "Overview"),
    ("pages/data.py", "Data", ":material/table_chart:", "data", "Overview"),
    ("pages/drift.py", "Drift", ":material/ssid_chart:", "drift", "Analyses"),
    ("pages/performance.py", "Performance & concept drift", ":material/monitoring:", "performance",
     "Analyses"),
    ("pages/entanglement.py", "Entanglement", ":material/hub:", "entanglement", "Analyses"),
    ("pages/slices.py", "Slices", ":material/splitscreen:", "slices", "Analyses"),
    ("pages/reproducibility.py", "Reproducibility", ":material/history:", "reproducibility",
     "Analyses"),
]
DEFAULT_PAGE = "scorecard"

# Before anything is drawn: with sign-in on, an anonymous visitor gets the sign-in page only.
require_sign_in(url_path for _, _, _, url_path, _ in PAGES)

sections: dict[str, list] = {}
for path, title, icon, url_path, section in PAGES:
    sections.setdefault(section, []).append(
        st.Page(path, title=title, icon=icon, url_path=url_path, default=url_path == DEFAULT_PAGE))

page = st.navigation(sections)
render_sidebar()
page.run()
