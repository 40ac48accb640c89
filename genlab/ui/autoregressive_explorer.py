"""The autoregressive page's parts (for every kind with the autoregressive capability): the image to work on
and the tabs (complete, watch it draw, surprise map, sample). The maths lives in
genlab/models/autoregressive/sampling.py (samplers, completion, maps) and in each model's file.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import plotly.express as px
import streamlit as st
import torch

from genlab.checkpoints import CheckpointError, list_checkpoints
from genlab.data import DATASETS, DatasetMissing
from genlab.evaluation.compare import metrics_classifier
from genlab.evaluation.likelihood_table import likelihood_table
from genlab.explore.latent_space import fit_drawing
from genlab.images import ImageInputError, gif_bytes, grid, read_user_image, to_pil
from genlab.models import AUTOREGRESSIVE, CONDITIONAL, get_kind, kind_names_with
from genlab.models.autoregressive.parameter_counts import (BINARY_RULES, atoms_comparison, binary_density_counts,
                                                           readable_count)
from genlab.models.autoregressive.receptive_field import receptive_field_picture
from genlab.models.autoregressive.sampling import (HIDE_REGIONS, class_posterior, complete, fast_sample, guess_labels,
                                                   hide_mask, pixel_log_likelihoods)
from genlab.models.base import count_parameters, nats_to_bits_per_dim
from genlab.models.loading import LoadedCheckpoint
from genlab.ui import common
from genlab.ui.busy import take_turn
from genlab.ui.common import dataset, load_model
from genlab.ui.components import drawing_canvas


@dataclass
class Explorer:
    """The chosen checkpoint and the image the tabs work on."""

    path: str
    checkpoint: LoadedCheckpoint
    image: torch.Tensor | None = None  # (1, H, W) quantized to the model's pixel values, or None

    @property
    def model(self):
        return self.checkpoint.model  # shared by every session, in eval mode: only read it

    @property
    def size(self) -> int:
        return self.model.config.image_size

    @property
    def classes(self) -> list[str]:
        return self.checkpoint.card.get("class_names") or [str(i) for i in range(self.model.config.num_classes)]


def class_picker(ex: Explorer, key: str, label: str = "Class") -> int | None:
    """A class selectbox for conditional models; None means 'no class': the unconditional p(x)."""
    if not ex.model.conditional:
        return None
    index = st.selectbox(label, range(ex.model.config.num_classes + 1), key=key,
                         format_func=lambda i: "any (p(x), no class)" if i == 0 else ex.classes[i - 1],
                         help="The model was trained with the class as an extra input, so it can draw p(x | class).")
    return None if index == 0 else index - 1


def guidance_slider(ex: Explorer, key: str, applies: bool) -> float:
    """Classifier-free guidance for a class-conditional model (0 for others, or when no class is in play)."""
    if not ex.model.conditional:
        return 0.0
    weight = st.slider("Guidance towards the class", 0.0, 4.0, 1.0, 0.25, key=key, disabled=not applies,
                       help="w = 0 draws from the model's own p(x | class). w > 0 runs the model twice per pixel, "
                            "with the class and without, and reweights each pixel's probabilities by "
                            "(p(value | class) / p(value))^w: clearer classes, less variety, twice the time.")
    return weight if applies else 0.0


def progress_reporter(ex: Explorer, text: str):
    """A progress bar, and a sampler callback that moves it once per image row."""
    bar = st.progress(0.0, text=text)

    def report(done: int, total: int, images: torch.Tensor) -> None:
        if done % ex.size == 0 or done == total:
            bar.progress(done / total, text=text)

    return bar, report


def choose_image(ex: Explorer) -> None:
    """The image to complete and score: a test image, a drawing or an upload (sets ex.image)."""
    model, size, card = ex.model, ex.size, ex.checkpoint.card
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
    ex.image = image


def complete_tab(ex: Explorer) -> None:
    """An image's hidden part drawn by the model, several times, ranked by likelihood."""
    model, size, image = ex.model, ex.size, ex.image
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
        label = class_picker(ex, "pcnn_class")
        guess = model.conditional and label is None and st.checkbox(
            "Guess the class from the visible pixels", True, key="pcnn_guess",
            help="Bayes' rule on the model's own likelihoods: p(class | visible) ∝ p(visible | class); the "
                 "completions are then drawn for the guessed class. Unticked, the model's p(x) without a class "
                 "draws them.")
        most_likely = bool(guess) and st.radio(
            "Complete as", ["its most likely class", "a class drawn from the guess"], key="pcnn_guess_how",
            horizontal=True, help="Most likely: every completion gets the model's best guess. Drawn: each "
                                  "completion draws its own class, so an ambiguous half shows every reading "
                                  "(with guidance 0 and the bottom half hidden, together they sample the model's "
                                  "p(hidden | visible)).") == "its most likely class"
        guidance = guidance_slider(ex, "pcnn_guidance", applies=label is not None or bool(guess))
        seed = st.number_input("Seed", 0, 10_000, 0, key="pcnn_seed", help="Same seed, same completions.")
        if region in ("rectangle", "brush"):
            st.caption("Each hidden pixel sees only the pixels *before* it in raster order: known pixels right of "
                       "the hole guide the hidden pixels of later rows, but the known pixels below the hole cannot "
                       "guide any of them.")
    with right:
        if image is not None:
            st.image(to_pil(torch.where(known, image, 0.5), 5), caption="what the model is given (grey: hidden)",
                     output_format="PNG")
            given = (str(ex.path), image.sum().item(), known.sum().item())  # what the results belong to
            if st.button("Complete", key="pcnn_complete", type="primary"):
                if not (~known).any():
                    st.warning("Hide at least one pixel first: the region to hide is empty.")
                else:
                    with take_turn("autoregressive", "autoregressive samples"):
                        bar, report = progress_reporter(ex, f"Drawing {int((~known).sum())} pixels per completion…")
                        start = time.perf_counter()
                        if guess:
                            posterior = class_posterior(model, image[None], known)[0]  # (classes,)
                            st.session_state["pcnn_posterior"] = given, posterior
                            label = guess_labels(model, image[None].expand(count, -1, -1, -1), known, seed,
                                                 most_likely)
                        result = complete(model, image, known, count, temperature=temperature, label=label,
                                          generator=seed, progress=report, guidance=guidance)
                        st.session_state["pcnn_completions"] = given, result, time.perf_counter() - start
                        bar.empty()
            done = st.session_state.get("pcnn_completions")
            if done and done[0] == given:
                _, result, seconds = done
                with_class = result.labels is not None and bool((result.labels < model.config.num_classes).all())
                conditioned = "log p(image | its class)" if with_class else "log p(image)"
                st.caption(f"{len(result.images)} completions in {seconds:.1f} s, most likely first. The number "
                           f"is {conditioned} in nats: the completed image's exact log-likelihood.")
                guessed = st.session_state.get("pcnn_posterior")
                if guess and guessed and guessed[0] == given:
                    top = guessed[1].topk(min(3, len(guessed[1])))
                    st.caption("The model's guess from the visible pixels: " + ", ".join(
                        f"{ex.classes[int(i)]} {p:.0%}" for p, i in zip(top.values, top.indices)) + ".")
                for start in range(0, len(result.images), 8):
                    for column, img, lp in zip(st.columns(8), result.images[start:start + 8],
                                               result.log_likelihoods[start:start + 8]):
                        column.image(to_pil(img, 3), caption=f"{lp:.1f}", output_format="PNG")


