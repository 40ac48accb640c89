"""VAE explorer: the latent space of a pretrained autoencoder, VAE, beta-VAE or AAE, to look at, drag through and
encode into.

The tabs live in genlab/ui/latent_explorer.py (widgets and cached decodes) and genlab/explore/latent_space.py (the maths).
"""
import streamlit as st

from genlab.checkpoints import CheckpointError
from genlab.data import DatasetMissing
from genlab.models import LATENT
from genlab.ui import latent_explorer
from genlab.ui.common import checkpoint_picker, device_badge, model_card, show_error
from genlab.ui.guide import explained, guide

st.title("VAE explorer")

intro, picker = st.columns([3, 2], gap="large")
with intro:
    st.write("An autoencoder squeezes each image into a few numbers, its latent code, and learns to draw the image "
             "back from them. A variational autoencoder (VAE) also keeps the codes close to a simple bell-shaped "
             "cloud, so you can pick a point of that cloud and decode a new image (most points give a plausible "
             "one); an adversarial autoencoder (AAE) pushes them into any shape you choose; a plain autoencoder "
             "does neither, and is no generative model. Pick a model and a tab.")
    with st.expander("The maths"):
        explained(
            "- **Encoder** q(z|x) = N(mu, sigma²) over latent codes z; **decoder** p(x|z); **prior** p(z) = N(0, I).\n"
            "- Training maximises the **ELBO = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z))**, reconstruction minus KL: "
            "a lower bound on log p(x).\n"
            "- **z = mu + sigma · eps** with eps ~ N(0, I) (reparameterisation trick): the randomness no longer "
            "depends on the encoder, so gradients flow through mu and sigma.\n"
            "- A plain autoencoder is **not a generative model**: nothing says which codes are valid, so a random "
            "code need not decode to a sensible image. The KL term keeps codes near N(0, I), so most codes drawn "
            "from it decode to plausible images (holes remain).\n"
            "- An **adversarial autoencoder** replaces the KL term by a discriminator on codes: it learns to tell "
            "prior samples from the encoder's codes, and the encoder learns to fool it, so the codes of all the "
            "images together take the prior's shape. Only samples of the prior are needed, not its density, and "
            "there is no bound on log p(x)."
        )
with picker:
    info = checkpoint_picker(LATENT, key="vae_model", first=lambda kind: kind.reports_likelihood,  # VAEs first
                             help="Autoencoders, VAEs, beta-VAEs and AAEs. 2-D models show their whole latent space "
                                  "on a plane; larger ones reconstruct better. Models you train on the Train page "
                                  "appear here too.")
    device_badge()
if info is None:
    st.stop()

try:
    explorer = latent_explorer.open_explorer(info)
except (CheckpointError, DatasetMissing, ValueError) as error:
    show_error(error)
    st.stop()
with picker:
    model_card(explorer.checkpoint)

# Lazy tabs: only the open tab runs; the open tab is in the URL (?tab=Latent+pad), handy for a lesson plan.
tabs = st.tabs(list(latent_explorer.TABS), key="tab", bind="query-params")
for tab, (name, render) in zip(tabs, latent_explorer.TABS.items()):
    if tab.open:
        with tab:
            guide("VAE explorer", name)
            render(explorer)
