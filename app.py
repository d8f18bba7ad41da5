"""aidebt dashboard: the sidebar picks the data, each page shows one kind of debt."""

from pathlib import Path

import streamlit as st

import aidebt_app
from aidebt_app.auth import require_sign_in
from aidebt_app.context import render_sidebar
from aidebt_core.pages import DEFAULT_PAGE, PAGES

# A local image, served by Streamlit itself: a ":material/..." page icon makes every browser
# fetch the favicon from fonts.gstatic.com (nothing may leave the machine).
ICON = Path(aidebt_app.__file__).parent / "assets" / "icon.png"
st.set_page_config(page_title="aidebt", page_icon=str(ICON), layout="wide")

# Before anything is drawn: with sign-in on, an anonymous visitor gets the sign-in page only.
require_sign_in(page.url_path for page in PAGES)

sections: dict[str, list] = {}
for spec in PAGES:  # aidebt_core/pages.py: one table, shared with the audit's page links
    sections.setdefault(spec.section, []).append(
        st.Page(spec.file, title=spec.title, icon=spec.icon, url_path=spec.url_path,
                default=spec.url_path == DEFAULT_PAGE))

page = st.navigation(sections)
render_sidebar()
page.run()
