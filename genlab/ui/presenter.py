"""Presenter mode for a projected screen, from the URL (as TensorFlow Playground hides controls by URL): ?present=1
turns it on for this browser until ?present=0, and stays in the address on every page, so a reload keeps it.
Large type; the navigation moves to the top; the sidebar starts collapsed (its settings one click away); uploads
and model cards are left out, and "What am I looking at?" shows open, so the screen shows what a lesson step needs.
"""
import streamlit as st

LARGE_TYPE = """<style>
html { font-size: 22px; }
[data-testid="stMain"] .block-container { max-width: 100%; padding-top: 3rem; }
</style>"""


def presenting() -> bool:
    """Whether this browser is in presenter mode; ?present=1 or ?present=0 in the address switches it."""
    asked = st.query_params.get("present")
    if asked in ("0", "1"):
        st.session_state.genlab_present = asked == "1"
    on = is_presenting()
    if on:
        st.query_params["present"] = "1"  # a page switch clears the address's parameters: put it back
    elif "present" in st.query_params:
        del st.query_params["present"]
    return on


def is_presenting() -> bool:
    """Presenter mode, as set for this browser (pages ask this to leave out what a projector need not show)."""
    return bool(st.session_state.get("genlab_present", False))


def apply_presenter_style() -> None:
    """Large type, while presenting."""
    st.html(LARGE_TYPE)
