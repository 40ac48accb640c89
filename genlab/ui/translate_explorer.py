"""The Translate page's parts (for every kind with the translator capability): one image translated and brought
back, one image into every domain, and the measured figures. The models are in genlab/models/cyclegan.py and
stargan.py; the measurements in genlab/evaluation/translation.py; this module holds widgets and cached results.
"""
from __future__ import annotations


import streamlit as st
import torch

from genlab.data import DATASETS, drawn_in_domain
from genlab.evaluation.compare import metrics_classifier
from genlab.evaluation.translation import classify, image_moments, translation_figures
from genlab.explore.latent_space import fit_drawing
from genlab.images import ImageInputError, grid, png_bytes, read_user_image
from genlab.ui.busy import take_turn
from genlab.ui.common import ChosenModel, dataset, load_model
from genlab.ui.components import drawing_canvas

SCALE = 5  # 28x28 images shown at 140x140 pixels
CENTRED = {"digit-styles": 20}  # data sets whose items are centred and scaled like MNIST (the ink in a 20 px box)
MEASURED_N = 1000  # test items per direction on the Measured tab (as benchmarks/translation_quality.py)
DIFFERENCE_GAIN = 4  # the round trip's difference is drawn this many times brighter, so small ones show


class Explorer(ChosenModel):
    @property
    def dataset(self) -> str:
        return self.checkpoint.card.get("dataset", "")

    def domain_name(self, index: int) -> str:
        names = self.checkpoint.card.get("class_names") or []
        return str(names[index]) if index < len(names) else f"domain {index}"

    def test_images(self, domain: int) -> torch.Tensor:
        """The test split's images of one domain (N, C, H, W)."""
        data = dataset(self.dataset, "test")
        return data.images[data.labels == domain]


def _classifier(dataset_name: str | None):
    """The shipped classifier of a data set (None if there is none)."""
    info = metrics_classifier(dataset_name) if dataset_name else None
    return load_model(info.path).model if info is not None else None


def domain_reader(ex: Explorer):
    """The domain classifier shipped for the model's data set (its labels are the domains), or None."""
    return _classifier(ex.dataset)


def content_reader(ex: Explorer):
    """Where the domains are drawn from a labelled set (digits in styles): that set's classifier, which reads the
    content a translation must keep; else None."""
    spec = DATASETS.get(ex.dataset)
    return _classifier(spec.derived_from) if spec is not None and spec.derived_from else None


def has_position_and_size(ex: Explorer) -> bool:
    return {"x", "y", "scale"} <= set(dataset(ex.dataset, "test").factor_names)


# -- the Translate tab --------------------------------------------------------------------------------------
def pick_image(ex: Explorer, source: int) -> torch.Tensor | None:
    """A test image of the source domain, a drawing or an upload: (1, H, W) in [0, 1], or None."""
    how = st.radio("Image", ["A test image", "Draw", "Upload"], key="tr_input", horizontal=True,
                   help="A test image of the source domain (the model never trained on it), your drawing, or a "
                        "picture of yours (made grayscale and 28×28).")
    if how == "A test image":
        images = ex.test_images(source)
        index = st.number_input("Test image number", 0, len(images) - 1, 0, key="tr_index",
                                help=f"One of the {len(images):,} test images of {ex.domain_name(source)}.")
        return images[int(index)]
    if how == "Draw":
        drawing = drawing_canvas(key="tr_canvas", hint="Draw in the source domain's style.")
        if drawing is None:
            st.info("Draw on the black square; it is translated when you lift the pen.")
            return None
        return fit_drawing(drawing, CENTRED[ex.dataset]) if ex.dataset in CENTRED else drawing
    upload = st.file_uploader("A picture (PNG or JPEG)", type=["png", "jpg", "jpeg", "gif", "bmp"], key="tr_upload",
                              help="Any picture Pillow can read; a light background is inverted (light on dark).")
    if upload is None:
        return None
    try:
        image = read_user_image(upload.getvalue())
    except ImageInputError as e:
        st.error(str(e))
        return None
    return fit_drawing(image, CENTRED[ex.dataset]) if ex.dataset in CENTRED else image


def readings(ex: Explorer, images: torch.Tensor) -> list[str]:
    """What the shipped classifiers (or the image moments) read in each image: its domain, its content."""
    parts: list[list[str]] = [[] for _ in images]
    domains = domain_reader(ex)
    if domains is not None:
        for words, d in zip(parts, classify(domains, images).tolist()):
            words.append(f"reads as {ex.domain_name(d)}")
    digits = content_reader(ex)
    if digits is not None:
        for words, d in zip(parts, classify(digits, images).tolist()):
            words.append(f"digit {d}")
    elif has_position_and_size(ex):
        for words, (x, y, size) in zip(parts, image_moments(images).tolist()):
            words.append(f"centre ({x:.1f}, {y:.1f}), size {size:.1f} px")
    return ["; ".join(words) for words in parts]


