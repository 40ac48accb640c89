"""The frames a training job shows (sample grid, latent map, held-out metrics), drawn beside the training thread
from a copy of the weights."""
import io
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from genlab.data import ImageDataset
from genlab.models.aae import AAE, AAEConfig
from genlab.models.autoencoder import Autoencoder, AutoencoderConfig
from genlab.models.cyclegan import CycleGAN, CycleGANConfig
from genlab.models.dcgan import DCGAN, DCGANConfig
from genlab.models.stargan import StarGAN, StarGANConfig
from genlab.models.vae import VAE, VAEConfig
from genlab.training import live as job_extras
from genlab.training.live import LiveExtras


def toy_test_set() -> ImageDataset:
    g = torch.Generator().manual_seed(1)
    return ImageDataset("toy", "test", (torch.rand(300, 1, 28, 28, generator=g) > 0.6).float(),
                        torch.randint(0, 3, (300,), generator=g), ["a", "b", "c"], "random pixels")


class Recorder:
    """publish(): remembers each frame and the thread that published it."""

    def __init__(self):
        self.frames, self.threads = [], []
        self.published = threading.Event()

    def __call__(self, frame):
        self.frames.append(frame)
        self.threads.append(threading.current_thread().name)
        self.published.set()


def tiny_vae() -> VAE:
    torch.manual_seed(0)
    return VAE(VAEConfig(latent_dim=2, width=4, hidden=16))


def expected_neg_elbo(model: VAE, data: ImageDataset) -> float:
    x, y = data.images[:job_extras.HELD_OUT_IMAGES], data.labels[:job_extras.HELD_OUT_IMAGES]
    g = torch.Generator().manual_seed(0)
    return model.eval().evaluate(x, y, generator=g)["neg_elbo"] / len(x)


def test_a_frame_offered_between_steps_is_drawn_in_another_thread_from_the_weights_of_that_step(monkeypatch):
    monkeypatch.setattr(job_extras, "HELD_OUT_EVERY_S", 0.0)  # held-out metrics with every frame
    monkeypatch.setattr(job_extras, "BUDGET", 1.0)
    model, data, recorder = tiny_vae(), toy_test_set(), Recorder()
    at_step_7 = expected_neg_elbo(tiny_vae(), data)  # the same seed: the weights offered at step 7
    extras = LiveExtras(model.train(), data, torch.device("cpu"), recorder)
    try:
        extras.offer(7)
        with torch.no_grad():  # training goes on at once: the frame must not see these weights
            for p in model.parameters():
                p.mul_(0.5)
        assert recorder.published.wait(60)
        extras.draw_now(8)  # waits for the frame in progress, then draws in this thread, from the new weights
    finally:
        extras.close()
    first, last = recorder.frames
    assert first.step == 7 and last.step == 8
    here = threading.current_thread().name
    assert recorder.threads[0] != here and recorder.threads[1] == here
    assert first.grid_png.startswith(b"\x89PNG")
    assert first.latent.points.shape == (job_extras.LATENT_POINTS, 2) and first.latent.step == 7
    assert first.held_out["neg_elbo"] == pytest.approx(at_step_7, rel=1e-5)
    assert last.held_out["neg_elbo"] == pytest.approx(expected_neg_elbo(model, data), rel=1e-5)
    assert last.held_out["neg_elbo"] != pytest.approx(at_step_7, rel=1e-3)


def test_held_out_metrics_come_less_often_than_frames():
    recorder = Recorder()
    extras = LiveExtras(tiny_vae(), toy_test_set(), torch.device("cpu"), recorder)
    try:
        extras.draw_now(1)
        extras.draw_now(2)
    finally:
        extras.close()
    assert "neg_elbo" in recorder.frames[0].held_out and recorder.frames[1].held_out == {}


