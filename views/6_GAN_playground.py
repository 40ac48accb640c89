"""GAN playground: a generator and a discriminator play the minimax game on 2-D points, live."""
from dataclasses import fields

import streamlit as st

from genlab.playground import canvas as toy_canvas
from genlab.playground import plots as toy_plots
from genlab.playground.data import PLANE, TOY_DATASETS, toy_dataset
from genlab.playground.divergence import BANDWIDTH
from genlab.playground.gan import (LOSSES, OPTIMIZER_TITLES, ToyGAN, ToyGANConfig, fit_gaussian_mixture,
                                   mixture_density, mixture_log_likelihood, twin_config)
from genlab.playground.slow_motion import SUBSTEPS, SlowMotion
from genlab.ui.guide import explained, guide

FRAME_S = 0.1  # ask for a frame every 0.1 s; a slower frame simply delays the next one
CHART_S = 1.0  # the loss charts redraw once a second while playing: a plotly redraw costs the browser far more
TITLES = {name: build().title for name, build in TOY_DATASETS.items()} | {"drawn": "Draw your own"}
WHICH = {"Both": "both", "D only": "d", "G only": "g"}
HELP = {f.name: f.metadata.get("help") for f in fields(ToyGANConfig)}
state = st.session_state
state.setdefault("gp_drawn", [])

st.title("GAN playground")
st.write("Two small networks play a game on points of a plane: a generator G makes fake points from noise, and "
         "a discriminator D learns to tell them from the real ones. Each improves against the other.")
with st.expander("The maths"):
    explained(
    "A generator G turns noise z into points; a discriminator D outputs the probability that a point is real. "
    "They play $\\min_G \\max_D\\; \\mathbb{E}_x[\\log D(x)] + \\mathbb{E}_z[\\log(1 - D(G(z)))]$. "
    "For a fixed G the best D is $p_{data}/(p_{data}+p_g)$, and against it G minimises the Jensen-Shannon "
    "divergence between the two distributions. In practice D is never optimal: watch the game instead.")

with st.sidebar:
    st.header("Settings")
    st.caption("Changing a setting starts a new run.")
    dataset = st.selectbox("Data", list(TITLES), format_func=TITLES.get, key="gp_dataset", bind="query-params",
                           help="Mixtures (ring, grid, single Gaussian) also show how many modes G covers.")
    loss = st.radio("Generator loss", LOSSES, key="gp_loss", help=HELP["loss"])
    rates = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
    lr_g = st.select_slider("G learning rate", rates, value=1e-3, format_func="{:g}".format, key="gp_lr_g",
                            help=HELP["lr_g"])
    lr_d = st.select_slider("D learning rate", rates, value=1e-3, format_func="{:g}".format, key="gp_lr_d",
                            help=HELP["lr_d"])
    d_steps = st.slider("D steps per G step", 1, 5, 1, key="gp_d_steps", bind="query-params", help=HELP["d_steps"])
    latent_dim = st.slider("Latent size", 1, 8, 2, key="gp_latent", help=HELP["latent_dim"])
    noise = st.slider("Instance noise", 0.0, 0.5, 0.0, 0.05, key="gp_noise", help=HELP["instance_noise"])
    seed = st.number_input("Seed", 0, 9999, 0, key="gp_seed", help=HELP["seed"])
    restart = st.button("Restart", key="gp_restart", help="New weights from the seed; step 0.")

config = ToyGANConfig(loss=loss, lr_g=lr_g, lr_d=lr_d, d_steps=d_steps, latent_dim=latent_dim,
                      instance_noise=noise, seed=int(seed))


def edit_drawing():
    """Clicked grid points join the data; clicked data points leave it (a box selection adds an area)."""
    drawn = set(map(tuple, state.gp_drawn))
    for point in state.gp_draw.selection.points:
        xy = (round(point["x"], 1), round(point["y"], 1))
        (drawn.add if point["curve_number"] == 0 else drawn.discard)(xy)
    state.gp_drawn = sorted(drawn)


