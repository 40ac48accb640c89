"""genlab home: what each page is for, which models and datasets are ready, and which device runs them."""
import streamlit as st

from genlab.checkpoints import list_checkpoints
from genlab.classroom import short
from genlab.data import DATASETS, dataset_available
from genlab.models import KINDS
from genlab.ui.common import device_badge
from genlab.ui.pages import PAGES

st.title("genlab: explore generative image models")
st.write(
    "A generative model learns p(x), the distribution of its training images, or at least how to sample from "
    "it, and can then make new images like them. This app lets you poke at three families from the course: "
    "**autoregressive models** (exact likelihood), **variational autoencoders** (a lower bound on the "
    "likelihood, plus an encoder) and **GANs** (a sampler whose density p_g is never written down or "
    "evaluated)."
)
device_badge()

st.header("Pages")
for page in PAGES[1:]:
    st.page_link(page.file, label=f"**{page.title}**: {page.line}", icon=page.icon)

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
    rows.append({"model": short(c.card.get("title", c.path.stem)),
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
