"""The latent explorer's tabs (the VAE explorer page, for every kind with a latent code): widgets, layout and cached
computations (the maths lives in genlab/explore/latent_space.py).

Each tab is an st.fragment, so moving one of its controls reruns only that tab. The encoded test set and the
decoded grids are cached per checkpoint file version (path + modification time), so revisiting a setting is
instant.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st
import torch

from genlab.checkpoints import CheckpointInfo, list_checkpoints
from genlab.data import CATEGORICAL_FACTORS, DATASETS
from genlab.explore import latent_space as explore
from genlab.images import ImageInputError, gif_bytes, grid, png_bytes, read_user_image
from genlab.evaluation.compare import CompareSettings, cached_row, checkpoint_row_key
from genlab.evaluation.disentanglement import FactorMatrix, factors_of_model
from genlab.models import LATENT, get_kind, kind_names_with, kind_of
from genlab.models.loading import LoadedCheckpoint
from genlab.ui import common
from genlab.ui.busy import take_turn
from genlab.ui.roles import my_private_folder
from genlab.ui.components import drawing_canvas, latent_pad

PAD_GRID = 32  # the latent pad precomputes PAD_GRID x PAD_GRID decodes
SCATTER_POINTS = 2000  # test images shown in the scatter plot (a fixed random subset of larger sets)
PAD_POINTS = 1500  # encoded test images drawn on the latent pad
DRAWING_BOX = {"digits": 20, "binary-digits": 20, "mnist": 20, "fashion-mnist": 28}  # how MNIST-like sets were centred and scaled


@dataclass
class Explorer:
    """The chosen checkpoint and what every tab needs to know about it."""

    path: str
    modified: float  # part of every cache key: retraining a file invalidates its cached decodes
    dataset: str
    class_names: list[str]
    latent_dim: int

    @property
    def checkpoint(self) -> LoadedCheckpoint:
        return common.load_model(self.path)

    @property
    def model(self) -> torch.nn.Module:
        return self.checkpoint.model

    def encoded(self) -> explore.EncodedSet:
        return encoded_test_set(self.path, self.modified, self.dataset)

    def test_images(self) -> torch.Tensor:
        return common.dataset(self.dataset, "test").images


def open_explorer(info: CheckpointInfo) -> Explorer:
    """Load the checkpoint and its test set (raises CheckpointError / DatasetMissing with one sentence)."""
    checkpoint = common.load_model(info.path)
    data = common.dataset(info.dataset, "test")
    return Explorer(path=str(info.path), modified=Path(info.path).stat().st_mtime, dataset=info.dataset,
                    class_names=list(data.class_names), latent_dim=checkpoint.model.latent_dim)


# -- cached computations (keyed by checkpoint path + mtime) -------------------------------------------------

@st.cache_resource(max_entries=8, show_spinner="Encoding the test set…")
def encoded_test_set(path: str, modified: float, dataset: str) -> explore.EncodedSet:
    """Shared by every session (never changed): the test set's mu and sigma under this checkpoint."""
    data = common.dataset(dataset, "test")
    return explore.encode_dataset(common.load_model(path).model, data.images, data.labels)


