"""Autoregressive models (the Autoregressive page): exact likelihood, image completion, and sampling pixel by pixel, for
every kind with the autoregressive capability.

The tabs live in genlab/ui/autoregressive_explorer.py; the maths in genlab/models/autoregressive/.
"""
import streamlit as st

from genlab.checkpoints import CheckpointError
from genlab.models import AUTOREGRESSIVE, get_kind
from genlab.ui import autoregressive_explorer as explorer
from genlab.ui.common import checkpoint_picker, device_badge, load_model, model_card, show_error
from genlab.ui.guide import guide

st.title("Autoregressive models: one pixel at a time")

intro, picker = st.columns([3, 2], gap="large")
with intro:
    st.markdown(
        "- **Chain rule:** p(x) = p(x₁) · p(x₂ | x₁) · … · p(x₇₈₄ | x₁ … x₇₈₃), pixels in raster "
        "order (row by row, left to right).\n"
        "- In training, all conditionals come from **one pass** over the real image (teacher forcing), each "
        "seeing only the pixels before it.\n"
        "- So **log p(x) is exact** (an explicit, tractable density), but **sampling is sequential**: a pixel must "
        "be drawn before the next one can be. Where a model has one, genlab's fast sampler reuses work "
        "between pixels."
    )
with picker:
    info = checkpoint_picker(AUTOREGRESSIVE, key="pcnn_model",
                             help="Shipped autoregressive models, and the ones you train on the Train page.")
    device_badge()
if info is None:
    st.stop()
try:
    checkpoint = load_model(info.path)
except (CheckpointError, ValueError) as error:
    show_error(error)
    st.stop()
with picker:
    model_card(checkpoint)
with intro:
    kind = get_kind(checkpoint.kind)
    st.markdown(f"- **{kind.title}:** {kind.summary}")

ex = explorer.Explorer(path=str(info.path), checkpoint=checkpoint)
explorer.choose_image(ex)

# Lazy tabs: only the open tab runs; the open tab is in the URL (?pcnn_tab=Sample), handy for a lesson plan.
tabs = st.tabs(list(explorer.TABS), key="pcnn_tab", bind="query-params")
for tab, (name, render) in zip(tabs, explorer.TABS.items()):
    if tab.open:
        with tab:
            guide("Autoregressive", name)
            render(ex)