def test_the_copy_carries_buffers_too_batch_norm_statistics_and_step_counters():
    torch.manual_seed(0)
    model = DCGAN(DCGANConfig(latent_dim=8, width=4))
    optimizers = model.make_optimizers()
    extras = LiveExtras(model, toy_test_set(), torch.device("cpu"), Recorder())
    try:
        for _ in range(2):
            model.train_step(toy_test_set().images[:16], toy_test_set().labels[:16], optimizers)
        extras.draw_now(2)
    finally:
        extras.close()
    live, copied = model.state_dict(), extras.shadow.state_dict()
    assert int(copied["steps_done"]) == 2
    assert all(torch.equal(live[name], copied[name]) for name in live)


def test_a_frame_is_not_offered_again_before_it_is_due():
    recorder = Recorder()
    extras = LiveExtras(tiny_vae(), toy_test_set(), torch.device("cpu"), recorder)
    try:
        extras.draw_now(1)
        for step in range(2, 20):
            extras.offer(step)  # the next frame is due FRAME_EVERY_S after the last began
    finally:
        extras.close()
    assert [frame.step for frame in recorder.frames] == [1]


def test_a_model_without_likelihood_or_2d_code_gives_only_a_grid():
    recorder = Recorder()
    extras = LiveExtras(DCGAN(DCGANConfig(latent_dim=8, width=4)), toy_test_set(), torch.device("cpu"), recorder)
    try:
        extras.draw_now(3)
    finally:
        extras.close()
    (frame,) = recorder.frames
    assert frame.grid_png.startswith(b"\x89PNG") and frame.latent is None and frame.held_out == {}


def test_an_error_while_drawing_reaches_the_training_thread(monkeypatch):
    def broken_sample(self, n, generator=None):
        raise RuntimeError("the decoder broke")

    monkeypatch.setattr(VAE, "sample", broken_sample)
    extras = LiveExtras(tiny_vae(), toy_test_set(), torch.device("cpu"), Recorder())
    try:
        extras.offer(1)  # drawn in the other thread, which fails
        extras._idle.wait(60)
        with pytest.raises(RuntimeError, match="the decoder broke"):
            extras.offer(2)  # raised at the next step
    finally:
        extras.close()


def test_the_latent_map_of_an_aae_carries_samples_of_its_prior_and_an_autoencoder_none():
    frames = {}
    for name, model in (("aae", AAE(AAEConfig.tiny(prior="ring"))), ("ae", Autoencoder(AutoencoderConfig.tiny()))):
        recorder = Recorder()
        extras = LiveExtras(model, toy_test_set(), torch.device("cpu"), recorder)
        try:
            extras.draw_now(1)
        finally:
            extras.close()
        frames[name] = recorder.frames[-1].latent
    ring = frames["aae"].prior  # (N, 2) samples of a ring of radius 2
    assert ring.shape == frames["aae"].points.shape
    assert abs(float((ring ** 2).sum(1).mean() ** 0.5) - 2.0) < 0.1
    assert frames["ae"].prior is None and frames["ae"].points.shape == (job_extras.LATENT_POINTS, 2)


@pytest.mark.parametrize("model, columns", [(CycleGAN(CycleGANConfig.tiny()), 8),  # domains 0 and 1: 4 images each
                                            (StarGAN(StarGANConfig.tiny(num_domains=3)), 9)])  # 3 each
def test_a_translator_shows_test_images_their_translations_and_the_round_trips(model, columns):
    recorder, data = Recorder(), toy_test_set()
    extras = LiveExtras(model, data, torch.device("cpu"), recorder)
    try:
        extras.draw_now(0)
    finally:
        extras.close()
    (frame,) = recorder.frames
    picture = np.asarray(Image.open(io.BytesIO(frame.grid_png)).convert("L")) / 255  # (H, W): 28 px tiles, 1 px
    # lines between them, all twice as large
    assert picture.shape == ((3 * 29 + 1) * 2, (columns * 29 + 1) * 2)  # rows: inputs, translations, round trips
    first = data.images[data.labels == 0][0, 0].numpy()  # (28, 28): the top-left tile is a test image as it is
    assert np.abs(picture[2:58:2, 2:58:2] - first).max() < 0.01
    assert np.abs(picture[60:116:2, 2:58:2] - first).max() > 0.1  # below it, its translation differs
