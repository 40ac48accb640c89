"""Diffusion and flow models (the Diffusion page): the forward process, the reverse process step by step, and
quality against steps and guidance, for every kind with an iterative sampler.

The tabs live in genlab/ui/diffusion_explorer.py; the maths in genlab/models/diffusion/.
"""
import streamlit as st

from genlab.models import ITERATIVE
from genlab.ui import diffusion_explorer as explorer
from genlab.ui.common import lazy_tabs, pick_model
from genlab.ui.guide import explained

st.title("Diffusion and flow matching: from noise to image in steps")

intro, picker = st.columns([3, 2], gap="large")
with intro:
    explained(
        "- **Forward process:** blend an image with Gaussian noise, a little more at each time t, until only "
        "noise is left. Nothing is learned here.\n"
        "- **Reverse process:** a network learns to undo it: given a noisy image and t, it predicts which way "
        "the clean image lies. Sampling starts from pure noise and takes many small steps.\n"
        "- **Trade-offs:** more steps cost more time; guidance trades variety for images that look more like "
        "the class asked for."
    )
info, checkpoint = pick_model(intro, picker, ITERATIVE, key="diff_model",
                              help="Shipped diffusion and flow models, and the ones you train on the Train page.")
with intro:
    with st.expander("How this relates to the VAE"):
        st.markdown(
            "A diffusion model is a latent-variable model, like a VAE, with a whole chain of latent codes: the "
            "noisy images x_t, as large as the image itself. Its \"encoder\" is fixed (adding noise), so only the "
            "decoder, the denoiser, is learned. DDPM's loss (Ho et al. 2020) is a weighted version of the ELBO a "
            "VAE maximises, and Kingma & Gao (2023) show that the flow-matching loss is a weighted ELBO too. "
            "Unlike a VAE's, its code space has no compression: the price is many decoder passes per sample.")

ex = explorer.Explorer(path=str(info.path), checkpoint=checkpoint)
lazy_tabs("Diffusion", explorer.TABS, "diff_tab", ex)  # only the open tab runs; ?diff_tab= opens one
