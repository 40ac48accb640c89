"""GAN arithmetic: group a DCGAN's samples, add and subtract their latent vectors, interpolate, walk, replay.

The maths lives in genlab/explore/arithmetic.py; this page only holds widgets and layout.
"""
import random

import streamlit as st

from genlab.checkpoints import CheckpointError
from genlab.classroom import TITLE_LIMIT, inert
from genlab.explore import arithmetic as eqs
from genlab.images import gif_bytes, grid, png_bytes, to_pil
from genlab.explore import codes as code_views
from genlab.models import CODES, CONDITIONAL, GENERATOR, get_kind
from genlab.ui.common import checkpoint_picker, device_badge, load_model, model_card, show_error
from genlab.ui.guide import explained, guide

st.title("GAN arithmetic")
GROUP_KEYS = {"A": "gan_group_a", "B": "gan_group_b", "C": "gan_group_c"}
SCALE = 3  # 28x28 images shown at 84x84 pixels

intro, picker = st.columns([3, 2], gap="large")
with intro:
    explained(
        "- A **GAN** trains a generator G (noise z → image) against a discriminator D (image → probability it is "
        "real). G defines a distribution p_g but never writes it down: a GAN is an **implicit model**, a sampler "
        "whose density cannot be evaluated.\n"
        "- A **DCGAN** is all-convolutional; its latent space is smooth enough for **vector arithmetic**: average "
        "the z of a few images that share a concept, then decode **mean(A) − mean(B) + mean(C)** "
        "(the DCGAN paper's *smiling woman − neutral woman + neutral man*).\n"
        "- The list also holds a **conditional GAN** (told the class: a class box appears, and a tab that keeps z "
        "while the class changes), **InfoGAN** (codes that found meanings without labels: a Codes tab) and a "
        "**progressive GAN** (grown from 7x7 to 28x28 pixels while it trained)."
    )
with picker:
    info = checkpoint_picker(GENERATOR, key="gan_model")
    device_badge()
if info is None:
    st.stop()
try:
    checkpoint = load_model(info.path)
    version = info.path.stat().st_mtime  # part of the gallery's cache key: a retrained file draws anew
except CheckpointError as error:
    show_error(error)
    st.stop()
except FileNotFoundError:  # deleted between loading and now
    show_error(CheckpointError(f"'{info.path.name}' does not exist any more (it may have been deleted)."))
    st.stop()
model = checkpoint.model  # shared by every session, in eval mode: only read it
latent_dim = model.latent_dim
classes = model.config.num_classes if get_kind(checkpoint.kind).can(CONDITIONAL) else 0  # 0: G takes no class
class_names = list(checkpoint.card.get("class_names") or [])[:classes]
class_names += [str(k) for k in range(len(class_names), classes)]  # a model may know more classes than its data
has_codes = get_kind(checkpoint.kind).can(CODES)  # InfoGAN: named codes inside the latent vector
with picker:
    model_card(checkpoint)
    label = None
    if classes:
        label = st.selectbox("Class", range(classes), key="gan_class", format_func=lambda k: inert(class_names[k]),
                             help="This generator is told a class: the gallery and every tab but 'Same z, another class' "
                                  "draw it. Change it and the gallery keeps its styles in another class.")


def pictures(images, scale=SCALE) -> list[bytes]:
    """Each image as a PNG, `scale` times its size (made here with fast compression, not by st.image)."""
    return [png_bytes(to_pil(image, scale)) for image in images]


@st.cache_data(max_entries=256, show_spinner=False)
def gallery_pngs(path, modified: float, seed: int, label: int | None):
    """The gallery's latents (24, latent) and its images as PNGs, computed once for every session that asks for this
    file (this version of it), seed and class: a class opening the page at once shares one gallery."""
    latents, images = eqs.make_gallery(load_model(path).model, seed, label=label)  # (24, latent), (24, C, H, W)
    return latents, pictures(images)


def new_batch():
    st.session_state.gan_seed = random.randint(0, eqs.MAX_SEED)


def replay(equation: eqs.Equation):
    st.session_state.gan_seed = equation.seed
    if equation.label is not None:
        st.session_state.gan_class = equation.label
    for key, indices in zip(GROUP_KEYS.values(), equation.groups):
        st.session_state[key] = indices


def keep(equation: eqs.Equation):
    saved = st.session_state.setdefault("gan_saved", {})
    saved[equation.name] = equation


