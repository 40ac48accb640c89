"""The progressive GAN: the growth schedule, the fade-in's continuity, and samples that stay 28x28 at every stage."""
import torch
import torch.nn.functional as F

from genlab.models.progan import ProGAN, ProGANConfig


def test_the_schedule_goes_7_fade_14_fade_28_and_stays():
    model = ProGAN(ProGANConfig.tiny(phase_steps=10))
    assert [model.growth(s) for s in (0, 9, 10, 15, 20, 30, 35, 40, 1000)] == [
        (0, 1.0), (0, 1.0), (1, 0.0), (1, 0.5), (1, 1.0), (2, 0.0), (2, 0.5), (2, 1.0), (2, 1.0)]


def test_at_alpha_0_the_grown_generator_draws_the_smaller_ones_image_upsampled():
    torch.manual_seed(0)
    model = ProGAN(ProGANConfig.tiny()).eval()
    z = torch.randn(4, 8)
    with torch.no_grad():
        for stage in (1, 2):
            grown = model.generator(z, stage, 0.0)  # (4, 1, s, s)
            before = model.generator(z, stage - 1, 1.0)  # (4, 1, s / 2, s / 2)
            assert torch.allclose(grown, F.interpolate(before, scale_factor=2), atol=1e-6)
            assert not torch.allclose(model.generator(z, stage, 1.0), grown)  # alpha 1: the new block's image


def test_training_walks_through_the_stages_and_samples_are_always_28x28():
    torch.manual_seed(0)
    model = ProGAN(ProGANConfig.tiny(phase_steps=2))
    optimizers = model.make_optimizers()
    x = torch.rand(8, 1, 28, 28)
    seen = []
    for _ in range(10):
        report = model.train_step(x, torch.zeros(8, dtype=torch.long), optimizers)
        seen.append((report["resolution"], report["alpha"]))
        assert model.sample(3, 0).shape == (3, 1, 28, 28)
    assert seen[0] == (7.0, 1.0) and (14.0, 0.5) in seen and seen[-1] == (28.0, 1.0)
    stage7 = ProGAN(ProGANConfig.tiny()).sample(2, 0)  # a 7x7 stage: each pixel repeated 4 x 4
    assert torch.equal(stage7, F.interpolate(stage7[:, :, ::4, ::4], scale_factor=4))
