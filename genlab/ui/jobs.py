"""The process-wide job manager and the widgets that show a training job live.

`job_manager()` is an st.cache_resource singleton: every browser session of this server sees the same jobs.
`live_job(job_id)` is the read-only view the Train page refreshes about every REFRESH_S seconds inside an
st.fragment; it only reads the job (a stop button is the one exception, and it asks politely: the job stops
after its current step and saves its checkpoint).
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from genlab.checkpoints import CheckpointError
from genlab.classroom import delete, inert, may_change
from genlab.images import png_bytes
from genlab.line_chart import Panel, Series, line_chart
from genlab.models import TRANSLATOR, get_kind
from genlab.training.jobs import JobError, JobManager, JobView
from genlab.ui.pages import explorer_for
from genlab.ui.roles import me, owner_words

REFRESH_S = 1.5
REDUNDANT = {"loss": "bits_per_dim"}  # hide `loss` when `bits_per_dim` shows the same thing in other units
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]  # curves that share a panel (and the legend) differ
MAX_PLOTTED_POINTS = 200  # per curve: about one per pixel of a panel when three share the chart; quick to draw
CHART_REUSE_S = 1.0  # browsers refreshing within this time of each other get the same chart
HELD_OUT_ON = {"neg_elbo": "loss", "nll": "loss", "nll_bits_per_dim": "bits_per_dim"}  # held-out -> chart
STATE_WORDS = {"queued": "waiting", "running": "training", "stopping": "stopping", "done": "finished",
               "failed": "failed", "cancelled": "cancelled"}


@st.cache_resource(show_spinner=False)
def job_manager() -> JobManager:
    """The one job manager of this server process, shared by every browser session."""
    return JobManager()


def label(kind: str, key: str) -> str:
    """A loss's name on the chart: the kind's own label (genlab/models), else the key in words."""
    return get_kind(kind).loss_labels.get(key) or key.replace("_", " ")


def job_label(view: JobView) -> str:
    """Plain text (select boxes): the job, its title cut short, and whose it is."""
    title = view.title if len(view.title) <= 80 else view.title[:79] + "…"
    return f"Job {view.id}: {title} ({owner_words(view.owner)})"


def _panels(view: JobView) -> list[tuple[str, ...]]:
    keys = [k for k in view.losses if not (k in REDUNDANT and REDUNDANT[k] in view.losses)]
    panels = [group for group in get_kind(view.kind).panels_together if all(k in keys for k in group)]
    grouped = {k for group in panels for k in group}
    return panels + [(k,) for k in keys if k not in grouped]


def _thin(xs: list, ys: list, most: int = MAX_PLOTTED_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most `most` evenly spaced points, the newest always among them, as numpy arrays."""
    stride = max(1, math.ceil(len(xs) / most))
    first = (len(xs) - 1) % stride  # so that the last point is kept
    return np.asarray(xs[first::stride]), np.asarray(ys[first::stride], dtype=np.float32)


def loss_chart(view: JobView) -> bytes | None:
    """All the losses as one PNG, a small panel each, side by side (losses of very different scales do not
    share an axis); held-out metrics, measured on a fixed batch of test images, are dots on the panel of the
    matching training loss. A picture drawn here, not a plotly figure: the page shows it again every REFRESH_S
    seconds while a model trains, and redrawing a plotly chart that often took the browser a third of a CPU core,
    CPU that the training thread then missed (see genlab.line_chart)."""
    if not view.loss_steps:
        return None
    panels, shared_colours = [], iter(COLOURS)
    for group in _panels(view):
        panel = Panel(" vs ".join(label(view.kind, k) for k in group))
        for key in group:
            colour = next(shared_colours, "#7f7f7f") if len(group) > 1 else COLOURS[0]  # alone: no legend entry
            x, y = _thin(view.loss_steps, view.losses[key])
            panel.series.append(Series(label(view.kind, key), x, y, colour, in_legend=len(group) > 1))
        for held_key, values in view.held_out.items():
            if held_key in group or HELD_OUT_ON.get(held_key) in group:
                x, y = _thin(view.held_out_steps, values)
                panel.series.append(Series("held-out test images", x, y, "#ff7f0e", markers=True))
                break
        panels.append(panel)
    return png_bytes(line_chart(panels, width=660, height=230))


