"""Autoregressive models (the Autoregressive page): exact likelihood, image completion, and sampling pixel by pixel, for
every kind with the autoregressive capability.

The tabs live in genlab/ui/autoregressive_explorer.py; the maths in genlab/models/autoregressive/.
"""
import streamlit as st

from genlab.models import AUTOREGRESSIVE
from genlab.ui import autoregressive_explorer as explorer
from genlab.ui.common import lazy_tabs, pick_model
from genlab.ui.guide import explained

st.title("Autoregressive models: one pixel at a time")

intro, picker = st.columns([3, 2], gap="large")
with intro:
    explained(
        "- **Chain rule:** p(x) = p(x₁) · p(x₂ | x₁) · … · p(x₇₈₄ | x₁ … x₇₈₃), pixels in raster "
        "order (row by row, left to right).\n"
        "- In training, all conditionals come from **one pass** over the real image (teacher forcing), each "
        "seeing only the pixels before it.\n"
        "- So **log p(x) is exact** (an explicit, tractable density), but **sampling is sequential**: a pixel must "
        "be drawn before the next one can be. Where a model has one, genlab's fast sampler reuses work "
        "between pixels."
    )
info, checkpoint = pick_model(intro, picker, AUTOREGRESSIVE, key="pcnn_model",
                              help="Shipped autoregressive models, and the ones you train on the Train page.")

ex = explorer.Explorer(path=str(info.path), checkpoint=checkpoint)
explorer.choose_image(ex)

lazy_tabs("Autoregressive", explorer.TABS, "pcnn_tab", ex)  # only the open tab runs; ?pcnn_tab= opens one
