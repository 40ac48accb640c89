import math
import threading

import pytest
import torch

from genlab.data import ImageDataset
from genlab.models.base import evaluate_model
from genlab.models.vae import VAE, VAEConfig
from genlab.training.trainer import NonFiniteLoss, Trainer, TrainSettings


def toy_dataset(n=64):
    g = torch.Generator().manual_seed(0)
    return ImageDataset("toy", "train", (torch.rand(n, 1, 28, 28, generator=g) > 0.6).float(),
                        torch.zeros(n, dtype=torch.long), ["x"], "test")


def test_runs_the_requested_epochs_and_reports_events():
    events = []
    model = VAE(VAEConfig.tiny())
    result = Trainer(model, toy_dataset(), TrainSettings(epochs=2, batch_size=16),
                     callbacks=[events.append]).run()
    assert result.steps == 8 and result.epochs == 2 and not result.stopped_early
    steps = [e for e in events if e.kind == "step"]
    assert [e.step for e in steps] == list(range(1, 9))
    assert steps[-1].progress == 1.0 and set(steps[0].losses) == {"loss", "recon", "kl"}
    assert events[-1].kind == "end"


def test_a_step_budget_is_a_step_count_whichever_limit_comes_first():
    result = Trainer(VAE(VAEConfig.tiny()), toy_dataset(), TrainSettings(epochs=None, max_steps=5, batch_size=16)).run()
    assert result.steps == 5
    result = Trainer(VAE(VAEConfig.tiny()), toy_dataset(), TrainSettings(epochs=10, max_steps=7, batch_size=16)).run()
    assert result.steps == 7  # the step budget is reached before ten epochs
    resumed = Trainer(VAE(VAEConfig.tiny()), toy_dataset(), TrainSettings(epochs=None, max_steps=3, batch_size=16),
                      start_step=100).run()
    assert resumed.steps == 103  # a budget counts the steps of this run; the step counter carries on


def test_stop_flag_ends_training_between_steps():
    stop = threading.Event()

    def stop_after_three(event):
        if event.kind == "step" and event.step == 3:
            stop.set()

    result = Trainer(VAE(VAEConfig.tiny()), toy_dataset(), TrainSettings(epochs=10, batch_size=16),
                     callbacks=[stop_after_three], stop=stop).run()
    assert result.steps == 3 and result.stopped_early


class ExplodesAtStep(VAE):
    """A VAE whose third step returns a NaN loss after wrecking its weights, as a diverging run would."""

    def __init__(self, config, bad_step=3):
        super().__init__(config)
        self.calls, self.bad_step = 0, bad_step

    def train_step(self, x, y, optimizers):
        self.calls += 1
        if self.calls == self.bad_step:
            with torch.no_grad():
                for p in self.parameters():
                    p.fill_(math.nan)
            return {"loss": math.nan}
        return super().train_step(x, y, optimizers)


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_weights():
    model = ExplodesAtStep(VAEConfig.tiny())
    snapshots = []
    trainer = Trainer(model, toy_dataset(), TrainSettings(epochs=5, batch_size=16),
                      callbacks=[lambda e: snapshots.append({k: v.clone() for k, v in model.state_dict().items()})])
    with pytest.raises(NonFiniteLoss, match="step 3.*loss became"):
        trainer.run()
    good = snapshots[-1]  # after step 2, the last finite one
    for name, value in model.state_dict().items():
        assert torch.equal(value, good[name]), name


def test_settings_need_an_end():
    with pytest.raises(ValueError):
        TrainSettings(epochs=None, max_seconds=None)


def test_evaluate_model_averages_per_image():
    model = VAE(VAEConfig.tiny())
    metrics = evaluate_model(model, toy_dataset(40), batch_size=16)
    assert set(metrics) == {"neg_elbo", "recon", "kl"}
    assert metrics["neg_elbo"] == pytest.approx(metrics["recon"] + metrics["kl"], rel=1e-5)
    assert evaluate_model(model, toy_dataset(40), batch_size=16) == metrics  # fixed noise: the same figure