_drawn_charts: dict[tuple[float, int], tuple[float, bytes]] = {}  # (job created, id) -> (when drawn, chart)


def shared_loss_chart(view: JobView) -> bytes | None:
    """loss_chart, drawn at most once every CHART_REUSE_S for all the browsers watching one running job: a class
    of 30 watching the teacher's run would otherwise draw 30 charts every refresh (about 15 ms of the server's
    time each). A finished run is always drawn from its final figures."""
    now, key = time.monotonic(), (view.created, view.id)
    drawn = _drawn_charts.get(key)
    if view.active and drawn is not None and now - drawn[0] < CHART_REUSE_S:
        return drawn[1]
    chart = loss_chart(view)
    for old in [k for k, (when, _) in list(_drawn_charts.items()) if now - when >= CHART_REUSE_S]:
        _drawn_charts.pop(old, None)  # too old to be shared again
    if view.active and chart is not None:
        _drawn_charts[key] = (now, chart)
    return chart


def latent_figure(view: JobView) -> go.Figure | None:
    latent = view.latent
    if latent is None:
        return None
    prior = [] if latent.prior is None else [{
        "type": "scatter", "x": latent.prior[:, 0], "y": latent.prior[:, 1], "mode": "markers", "name": "prior",
        "marker": {"size": 4, "color": "#c8c8c8"}}]
    traces = prior + [{"type": "scatter", "x": latent.points[latent.labels == index, 0],
               "y": latent.points[latent.labels == index, 1], "mode": "markers", "name": name,
               "marker": {"size": 5, "opacity": 0.75}}
              for index, name in enumerate(latent.class_names) if (latent.labels == index).any()]
    return go.Figure({"data": traces, "layout": {
        "height": 360, "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "uirevision": view.id,
        "xaxis": {"title": {"text": "z₁ (the code; for a VAE, the mean of q(z|x))"}},
        "yaxis": {"title": {"text": "z₂"}, "scaleanchor": "x"},  # one unit is as long across as up: a ring looks round
        "legend": {"font": {"size": 10}}}})


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "…"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def progress_text(view: JobView) -> str:
    """The progress bar's line: how far, how fast, and the kind's status values (a growing GAN's resolution)."""
    kind = get_kind(view.kind)
    status = "".join(f" · {kind.loss_labels.get(key, key)} {view.latest[key]:.3g}"
                     for key in kind.status_keys if key in view.latest)
    return (f"{view.progress:.0%} · step {view.step:,} · epoch {view.epoch:.2f} · "
            f"{view.images_per_s:,.0f} images/s · {_duration(view.eta_s)} left · {view.phase}{status}")


