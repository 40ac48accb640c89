"""Background training jobs: lifecycle, stop, checkpoints, resume, NaN failure and the queue."""
import math
import os
import threading
import time

import pytest
import torch

from genlab.checkpoints import list_checkpoints
from genlab.data import DATASETS, DatasetSpec, ImageDataset
from genlab.models import KINDS, ModelKind
from genlab.models.loading import load_checkpoint
from genlab.models.vae import VAE, VAEConfig
from genlab.training.jobs import JobError, JobManager, JobSpec, LossHistory, training_threads
from genlab.training.run import TrainingRun

TINY = {"latent_dim": 2, "width": 4, "hidden": 16}


def toy_split(split: str) -> ImageDataset:
    g = torch.Generator().manual_seed(0 if split == "train" else 1)
    n = 256 if split == "train" else 64
    return ImageDataset("toy-jobs", split, (torch.rand(n, 1, 28, 28, generator=g) > 0.6).float(),
                        torch.randint(0, 3, (n,), generator=g), ["a", "b", "c"], "random pixels")


@pytest.fixture(autouse=True)
def toy_dataset(monkeypatch):
    monkeypatch.setitem(DATASETS, "toy-jobs", DatasetSpec("toy-jobs", "Toy", "Random pixels.", ("a", "b", "c"),
                                                          lambda split, _dir: toy_split(split), "It is made by code."))


@pytest.fixture
def manager():
    jobs = JobManager(max_running=1)
    yield jobs
    jobs.shutdown()


