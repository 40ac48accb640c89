import pytest
import torch

from genlab.checkpoints import save_checkpoint
from genlab.data import ImageDataset
from genlab.models import get_kind
from genlab.models.base import evaluate_model
from genlab.models.dcgan import DCGAN, DCGANConfig
from genlab.models.loading import load_checkpoint
from genlab.training.trainer import Trainer, TrainSettings


def batch(n=8, seed=0):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


def changed(before, module):
    return any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


@pytest.mark.parametrize("latent", [8, 64])
def test_shapes_and_ranges(latent):
    model = DCGAN(DCGANConfig(latent_dim=latent, width=8)).eval()
    z = model.random_latents(5, 0)
    assert z.shape == (5, latent)
    images = model.decode(z)
    assert images.shape == (5, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
    assert model.discriminate(images * 2 - 1).shape == (5,)
    assert model.sample(7, 3).shape == (7, 1, 28, 28)


@pytest.mark.parametrize("loss", ["non-saturating", "minimax"])
def test_both_losses_are_finite_and_one_step_changes_both_networks(loss):
    torch.manual_seed(0)
    model = DCGAN(DCGANConfig.tiny(loss=loss)).train()
    optimizers = model.make_optimizers()
    g_before, d_before = snapshot(model.generator), snapshot(model.discriminator)
    out = model.train_step(batch(), None, optimizers)
    assert list(out) == ["loss_d", "loss_g", "d_real", "d_fake"]
    assert all(torch.isfinite(torch.tensor(v)) for v in out.values())
    assert 0 < out["d_real"] < 1 and 0 < out["d_fake"] < 1
    assert changed(g_before, model.generator) and changed(d_before, model.discriminator)
    assert model.steps_done.item() == 1


def test_generator_losses_follow_their_formulas():
    logits = torch.tensor([-3.0, 0.0, 2.0])
    d = torch.sigmoid(logits)  # D(G(z))
    minimax = DCGAN(DCGANConfig.tiny(loss="minimax")).generator_loss(logits)
    non_saturating = DCGAN(DCGANConfig.tiny()).generator_loss(logits)
    assert minimax.item() == pytest.approx(torch.log(1 - d).mean().item(), rel=1e-5)
    assert non_saturating.item() == pytest.approx(-torch.log(d).mean().item(), rel=1e-5)


def test_non_saturating_gradient_is_larger_when_d_rejects_the_fakes():
    """The reason for the non-saturating loss: where D(G(z)) is near 0, log(1 - D) is flat, -log D is steep."""
    grads = {}
    for loss in ("minimax", "non-saturating"):
        logit = torch.tensor([-6.0], requires_grad=True)  # D(G(z)) = 0.0025: a confidently rejected fake
        DCGAN(DCGANConfig.tiny(loss=loss)).generator_loss(logit).backward()
        grads[loss] = logit.grad.abs().item()
    assert grads["non-saturating"] > 100 * grads["minimax"]


def test_seeded_sampling_repeats_and_ignores_the_batch():
    torch.manual_seed(0)
    model = DCGAN(DCGANConfig.tiny())
    optimizers = model.make_optimizers()
    for seed in range(3):  # give batch norm some running statistics first
        model.train_step(batch(seed=seed), None, optimizers)
    assert model.training
    first = model.sample(6, 11)
    assert model.training  # sample() restores the mode it found
    assert torch.equal(first, model.sample(6, 11))
    assert not torch.equal(first, model.sample(6, 12))
    model.eval()
    one_by_one = torch.cat([model.decode(z[None]) for z in model.random_latents(6, 11)])
    assert torch.allclose(one_by_one, first, atol=1e-6)  # eval mode: each image depends only on its own z


def test_instance_noise_fixed_and_annealed():
    assert DCGAN(DCGANConfig.tiny()).noise_std() == 0
    fixed = DCGAN(DCGANConfig.tiny(instance_noise=0.3))
    annealed = DCGAN(DCGANConfig.tiny(instance_noise=0.3, noise_anneal_steps=4))
    for model in (fixed, annealed):
        optimizers = model.make_optimizers()
        for seed in range(2):
            out = model.train_step(batch(seed=seed), None, optimizers)
            assert all(torch.isfinite(torch.tensor(v)) for v in out.values())
    assert fixed.noise_std() == pytest.approx(0.3)
    assert annealed.noise_std() == pytest.approx(0.15)  # 2 of 4 steps done
    annealed.steps_done.fill_(10)
    assert annealed.noise_std() == 0


def test_instance_noise_reaches_the_discriminator():
    x = torch.zeros(4, 1, 28, 28)
    model = DCGAN(DCGANConfig.tiny())
    assert torch.equal(model.add_instance_noise(x, 0.0), x)
    assert model.add_instance_noise(x, 0.5).std().item() == pytest.approx(0.5, rel=0.1)


@pytest.mark.parametrize("bad", [{"loss": "wasserstein"}, {"latent_dim": 0}, {"instance_noise": -1},
                                 {"width": 0}, {"image_size": 30}])
def test_bad_configs_are_refused(bad):
    with pytest.raises(ValueError):
        DCGANConfig(**bad)


def test_registered_as_an_implicit_kind_that_trains_and_round_trips(tmp_path):
    kind = get_kind("dcgan")
    assert "implicit" in kind.family
    model = kind.build(DCGANConfig.tiny())
    data = ImageDataset("random", "train", batch(48), torch.zeros(48, dtype=torch.long), ["none"], "test")
    Trainer(model, data, TrainSettings(epochs=1, batch_size=16)).run()
    assert model.steps_done.item() == 3
    assert evaluate_model(model, data) == {}  # no likelihood: a GAN is only a sampler
    path = save_checkpoint(tmp_path / "g.safetensors", model, "dcgan", {"dataset": "random"}, half=True)
    loaded = load_checkpoint(path, expect_kind="dcgan").model
    assert loaded.steps_done.item() == 3
    assert torch.allclose(loaded.sample(4, 5), model.eval().sample(4, 5), atol=0.02)  # float16 weights
