"""genlab: `streamlit run app.py`. The navigation over the one table of pages (genlab/ui/pages.py); Home first.

Before any page runs: the teacher key is made (once per server) and checked if this browser brings it
(genlab/ui/roles.py); the sidebar says who this browser is, and a new browser gets its seat cookie. ?present=1
turns on presenter mode (genlab/ui/presenter.py): large type, the navigation at the top, the sidebar collapsed.
"""
import streamlit as st

from genlab.ui.guide import glossary
from genlab.ui.pages import HOME, PAGES
from genlab.ui.presenter import apply_presenter_style, presenting
from genlab.ui.roles import claim_teacher_from_url, ensure_teacher_key, keep_seat, role_badge

present = presenting()
st.set_page_config(page_title="genlab", page_icon="🧪", layout="wide",
                   initial_sidebar_state="collapsed" if present else "auto")
ensure_teacher_key()
claim_teacher_from_url()
navigation = st.navigation([st.Page(page.file, title=page.title, icon=page.icon, default=page is HOME)
                            for page in PAGES], position="top" if present else "sidebar")
if present:
    apply_presenter_style()
role_badge()
with st.sidebar:
    glossary()
keep_seat()
navigation.run()
