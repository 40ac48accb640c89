"""The Train page's loss chart: one picture per job, shared by the browsers that watch it at the same time."""
import dataclasses

import numpy as np

from genlab.training.jobs import JobView
from genlab.ui import jobs as ui_jobs


def running_view(job_id: int = 1, steps: int = 50, state: str = "running") -> JobView:
    rng = np.random.default_rng(job_id)
    losses = {key: list(300 - np.arange(steps) + rng.normal(0, 3, steps)) for key in ("loss", "recon", "kl")}
    return JobView(id=job_id, kind="vae", dataset="fashion-mnist", title="t", state=state, phase="training",
                   device="cpu", created=0.0, step=steps, start_step=0, epoch=0.1, progress=0.5, images_per_s=1000.0,
                   elapsed_s=5.0, eta_s=5.0, loss_steps=list(range(1, steps + 1)), losses=losses, latest={},
                   held_out_steps=[1, steps], held_out={"neg_elbo": [310.0, 260.0]}, grid_png=None, grid_step=0,
                   latent=None, error=None, checkpoint=None, stopped_by_user=False)


def test_browsers_refreshing_together_share_one_chart_and_later_ones_get_a_new_one(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(ui_jobs.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(ui_jobs, "_drawn_charts", {})
    first = ui_jobs.shared_loss_chart(running_view(steps=50))
    assert first.startswith(b"\x89PNG")
    clock[0] += ui_jobs.CHART_REUSE_S / 2
    assert ui_jobs.shared_loss_chart(running_view(steps=52)) is first  # a second browser, moments later
    assert ui_jobs.shared_loss_chart(running_view(job_id=2)) is not first  # another job has its own chart
    clock[0] += ui_jobs.CHART_REUSE_S
    later = ui_jobs.shared_loss_chart(running_view(steps=60))
    assert later is not first and later == ui_jobs.loss_chart(running_view(steps=60))


def test_a_finished_run_is_always_drawn_from_its_final_figures(monkeypatch):
    monkeypatch.setattr(ui_jobs, "_drawn_charts", {})
    ui_jobs.shared_loss_chart(running_view(steps=50))
    final = dataclasses.replace(running_view(steps=80), state="done")
    assert ui_jobs.shared_loss_chart(final) == ui_jobs.loss_chart(final)


def test_a_run_without_losses_yet_is_not_shared(monkeypatch):
    monkeypatch.setattr(ui_jobs, "_drawn_charts", {})
    assert ui_jobs.shared_loss_chart(running_view(steps=0)) is None  # loading the data: nothing to draw yet
    assert ui_jobs.shared_loss_chart(running_view(steps=3)).startswith(b"\x89PNG")  # a moment later


def test_a_long_history_is_thinned_to_evenly_spaced_points_that_end_at_the_newest():
    x, y = ui_jobs._thin(list(range(1, 1002)), [float(v) for v in range(1, 1002)], most=200)
    assert len(x) <= 200 and x[-1] == 1001 and y[-1] == 1001.0
    assert len(set(np.diff(x))) == 1  # evenly spaced


def test_the_progress_line_shows_a_growing_gans_resolution_and_fade_in():
    from dataclasses import replace

    from genlab.ui.jobs import progress_text

    view = replace(running_view(), kind="progan", latest={"loss_d": 1.2, "resolution": 14.0, "alpha": 0.6125})
    assert progress_text(view).endswith("training · Resolution (pixels per side) 14 · Fade-in α 0.613")
    assert progress_text(running_view()).endswith("left · training")  # a VAE has no status values