def watch_tab(ex: Explorer) -> None:
    """One image drawn pixel by pixel, and what each pixel can see."""
    model, size = ex.model, ex.size
    st.markdown(
        "The model draws pixel 1, then pixel 2 given pixel 1, and so on in **raster order**. The order is a "
        "modelling choice: every conditional sees only what came before, so the top of an image is decided "
        "before the bottom exists, and a pixel can never take the pixels below it into account.")
    go, picture = st.columns([1, 2])
    with go:
        watch_label = class_picker(ex, "pcnn_watch_class")
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
    st.markdown(f"**What a pixel can see.** {model.context_note()}")
    pictures = model.context_pictures()  # (3, k, k) RGB pictures with captions, e.g. a PixelCNN's masks
    *picture_columns, field = st.columns([1] * len(pictures) + [3])
    for column, (picture_rgb, caption) in zip(picture_columns, pictures):
        column.image(to_pil(picture_rgb, 24), caption=caption, output_format="PNG")
    with field:
        row = st.slider("Pixel row", 0, size - 1, size // 2, key="pcnn_rf_row")
        col = st.slider("Pixel column", 0, size - 1, size // 2, key="pcnn_rf_col")
        others = [c for c in list_checkpoints(kinds=kind_names_with(AUTOREGRESSIVE))
                  if c.card and str(c.path) != ex.path and (c.card.get("config") or {}).get("image_size") == size]
        other = st.selectbox("Beside it", [None, *others], key="pcnn_rf_other",
                             format_func=lambda c: "nothing" if c is None else c.label,
                             help="Another model's measured field at the same pixel: a plain PixelCNN misses an orange "
                                  "wedge above and to the right; a Row LSTM sees only a triangle above.")
        shown = [(ex.checkpoint.card.get("title", "this model"), ex.path)]
        if other is not None:
            shown.append((other.label, str(other.path)))
        for i, (column, (title, path)) in enumerate(zip(st.columns(len(shown)), shown)):
            try:
                picture = field_picture(path, Path(path).stat().st_mtime, row, col)  # (H, W) codes 0..4
            except (CheckpointError, OSError, ValueError) as error:
                column.warning(str(error))
                continue
            figure = px.imshow(picture, zmin=0, zmax=4, color_continuous_scale=[
                (0, "#111"), (0.25, "#f39c12"), (0.5, "#3498db"), (0.75, "#e74c3c"), (1, "#ff00ff")])
            figure.update_layout(coloraxis_showscale=False, height=300, margin=dict(l=0, r=0, t=0, b=0))
            column.plotly_chart(figure, key=f"pcnn_rf_plot_{i}", theme=None)
            earlier = int((picture == 1).sum() + (picture == 2).sum())
            column.caption(f"{title}: sees {int((picture == 2).sum())} of the {earlier} earlier pixels.")
            if (picture == 4).any():
                column.error(f"{title} sees {int((picture == 4).sum())} pixel(s) it should not: its ordering leaks.")
        st.caption("Measured, not drawn: a pixel counts as seen when the gradient of this pixel's logits with "
                   "respect to it is not zero. Red: the pixel. Blue: earlier pixels it sees. Orange: earlier pixels "
                   "it cannot see (a blind spot, or beyond the layers' reach). Black: later pixels, not seen. "
                   "Magenta would be a later pixel that leaks in: a broken ordering.")


@st.cache_data(max_entries=512, show_spinner=False)
def field_picture(path: str, modified: float, row: int, col: int) -> torch.Tensor:
    """The measured field of one pixel (receptive_field_picture), kept per checkpoint version and pixel: it costs
    three backward passes, and the tab reruns on every click."""
    return receptive_field_picture(load_model(path).model, row, col)


def surprise_tab(ex: Explorer) -> None:
    """-log p(x_i | x_<i) of every pixel of the image."""
    model, size, image = ex.model, ex.size, ex.image
    if image is None:
        st.info("Choose an image above.")
    else:
        given = class_picker(ex, "pcnn_surprise_class", "Given the class")
        surprise = -pixel_log_likelihoods(model, image[None], given)[0].cpu()  # (H, W) nats
        total = surprise.sum().item()
        given_class, and_class = (" | class", ", class") if given is not None else ("", "")
        st.caption(f"−log p(x{given_class}) = {total:.1f} nats = {nats_to_bits_per_dim(total, size * size):.3f} "
                   f"bits per dimension. Each pixel's surprise is −log p(xᵢ | x₁ … xᵢ₋₁{and_class}): "
                   "bright pixels are the ones the model did not expect from the earlier pixels (in raster order) "
                   "that it can see; a PixelCNN sees a window of them, its receptive field. The map sums to "
                   f"−log p(x{given_class}).")
        left, right = st.columns(2)
        left.image(to_pil(image, 10), caption="the image", output_format="PNG")
        figure = px.imshow(surprise, color_continuous_scale="Inferno", labels={"color": "nats"})
        figure.update_layout(height=420, margin=dict(l=0, r=0, t=0, b=0))
        right.plotly_chart(figure, key="pcnn_surprise_plot", theme=None)
        classifier_beside(ex, image)


def classifier_beside(ex: Explorer, image: torch.Tensor) -> None:
    """Discriminative beside generative: the shipped classifier's p(y | x) for the same image (1, H, W)."""
    name = ex.checkpoint.card.get("dataset")
    info = metrics_classifier(name) if name in DATASETS else None
    if info is None:
        return
    try:
        classifier = load_model(str(info.path)).model
    except (CheckpointError, ValueError):
        return
    names = list(DATASETS[name].class_names)
    try:
        with torch.inference_mode():
            weights = next(classifier.parameters())
            logits = classifier(image[None].to(weights.device, weights.dtype))  # (1, classes)
            probs = torch.softmax(logits, dim=1)[0].float().cpu()  # (classes,)
    except RuntimeError:  # a classifier for other image sizes: nothing to show beside this model
        return
    if probs.numel() != len(names):
        return
    figure = px.bar(x=names, y=probs.tolist(), labels={"x": "class y", "y": "p(y | x)"})
    figure.update_layout(height=260, margin=dict(l=0, r=0, t=10, b=0), yaxis_range=[0, 1])
    st.markdown("**Discriminative beside generative.** The shipped classifier's p(y | x) for the same image:")
    st.plotly_chart(figure, key="pcnn_classifier_plot", theme=None)
    st.caption("A classifier's p(y | x) sums to 1 over the classes for any input, a scribble included, so it says "
               "nothing about how likely x itself is; the generative model's −log p(x) above does. It is no "
               "reliable test of 'is this a real image', though: images with little ink score high (Nalisnick et "
               "al. 2019). Compare a digit with a scribble of about as much ink. The classifier sees the image "
               "as this model does (black and white for a black-and-white model).")


def sample_tab(ex: Explorer) -> None:
    """New images, drawn from nothing."""
    model, size = ex.model, ex.size
    left, right = st.columns([1, 2])
    with left:
        n = st.slider("Images", 1, 16, 8, key="pcnn_sample_n")
        sample_temperature = st.slider("Temperature", 0.1, 2.0, 1.0, 0.05, key="pcnn_sample_temperature",
                                       help="Below 1: likelier pixels; above 1: more random ones.")
        sample_label = class_picker(ex, "pcnn_sample_class")
        picture = model.class_picture(sample_label) if sample_label is not None else None
        if picture is not None:
            st.image(grid(picture, nrow=4, scale=2), output_format="PNG",
                     caption=f"What the model learned about where the pixels of '{ex.classes[sample_label]}' go: "
                             f"its {len(picture)} pictures of the class, each scaled to black and white. Every "
                             f"layer adds a mix of them at each position, so a sample keeps the class's shape.")
        sample_guidance = guidance_slider(ex, "pcnn_sample_guidance", applies=sample_label is not None)
        if not model.conditional:
            can = get_kind(ex.checkpoint.kind).can(CONDITIONAL)
            st.caption("This model is unconditional" + ("; one trained with 'Classes' set to 10 on the "
                                                         "Train page can draw a chosen class." if can else "."))
        sample_seed = st.number_input("Seed", 0, 10_000, 0, key="pcnn_sample_seed")
        if st.button("Sample", key="pcnn_sample", type="primary"):
            with take_turn("autoregressive", "autoregressive samples"):
                bar, report = progress_reporter(ex, f"Drawing {size * size} pixels per image…")
                start = time.perf_counter()
                images = fast_sample(model, n, temperature=sample_temperature, label=sample_label,
                                     generator=sample_seed, progress=report, guidance=sample_guidance).images
                st.session_state["pcnn_samples"] = images.cpu(), time.perf_counter() - start
                bar.empty()
    if st.session_state.get("pcnn_samples"):
        images, seconds = st.session_state["pcnn_samples"]
        right.image(grid(images, nrow=8, scale=4), caption=f"{len(images)} samples in {seconds:.1f} s",
                    output_format="PNG")


def parameters_tab(ex: Explorer) -> None:
    """What a density over n binary pixels costs: a table, independent pixels, a Markov chain, and real models."""
    st.markdown("**Why not just a table?** Any distribution over images can be written down as a table of "
                "probabilities, one per image; the chain rule does not make that cheaper, only how each conditional "
                "is written does.")
    n = st.slider("Binary pixels n", 1, ex.size * ex.size, ex.size * ex.size, key="pcnn_count_n",
                  help="A 28x28 binary image has 784 pixels; try 10 or 20 to see the table grow.")
    counts = binary_density_counts(n)
    rows = [{"density": name, "parameters": readable_count(counts[name]), "why": sentence}
            for name, (_, sentence) in BINARY_RULES.items()]
    for info in list_checkpoints(kinds=kind_names_with(AUTOREGRESSIVE)):
        if info.card is None:
            continue
        try:
            model = load_model(info.path).model
        except (CheckpointError, ValueError):
            continue
        pixels = model.config.image_size ** 2
        rows.append({"density": f"{info.card.get('title', info.path.stem)} ({info.dataset})",
                     "parameters": readable_count(count_parameters(model)),
                     "why": f"Earlier pixels through weights the {pixels} conditionals share (NADE's W, a "
                            f"convolution's or an LSTM's kernels); counted for {pixels} pixels, whatever n is."})
    st.dataframe(rows, hide_index=True, key="pcnn_count_table")
    st.caption(atoms_comparison(counts["full joint table"]) or
               f"The full table for {n} pixels already needs {readable_count(counts['full joint table'])} numbers.")


LIKELIHOOD_DATASET = "binary-digits"  # the one protocol every black-or-white model is scored on
PAGE_IWAE_K = 100  # importance samples for a VAE's bound on the page (the CLI's default is 1000)


@st.cache_data(show_spinner="Scoring every model on the same test images…", max_entries=4)
def _likelihood_rows(dataset: str, files: tuple[tuple[str, float], ...]) -> tuple[list[dict], list[str], str]:
    """The table for `dataset`, recomputed only when a checkpoint file changes (`files`: paths and mtimes)."""
    table = likelihood_table(dataset, common.device(), iwae_k=PAGE_IWAE_K)
    rows = [{"model": r.name, "−log p(x), nats": round(r.nats, 2), "measured as": r.measure,
             "parameters": f"{r.parameters:,}"} for r in table.rows]
    return rows, table.left_out, f"{table.images} test images of {dataset} ({table.source})"


def likelihoods_tab(ex: Explorer) -> None:
    """One likelihood table: every model with a likelihood on the same binarized test digits, in nats per image."""
    st.markdown("**Which model finds real digits most likely?** Every model trained on the binarized digits is "
                "scored on the same test images, in nats per image (lower is better), beside the simplest "
                "density: independent pixels. Exact likelihoods and a VAE's bounds (upper bounds on its −log p(x)) "
                "are labelled as such.")
    files = tuple((str(c.path), c.path.stat().st_mtime) for c in list_checkpoints(dataset=LIKELIHOOD_DATASET))
    try:
        with take_turn("likelihoods", "likelihood tables"):
            rows, left_out, source = _likelihood_rows(LIKELIHOOD_DATASET, files)
    except DatasetMissing as error:
        st.warning(f"The likelihood table needs the {LIKELIHOOD_DATASET} test images: {error}")
        return
    except (CheckpointError, ValueError) as error:
        st.warning(str(error))
        return
    st.dataframe(rows, hide_index=True)
    st.caption(f"On the {source}. The VAE's IWAE bound uses k = {PAGE_IWAE_K} importance samples here; more "
               "would make it tighter (lower). " + " ".join(f"Left out: {reason}." for reason in left_out))


TABS = {"Complete": complete_tab, "Watch it draw": watch_tab, "Surprise map": surprise_tab, "Sample": sample_tab,
        "Parameters": parameters_tab, "Likelihoods": likelihoods_tab}
