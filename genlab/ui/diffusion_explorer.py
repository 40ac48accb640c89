"""The diffusion page's parts (for every kind with an iterative sampler): the forward process on a test image, the
reverse process step by step, and samples against the number of steps and the guidance scale. The maths lives in
each model's file (genlab/models/diffusion/); this module holds widgets, layout and cached results.

Sampling runs are cached per checkpoint version and setting, so moving a slider back to a value seen before is
instant, and heavy runs take turns (genlab/ui/busy.py) when a class asks for many at once.
"""
from __future__ import annotations

import time

import streamlit as st
import torch

from genlab.data import DatasetMissing
from genlab.images import gif_bytes, grid, to_pil
from genlab.ui.busy import take_turn
from genlab.ui.common import ChosenModel, dataset, load_model

SCALE = 4  # 28x28 images shown at 112x112 pixels
FORWARD_TIMES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
STEP_LADDER = (1, 2, 5, 10, 20, 50)  # the same noise, sampled with each of these step counts
GUIDANCE_LADDER = (0.0, 1.0, 2.0, 4.0)


class Explorer(ChosenModel):
    @property
    def classes(self) -> list[str]:
        names = self.checkpoint.card.get("class_names") or []
        return list(names)[:self.model.config.num_classes] or [str(i) for i in range(self.model.config.num_classes)]


# -- cached runs of the sampler ------------------------------------------------------------------------------
@st.cache_data(max_entries=64, show_spinner=False)
def _samples(path: str, modified: float, n: int, seed: int, steps: int, label: int | None,
             guidance: float) -> tuple[torch.Tensor, float]:
    """n samples (n, C, H, W) and the seconds they took."""
    model = load_model(path).model
    start = time.perf_counter()
    images = model.sample(n, seed, steps=steps, label=label, guidance=guidance).cpu()
    return images, time.perf_counter() - start


@st.cache_data(max_entries=32, show_spinner=False)
def _trajectory(path: str, modified: float, seed: int, steps: int, label: int | None, guidance: float):
    """One sample's states x_t (steps + 1, C, H, W), guesses of the image (steps, C, H, W) and times (steps + 1,)."""
    run = load_model(path).model.trajectory(1, seed, steps=steps, label=label, guidance=guidance)
    return run.states[:, 0].cpu(), run.guesses[:, 0].cpu(), run.times


def draw(ex: Explorer, what: str, compute):
    """Run a heavy computation in turn with the other sessions, with a spinner."""
    with take_turn("iterative", what), st.spinner(f"Sampling {what}…"):
        return compute()


# -- shared widgets ------------------------------------------------------------------------------------------
def class_picker(ex: Explorer, key: str, allow_mixed: bool = True) -> int | None:
    """A class for a class-conditional model; None: classes in turn (0, 1, 2, ...), or no model classes."""
    if not ex.model.conditional:
        return None
    options = ([None] if allow_mixed else []) + list(range(ex.model.config.num_classes))
    return st.selectbox("Class", options, key=key,
                        format_func=lambda i: "one of each, in turn" if i is None else ex.classes[i],
                        help="The model was trained with the class as an extra input, so it can draw p(x | class).")


def guidance_slider(ex: Explorer, key: str) -> float:
    """The classifier-free guidance scale s for a class-conditional model (1.0, meaning none, for others)."""
    if not ex.model.conditional:
        st.caption("This model is unconditional: it has no class to guide towards.")
        return 1.0
    return st.slider("Guidance scale s", 0.0, 5.0, float(ex.model.default_guidance), 0.25, key=key,
                     help="Each step mixes the velocity with the class and without it: v(no class) + s · (v(class) − "
                          "v(no class)). 0 ignores the class, 1 follows it plainly, above 1 exaggerates it: "
                          "clearer classes, less variety, and two network passes per step instead of one.")


def steps_slider(ex: Explorer, key: str, high: int = 100) -> int:
    return st.slider("Steps", 1, high, int(ex.model.default_steps), key=key,
                     help="How many Euler steps carry the noise to an image; each step is one pass of the network "
                          "(two with guidance). Few steps are fast but cut the corners of curved paths.")


# -- the tabs ------------------------------------------------------------------------------------------------
def forward_tab(ex: Explorer) -> None:
    """The forward process: an image blended with noise, from t = 0 (the image) to t = 1 (pure noise)."""
    st.markdown("**Adding noise is easy; undoing it is what the network learns.** Drag t and watch the image "
                "dissolve. Notice how late the shape survives: at t = 0.6 you can still tell what it was.")
    try:
        test = dataset(ex.checkpoint.card["dataset"], "test")
    except (DatasetMissing, KeyError, ValueError) as error:
        st.warning(f"The test images are not available here ({error}).")
        return
    left, right = st.columns([1, 2])
    with left:
        index = st.number_input("Test image number", 0, len(test) - 1, 0, key="diff_index",
                                help="An image of the test split: the model never trained on it.")
        t = st.slider("Noise level t", 0.0, 1.0, 0.5, 0.05, key="diff_t",
                      help="x_t = (1 − t) · x + t · e, with e Gaussian noise: t = 0 is the image, t = 1 pure noise.")
    image = test.images[index][None].float()  # (1, C, H, W)
    noise = torch.randn(image.shape, generator=torch.Generator().manual_seed(int(index)))  # the same e for every t
    noisy = ex.model.forward_process(image, t, noise)  # (1, C, H, W) in [0, 1]
    with right:
        st.image(to_pil(noisy[0], 2 * SCALE), caption=f"x_t at t = {t:.2f}", output_format="PNG")
    strip = torch.cat([ex.model.forward_process(image, s, noise) for s in FORWARD_TIMES])  # (6, C, H, W)
    st.image([to_pil(x, SCALE) for x in strip], caption=[f"t = {s:g}" for s in FORWARD_TIMES],
             output_format="PNG")
    st.caption("The same noise e at every t, so only its weight changes. Pixels outside 0..1 are shown clipped.")


