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
        "(a thick digit, a circle), having seen only unpaired piles of images, one per domain, never a "
        "before-and-after pair.\n"
        "- **Adversarial loss:** a discriminator (one per domain in CycleGAN; one with a domain head in StarGAN) "
        "pushes each translation to look like the target domain. On its own it asks nothing more: any image of "
        "that domain would do.\n"
        "- **Cycle-consistency loss:** translate there and back, and ask to land on the input. To come back, "
        "the translation must carry what the input showed (in plain sight, or hidden in faint patterns: look at "
        "the translations, not only at the round trip).\n"
        "- **Here the right answer is known:** the domains are built from our data (a digit drawn in four "
        "styles; shapes drawn with known position and size), so the Measured tab can check the content."
    )
    with st.expander("The losses, one sentence each"):
        st.markdown(
            "- **Adversarial** (both models): a discriminator scores patches of real and translated images; the "
            "generator is paid for patches it takes for real (least squares).\n"
            "- **Cycle consistency** (CycleGAN), or **reconstruction** (StarGAN): |back(there(x)) − x|, the round "
            "trip's pixel difference.\n"
            "- **Identity** (optional in CycleGAN, on in genlab's StarGAN): an image already in the target domain "
            "should be returned unchanged.\n"
            "- **Domain classification** (StarGAN): the discriminator also learns which domain a real image is in, "
            "and the generator is paid when its translation is read as the target.")
info, checkpoint = pick_model(intro, picker, TRANSLATOR, key="tr_model",
                              help="Shipped translators, with and without the cycle loss, and the ones you upload.")

ex = explorer.Explorer(path=str(info.path), checkpoint=checkpoint)
problem = explorer.cannot_show(ex)
if problem:
    st.warning(problem)
    st.stop()
lazy_tabs("Translate", explorer.TABS, "tr_tab", ex)  # only the open tab runs; ?tr_tab= opens one