# -- the gallery ---------------------------------------------------------------------------------------------
st.header("1 · A gallery of samples")
seed_box, button_box = st.columns([2, 5], vertical_alignment="bottom")
st.session_state.setdefault("gan_seed", 0)
seed = seed_box.number_input("Gallery seed", 0, eqs.MAX_SEED, step=1, key="gan_seed",
                             help="The same seed always gives the same gallery, so a demo repeats exactly.")
button_box.button("New batch", key="gan_new_batch", on_click=new_batch,
                  help="Draw a new random seed, i.e. new noise vectors z ~ N(0, I).")
latents, gallery = gallery_pngs(info.path, version, int(seed), label)  # (24, latent), 24 PNGs
st.image(gallery, caption=[f"#{i}" for i in range(len(gallery))], width=28 * SCALE)
if has_codes:
    noise_size, categories, continuous = model.code_sizes
    st.caption(f"Each image is G(z, c) for its own noise z ~ N(0, I) in {noise_size} dimensions and its own codes c "
               f"(c₁ one of {categories} values, {continuous} continuous codes in U(−1, 1)): {latent_dim} inputs in "
               "all. The groups below refer to these numbers.")
else:
    st.caption(f"Each image is G(z{', y' if classes else ''}) for its own z ~ N(0, I) in {latent_dim} dimensions"
               + (f" and the class y = {inert(class_names[label])}" if classes else "")
               + ". The groups below refer to these numbers.")
typical = eqs.typical_length(model)  # √latent_dim for Gaussian z

tab_names = ["Equation", "Interpolation", "Latent walk", "Saved equations"]
tab_equation, tab_interpolation, tab_walk, tab_saved, *extra_tabs = st.tabs(
    tab_names + (["Same z, another class"] if classes else []) + (["Codes"] if has_codes else []),
    key="gan_tab", bind="query-params")  # a lesson link can open a tab
tab_classes = extra_tabs[:1] if classes else []
tab_codes = extra_tabs[-1:] if has_codes else []

# -- the equation ------------------------------------------------------------------------------------------
with tab_equation:
    guide("GAN arithmetic", "Equation")
    group_boxes = st.columns(3)
    help_text = {"A": "Images that show the concept you want to move (e.g. ankle boots).",
                 "B": "Images like A but without that concept (e.g. sneakers); their mean is subtracted.",
                 "C": "Images that should receive the concept (e.g. sandals); their mean is added."}
    groups = {}
    for box, (name, key) in zip(group_boxes, GROUP_KEYS.items()):
        groups[name] = box.multiselect(f"Group {name}", range(eqs.GALLERY_SIZE), key=key,
                                       format_func=lambda i: f"#{i}", help=help_text[name])
    if not tab_equation.open:
        pass  # the groups above keep their values; a closed tab computes no result
    elif not all(groups.values()):
        st.info("Put at least one gallery image into each of A, B and C (typically three each): averaging "
                "several z keeps what the images share and cancels the rest.")
    else:
        try:
            result = eqs.render_equation(model, latents, groups, seed=int(seed), label=label)
        except eqs.EquationError as error:
            st.error(str(error))
        else:
            cells = st.columns([2, 1, 2, 1, 2, 1, 2], vertical_alignment="center")
            for cell, name, image in zip(cells[0::2], "ABC", result.group_means):
                cell.image(pictures(image[None])[0], caption=f"mean(z of {name})", width=28 * SCALE)
            for cell, sign in zip(cells[1::2], ["−", "+", "="]):
                cell.markdown(f"## {sign}")
            cells[6].image(pictures(result.result[None])[0], caption="result", width=28 * SCALE)
            st.image(pictures(result.variations), width=28 * SCALE,
                     caption=[f"variation {i + 1}" for i in range(len(result.variations))])
            st.caption("Each group's picture decodes the mean of its z (not the mean of its pixels, which would be "
                       "a blur). The variations add uniform noise in ±0.25 per dimension to the result, as in the "
                       "DCGAN paper: nearby z decode to similar images.")

