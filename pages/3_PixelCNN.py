"""PixelCNN: an autoregressive model's exact likelihood, image completion, and sampling pixel by pixel.

The maths lives in genlab/models/autoregressive/pixelcnn.py (the model) and genlab/models/autoregressive/sampling.py (samplers, completion, maps).
"""
import time

import plotly.express as px
import streamlit as st
import torch

from genlab.checkpoints import CheckpointError
from genlab.data import DatasetMissing
from genlab.explore.latent_space import fit_drawing
from genlab.models import AUTOREGRESSIVE
from genlab.images import ImageInputError, gif_bytes, grid, read_user_image, to_pil
from genlab.models.base import nats_to_bits_per_dim
from genlab.models.autoregressive.masks import mask_picture
from genlab.models.autoregressive.receptive_field import receptive_field_picture
from genlab.models.autoregressive.sampling import HIDE_REGIONS, complete, fast_sample, hide_mask, pixel_log_likelihoods
from genlab.ui.busy import take_turn
from genlab.ui.common import checkpoint_picker, dataset, device_badge, load_model, model_card, show_error
from genlab.ui.components import drawing_canvas

st.title("PixelCNN: one pixel at a time")

intro, picker = st.columns([3, 2], gap="large")
with intro:
    st.markdown(
        "- **Chain rule:** p(x) = p(x₁) · p(x₂ | x₁) · … · p(x₇₈₄ | x₁ … x₇₈₃), pixels in raster "
        "order (row by row, left to right).\n"
        "- **Masked convolutions** compute all 784 conditionals in one pass during training (teacher forcing), "
        "each seeing only the pixels before it.\n"
        "- So **log p(x) is exact** (an explicit, tractable density), but **sampling is sequential**: a pixel must "
        "be drawn before the next one can be. genlab's fast sampler reuses the network's work between pixels."
    )
with picker:
    info = checkpoint_picker(AUTOREGRESSIVE, key="pcnn_model",
                             help="Shipped PixelCNNs, and the ones you train on the Train page.")
    device_badge()
if info is None:
    st.stop()
try:
    checkpoint = load_model(info.path)
except (CheckpointError, ValueError) as error:
    show_error(error)
    st.stop()
model, card = checkpoint.model, checkpoint.card
config, size = model.config, model.config.image_size
classes = card.get("class_names") or [str(i) for i in range(config.num_classes)]
with picker:
    model_card(checkpoint)


def class_picker(key: str, label: str = "Class") -> int | None:
    """A class selectbox for conditional models; None means 'no class': the unconditional p(x)."""
    if not model.conditional:
        return None
    index = st.selectbox(label, range(config.num_classes + 1), key=key,
                         format_func=lambda i: "any (p(x), no class)" if i == 0 else classes[i - 1],
                         help="The model was trained with the class as an extra input, so it can draw p(x | class).")
    return None if index == 0 else index - 1


def progress_reporter(text: str):
    """A progress bar, and a sampler callback that moves it once per image row."""
    bar = st.progress(0.0, text=text)

    def report(done: int, total: int, images: torch.Tensor) -> None:
        if done % size == 0 or done == total:
            bar.progress(done / total, text=text)

    return bar, report


# -- the image to work on ---------------------------------------------------------------------------------
st.subheader("An image")
source_col, image_col = st.columns([3, 1])
with source_col:
    source = st.radio("Image", ["Test image", "Draw", "Upload"], horizontal=True, key="pcnn_source",
                      help="A test image the model never saw in training, your drawing, or a picture of yours.")
    image = None
    if source == "Test image":
        try:
            test = dataset(card["dataset"], "test")
            index = st.number_input("Test image number", 0, len(test) - 1, 0, key="pcnn_index",
                                    help="Which image of the test split to use.")
            image = test.images[index]  # (1, H, W)
        except (DatasetMissing, KeyError, ValueError) as error:
            st.warning(f"The test images are not available here ({error}); draw or upload one instead.")
    elif source == "Draw":
        drawing = drawing_canvas(key="pcnn_canvas", size=size)
        image = fit_drawing(drawing) if drawing is not None else None
    else:
        upload = st.file_uploader("A picture (PNG or JPEG)", type=["png", "jpg", "jpeg", "gif", "bmp"],
                                  key="pcnn_upload", help="It is made grayscale and 28x28; light backgrounds "
                                                          "are inverted to match the training images.")
        if upload is not None:
            try:
                image = read_user_image(upload.getvalue(), size=size)
            except ImageInputError as error:
                st.error(str(error))
if image is None:
    st.info("Choose a test image, draw one, or upload one to complete it and see its surprise map.")
