"""Presenter mode for a projected screen, from the URL (as TensorFlow Playground hides controls by URL): ?present=1
turns it on for this browser until ?present=0, and stays in the address on every page, so a reload keeps it.
Large type; the navigation moves to the top; the sidebar's settings, uploads, model cards and other expanders are
hidden, so the screen shows what a lesson step needs ("What am I looking at?" shows open instead).
"""
import streamlit as st

LARGE_TYPE = """<style>
html { font-size: 22px; }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpander"] { display: none; }
[data-testid="stMain"] .block-container { max-width: 100%; padding-top: 3rem; }
</style>"""


def presenting() -> bool:
    """Whether this browser is in presenter mode; ?present=1 or ?present=0 in the address switches it."""
    asked = st.query_params.get("present")
    if asked in ("0", "1"):
        st.session_state.genlab_present = asked == "1"
    on = bool(st.session_state.get("genlab_present", False))
    if on:
        st.query_params["present"] = "1"  # a page switch clears the address's parameters: put it back
    elif "present" in st.query_params:
        del st.query_params["present"]
    return on


def apply_presenter_style() -> None:
    """Large type and no side controls, while presenting."""
    st.html(LARGE_TYPE)