# -- interpolation -----------------------------------------------------------------------------------------
if tab_interpolation.open:  # a closed tab computes nothing (its frames, its GIF)
    with tab_interpolation:
        guide("GAN arithmetic", "Interpolation")
        ends = st.columns(4)
        start = ends[0].selectbox("From", range(eqs.GALLERY_SIZE), index=0, key="gan_interp_from", persist_state="page",
                                  format_func=lambda i: f"#{i}", help="The gallery image the path starts at.")
        end = ends[1].selectbox("To", range(eqs.GALLERY_SIZE), index=1, key="gan_interp_to", persist_state="page",
                                format_func=lambda i: f"#{i}", help="The gallery image the path ends at.")
        method = ends[2].radio("Path", ["slerp", "lerp"], key="gan_interp_method", persist_state="page",
                               horizontal=True,
                               help="lerp: a straight line. slerp: along the great circle between the two z.")
        steps = ends[3].slider("Frames", 3, 16, 8, key="gan_interp_steps", persist_state="page",
                               help="Images along the path, ends included.")
        frames = eqs.interpolation_frames(model, latents[start], latents[end], steps, method, label)  # (steps, C, H, W)
        strip = png_bytes(grid(frames, nrow=steps, scale=SCALE))
        st.image(strip)
        st.caption("Why slerp: a latent vector drawn from the model's prior in many dimensions almost always has a "
                   f"length near {typical:.1f}" + ("" if has_codes else f" (√{latent_dim} for z ~ N(0, I))") + ". A "
                   "straight line between two such vectors is shorter in the middle (about 30% for two independent "
                   "Gaussian z), where samples of the prior almost never lie; the great "
                   "circle keeps a typical length, so every frame stays where the generator was trained (necessary "
                   "for a good image, not a guarantee of one).")
        downloads = st.columns(4)
        downloads[0].download_button("Download PNG strip", strip, f"interpolation-{seed}-{start}-{end}.png",
                                     "image/png", key="gan_interp_png")
        downloads[1].download_button("Download GIF", gif_bytes(frames), f"interpolation-{seed}-{start}-{end}.gif",
                                     "image/gif", key="gan_interp_gif", help="Plays the path forth and back.")

# -- latent walk -------------------------------------------------------------------------------------------
if tab_walk.open:
    with tab_walk:
        guide("GAN arithmetic", "Latent walk")
        walk_controls = st.columns([1, 2, 1], vertical_alignment="bottom")
        walk_start = walk_controls[0].selectbox("Start at", range(eqs.GALLERY_SIZE), key="gan_walk_start",
                                                persist_state="page", format_func=lambda i: f"#{i}",
                                                help="The walk passes through this image.")
        step = walk_controls[1].slider("Step length", 0.1, 4.0, 1.5, 0.1, key="gan_walk_step", persist_state="page",
                                       help="Distance in z between frames (a typical latent vector has length "
                                            f"≈ {typical:.0f}).")
        if walk_controls[2].button("New direction", key="gan_walk_new", help="Pick another random direction."):
            st.session_state.gan_walk_direction = st.session_state.get("gan_walk_direction", 0) + 1
        direction = eqs.random_direction(latent_dim, st.session_state.get("gan_walk_direction", 0))
        walk = eqs.walk_frames(model, latents[walk_start], direction, step, label=label)  # (9, C, H, W)
        st.image(png_bytes(grid(walk, nrow=len(walk), scale=SCALE)))
        st.caption("Four steps back and four forward along one random direction; the middle frame is the start "
                   "image. Smooth changes suggest the generator has not just memorised training images (the DCGAN "
                   "paper's test); sudden jumps would.")

# -- saved equations ---------------------------------------------------------------------------------------
with tab_saved:
    guide("GAN arithmetic", "Saved equations")
    name_box, save_box = st.columns([3, 1], vertical_alignment="bottom")
    name = name_box.text_input("Name", key="gan_eq_name", placeholder="boots − sneakers + sandals",
                               max_chars=TITLE_LIMIT, help="A name to find the equation again; saving under an existing name replaces it.")
    if save_box.button("Save equation", key="gan_save", disabled=not all(groups.values()),
                       help="Keep the current seed and groups in this session."):
        keep(eqs.Equation(name=name.strip() or f"equation {len(st.session_state.get('gan_saved', {})) + 1}",
                          seed=int(seed), latent_dim=latent_dim, a=groups["A"], b=groups["B"], c=groups["C"],
                          label=label))
    saved = st.session_state.get("gan_saved", {})
    if not saved:
        st.caption("No saved equations yet. Build one in the Equation tab, name it and save it.")
    for index, equation in enumerate(saved.values()):
        row = st.columns([3, 1, 1], vertical_alignment="center")
        row[0].markdown(f"**{inert(equation.name)}**: seed {equation.seed}, A {equation.a}, B {equation.b}, "
                        f"C {equation.c}" + ("" if equation.label is None else f", class {equation.label}"))
        row[1].button("Replay", key=f"gan_replay_{index}", on_click=replay, args=(equation,),
                      disabled=not equation.fits(latent_dim, classes),
                      help="Restore its seed, groups and class (needs a model of the same kind and latent size).")
        row[2].download_button("Download", equation.to_json(), equation.file_name, "application/json",
                               key=f"gan_download_{index}", help="A small file with its seed, latent size and image numbers, to replay it later.")
        with st.expander("What the file holds"):
            st.code(equation.to_json(), language="json")
    upload = st.file_uploader("Replay a downloaded equation", type=["json"], key="gan_upload",
                              help="A JSON file saved here earlier, also after a restart (same model: same images).")
    if upload is not None:
        try:
            uploaded = eqs.Equation.from_json(upload.getvalue())
            uploaded.check_fits(latent_dim, classes)
        except eqs.EquationError as error:
            st.error(str(error))
        else:
            st.button(f"Replay “{inert(uploaded.name)}”", key="gan_replay_upload", on_click=lambda: (keep(uploaded),
                                                                                              replay(uploaded)))