@st.cache_data(max_entries=32, show_spinner="Decoding the grid…")
def manifold_png(path: str, modified: float, n: int, span: float, dims: tuple[int, int],
                 base: tuple[float, ...]) -> bytes:
    images = explore.decode_grid(common.load_model(path).model, n, span, dims, torch.tensor(base))
    return png_bytes(grid(images, nrow=n, scale=-(-640 // (28 * n)), padding=0))


@st.cache_data(max_entries=16, show_spinner="Precomputing the pad's images…")
def pad_sprite_sheet(path: str, modified: float, span: float, dims: tuple[int, int],
                     base: tuple[float, ...]) -> bytes:
    images = explore.decode_grid(common.load_model(path).model, PAD_GRID, span, dims, torch.tensor(base))
    return explore.sprite_sheet_png(images, ncol=PAD_GRID)


@st.cache_data(max_entries=16, show_spinner=False)
def prior_cloud(path: str, modified: float, n: int) -> torch.Tensor:
    """n codes from the model's own prior (n, latent), the same every time."""
    return common.load_model(path).model.prior_sample(n, torch.Generator().manual_seed(0))[0].float()


def picture(images: torch.Tensor, scale: int = 3, nrow: int | None = None) -> bytes:
    """(N, C, H, W) -> PNG bytes of one row (or `nrow` per row), enlarged with sharp pixels."""
    return png_bytes(grid(images, nrow=nrow or len(images), scale=scale, padding=1))


def show_images(images: torch.Tensor, caption: str, scale: int = 3, where=st, max_width: int = 900) -> None:
    """A row of images with sharp pixels, `scale` times their size (less if the row would pass max_width)."""
    tile = images.shape[-1] + 1  # one pixel of padding per image
    scale = max(1, min(scale, max_width // (len(images) * tile)))
    where.image(picture(images, scale), caption=caption, width=len(images) * tile * scale + 1)


# -- shared controls ---------------------------------------------------------------------------------------

def dimension_label(ex: Explorer, d: int) -> str:
    encoded = ex.encoded()
    if not encoded.stochastic:  # an autoencoder: no KL, rank by how widely its codes spread
        return f"z[{d}] · spread {encoded.spread_per_dimension[d].item():.2f}"
    kl = encoded.kl_per_dimension[d].item()
    return f"z[{d}] · KL {kl:.2f}" + (" · unused" if kl < 0.05 else "")


def code_extent(ex: Explorer) -> float:
    """How far from the origin the sliders and the pad may need to reach: 4 for a model with a prior (its codes
    stay near it), else as far as 99% of the test set's codes go, rounded up to a half."""
    if prior_words(ex) is not None:
        return 4.0
    reach = ex.encoded().mu.abs().quantile(0.99).item()
    return max(4.0, math.ceil(reach * 2) / 2)


def prior_words(ex: Explorer) -> str | None:
    """The model's prior in words ("N(0, I)", "a ring"), None for a plain autoencoder (it has none)."""
    return getattr(ex.model, "prior_words", None)


def no_bound_reason(ex: Explorer) -> str:
    """Why this model has no likelihood bound, in one clause."""
    return kind_of(ex.model).no_likelihood.removeprefix("none: ")


def plane_controls(ex: Explorer, prefix: str, with_base: bool = True) -> tuple[tuple[int, int], torch.Tensor]:
    """Which two latent dimensions span the plane and where the others sit. Nothing to choose for 2-D."""
    base = torch.zeros(ex.latent_dim)
    if ex.latent_dim == 2:
        return (0, 1), base
    order = ex.encoded().dimensions_by_use()
    label = lambda d: dimension_label(ex, d)  # noqa: E731
    if ex.encoded().stochastic:
        st.caption("Two of the latent dimensions span the plane; they are listed most-used first (a dimension's "
                   "KL, in nats, bounds how much information about the image it carries; one with KL near 0 keeps "
                   "q = N(0, 1) and is ignored by the decoder: posterior collapse).")
    else:
        st.caption("Two of the latent dimensions span the plane; they are listed by how widely the test images' "
                   "codes spread along them (an autoencoder has no KL to rank them by).")
    left, right = st.columns(2)
    dim_x = left.selectbox("Horizontal dimension", order, index=0, format_func=label, key=f"{prefix}_dim_x",
                           help="The latent dimension that varies from left to right.")
    dim_y = right.selectbox("Vertical dimension", order, index=1, format_func=label, key=f"{prefix}_dim_y",
                            help="The latent dimension that varies from bottom to top.")
    if dim_x == dim_y:
        st.warning("Pick two different dimensions; the vertical one was moved to the next most used.")
        dim_y = next(d for d in order if d != dim_x)
    if with_base:
        base = base_point(ex, prefix)
    return (dim_x, dim_y), base


def base_point(ex: Explorer, prefix: str) -> torch.Tensor:
    """The code the other dimensions are taken from: the prior's mean (zeros) or a test image's mu."""
    choice = st.radio("Other dimensions from", ["the origin (the prior's mean)", "a test image's code mu"],
                      key=f"{prefix}_base", horizontal=True,
                      help="Dimensions you do not move are fixed at this point.")
    if choice.startswith("the origin"):
        return torch.zeros(ex.latent_dim)
    index = st.number_input("Test image number", 0, len(ex.encoded().mu) - 1, 0, key=f"{prefix}_base_index",
                            help="Which test image's mean code mu to start from.")
    show_images(ex.test_images()[index:index + 1], "its image", scale=2)
    return ex.encoded().mu[index].clone()


def show_reconstruction(ex: Explorer, image: torch.Tensor, title: str) -> None:
    """An image, its reconstruction, decodes of z = mu + sigma * eps, and the two ELBO terms."""
    r = explore.reconstruct(ex.model, image)
    is_binary = bool(((image == 0) | (image == 1)).all())
    left, right = st.columns(2)
    show_images(image.unsqueeze(0), title, scale=5, where=left)
    if r.kl_nats is None:  # an autoencoder: one code, no KL
        show_images(r.reconstruction.unsqueeze(0), "reconstruction: decode(z)", scale=5, where=right)
        st.markdown(f"Reconstruction cost −log p(x|z) = **{r.recon_nats:.1f}** nats. The code is one point, not a "
                    f"distribution, and there is no KL term, so this number bounds no likelihood: "
                    f"{no_bound_reason(ex)}.")
        st.write("z = (" + ", ".join(f"{v:.2f}" for v in r.mu) + ")")
        return
    show_images(r.reconstruction.unsqueeze(0), "reconstruction: decode(mu)", scale=5, where=right)
    show_images(r.samples, "decode(mu + sigma · eps) for three eps ~ N(0, I)", scale=4)
    st.markdown(f"Reconstruction cost −log p(x|z) = **{r.recon_nats:.1f}** nats (for one z), KL(q(z|x) ‖ N(0, I)) "
                f"= **{r.kl_nats:.1f}** nats; their sum, **{r.neg_elbo:.1f}** nats, is a one-sample estimate of "
                "−ELBO = E_q[−log p(x|z)] + KL. A good code must explain the image *and* stay near the prior. "
                + ("(On a black-and-white image, −ELBO is an upper bound on −log p(x).)" if is_binary else
                   "(The decoder scores grey levels with a Bernoulli, so on this image it is a training score, "
                   "not a bound on an image likelihood.)"))
    if ex.latent_dim <= 2:
        st.write("mu = (" + ", ".join(f"{v:.2f}" for v in r.mu) + "), sigma = ("
                 + ", ".join(f"{v:.2f}" for v in r.sigma) + ")")
    else:
        st.dataframe({"dimension": [f"z[{d}]" for d in range(ex.latent_dim)], "mu": r.mu.tolist(),
                      "sigma": r.sigma.tolist()}, hide_index=True, height=min(400, 36 * (ex.latent_dim + 1)))


# -- the tabs ----------------------------------------------------------------------------------------------

def manifold_note(ex: Explorer) -> str:
    words = prior_words(ex)
    if words == "N(0, I)":
        return ("Since the prior is N(0, I), codes within about ±2 cover most of where the model puts its images; "
                "far outside, the decoder has seen few codes.")
    if words is None:
        return ("An autoencoder has no prior: nothing decides where its codes go, so parts of the grid fall where "
                "no image was ever encoded (holes), and some images' codes lie outside it.")
    return (f"Its codes were pushed towards its prior, {words}, which lies within about ±3; where the prior has "
            "no mass, the decoder has seen few codes.")


@st.fragment
def manifold_tab(ex: Explorer) -> None:
    st.markdown("**In the spirit of Kingma & Welling's figure** (theirs spaced the grid through the Gaussian's "
                "inverse CDF): decode an evenly spaced grid of codes. " + manifold_note(ex))
    controls, figure = st.columns([1, 2])
    with controls:
        n = st.slider("Grid size", 5, 30, 15, key="manifold_size", help="Images per row and per column.")
        span = st.slider("Range ±", 0.5, max(5.0, code_extent(ex)), 2.5, 0.5, key="manifold_span",
                         help="Each axis runs from −range to +range (for a VAE: standard deviations of its prior).")
        dims, base = plane_controls(ex, "manifold")
    png = manifold_png(ex.path, ex.modified, n, span, dims, tuple(base.tolist()))
    figure.image(png, caption=f"z[{dims[0]}] left to right, z[{dims[1]}] bottom to top, from −{span} to {span}",
                 width="stretch")


@st.fragment
def pad_tab(ex: Explorer) -> None:
    st.markdown("**Drag the red marker** across the latent plane: the decoded image follows at once, because "
                f"{PAD_GRID}×{PAD_GRID} codes were decoded beforehand and the pad shows the nearest one. Dots are "
                "test images' codes (mu), coloured by class; dashed circles have radius 1 and 2 (one and two standard "
                "deviations of a VAE's prior N(0, I)). When you let go, that exact point is decoded below.")
    controls = st.columns([1, 1, 3] if ex.latent_dim > 2 else [1, 1, 1], gap="medium")
    spans = sorted({1.5, 2.0, 3.0, 4.0, code_extent(ex)})
    span = controls[0].select_slider("Range ±", spans, 3.0, key="pad_span",
                                     help="The plane runs from −range to +range on both axes.")
    show_points = controls[1].checkbox("Show test codes", True, key="pad_points",
                                       help="Each dot is the mean code mu of one test image.")
    with controls[2]:
        dims, base = plane_controls(ex, "pad")
    encoded = ex.encoded()
    points = []
    if show_points:
        chosen = explore.subsample(len(encoded.mu), PAD_POINTS)
        points = [(encoded.mu[i, dims[0]].item(), encoded.mu[i, dims[1]].item(), encoded.labels[i].item())
                  for i in chosen]
    sheet = pad_sprite_sheet(ex.path, ex.modified, span, dims, tuple(base.tolist()))
    with st.container():
        released = latent_pad(sheet, PAD_GRID, span, key="latent_pad", points=points,
                              tile_px=ex.model.config.image_size,
                              colours=explore.class_colours(len(ex.class_names)),
                              axis_labels=(f"z[{dims[0]}]", f"z[{dims[1]}]"))
    if show_points:
        st.markdown(" · ".join(f"<span style='color:{c}'>■</span> {name}" for name, c in
                               zip(ex.class_names, explore.class_colours(len(ex.class_names)))), unsafe_allow_html=True)
    if released is None:
        st.caption("Release the pointer somewhere: the server decodes that exact point.")
        return
    z = base.clone()
    z[dims[0]], z[dims[1]] = released
    image = explore.decode(ex.model, z.unsqueeze(0))
    show_images(image, scale=5,
                caption=f"Decoded exactly at z[{dims[0]}] = {released[0]:.2f}, z[{dims[1]}] = {released[1]:.2f} "
                     "(while you drag, the pad shows the nearest precomputed image).")


def _select_scatter_point() -> None:
    """on_select callback: a clicked point becomes the chosen test image (number input below the chart)."""
    points = st.session_state["scatter_chart"]["selection"]["points"]
    if points:
        custom = points[0].get("customdata")
        if custom is not None:  # a grey prior sample has no test image behind it
            st.session_state["scatter_index"] = int(custom[0] if isinstance(custom, list) else custom)


@st.fragment
def scatter_tab(ex: Explorer) -> None:
    st.markdown("Each dot is the **code of one test image** (for a VAE, the mean mu of q(z|x)), coloured by its "
                "class. The encoder was never told the classes, yet similar images land close together. **Click a "
                "dot** to see that image.")
    words = prior_words(ex)
    st.caption(f"Grey: as many codes drawn from the prior, {words}: where the codes should lie, if they match it."
               if words else "An autoencoder has no prior: nothing decides where its codes lie, or what the empty "
                             "places between them decode to.")
    dims, _ = plane_controls(ex, "scatter", with_base=False)
    encoded = ex.encoded()
    shown = explore.subsample(len(encoded.mu), SCATTER_POINTS)
    figure = go.Figure()
    if words:
        prior = prior_cloud(ex.path, ex.modified, len(shown))  # (n, latent)
        figure.add_trace(go.Scatter(x=prior[:, dims[0]].tolist(), y=prior[:, dims[1]].tolist(), mode="markers",
                                    name="prior samples", marker={"color": "#c8c8c8", "size": 4},
                                    hoverinfo="skip"))
    for c, (name, colour) in enumerate(zip(ex.class_names, explore.class_colours(len(ex.class_names)))):
        idx = [int(i) for i in shown if encoded.labels[i] == c]
        figure.add_trace(go.Scatter(x=encoded.mu[idx, dims[0]].tolist(), y=encoded.mu[idx, dims[1]].tolist(),
                                    mode="markers", name=name, customdata=idx, marker={"color": colour, "size": 6},
                                    hovertemplate="test image %{customdata}<extra>" + name + "</extra>"))
    figure.update_layout(height=520, margin={"l": 10, "r": 10, "t": 10, "b": 10}, clickmode="event+select",
                         xaxis_title=f"mu[{dims[0]}]", yaxis_title=f"mu[{dims[1]}]", legend_title_text="class")
    figure.update_yaxes(scaleanchor="x", scaleratio=1)
    chart, details = st.columns([3, 2], gap="medium")
    chart.plotly_chart(figure, key="scatter_chart", on_select=_select_scatter_point, selection_mode="points")
    with details:
        index = st.number_input("Test image number", 0, len(encoded.mu) - 1, 0, key="scatter_index",
                                help="Set by clicking a dot; you can also type a number.")
        label = ex.class_names[int(encoded.labels[index])]
        show_reconstruction(ex, ex.test_images()[index], f"test image {index} ({label})")


def _reset_sliders(values: list[float], reach: float = 4.0) -> None:
    for d, v in enumerate(values):
        st.session_state[f"slider_z{d}"] = round(min(reach, max(-reach, float(v))), 1)


@st.fragment
def sliders_tab(ex: Explorer) -> None:
    st.markdown("**One slider per latent dimension**, most used first. Beside each, a traversal strip: that "
                "dimension from −range to +range with the others where the sliders are. In a beta-VAE (beta > 1) "
                "each used dimension tends to control one factor (position, size, rotation, shape).")
    reach = code_extent(ex)  # how far the sliders go: 4, or as far as an autoencoder's codes
    top = st.columns([1, 1, 2])
    with top[0]:
        start = base_point(ex, "sliders")
    span = top[1].slider("Traversal range ±", 1.0, 5.0, 3.0, 0.5, key="traversal_span",
                         help="How far each strip moves its dimension.")
    top[1].button("Sliders to the start point", key="sliders_reset", on_click=_reset_sliders,
                  args=(start.tolist(), reach), help="Set every slider to the start point's value.")
    if st.session_state.get("sliders_start") != (ex.path, start.tolist()):  # new model or start point
        st.session_state["sliders_start"] = (ex.path, start.tolist())
        _reset_sliders(start.tolist(), reach)
    order = ex.encoded().dimensions_by_use()
    rows = []
    for d in order:
        left, right = st.columns([1, 2], vertical_alignment="center")
        value = left.slider(dimension_label(ex, d), -reach, reach, step=0.1, key=f"slider_z{d}",
                            help="The value of this latent dimension; the image on the right of the top row "
                                 "updates after you let go.")
        rows.append((d, value, right))
    z = torch.zeros(ex.latent_dim)
    for d, value, _ in rows:
        z[d] = value
    strips = explore.traversal_strips(ex.model, z, order, span, steps=9)  # (D, 9, C, H, W)
    for (d, _, column), strip in zip(rows, strips):
        show_images(strip, f"z[{d}] from −{span} to {span}", scale=2, where=column)
    image = explore.decode(ex.model, z.unsqueeze(0))
    with top[2].container(key="sliders_decoded"):
        show_images(image, "decode(z) at the sliders' values", scale=6)


@st.fragment
def interpolation_tab(ex: Explorer) -> None:
    st.markdown("Encode two test images, walk between their codes and decode each step. **Linear** goes in a "
                "straight line; **spherical** (slerp) follows a great circle, keeping ‖z‖ near the ends' length "
                "when both have about the same length (as prior samples in many dimensions do) instead of cutting "
                "through the low-norm middle.")
    encoded, images = ex.encoded(), ex.test_images()
    first_of_class = [int((encoded.labels == c).nonzero()[0, 0]) if (encoded.labels == c).any() else 0
                      for c in range(2)]
    cols = st.columns(4)
    a = cols[0].number_input("From test image", 0, len(images) - 1, first_of_class[0], key="interp_a",
                             help="The test image the walk starts from.")
    b = cols[1].number_input("To test image", 0, len(images) - 1, first_of_class[1], key="interp_b",
                             help="The test image the walk ends at.")
    method = cols[2].radio("Path", ["slerp", "lerp"], key="interp_method",
                           format_func={"slerp": "spherical (slerp)", "lerp": "linear (lerp)"}.get,
                           help="Straight line, or great circle between the two codes.")
    steps = cols[3].slider("Steps", 3, 20, 10, key="interp_steps", help="Images between the two ends, inclusive.")
    path, frames = explore.interpolation(ex.model, images[a], images[b], steps, method)
    strip = torch.cat([images[a:a + 1], frames, images[b:b + 1]])  # originals at both ends
    show_images(strip, "test image A | decoded path from mu_A to mu_B | test image B", scale=3)
    norms = path.norm(dim=1)
    other = explore.interpolation(ex.model, images[a], images[b], steps, "lerp" if method == "slerp" else "slerp")[0]
    st.caption(f"‖z‖ at the start, middle and end: {norms[0]:.2f}, {norms[steps // 2]:.2f}, {norms[-1]:.2f} "
               f"(the other path's middle: {other.norm(dim=1)[steps // 2]:.2f}).")
    st.download_button("Download the animation (GIF)", gif_bytes(frames, scale=6), file_name=f"vae-{method}.gif",
                       mime="image/gif", key="interp_gif", help="The decoded path, played forth and back.")


@st.fragment
def own_input_tab(ex: Explorer) -> None:
    st.markdown("Draw something or upload a picture: the encoder gives its q(z|x) = N(mu, sigma²) (an autoencoder: "
                "one code z) and the decoder reconstructs it. Pictures unlike the training data reconstruct badly: "
                "the model only knows its own data.")
    source = st.radio("Input", ["Draw", "Upload"], key="own_source", horizontal=True,
                      help="Draw on the canvas, or upload a PNG/JPEG (it is made grayscale and 28×28).")
    left, right = st.columns([1, 2], gap="large")
    image = None
    with left:
        if source == "Draw":
            drawing = drawing_canvas(key="own_canvas")
            fit = st.checkbox("Centre it like the training images", ex.dataset in DRAWING_BOX,
                              key="own_fit", help="MNIST-like sets centre each item by its centre of mass.")
            if drawing is not None:
                image = explore.fit_drawing(drawing, DRAWING_BOX.get(ex.dataset, 22)) if fit else drawing
        else:
            upload = st.file_uploader("Picture", key="own_upload",
                                      help="Any image Pillow can read; a light background is inverted to match "
                                           "the training images (light on dark).")
            if upload is not None:
                try:
                    image = read_user_image(upload.getvalue())
                except ImageInputError as e:
                    st.error(str(e))
    with right:
        black_and_white = ex.dataset in DATASETS and DATASETS[ex.dataset].black_and_white
        if image is not None and black_and_white:
            image = (image > 0.5).float()  # (1, H, W) black and white, like the images this model learned
        if image is not None:
            show_reconstruction(ex, image, "your input, as the model sees it"
                                + (" (black and white, like its training images)" if black_and_white else ""))
        elif source == "Draw":
            st.info("Draw on the black square; the drawing is encoded when you lift the pen.")


@st.cache_data(max_entries=64, show_spinner="Estimating the bound for k = 1 … 1000…")
def _bound_ladder(path: str, modified: float, dataset: str, index: int) -> dict[int, tuple[float, float]]:
    return explore.bound_ladder(common.load_model(path).model, common.dataset(dataset, "test").images[index].float())


@st.fragment
def elbo_gap_tab(ex: Explorer) -> None:
    """The ELBO and the importance-weighted bound for k = 1 … 1000 on one test image: the gap to log p(x)."""
    if not hasattr(ex.model, "importance_weighted_bound"):
        st.info(f"This model has no likelihood bound to show: {no_bound_reason(ex)}.")
        return
    spec = DATASETS.get(ex.dataset)
    if spec is None or not spec.black_and_white:
        st.info("This model was trained on grey levels, where its Bernoulli score bounds no image likelihood. "
                "Pick a VAE trained on black-and-white images (the binarized digits) to see the gap.")
        return
    controls, figure_box = st.columns([1, 2], gap="large")
    with controls:
        index = st.number_input("Test image number", 0, len(ex.test_images()) - 1, 0, key="gap_index",
                                help="An image of the test split: the model never trained on it.")
        st.image(png_bytes(grid(ex.test_images()[index][None].float(), nrow=1, scale=5)), caption="the image")
    with take_turn("likelihoods", "likelihood bounds"):  # about 15,000 decodes: one class member at a time
        ladder = _bound_ladder(ex.path, ex.modified, ex.dataset, int(index))
    ks = list(ladder)
    means, stds = [ladder[k][0] for k in ks], [ladder[k][1] for k in ks]
    figure = go.Figure(go.Scatter(x=ks, y=means, mode="lines+markers", name="bound on log p(x)",
                                  error_y={"type": "data", "array": stds, "visible": True}))
    figure.add_annotation(x=0, y=(means[0] + means[-1]) / 2, xref="x", showarrow=False, xanchor="left",
                          text=f"rise to k = {ks[-1]} ≤ the gap, KL(q(z|x) ‖ p(z|x))")
    figure.add_shape(type="line", x0=1, x1=1, y0=means[0], y1=means[-1], line={"dash": "dot"})
    figure.update_layout(height=360, margin=dict(l=10, r=10, t=10, b=10), xaxis_type="log",
                         xaxis_title="importance samples k (k = 1 is the ELBO)", yaxis_title="nats")
    figure_box.plotly_chart(figure, key="gap_plot")
    st.caption(f"Each point is the mean of 8 estimates (bars: their spread). ELBO ≈ {means[0]:.1f} nats; with "
               f"k = {ks[-1]}, {means[-1]:.1f} nats, still ≤ log p(x) in expectation. So the gap log p(x) − ELBO = "
               f"KL(q(z|x) ‖ p(z|x)) is about {max(0.0, means[-1] - means[0]):.1f} nats or more for this image: how "
               "far the encoder's Gaussian is from the true posterior.")
    with st.expander("The maths: where the bound comes from", expanded=False):
        st.markdown(
            "1. log p(x) = log ∫ p(x|z) p(z) dz = log E_q(z|x)[ p(x|z) p(z) / q(z|x) ].\n"
            "2. Jensen (log is concave): log E[w] ≥ E[log w], so log p(x) ≥ E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)), "
            "the ELBO.\n"
            "3. Exactly: log p(x) = ELBO + KL(q(z|x) ‖ p(z|x)), and a KL is ≥ 0.\n"
            "4. Averaging k weights inside the log, E[log (1/k) Σ wᵢ] with zᵢ ~ q, is still a bound, and it never "
            "loosens as k grows (Burda et al. 2016).\n"
            "5. As k → ∞ the average tends to E_q[w] = p(x), so the bound rises to log p(x).")


@st.cache_resource(max_entries=8, show_spinner="Measuring what each dimension knows about each factor…")
def _factors(path: str, modified: float, dataset: str) -> FactorMatrix:
    return factors_of_model(common.load_model(path).model, common.dataset(dataset, "test"))


@st.fragment
def factors_tab(ex: Explorer) -> None:
    """The factor x dimension matrix and MIG on a data set whose factors are known (shapes)."""
    data = common.dataset(ex.dataset, "test")
    if data.factors is None:
        st.info("This data set's factors of variation are not known, so they cannot be measured. Pick a model "
                "trained on shapes, whose images are drawn from five known factors: shape, scale, rotation, x, y.")
        return
    st.markdown("**Does each latent dimension capture one factor?** The shapes were drawn from five known factors. "
                "Each cell is the share of a factor's uncertainty that one dimension removes (its mutual "
                "information with the factor, divided by the factor's entropy): a disentangled model has one "
                "bright cell per row, each in its own column.")
    fm = _factors(ex.path, ex.modified, ex.dataset)
    order = ex.encoded().dimensions_by_use()
    encoded = ex.encoded()
    columns = [dimension_label(ex, d) for d in order]
    figure = go.Figure(go.Heatmap(z=fm.normalised[:, order].tolist(), x=columns, y=fm.factor_names, zmin=0, zmax=1,
                                  colorscale="Blues", text=[[f"{v:.2f}" for v in row] for row in
                                                            fm.normalised[:, order].tolist()],
                                  texttemplate="%{text}", colorbar={"title": {"text": "I / H"}}))
    figure.update_layout(height=330, margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis_autorange="reversed")
    st.plotly_chart(figure, key="factors_heatmap", config={"staticPlot": True})
    st.metric("MIG (mutual information gap)", f"{fm.mig:.2f}",
              help="For each factor, the best dimension's share minus the second best's, averaged over the factors "
                   "(Chen et al. 2018): 1 is one dimension per factor, 0 is no dimension standing out.")
    rows = []
    for k, name in enumerate(fm.factor_names):
        d = fm.best_dimension(k)
        fit = fm.one_dimension_fit[k, d].item()
        rows.append({"factor": name, "best single dimension": f"z[{d}]",
                     "how well it predicts the factor alone": (f"{fit:.0%} right" if name in CATEGORICAL_FACTORS
                                                              else f"R² = {fit:.2f}"),
                     "gap to the second best (share)": round(fm.gaps[k].item(), 2)})
    st.dataframe(rows, hide_index=True)
    collapsed = [d for d in order if encoded.stochastic and encoded.kl_per_dimension[d] < 0.05]
    st.caption("Rotation is judged on squares and triangles only: a circle has none (the angles run from 0° to "
               "45°, half a square's symmetry, so no two angles draw the same square). The single-dimension fit "
               "cuts the dimension into 20 bins and predicts the factor's mean (or most common shape) in each."
               + (f" Dimensions {', '.join(f'z[{d}]' for d in collapsed)} have KL near 0: **posterior collapse**, "
                  "the encoder ignores them (q = N(0, 1)) and so does the decoder." if collapsed else ""))


PRIOR_SAMPLES = 24  # decodes of prior codes per model in the side-by-side tab


def _same_shape_models(ex: Explorer) -> list[CheckpointInfo]:
    """Other latent models of this data set with a code of the same size (the side-by-side tab's choices)."""
    found = list_checkpoints(kinds=kind_names_with(LATENT), dataset=ex.dataset, private=my_private_folder())
    return [c for c in found if c.card is not None and str(c.path) != ex.path
            and c.card.get("config", {}).get("latent_dim") == ex.latent_dim]


@st.cache_data(max_entries=32, show_spinner="Decoding codes drawn from the prior…")
def prior_decodes(path: str, modified: float, n: int) -> torch.Tensor:
    """The model's own samples, seed 0: decodes of n prior codes (n, C, H, W). A VAE and a plain autoencoder
    of the same code size decode the same codes z ~ N(0, I)."""
    return common.load_model(path).model.sample(n, 0).float().cpu()


def _code_scatter(ex: Explorer, title: str) -> go.Figure:
    """A small scatter of the test codes (the two most used dimensions) over grey N(0, I) samples."""
    encoded = ex.encoded()
    dim_x, dim_y = encoded.dimensions_by_use()[:2]
    shown = explore.subsample(len(encoded.mu), 1000)
    gauss = torch.randn(len(shown), 2, generator=torch.Generator().manual_seed(0))  # (n, 2)
    figure = go.Figure(go.Scatter(x=gauss[:, 0].tolist(), y=gauss[:, 1].tolist(), mode="markers", name="N(0, I)",
                                  marker={"color": "#c8c8c8", "size": 3}, hoverinfo="skip"))
    colours = explore.class_colours(len(ex.class_names))
    figure.add_trace(go.Scatter(x=encoded.mu[shown, dim_x].tolist(), y=encoded.mu[shown, dim_y].tolist(),
                                mode="markers", name="test codes", hoverinfo="skip", marker={
                                    "size": 4, "color": [colours[int(encoded.labels[i])] for i in shown]}))
    figure.update_layout(height=330, margin={"l": 10, "r": 10, "t": 30, "b": 10}, title=title, showlegend=False,
                         xaxis_title=f"z[{dim_x}]", yaxis_title=f"z[{dim_y}]")
    figure.update_yaxes(scaleanchor="x", scaleratio=1)
    return figure


def _sampled_fid(path: str, dataset: str) -> str:
    """The Compare page's FID of this model's samples, if it has been measured (shipped or cached), as words."""
    row = cached_row(checkpoint_row_key(Path(path), dataset, CompareSettings()))
    if not row or row.get("FID") is None:
        return "not measured yet (the Compare page measures it)"
    return f"{row['FID']:.1f} from {row['samples']:,} samples (the Compare page's figure; lower is better)"


@st.fragment
def beside_tab(ex: Explorer) -> None:
    """This model beside another of the same code size: where the test codes lie, and what codes drawn from
    N(0, I) decode to."""
    st.markdown("**Beside another model** with a code of the same size, trained on the same images: where its "
                "test codes lie (grey: N(0, I), the VAE's prior), and what codes drawn from the prior decode to. A "
                "VAE and a plain autoencoder decode *the same* codes z ~ N(0, I). The VAE's KL term keeps its codes "
                "near that cloud, so most of them decode to plausible images; the autoencoder's codes go wherever "
                "reconstruction puts them, so many of these codes fall into holes between its codes and decode to "
                "smudges or blends. An AAE decodes samples of its own prior.")
    others = _same_shape_models(ex)
    if not others:
        st.info(f"No other model of this data set has a {ex.latent_dim}-D code yet: train one on the Train page "
                "(a VAE or an autoencoder with the same latent size).")
        return
    mine = kind_of(ex.model).reports_likelihood  # default: a VAE beside an autoencoder, and the other way round
    default = next((i for i, c in enumerate(others) if get_kind(c.kind).reports_likelihood != mine), 0)
    if st.session_state.get("beside_for") != ex.path or st.session_state.get("beside_model", 0) >= len(others):
        # another model chosen above (or a listed file gone): start from the default
        st.session_state["beside_for"] = ex.path
        st.session_state["beside_model"] = default
    choice = st.selectbox("Beside", range(len(others)), key="beside_model",
                          format_func=lambda i: others[i].label,
                          help="Another latent model of the same data set, with a code of the same size.")
    other = open_explorer(others[choice])
    columns = st.columns(2, gap="large")
    for column, model in zip(columns, (ex, other)):
        with column:
            label = model.checkpoint.card.get("title") or Path(model.path).stem
            column.plotly_chart(_code_scatter(model, label), key=f"beside_scatter_{model.path}",
                                config={"staticPlot": True})
            images = prior_decodes(model.path, model.modified, PRIOR_SAMPLES)
            words = prior_words(model)
            column.image(picture(images, scale=3, nrow=8), width="stretch", caption=(
                f"decodes of {PRIOR_SAMPLES} codes drawn from " + (words or "N(0, I), a prior it never had")))
            st.caption(f"FID of its samples: {_sampled_fid(model.path, model.dataset)}.")


TABS = {
    "Manifold": manifold_tab,
    "Latent pad": pad_tab,
    "Encoded test set": scatter_tab,
    "Sliders & traversals": sliders_tab,
    "Interpolation": interpolation_tab,
    "Your own input": own_input_tab,
    "Beside another model": beside_tab,
    "Factors": factors_tab,
    "ELBO gap": elbo_gap_tab,
}
