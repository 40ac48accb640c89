"""Translate (unpaired image-to-image translation): an image from one domain into another and back, for every kind
with the translator capability (CycleGAN, StarGAN).

The tabs live in genlab/ui/translate_explorer.py; the models in genlab/models/cyclegan.py and stargan.py.
"""
import streamlit as st

from genlab.models import TRANSLATOR
from genlab.ui import translate_explorer as explorer
from genlab.ui.common import lazy_tabs, pick_model
from genlab.ui.guide import explained

st.title("Translate: from one domain to another, without pairs")

intro, picker = st.columns([3, 2], gap="large")
with intro:
    explained(
        "- **The task:** turn an image of one domain (a plain digit, a square) into the same content in another "
        "(a thick digit, a circle), having seen only two unpaired piles of images, never a before-and-after pair.\n"
        "- **Adversarial loss:** a discriminator per domain pushes each translation to look like that domain. "
        "On its own it asks nothing more: any image of the target domain would do.\n"
        "- **Cycle-consistency loss:** translate there and back, and ask to land on the input. To come back, "
        "the translation must keep the content.\n"
        "- **Here the right answer is known:** the domains are built from our data (a digit drawn in four "
        "styles; shapes drawn with known position and size), so the Measured tab can check the content."
    )
info, checkpoint = pick_model(intro, picker, TRANSLATOR, key="tr_model",
                              help="Shipped translators, with and without the cycle loss, and the ones you upload.")

ex = explorer.Explorer(path=str(info.path), checkpoint=checkpoint)
lazy_tabs("Translate", explorer.TABS, "tr_tab", ex)  # only the open tab runs; ?tr_tab= opens one