def wait_until(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def tiny_spec(**changes) -> JobSpec:
    return JobSpec(**{"kind": "vae", "dataset": "toy-jobs", "config": TINY, "epochs": 2, "minutes": None,
                      "batch_size": 32, **changes})


def test_a_job_reports_progress_and_saves_a_loadable_checkpoint(manager, user_checkpoint_dir):
    job = manager.submit(tiny_spec())
    assert job.finished.wait(120)
    view = manager.view(job.id)
    assert view.state == "done" and view.error is None and not view.stopped_by_user
    assert view.step == 16 and view.progress == 1.0 and view.epoch == 2  # 256 images / 32 per batch, 2 epochs
    assert set(view.losses) == {"loss", "recon", "kl"} and view.loss_steps[-1] == 16
    assert view.grid_png.startswith(b"\x89PNG")
    assert view.latent.points.shape == (64, 2) and view.latent.class_names == ["a", "b", "c"]
    assert "neg_elbo" in view.held_out and "neg_elbo_bits_per_dim" in view.held_out
    assert view.checkpoint.startswith(str(user_checkpoint_dir))
    assert [c.path for c in list_checkpoints(kind="vae", dataset="toy-jobs")] == [job.checkpoint_path]
    checkpoint = load_checkpoint(view.checkpoint, expect_kind="vae")
    assert checkpoint.card["steps"] == 16 and checkpoint.card["dataset"] == "toy-jobs"
    assert "neg_elbo" in checkpoint.card["metrics"] and "--latent-dim 2" in checkpoint.card["command"]
    assert checkpoint.optimizer_tensors  # saved for resuming


def test_stop_ends_a_long_job_between_steps_and_saves_it(manager):
    job = manager.submit(tiny_spec(epochs=None, minutes=10))
    wait_until(lambda: manager.view(job.id).step >= 3)
    manager.stop(job.id)
    assert manager.view(job.id).state in ("stopping", "done")
    assert job.finished.wait(120)
    view = manager.view(job.id)
    assert view.state == "done" and view.stopped_by_user and view.step >= 3
    checkpoint = load_checkpoint(view.checkpoint)
    assert checkpoint.card["stopped_early"] and checkpoint.card["steps"] == view.step


def test_resume_keeps_the_optimizer_state_and_the_step_count(manager):
    first = manager.submit(tiny_spec(epochs=1))
    assert first.finished.wait(120)
    path = manager.view(first.id).checkpoint
    assert load_checkpoint(path).optimizer_tensors["optimizer.model.0.step"].item() == 8

    second = manager.submit(tiny_spec(epochs=1, config={}, resume_from=path))
    assert second.finished.wait(120)
    view = manager.view(second.id)
    assert view.state == "done" and view.start_step == 8 and view.step == 16 and view.loss_steps[0] == 9
    resumed = load_checkpoint(view.checkpoint)
    assert resumed.card["steps"] == 16 and resumed.card["epochs"] == 2 and resumed.card["resumed_from"]
    # Adam's step counter went on from 8: the moments were restored, not started afresh.
    assert resumed.optimizer_tensors["optimizer.model.0.step"].item() == 16
    assert resumed.model.config.latent_dim == 2  # the checkpoint's own config, not the default


def test_a_resumed_job_trains_with_the_new_learning_rate_and_the_card_says_so(manager):
    first = manager.submit(tiny_spec(epochs=1, lr=0.01))
    assert first.finished.wait(120)
    path = manager.view(first.id).checkpoint
    assert load_checkpoint(path).card["lr"] == 0.01

    second = manager.submit(tiny_spec(epochs=1, config={}, lr=0.0003, resume_from=path))
    assert second.finished.wait(120)
    resumed = load_checkpoint(manager.view(second.id).checkpoint)
    assert resumed.card["lr"] == 0.0003 and resumed.card["steps"] == 16
    assert resumed.card["optimizers"]["model"]["param_groups"][0]["lr"] == 0.0003
    assert "--lr 0.0003" in resumed.card["command"]


def test_resume_refuses_a_checkpoint_of_another_kind(manager):
    first = manager.submit(tiny_spec(epochs=0.25))
    assert first.finished.wait(120)
    with pytest.raises(JobError, match="holds a vae model"):
        manager.submit(JobSpec("dcgan", "toy-jobs", resume_from=manager.view(first.id).checkpoint))


class ExplodesAtStep(VAE):
    """A VAE whose third step wrecks its weights and returns a NaN loss, as a diverging run would."""

    def __init__(self, config):
        super().__init__(config)
        self.calls = 0

    def train_step(self, x, y, optimizers):
        self.calls += 1
        if self.calls == 3:
            with torch.no_grad():
                for p in self.parameters():
                    p.fill_(math.nan)
            return {"loss": math.nan, "recon": math.nan, "kl": math.nan}
        return super().train_step(x, y, optimizers)


def test_a_nan_loss_fails_the_job_clearly_and_keeps_the_last_good_weights(manager, monkeypatch):
    monkeypatch.setitem(KINDS, "exploding", ModelKind("exploding", "Exploding VAE", "test", "Diverges.",
                                                      VAEConfig, ExplodesAtStep, "none"))
    job = manager.submit(tiny_spec(kind="exploding", epochs=5))
    assert job.finished.wait(120)
    view = manager.view(job.id)
    assert view.state == "failed" and "step 3" in view.error and "loss became" in view.error
    checkpoint = load_checkpoint(view.checkpoint)  # loading refuses NaN weights, so these are the good ones
    assert checkpoint.card["steps"] == 2 and "loss became" in checkpoint.card["note"]
    assert all(torch.isfinite(p).all() for p in checkpoint.model.parameters())


def test_a_failing_sample_grid_fails_the_job_with_one_sentence(manager, monkeypatch):
    def broken_sample(self, n, generator=None):
        raise RuntimeError("the decoder broke")

    monkeypatch.setattr(VAE, "sample", broken_sample)
    job = manager.submit(tiny_spec())
    assert job.finished.wait(120)
    view = manager.view(job.id)
    assert view.state == "failed"
    assert view.error == "Training failed with an unexpected RuntimeError (the decoder broke)."


def test_jobs_over_the_limit_wait_in_a_queue_and_start_in_turn(manager):
    first = manager.submit(tiny_spec(epochs=None, minutes=10))
    second = manager.submit(tiny_spec(epochs=None, minutes=10))
    third = manager.submit(tiny_spec(epochs=None, minutes=10))
    assert manager.view(second.id).state == "queued" and manager.view(third.id).state == "queued"
    assert "number 1" in manager.view(second.id).queue_message and "at most 1 model" in \
        manager.view(second.id).queue_message
    assert "number 2" in manager.view(third.id).queue_message
    manager.stop(third.id)  # a queued job is dropped without running
    assert manager.view(third.id).state == "cancelled" and third.thread is None
    wait_until(lambda: manager.view(first.id).step >= 1)
    manager.stop(first.id)
    wait_until(lambda: manager.view(second.id).state == "running")
    assert first.finished.is_set() and manager.view(first.id).state == "done"
    manager.stop(second.id)
    assert second.finished.wait(120)
    assert [j.id for j in manager.jobs()] == [third.id, second.id, first.id]


def test_the_queue_itself_has_a_limit(user_checkpoint_dir):
    manager = JobManager(max_running=1, max_queued=1)
    try:
        manager.submit(tiny_spec(epochs=None, minutes=10))
        manager.submit(tiny_spec(epochs=None, minutes=10))
        with pytest.raises(JobError, match="already waiting"):
            manager.submit(tiny_spec())
    finally:
        manager.shutdown()


def test_bad_requests_are_refused_with_one_sentence(manager):
    with pytest.raises(JobError, match="not available"):
        manager.submit(tiny_spec(dataset="no-such-data"))
    with pytest.raises(JobError, match="latent_dim"):
        manager.submit(tiny_spec(config={"latent_dim": 0}))
    with pytest.raises(JobError, match="settings"):
        manager.submit(tiny_spec(batch_size=0))
    with pytest.raises(JobError, match="not a safetensors|does not exist"):
        manager.submit(tiny_spec(resume_from="/nonexistent/x.safetensors"))
    assert manager.jobs() == []


def test_the_limit_on_running_jobs_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("GENLAB_MAX_JOBS", "3")
    assert JobManager().max_running == 3
    monkeypatch.delenv("GENLAB_MAX_JOBS")
    assert JobManager().max_running == 1  # one CPU, or one per GPU


def test_the_loss_history_stays_bounded_and_keeps_the_mean():
    history = LossHistory(max_points=10)
    for step in range(1, 1001):
        history.add(step, {"loss": float(step)})
    steps, values = history.snapshot()
    assert 10 <= len(steps) < 20 and steps == sorted(steps)
    assert all(later - earlier == history.bucket for earlier, later in zip(steps, steps[1:]))
    # Each point is the mean of the steps it covers, so the curve keeps its level.
    assert values["loss"][0] == pytest.approx((1 + history.bucket) / 2)


def threads_of_a_new_thread() -> int:
    seen = []
    reader = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    reader.start()
    reader.join()
    return seen[0]


def test_training_uses_all_cores_but_one_and_gives_them_back(manager, monkeypatch):
    monkeypatch.setenv("GENLAB_TRAIN_THREADS", "3")
    assert training_threads() == 3
    monkeypatch.delenv("GENLAB_TRAIN_THREADS")
    assert training_threads() == max(1, len(os.sched_getaffinity(0)) - 1)
    seen, prepare = [], TrainingRun.prepare

    def spying_prepare(self):
        seen.append(torch.get_num_threads())
        return prepare(self)

    monkeypatch.setattr(TrainingRun, "prepare", spying_prepare)
    before = threads_of_a_new_thread()
    job = manager.submit(tiny_spec(epochs=0.25))
    assert job.finished.wait(120) and manager.view(job.id).state == "done"
    if manager.devices[0].type == "cpu":
        assert seen == [training_threads()]
    assert threads_of_a_new_thread() == before  # the server's other threads get their cores back


@pytest.mark.skipif(not hasattr(os, "setpriority") or not os.path.exists("/proc/self/task"),
                    reason="per-thread priorities are a Linux feature")
def test_a_training_thread_runs_at_a_lower_priority_than_the_server(manager, monkeypatch):
    seen, prepare = [], TrainingRun.prepare

    def spying_prepare(self):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return prepare(self)

    monkeypatch.setattr(TrainingRun, "prepare", spying_prepare)
    job = manager.submit(tiny_spec(epochs=0.25))
    assert job.finished.wait(120) and manager.view(job.id).state == "done"
    assert seen and seen[0] >= 10 > os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