def live_job(manager: JobManager, job_id: int, *, show_stop: bool = True) -> JobView | None:
    """Everything about one job, read from the manager. Returns the view it showed."""
    view = manager.view(job_id)
    if view is None:
        st.info("That job is no longer remembered by the server.")
        return None
    st.subheader(f"{inert(job_label(view), 120)} · {STATE_WORDS.get(view.state, view.state)}")
    if view.state == "queued":
        st.info(view.queue_message)
    elif view.active:
        st.progress(min(1.0, view.progress), text=progress_text(view))
    if view.state == "failed":
        st.error(view.error or "Training failed.")
    stoppable = view.state == "queued" or view.state == "running" and view.phase in ("loading the data", "training")
    if show_stop and stoppable and manager.may_stop(me(), view.owner):  # the teacher's, or your own run
        if st.button("Stop", key="train_stop", help="Stops after the current step and saves a checkpoint; "
                                                      "every browser watching sees it stop."):
            try:
                manager.stop(job_id, by=me())
            except JobError as e:
                st.error(str(e))
            view = manager.view(job_id)
    if view.state == "stopping":
        st.info("Stopping after the current step; the checkpoint is being saved.")

    chart = shared_loss_chart(view)
    if chart is not None:
        st.container(key="train_losses").image(chart, width="stretch")
        note = "Lines: each training batch (averaged when the run gets long)."
        if view.held_out:
            note += (" Dots: the model's own held-out score (its −log p(x), −ELBO or loss) on a fixed batch of "
                     "test images, in the panel's unit. It need not be the line's quantity (a β-VAE's line weights its "
                     "KL by β; a class-conditional model's line is mostly given the labels), so watch the dots' "
                     "trend: if they rise while the line falls, the model is memorising its training images.")
        st.caption(f"{note} {get_kind(view.kind).curve_note}")
    left, right = st.columns(2)
    if view.grid_png and get_kind(view.kind).can(TRANSLATOR):
        left.image(view.grid_png, caption=f"Step {view.grid_step:,}. Top row: the same test images in every frame; "
                                          "middle: each translated into the next domain; bottom: translated back, "
                                          "the round trip that should return the top row.")
    elif view.grid_png:
        left.image(view.grid_png, caption=f"Samples at step {view.grid_step:,}: the same random seeds in every "
                                          "frame, so you watch the same images improve.")
    latent = latent_figure(view)
    if latent is not None:
        right.plotly_chart(latent, key="train_latent", config={"staticPlot": True})
        right.caption(f"Codes (for a VAE, the means of q(z|x)) of {len(view.latent.points)} test images at step "
                      f"{view.latent.step:,}, coloured by class: watch the classes sort themselves out in the 2-D code "
                      "space." + (" Grey: as many samples of the prior, the shape the codes are pushed into."
                                  if view.latent.prior is not None else ""))
    if view.state in ("done", "failed") and view.checkpoint:
        _finished(view)
    elif view.state in ("done", "cancelled"):
        st.info("This run was stopped before its first training step, so there is nothing to save.")
    return view


def _finished(view: JobView) -> None:
    path = Path(view.checkpoint)
    how = "was stopped" if view.stopped_by_user else ("kept its last good weights" if view.state == "failed"
                                                       else "finished")
    if not path.exists():
        st.info(f"The run {how} after {view.step:,} steps; its checkpoint has been deleted since.")
        return
    whose = ("every page's model list shows it now" if view.owner == me() else
             f"it belongs to {owner_words(view.owner)}")
    st.success(f"The run {how} after {view.step:,} steps. Its checkpoint is saved as `{path.name}`; {whose}.")
    left, right = st.columns(2)
    left.download_button("Download the checkpoint", data=lambda: path.read_bytes(), file_name=path.name,
                         mime="application/octet-stream", key="train_download",
                         help="A .safetensors file (weights, optimiser state and model card): upload it on any "
                              "genlab server to explore it or to continue training.")
    explorer = explorer_for(get_kind(view.kind))
    if explorer is not None:
        right.page_link(explorer.file, label=f"Open the {explorer.title} page", icon=explorer.icon,
                        help=f"Then choose '{inert(view.title)} (yours)' in the model list.")
    if may_change(me(), path):
        if st.button("Delete this checkpoint", key="train_delete", help="Removes the file from this server for "
                                                                         "everyone; a downloaded copy stays yours."):
            try:
                delete(me(), path)
            except (ValueError, OSError, CheckpointError) as e:
                st.error(str(e))
            else:
                st.rerun()


def this_server() -> str:
    """Which replica this process is when several serve one address (scripts/replicas.py sets GENLAB_REPLICA);
    "" for a single server. Running jobs live in one process, so the Train page names it."""
    return os.environ.get("GENLAB_REPLICA", "")
