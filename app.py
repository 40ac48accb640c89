"""genlab home: what each page is for, which models and datasets are ready, and which device runs them."""
from pathlib import Path

import streamlit as st

from genlab.checkpoints import list_checkpoints
from genlab.data import DATASETS, dataset_available
from genlab.models import KINDS
from genlab.ui.common import device_badge

st.set_page_config(page_title="genlab", page_icon="🧪", layout="wide")

# Pages in the order a lesson meets them; a page appears here once its file exists.
PAGES = [
    ("pages/1_VAE_explorer.py", "VAE explorer",
     "Drag a point through a VAE's latent space and watch the decoded image follow; encode your own drawing."),
    ("pages/2_GAN_arithmetic.py", "GAN arithmetic",
     "Add and subtract DCGAN latent vectors, as in the DCGAN paper's famous figure."),
    ("pages/3_PixelCNN.py", "PixelCNN",
     "Hide part of an image and let an autoregressive model imagine several endings, pixel by pixel."),
    ("pages/4_Train.py", "Train",
     "Train a small model live and watch its losses and samples improve."),
    ("pages/5_Compare.py", "Compare",
     "Put the model families side by side: samples, likelihoods and quality metrics on the same data."),
    ("pages/6_GAN_playground.py", "GAN playground",
     "Watch a generator and a discriminator play the minimax game on 2-D points."),
]

st.title("genlab: explore generative image models")
st.write(
    "A generative model learns p(x), the distribution of its training images, or at least how to sample from "
    "it, and can then make new images like them. This app lets you poke at three families from the course: "
    "**autoregressive models** (exact likelihood), **variational autoencoders** (a lower bound on the "
    "likelihood, plus an encoder) and **GANs** (a sampler with no density at all)."
)
device_badge()

st.header("Pages")
for file, title, description in PAGES:
    if (Path(__file__).parent / file).exists():
        st.page_link(file, label=f"**{title}**: {description}")

st.header("Pretrained models")
checkpoints = list_checkpoints()
if not checkpoints:
    st.info("No checkpoints were found in checkpoints/. Train one with `python -m genlab train ...`.")
rows = []
for c in checkpoints:
    if c.card is None:
        rows.append({"model": c.path.name, "kind": "?", "dataset": "?", "source": c.source,
                     "test metric": f"unreadable: {c.error}"})
        continue
    metrics = c.card.get("metrics", {})
    headline = next((f"{metrics[k]:.1f} nats/image ({k.replace('_', ' ')})" for k in ("neg_elbo", "nll")
                     if k in metrics), "")
    rows.append({"model": c.card.get("title", c.path.stem),
                 "kind": KINDS[c.kind].title if c.kind in KINDS else c.kind,
                 "dataset": c.dataset, "source": c.source, "test metric": headline})
if rows:
    st.dataframe(rows, hide_index=True, width="stretch")
st.caption("A lower negative ELBO or negative log-likelihood means the model finds the test images more likely.")

st.header("Datasets")
st.dataframe(
    [{"dataset": spec.title, "name": name, "ready": "yes" if dataset_available(name) else "no",
      "what it is / how to get it": spec.description if dataset_available(name) else spec.how_to_get}
     for name, spec in DATASETS.items()],
    hide_index=True, width="stretch",
)
