"""genlab home: what each page is for, which models and datasets are ready, and which device runs them."""
import streamlit as st

from genlab.checkpoints import list_checkpoints
from genlab.classroom import short
from genlab.data import DATASETS, dataset_available
from genlab.evaluation.compare import BLACK_AND_WHITE
from genlab.models import BOUND, EXACT, KINDS, SAMPLES
from genlab.ui.common import device_badge
from genlab.ui.pages import PAGES
from genlab.ui.taxonomy import taxonomy_dot

st.title("genlab: explore generative image models")
st.write(
    "A generative model learns p(x), the distribution of its training images, or at least how to sample from "
    "it, and can then make new images like them. This app lets you poke at four families from the course: "
    "**autoregressive models** (exact likelihood), **variational autoencoders** (a lower bound on the "
    "likelihood, plus an encoder), **GANs** (a sampler whose density p_g is never written down or "
    "evaluated) and **diffusion and flow models** (noise turned into an image in many small steps)."
)
device_badge()

st.header("Pages")
for page in PAGES[1:]:
    st.page_link(page.file, label=f"**{page.title}**: {page.line}", icon=page.icon)

st.header("The families")
st.graphviz_chart(taxonomy_dot(list(KINDS.values())))
st.caption("After Goodfellow's taxonomy (NIPS 2016 tutorial): an explicit model writes p(x) down, exactly or as a "
           "bound; an implicit one only samples. Diffusion and flow models came later: their density exists but "
           "costs many network passes to evaluate. Click a model to open its page.")

st.header("Pretrained models")
checkpoints = list_checkpoints()
if not checkpoints:
    st.info("No trained models are installed yet. Train one on the Train page.")


def likelihood_cells(card: dict, dataset: str) -> tuple[str, str]:
    """The test −log p(x) as its card reports it, said for what it is, and on which pixel values."""
    kind = KINDS.get(card.get("kind"))
    metrics = card.get("metrics") if isinstance(card.get("metrics"), dict) else {}  # a card is anyone's text
    value = metrics.get(kind.likelihood_metric) if kind and kind.likelihood_metric else None
    if not isinstance(value, (int, float)):
        value = None
    if kind is None or not kind.can(SAMPLES):
        return "-", "-"  # not a generative model (the metrics classifier)
    if value is None:
        return kind.no_likelihood, "-"
    spec = DATASETS.get(dataset)
    if spec is not None and spec.black_and_white:
        pixels = BLACK_AND_WHITE
    elif not kind.likelihood_on_grey:
        return f"none: {value:.1f} nats is a training score on grey levels, not a likelihood", "grey levels"
    else:
        try:
            pixels = kind.data_discretisation(kind.config_from_dict(card.get("config", {})))
        except (TypeError, ValueError):
            pixels = "?"
    how = {EXACT: "exact", BOUND: "upper bound: −ELBO"}.get(kind.likelihood, "?")
    return f"{value:.1f} nats ({how})", pixels


rows = []
for c in checkpoints:
    if c.card is None:
        rows.append({"model": c.path.name, "kind": "?", "dataset": "?", "source": c.source,
                     "test −log p(x) per image": f"unreadable: {c.error}", "pixel values": "-"})
        continue
    nll, pixels = likelihood_cells(c.card, c.dataset)
    rows.append({"model": short(c.card.get("title", c.path.stem)),
                 "kind": KINDS[c.kind].title if c.kind in KINDS else c.kind,
                 "dataset": c.dataset, "source": c.source, "test −log p(x) per image": nll, "pixel values": pixels})
if rows:
    st.dataframe(rows, hide_index=True, width="stretch")
st.caption("Lower −log p(x) means the model finds the test images more likely, but compare only rows with the same "
           "dataset and the same pixel values: a score on black-and-white images and one on 256 grey levels "
           "measure different things. A VAE's −ELBO is an upper bound: its true −log p(x) is lower.")

st.header("Datasets")
st.dataframe(
    [{"dataset": spec.title, "name": name, "ready": "yes" if dataset_available(name) else "no",
      "what it is / how to get it": spec.description if dataset_available(name) else spec.how_to_get}
     for name, spec in DATASETS.items()],
    hide_index=True, width="stretch",
)