def reverse_tab(ex: Explorer) -> None:
    """The reverse process: one sample from noise to image, with the network's guess of the image at every step."""
    st.markdown("**Sampling runs the film backwards.** Start from pure noise; at each step the network says which "
                "way the image lies, and the sampler takes a small step that way. Predict: when does the guess "
                "on the right stop changing?")
    left, right = st.columns([1, 2])
    with left:
        label = class_picker(ex, "diff_rev_class", allow_mixed=False)
        guidance = guidance_slider(ex, "diff_rev_guidance")
        steps = steps_slider(ex, "diff_rev_steps", high=50)
        seed = st.number_input("Seed", 0, 10_000, 0, key="diff_rev_seed", help="The same seed, the same noise.")
    states, guesses, times = draw(ex, "a trajectory", lambda: _trajectory(ex.path, ex.modified, int(seed), steps,
                                                                          label, guidance))
    with right:
        step = st.slider("Step", 0, steps, 0, key="diff_rev_step",
                         help="0 is the starting noise; the last step is the finished sample.")
        now, guess = st.columns(2)
        now.image(to_pil(states[step], 2 * SCALE), caption=f"x_t at t = {times[step]:.2f} (step {step} of {steps})",
                  output_format="PNG")
        if step < steps:
            guess.image(to_pil(guesses[step], 2 * SCALE), output_format="PNG",
                        caption="the network's guess of the finished image from here: x_t − t · v")
        else:
            guess.image(to_pil(states[-1], 2 * SCALE), caption="the sample", output_format="PNG")
    shown = sorted(set(torch.linspace(0, steps, min(steps + 1, 9)).round().long().tolist()))
    st.image([to_pil(states[i], SCALE) for i in shown], caption=[f"step {i}" for i in shown], output_format="PNG")
    st.image(gif_bytes(states, scale=SCALE, ms_per_frame=max(40, 2000 // (steps + 1)), bounce=False),
             caption="The whole run, noise to image (it loops).")
    st.caption("Early guesses are blurry averages of many possible images; each step commits to more detail.")


def steps_tab(ex: Explorer) -> None:
    """Quality against speed (steps) and against variety (guidance), from the same noise."""
    st.markdown("**Fewer steps are faster; are they worse?** The same seed gives the same starting noise, so any "
                "change you see comes from the slider alone.")
    left, right = st.columns([1, 2])
    with left:
        steps = steps_slider(ex, "diff_steps")
        guidance = guidance_slider(ex, "diff_guidance")
        label = class_picker(ex, "diff_class")
        seed = st.number_input("Seed", 0, 10_000, 0, key="diff_seed", help="The same seed, the same 16 noises.")
    images, seconds = draw(ex, "16 images", lambda: _samples(ex.path, ex.modified, 16, int(seed), steps, label,
                                                             guidance))
    passes = steps * (2 if ex.model.conditional and guidance not in (0.0, 1.0) else 1)
    right.image(grid(images, nrow=8, scale=3), output_format="PNG",
                caption=f"16 samples, {steps} steps ({passes} network passes each), drawn in {seconds:.2f} s")
    with st.expander("The same noise at 1, 2, 5, 10, 20 and 50 steps"):
        if st.button("Draw the ladder", key="diff_ladder"):
            rows = draw(ex, "the step ladder", lambda: torch.cat(
                [_samples(ex.path, ex.modified, 8, int(seed), s, label, guidance)[0] for s in STEP_LADDER]))
            st.image(grid(rows, nrow=8, scale=3), output_format="PNG",
                     caption="Rows, top to bottom: " + ", ".join(f"{s} steps" for s in STEP_LADDER) + ".")
            st.caption("One step jumps straight to the network's first guess: a blurred average. Somewhere between "
                       "5 and 20 steps the images settle; more steps change little.")
    if ex.model.conditional:
        with st.expander("The same noise at guidance scale 0, 1, 2 and 4"):
            if st.button("Draw the guidance ladder", key="diff_guidance_ladder"):
                rows = draw(ex, "the guidance ladder", lambda: torch.cat(
                    [_samples(ex.path, ex.modified, 10, int(seed), steps, None, s)[0] for s in GUIDANCE_LADDER]))
                st.image(grid(rows, nrow=10, scale=3), output_format="PNG",
                         caption="Columns: one class each. Rows, top to bottom: s = " +
                                 ", ".join(f"{s:g}" for s in GUIDANCE_LADDER) + ".")
                st.caption("s = 0 ignores the class (the top row need not match its column); larger s makes "
                           "each class more typical of itself and the images within it more alike.")


TABS = {"Forward process": forward_tab, "Reverse process": reverse_tab, "Steps and guidance": steps_tab}