else:
    image = model.quantize(image)
    image_col.image(to_pil(image, 5), caption="as the model sees it", output_format="PNG")

tabs = st.tabs(["Complete", "Watch it draw", "Surprise map", "Sample"], key="pcnn_tab", bind="query-params")

# -- completion -------------------------------------------------------------------------------------------
if tabs[0].open:
    with tabs[0]:
        left, right = st.columns([1, 2])
        with left:
            region = st.selectbox("Hide", HIDE_REGIONS + ("brush",), key="pcnn_region",
                                  help="The hidden pixels are drawn by the model; the others are kept.")
            rows = cols = (0, 0)
            if region == "rectangle":
                rows = st.slider("Rows to hide", 0, size, (10, 20), key="pcnn_rows")
                cols = st.slider("Columns to hide", 0, size, (8, 20), key="pcnn_cols")
            if region == "brush":
                painted = drawing_canvas(key="pcnn_brush", size=size, display_px=196, stroke=3.0,
                                         hint="Paint over the part of the image to hide; it shows on the right.")
                known = painted[0] < 0.25 if painted is not None else torch.ones(size, size, dtype=torch.bool)  # (S, S)
            else:
                known = hide_mask(region, size, rows, cols)
            count = st.slider("Completions", 1, 16, 8, key="pcnn_n", help="How many different endings to draw.")
            temperature = st.slider("Temperature", 0.1, 2.0, 1.0, 0.05, key="pcnn_temperature",
                                    help="Divides the logits: below 1 picks likely pixel values more often (safer, "
                                         "duller), above 1 flattens each pixel's distribution (wilder).")
            label = class_picker("pcnn_class")
            seed = st.number_input("Seed", 0, 10_000, 0, key="pcnn_seed", help="Same seed, same completions.")
            if region in ("rectangle", "brush"):
                st.caption("The model only sees the pixels *before* each hidden one: the known pixels below and "
                           "right of the hole cannot guide it.")
        with right:
            if image is not None:
                st.image(to_pil(torch.where(known, image, 0.5), 5), caption="what the model is given (grey: hidden)",
                         output_format="PNG")
                given = (str(info.path), image.sum().item(), known.sum().item())  # what the results belong to
                if st.button("Complete", key="pcnn_complete", type="primary"):
                    if not (~known).any():
                        st.warning("Hide at least one pixel first: the region to hide is empty.")
                    else:
                        with take_turn("autoregressive", "autoregressive samples"):
                            bar, report = progress_reporter(f"Drawing {int((~known).sum())} pixels per completion…")
                            start = time.perf_counter()
                            result = complete(model, image, known, count, temperature=temperature, label=label,
                                              generator=seed, progress=report)
                            st.session_state["pcnn_completions"] = given, result, time.perf_counter() - start
                            bar.empty()
                done = st.session_state.get("pcnn_completions")
                if done and done[0] == given:
                    _, result, seconds = done
                    st.caption(f"{len(result.images)} completions in {seconds:.1f} s, most likely first. The number "
                               "is log p(image) in nats: the completed image's exact log-likelihood.")
                    for start in range(0, len(result.images), 8):
                        for column, img, lp in zip(st.columns(8), result.images[start:start + 8],
                                                   result.log_likelihoods[start:start + 8]):
                            column.image(to_pil(img, 3), caption=f"{lp:.1f}", output_format="PNG")

