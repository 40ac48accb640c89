"""genlab: `streamlit run app.py`. The navigation over the one table of pages (genlab/ui/pages.py); Home first."""
import streamlit as st

from genlab.ui.pages import HOME, PAGES

st.set_page_config(page_title="genlab", page_icon="🧪", layout="wide")
st.navigation([st.Page(page.file, title=page.title, icon=page.icon, default=page is HOME) for page in PAGES]).run()