if dataset == "drawn":
    st.subheader("Draw your own data")
    st.caption("Click grid points to add them and your points to remove them; the box tool above the plot adds "
               "an area. Each point becomes a small Gaussian blob.")
    st.plotly_chart(toy_plots.drawing_figure(state.gp_drawn), key="gp_draw", on_select=edit_drawing,
                    selection_mode=("points", "box"))
    if st.button("Clear drawing", key="gp_clear"):
        state.gp_drawn = []
        st.rerun()

try:
    data = toy_dataset(dataset, state.gp_drawn)
except ValueError as error:
    st.info(str(error))
    st.stop()

signature = (dataset, tuple(state.gp_drawn), config)
if restart or state.get("gp_signature") != signature:
    state.gp_signature = signature
    state.gp_gan = ToyGAN(data, config)

controls = st.columns([1, 0.9, 1.9, 2, 1.2], vertical_alignment="center")
playing = controls[0].toggle("▶ Play", key="gp_play", help="Train continuously and redraw several times a second.")
one_step = controls[1].button("One step", key="gp_one_step", disabled=playing,
                              help="One training step of the networks chosen under 'Train'.")
controls[2].segmented_control("Train", list(WHICH), default="Both", key="gp_which",
                              help="D only: watch D approach p_data/(p_data+p_g) while G stands still. "
                                   "G only: watch the fakes chase D's 'real' regions.")
controls[3].slider("Speed (steps per frame)", 1, 100, 25, key="gp_speed", bind="query-params",
                   help="Training steps between two redraws.")
controls[4].checkbox("Gradient arrows", key="gp_arrows",
                    help="Where G's loss pushes each fake point (minus its gradient; relative lengths).")
view = st.radio("View", ["Playground", "Slow motion", "Minimax vs non-saturating", "Explicit vs implicit density"],
                horizontal=True, key="gp_view", bind="query-params",
                help="One GAN; one training step of it split into four sub-steps; two GANs that differ only in G's "
                     "loss; or a Gaussian mixture's density next to the GAN's samples.")
which = WHICH[state.gp_which or "Both"]
guide("GAN playground", view)


@st.fragment(run_every=FRAME_S if playing else None)
def playground():
    """Draw the current state, then (while playing) train for the next frame: drawing first keeps the page fresh."""
    gan = state.gp_gan
    last = gan.history[-1] if gan.history else gan.current_losses()
    cells = st.columns(4 if data.is_mixture else 3)
    cells[0].metric("Step", gan.step)
    cells[1].metric("D loss", f"{last['d_loss']:.3f}", help="-log D(x) - log(1 - D(G(z))); 2 log 2 = 1.386 "
                    "when D cannot tell real from fake (D = 1/2 everywhere).")
    cells[2].metric("G loss", f"{last['g_loss']:.3f}", help="The loss chosen in the sidebar, averaged over the "
                    "last frame's steps.")
    if data.is_mixture:
        modes = gan.modes()
        cells[3].metric("Modes covered", f"{modes.covered} / {modes.total}", help="A mode counts when at least "
                        "a quarter of its fair share of the generated points lie within 3 standard deviations "
                        "of its centre.")
    frame, width = toy_canvas.plane_frame(gan, arrows=state.gp_arrows)
    st.container(key="gp_plot").image(frame, width=width)
    if state.gp_play:
        gan.train(state.gp_speed, which)


@st.fragment(run_every=CHART_S if playing else None)
def playground_history():
    """The loss (and modes) curves so far; redrawn every CHART_S seconds while playing."""
    panels = [("losses", "loss"), ("modes", "modes covered")] if data.is_mixture else [("losses", "loss")]
    panels.append(("jsd", "JSD (bits)"))
    st.plotly_chart(toy_plots.history_figure({"": state.gp_gan.history}, panels), key="gp_history",
                    config={"displayModeBar": False})