# -- watching the raster order ----------------------------------------------------------------------------
if tabs[1].open:
    with tabs[1]:
        st.markdown(
            "The model draws pixel 1, then pixel 2 given pixel 1, and so on in **raster order**. The order is a "
            "modelling choice: every conditional sees only what came before, so the top of an image is decided "
            "before the bottom exists, and a pixel can never take the pixels below it into account.")
        go, picture = st.columns([1, 2])
        with go:
            watch_label = class_picker("pcnn_watch_class")
            watch_temperature = st.slider("Temperature", 0.1, 2.0, 1.0, 0.05, key="pcnn_watch_temperature",
                                          help="Below 1: likelier pixels; above 1: more random ones.")
            if st.button("Draw one image pixel by pixel", key="pcnn_watch", type="primary"):
                frames, live = [], picture.empty()
                bar = st.progress(0.0, text="Drawing…")

                def show(done, total, images):
                    if done % 14 == 0 or done == total:
                        frames.append(images[0].clone().cpu())
                    if done % size == 0 or done == total:
                        live.image(to_pil(images[0], 8), caption=f"pixel {done} of {total}",
                                   output_format="PNG")
                        bar.progress(done / total, text="Drawing…")

                with take_turn("autoregressive", "autoregressive samples"):
                    fast_sample(model, 1, temperature=watch_temperature, label=watch_label,
                                generator=int(time.time()), progress=show)
                bar.empty()
                st.session_state["pcnn_gif"] = gif_bytes(torch.stack(frames), scale=8, ms_per_frame=60, bounce=False)
            if st.session_state.get("pcnn_gif"):
                picture.image(st.session_state["pcnn_gif"], caption="the raster-order animation (loops)")
        st.markdown("**What a pixel can see.** A masked kernel looks at the rows above and the pixels to the left; "
                    "mask A (first layer) also hides the pixel itself, mask B (later layers) does not.")
        mask_a, mask_b, field = st.columns([1, 1, 3])
        mask_a.image(to_pil(mask_picture(5, "A"), 24), caption="mask A (5x5): blue weights are used, black ones "
                     "zeroed; red: the pixel itself, hidden", output_format="PNG")
        mask_b.image(to_pil(mask_picture(5, "B"), 24), caption="mask B: the centre (violet) is kept; it only carries "
                     "information from earlier pixels", output_format="PNG")
        with field:
            row = st.slider("Pixel row", 0, size - 1, size // 2, key="pcnn_rf_row")
            col = st.slider("Pixel column", 0, size - 1, size // 2, key="pcnn_rf_col")
            figure = px.imshow(receptive_field_picture(model, row, col), zmin=0, zmax=3, color_continuous_scale=[
                (0, "#111"), (0.33, "#f39c12"), (0.67, "#3498db"), (1, "#e74c3c")])
            figure.update_layout(coloraxis_showscale=False, height=360, margin=dict(l=0, r=0, t=0, b=0))
            st.plotly_chart(figure, key="pcnn_rf_plot", theme=None)
            st.caption("Red: the pixel. Blue: earlier pixels it sees through all the layers. Orange: earlier pixels "
                       "it cannot see (a plain PixelCNN's blind spot, or beyond the layers' reach). Black: later "
                       "pixels, hidden by the masks.")

# -- surprise map -----------------------------------------------------------------------------------------
if tabs[2].open:
    with tabs[2]:
        if image is None:
            st.info("Choose an image above.")
        else:
            given = class_picker("pcnn_surprise_class", "Given the class")
            surprise = -pixel_log_likelihoods(model, image[None], given)[0].cpu()  # (H, W) nats
            total = surprise.sum().item()
            st.caption(f"−log p(x) = {total:.1f} nats = {nats_to_bits_per_dim(total, size * size):.3f} bits per "
                       "dimension. "
                       "Each pixel's surprise is −log p(xᵢ | x₁ … xᵢ₋₁): bright pixels are the ones the model did "
                       "not expect from everything above and to the left. The map sums to −log p(x).")
            left, right = st.columns(2)
            left.image(to_pil(image, 10), caption="the image", output_format="PNG")
            figure = px.imshow(surprise, color_continuous_scale="Inferno", labels={"color": "nats"})
            figure.update_layout(height=420, margin=dict(l=0, r=0, t=0, b=0))
            right.plotly_chart(figure, key="pcnn_surprise_plot", theme=None)

# -- sampling ---------------------------------------------------------------------------------------------
if tabs[3].open:
    with tabs[3]:
        left, right = st.columns([1, 2])
        with left:
            n = st.slider("Images", 1, 16, 8, key="pcnn_sample_n")
            sample_temperature = st.slider("Temperature", 0.1, 2.0, 1.0, 0.05, key="pcnn_sample_temperature",
                                           help="Below 1: likelier pixels; above 1: more random ones.")
            sample_label = class_picker("pcnn_sample_class")
            if not model.conditional:
                st.caption("This model is unconditional; one trained with `--num-classes 10` can draw a chosen class.")
            sample_seed = st.number_input("Seed", 0, 10_000, 0, key="pcnn_sample_seed")
            if st.button("Sample", key="pcnn_sample", type="primary"):
                with take_turn("autoregressive", "autoregressive samples"):
                    bar, report = progress_reporter(f"Drawing {size * size} pixels per image…")
                    start = time.perf_counter()
                    images = fast_sample(model, n, temperature=sample_temperature, label=sample_label,
                                         generator=sample_seed, progress=report).images
                    st.session_state["pcnn_samples"] = images.cpu(), time.perf_counter() - start
                    bar.empty()
        if st.session_state.get("pcnn_samples"):
            images, seconds = st.session_state["pcnn_samples"]
            right.image(grid(images, nrow=8, scale=4), caption=f"{len(images)} samples in {seconds:.1f} s",
                        output_format="PNG")
