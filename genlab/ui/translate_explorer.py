"""The Translate page's parts (for every kind with the translator capability): one image translated and brought
back, one image into every domain, and the measured figures. The models are in genlab/models/cyclegan.py and
stargan.py; the measurements in genlab/evaluation/translation.py; this module holds widgets and cached results.
"""
from __future__ import annotations


import streamlit as st
import torch

from genlab.data import DATASETS, DatasetMissing, drawn_in_domain
from genlab.evaluation.translation import (classify, content_test, image_moments, judge_files,
                                           translation_figures)
from genlab.explore.latent_space import fit_drawing
from genlab.images import ImageInputError, grid, png_bytes, read_user_image
from genlab.ui.busy import take_turn
from genlab.classroom import inert
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

    @property
    def domains(self) -> list[int]:
        """The model's domains that the test split has images of (a model may name domains its data lacks)."""
        present = set(dataset(self.dataset, "test").labels.unique().tolist())
        return [d for d in self.model.domains if d in present]


def cannot_show(ex: Explorer) -> str | None:
    """One sentence when the page cannot show this translator (its data set is unknown here, or has images of
    fewer than two of its domains); None when it can."""
    if ex.dataset not in DATASETS:
        return (f"This translator was trained on '{inert(ex.dataset)}', a data set this server does not have, so "
                "there are no images of its domains to translate.")
    try:
        domains = ex.domains
    except DatasetMissing as error:
        return str(error)
    if len(domains) < 2:
        return "The test images of this translator's data set cover fewer than two of its domains."
    return None


def _load(info):
    return load_model(info.path).model if info is not None else None


def domain_reader_file(ex: Explorer):
    """The file of the classifier whose classes are the model's domains, or None."""
    return judge_files(ex.dataset)[0]


def content_reader_file(ex: Explorer):
    """The file of the classifier that reads the content a translation must keep (digits in styles), or None."""
    return judge_files(ex.dataset)[1]


def domain_reader(ex: Explorer):
    return _load(domain_reader_file(ex))


def content_reader(ex: Explorer):
    return _load(content_reader_file(ex))


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
    domains = ex.domains
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
    """`count` test images of `source`, then the same images in every domain, one row each: ((1 + k) * count, C,
    H, W)."""
    ex = Explorer(path, load_model(path))
    x = ex.test_images(source)[:count].float()  # (count, C, H, W)
    rows = [x] + [x if d == source else ex.model.translate(x, d) for d in ex.domains]  # each (count, C, H, W)
    return torch.cat(rows)


@st.fragment
def every_domain_tab(ex: Explorer) -> None:
    domains = ex.domains
    source = st.columns([1, 2])[0].selectbox("Images from", domains, format_func=ex.domain_name,
                                             key="tr_grid_source", help="Eight test images of this domain.")
    pictures = _every_domain(ex.path, ex.modified, source, 8)
    names = ", ".join(ex.domain_name(d) for d in domains)
    st.image(png_bytes(grid(pictures, nrow=8, scale=3)),
             caption=f"Top row: eight test images of {ex.domain_name(source)}. Each row below: the same images in "
                     f"{names}, in that order (in their own domain: the images themselves).")
    if len(domains) > 2:
        st.caption("One generator drew every row: it is told the target domain as extra input planes.")


# -- the Measured tab ---------------------------------------------------------------------------------------
def _version(info) -> str:
    """A classifier file and its version, for a cache key (retrained: computed anew); "" for none."""
    return f"{info.path}@{info.path.stat().st_mtime}" if info is not None else ""


@st.cache_data(max_entries=32, show_spinner="Translating the test images…")
def _figures(path: str, modified: float, domains_version: str, content_version: str) -> list[dict]:
    ex = Explorer(path, load_model(path))
    domains_clf, content_clf = domain_reader(ex), content_reader(ex)
    rows = []
    for source in ex.domains:
        data = drawn_in_domain(ex.dataset, "test", source) or dataset(ex.dataset, "test")  # every test item in source
        for target in ex.domains:
            if source != target:
                f = translation_figures(ex.model, data, source, target, domains_clf, content_clf, n=MEASURED_N)
                rows.append({"from": ex.domain_name(source), "to": ex.domain_name(target), **f})
    return rows


@st.fragment
def measured_tab(ex: Explorer) -> None:
    domains_file, content_file = domain_reader_file(ex), content_reader_file(ex)
    if domains_file is None:
        st.info("No domain classifier ships for this data set, so the translations cannot be judged here.")
        return
    with take_turn("translations", "translating the test set"):  # thousands of translations: one at a time
        rows = _figures(ex.path, ex.modified, _version(domains_file), _version(content_file))
    share = lambda v: "n/a" if v is None else f"{v:.0%}"  # noqa: E731  (content not known: n/a)
    st.dataframe({
        "from → to": [f"{r['from']} → {r['to']}" for r in rows],
        "in the target domain": [f"{r['domain_accuracy']:.0%}" for r in rows],
        "content kept": [share(r["content_kept"]) for r in rows],
        "the same test on the input": [share(r["content_kept_source"]) for r in rows],
        "round trip error": [f"{r['round_trip']:.3f}" for r in rows],
    }, hide_index=True)
    content = content_test(dataset(ex.dataset, "test").factor_names, content_file is not None)
    st.caption(f"The first {MEASURED_N:,} test items, each drawn in the source domain. In the target domain: the "
               "shipped domain classifier reads the target. Content kept: "
               + (f"{content}; the next column is that test on the untranslated inputs, its ceiling. "
                  if content else "not known for this data set (n/a). ")
               + "Round trip: mean absolute difference of x and its translation translated back, pixels in [0, 1].")


TABS = {"Translate": translate_tab, "Every domain": every_domain_tab, "Measured": measured_tab}