@st.fragment(run_every=FRAME_S if playing else None)
def comparison():
    twins = state.gp_twins
    for column, (name, twin) in zip(st.columns(2), twins.items()):
        frame, width = toy_canvas.plane_frame(twin, manifold=False, size=400)
        column.container(key=f"gp_twin_{name.replace('-', '_')}").image(frame, caption=f"{name}: step {twin.step}",
                                                                       width=width)
    if state.gp_play:
        for twin in twins.values():
            twin.train(state.gp_speed, which)


@st.fragment(run_every=CHART_S if playing else None)
def comparison_history():
    """Both runs' mode coverage (or distance to the data) so far; redrawn every CHART_S seconds while playing."""
    histories = {name: twin.history for name, twin in state.gp_twins.items()}
    panel = ("modes", "modes covered") if data.is_mixture else ("distance", "fake-to-real distance")
    st.plotly_chart(toy_plots.history_figure(histories, [panel], height=260), key="gp_twin_history",
                    config={"displayModeBar": False})


def slow_motion():
    """One training step in four sub-steps: the batch on D's map, beside the optimal D for the current G."""
    if state.get("gp_slow") is None or state.gp_slow.gan is not state.gp_gan or state.gp_slow.stale:
        state.gp_slow = SlowMotion(state.gp_gan)  # a new run, or the GAN trained elsewhere since this batch
    slow = state.gp_slow
    if st.button("Next sub-step", key="gp_slow_next", type="primary",
                 help="Run the next of the four sub-steps; after the fourth, a new step starts with a new batch."):
        slow.advance()
    st.markdown("Sub-steps: " + " → ".join(f"**{i + 1}. {name}**" if i + 1 == slow.phase else f"{i + 1}. {name}"
                           for i, name in enumerate(SUBSTEPS)) + f" (step {slow.gan.step})")
    st.info(slow.done or "Press Next sub-step to draw the first batch.")
    left, right = st.columns(2)
    frame, width = toy_canvas.jpeg_frame(toy_canvas.slow_motion_picture(slow))
    left.container(key="gp_slow_plot").image(frame, width=width, caption="D(x) now, and this step's batch")
    frame, width = toy_canvas.jpeg_frame(toy_canvas.optimal_picture(slow.gan))
    right.image(frame, width=width, caption="The optimal D* = p_data / (p_data + p_g) for the current G")
    history = slow.gan.history
    jsd = history[-1]["jsd"] if history and "jsd" in history[-1] else slow.gan.jensen_shannon()
    st.metric("Jensen-Shannon divergence (estimate)", f"{jsd:.3f} bits", help="0 bits: p_g equals p_data; 1 bit: "
              "they do not overlap. Against the optimal D the minimax game's value is 2 JSD − log 4 (in nats).")
    st.caption(f"D* needs p_g, which a GAN never writes down: both densities here are estimated from "
               f"{len(slow.gan.display_real)} points each (Gaussian kernels of std {BANDWIDTH:g}), so D* and the "
               "divergence are rough estimates. Where neither has points, D* is 0/0 and drawn white. A real D is "
               "never optimal: compare the two maps. The Playground view charts the divergence over training.")


@st.cache_resource(max_entries=16, show_spinner="Fitting a Gaussian mixture by maximum likelihood…")
def fitted_mixture(dataset: str, drawn: tuple, components: int, seed: int):
    points = toy_dataset(dataset, drawn)
    mixture = fit_gaussian_mixture(points.sample(2000, seed), components, seed)
    return mixture, mixture_density(mixture), mixture_log_likelihood(mixture, points.sample(2000, seed + 1))