# -- same z, another class (a class-conditional generator) ---------------------------------------------------
for tab in [t for t in tab_classes if t.open]:  # a closed tab computes nothing
    with tab:
        guide("GAN arithmetic", "Same z, another class")
        columns = st.multiselect("Gallery images (columns)", range(eqs.GALLERY_SIZE), default=list(range(6)),
                                 key="gan_swap_columns", persist_state="page", format_func=lambda i: f"#{i}",
                                 max_selections=8,
                                 help="Each column keeps one gallery image's z; each row asks G for another class.")
        if not columns:
            st.info("Pick at least one gallery image.")
        else:
            swapped = eqs.class_swap(model, latents[columns], classes)  # (classes * n, C, H, W)
            st.image(png_bytes(grid(swapped, nrow=len(columns), scale=2)))
            st.caption("Rows, top to bottom: " + ", ".join(inert(name) for name in class_names) + ". Down a "
                       "column only the class y changes; what stays (thickness, slant, size, brightness) is what z "
                       "holds. The label took over the class, so z was free to learn the style. A text-to-image GAN "
                       "(Reed et al. 2016) works the same way with a sentence's embedding in the label's place, in G's "
                       "input and in D.")

# -- InfoGAN's codes ----------------------------------------------------------------------------------------
for tab in [t for t in tab_codes if t.open]:
    with tab:
        guide("GAN arithmetic", "Codes")
        noise_size, categories, continuous = model.code_sizes
        st.markdown(f"This generator's {latent_dim} inputs are {noise_size} noise values z, a categorical code c₁ "
                    f"with {categories} values and {continuous} continuous code{'s' if continuous != 1 else ''}. "
                    "No label was given in training: the codes mean whatever G found easiest to keep readable "
                    "for Q, its code reader.")
        columns = st.multiselect("Gallery images (columns)", range(eqs.GALLERY_SIZE), default=list(range(8)),
                                 key="gan_code_columns", persist_state="page", format_func=lambda i: f"#{i}",
                                 max_selections=12,
                                 help="Each column keeps one gallery image's noise and continuous codes.")
        if columns:
            st.image(png_bytes(grid(code_views.category_grid(model, latents[columns]), nrow=len(columns), scale=2)))
            st.caption(f"Rows: c₁ = 0 … {categories - 1}, top to bottom. If a row holds one digit whatever the "
                       "noise, c₁ has taken the class without ever seeing a label.")
        if not continuous:
            continue
        st.subheader("Continuous codes")
        chosen = st.columns(2)
        start = chosen[0].selectbox("Gallery image", range(eqs.GALLERY_SIZE), key="gan_code_image",
                                    persist_state="page", format_func=lambda i: f"#{i}",
                                    help="Its noise z is kept; c₁ and the continuous codes are set here, not taken "
                                         "from the image.")
        category = chosen[1].number_input("c₁", 0, categories - 1, 0, key="gan_code_category", persist_state="page",
                                          help="The categorical code's value for the strips below.")
        values = [st.slider(f"c{j + 2}", *code_views.TRAVERSAL, 0.0, 0.1, key=f"gan_code_{j}", persist_state="page",
                            help="Training drew it from U(−1, 1); beyond ±1 shows whether its meaning extrapolates.")
                  for j in range(continuous)]
        for j in range(continuous):
            strip = code_views.traversal(model, latents[start], int(category), values, j)  # (9, C, H, W)
            st.image(png_bytes(grid(strip, nrow=len(strip), scale=SCALE)),
                     caption=f"c{j + 2} from {code_views.TRAVERSAL[0]:g} to {code_views.TRAVERSAL[1]:g}, the "
                             "other codes as set above")