@st.fragment
def translate_tab(ex: Explorer) -> None:
    domains = list(ex.model.domains)
    left, right = st.columns([1, 2], gap="large")
    with left:
        source = st.selectbox("From (source domain)", domains, format_func=ex.domain_name, key="tr_source",
                              help="The domain the image is in.")
        targets = [d for d in domains if d != source]
        target = st.selectbox("To (target domain)", targets, format_func=ex.domain_name, key="tr_target",
                              help="The domain to translate it into.")
        image = pick_image(ex, source)
    if image is None:
        return
    x = image[None].float()  # (1, C, H, W)
    there = ex.model.translate(x, target)  # (1, C, H, W)
    back = ex.model.translate(there, source)
    difference = (x - back).abs()
    shown = torch.cat([x, there, back, (DIFFERENCE_GAIN * difference).clamp(0, 1)])  # (4, C, H, W)
    with right:
        names = [f"input ({ex.domain_name(source)})", f"translated to {ex.domain_name(target)}",
                 f"and back to {ex.domain_name(source)}",
                 f"difference |input − round trip|, {DIFFERENCE_GAIN}× brighter"]
        read = readings(ex, shown[:3]) + [f"mean {difference.mean().item():.3f} per pixel"]
        for column, picture, name, words in zip(st.columns(4), shown, names, read):
            with column:
                st.image(png_bytes(grid(picture[None], nrow=1, scale=SCALE)), caption=name)
                st.caption(words)
        st.caption("The round trip is what the cycle-consistency loss asks to match the input: a model trained "
                   "without it may translate to the right domain and still lose what the image showed.")


# -- the Every domain tab -----------------------------------------------------------------------------------
@st.cache_data(max_entries=32, show_spinner=False)
def _every_domain(path: str, modified: float, source: int, count: int) -> torch.Tensor:
    """`count` test images of `source`, each followed by its translation into every domain: (count * k, C, H, W)."""
    ex = Explorer(path, load_model(path))
    x = ex.test_images(source)[:count].float()  # (count, C, H, W)
    rows = [x] + [x if d == source else ex.model.translate(x, d) for d in ex.model.domains]
    return torch.stack(rows, dim=1).flatten(0, 1)  # (count * (1 + k), C, H, W): one row per image


@st.fragment
def every_domain_tab(ex: Explorer) -> None:
    domains = list(ex.model.domains)
    source = st.selectbox("Images from", domains, format_func=ex.domain_name, key="tr_grid_source",
                          help="Eight test images of this domain, one per row.")
    pictures = _every_domain(ex.path, ex.modified, source, 8)
    st.image(png_bytes(grid(pictures, nrow=len(domains) + 1, scale=3)),
             caption="Each row: a test image, then the same image in " +
                     ", ".join(ex.domain_name(d) for d in domains) +
                     " (its own domain: the image itself).")
    if len(domains) > 2:
        st.caption("One generator drew every column: it is told the target domain as extra input planes.")


# -- the Measured tab ---------------------------------------------------------------------------------------
@st.cache_data(max_entries=32, show_spinner="Translating the test images…")
def _figures(path: str, modified: float) -> list[dict]:
    ex = Explorer(path, load_model(path))
    domains_clf, content_clf = domain_reader(ex), content_reader(ex)
    rows = []
    for source in ex.model.domains:
        data = drawn_in_domain(ex.dataset, "test", source) or dataset(ex.dataset, "test")  # every test item in source
        for target in ex.model.domains:
            if source != target:
                f = translation_figures(ex.model, data, source, target, domains_clf, content_clf, n=MEASURED_N)
                rows.append({"from": ex.domain_name(source), "to": ex.domain_name(target), **f})
    return rows


@st.fragment
def measured_tab(ex: Explorer) -> None:
    if domain_reader(ex) is None:
        st.info("No domain classifier ships for this data set, so the translations cannot be judged here.")
        return
    with take_turn("translations", "translating the test set"):  # thousands of translations: one at a time
        rows = _figures(ex.path, ex.modified)
    content = ("the digits classifier reads the source's digit" if content_reader(ex) is not None else
               "centre within 2 px and size within 15% of the source's known factors, from the image moments")
    st.dataframe({
        "from → to": [f"{r['from']} → {r['to']}" for r in rows],
        "in the target domain": [f"{r['domain_accuracy']:.0%}" for r in rows],
        "content kept": [f"{r['content_kept']:.0%}" for r in rows],
        "the same test on the input": [f"{r['content_kept_source']:.0%}" for r in rows],
        "round trip error": [f"{r['round_trip']:.3f}" for r in rows],
    }, hide_index=True)
    st.caption(f"The first {MEASURED_N:,} test items, each drawn in the source domain. In the target domain: the "
               f"shipped domain classifier reads the target. Content kept: {content}; the next column is that test on "
               "the untranslated inputs, its ceiling. Round trip: mean absolute difference of x and its translation "
               "translated back, pixels in [0, 1].")


TABS = {"Translate": translate_tab, "Every domain": every_domain_tab, "Measured": measured_tab}