def density_contrast():
    default = len(data.centres) if data.is_mixture else 10
    components = st.slider("Mixture components", 1, 40, min(default, 40), key="gp_components",
                           help="How many Gaussians the explicit model may use; EM fits them by maximum "
                                "likelihood.")
    mixture, (ticks, density), log_likelihood = fitted_mixture(dataset, tuple(state.gp_drawn), components, 0)
    left, right = st.columns(2)
    left.plotly_chart(toy_plots.density_figure(ticks, density, data.sample(300, 5), title="Gaussian mixture: "
                                               "p(x), written down"), key="gp_gmm", config={"displayModeBar": False})
    right.plotly_chart(toy_plots.samples_figure(data.sample(300, 5), state.gp_gan.samples(1000, 0),
                                                title=f"GAN after {state.gp_gan.step} steps: samples only"),
                       key="gp_gan_samples", config={"displayModeBar": False})
    st.markdown(f"An **explicit** model writes p(x) down: this mixture gives held-out points an average log p(x) "
                f"of **{log_likelihood:.2f} nats** (a density can exceed 1). A GAN is **implicit**: it only learns "
                "to sample, so there is no p(x) to evaluate, just points (train it in the Playground view).")


if view == "Playground":
    if one_step:
        state.gp_gan.train(1, which)
    left, right = st.columns([3, 2])
    with left:
        playground()
    with right:
        playground_history()
    st.caption(f"The plane runs from -{PLANE:g} to {PLANE:g} on both axes (faint lines every unit). Background: "
               "D(x), blue where D says real, red where it says fake. Black: real points; orange: generated; brown "
               "lines: G's image of a grid of z values (its manifold); purple: the arrows. Mode collapse: G piles "
               "its points onto a few modes that D has not yet learned to reject, then hops between them.")
elif view == "Minimax vs non-saturating":
    optimizer = st.radio("Optimizer of both runs", ["sgd", "adam"], horizontal=True, key="gp_cmp_optimizer",
                         bind="query-params",
                         format_func=OPTIMIZER_TITLES.get,
                         help=HELP["optimizer"])
    if restart or state.get("gp_twins_signature") != (signature, optimizer):
        state.gp_twins_signature = (signature, optimizer)
        state.gp_twins = {name: ToyGAN(data, twin_config(config, name, optimizer)) for name in LOSSES}
    if one_step:
        for twin in state.gp_twins.values():
            twin.train(1, which)
    st.caption("Same data, seed and settings; only G's loss differs. While D confidently rejects the fakes, "
               "log(1 - D(G(z))) is flat (tiny gradients) and -log D(G(z)) is steep, so with plain SGD the "
               "non-saturating G moves first: try the single Gaussian with 3 D steps per G step and about 5 "
               "steps per frame. Adam rescales gradients and hides most of the difference. Without mode "
               "centres, the chart shows the mean distance from a generated point to the nearest real one.")
    comparison()
    comparison_history()
elif view == "Slow motion":
    if one_step:  # a whole step at full speed; the sub-steps start again from a new batch
        state.gp_gan.train(1, which)
        state.gp_slow = None
    if playing:
        st.caption("Play runs in the Playground view; here the game goes one sub-step at a time.")
    slow_motion()
else:
    if one_step:
        state.gp_gan.train(1, which)
    if playing:
        st.caption("Play runs in the Playground view: train the GAN there, then come back to compare.")
    density_contrast()

with st.expander("What the controls mean"):
    st.markdown(
        "- **Non-saturating loss.** When the fakes are bad, D(G(z)) is near 0 and log(1 - D(G(z))) barely "
        "changes with G: tiny gradients. Minimising -log D(G(z)) instead has the same fixed point and strong "
        "gradients exactly then.\n"
        "- **D steps per G step.** More D steps keep D closer to its optimum p_data/(p_data+p_g). With the "
        "minimax loss, G then minimises a Jensen-Shannon divergence, and a perfect D saturates G's gradients; "
        "with the non-saturating loss (the default), G minimises KL(p_g ‖ p_data) − 2 JSD, and its gradients "
        "stay large but noisy.\n"
        "- **Mode collapse.** G covers only some modes of the data: it moves its points to wherever D is "
        "currently fooled, D then learns to reject that spot, and G moves on.\n"
        "- **Instance noise.** Gaussian noise added to everything D sees (real and fake) blurs both "
        "distributions so they overlap; D cannot become perfectly confident and G keeps useful gradients.\n"
        "- **Latent size.** The lines show G's image of a grid over the first two dimensions of z (others 0); "
        "with a single dimension, G's whole output is one curve.")
