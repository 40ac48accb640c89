import pytest
import torch

from genlab.playground.data import PLANE, toy_dataset
from genlab.playground.gan import (ToyGAN, ToyGANConfig, count_modes, fit_gaussian_mixture, mixture_density,
                                   mixture_log_likelihood, one_thread, plane_grid, twin_config)


def tiny_gan(**overrides) -> ToyGAN:
    return ToyGAN(toy_dataset("ring"), ToyGANConfig.tiny(**overrides), display_points=64)


def weights(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def changed(before: list[torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


@pytest.mark.parametrize("loss", ["non-saturating", "minimax"])
def test_one_training_step_moves_both_networks_and_reports_finite_losses(loss):
    gan = tiny_gan(loss=loss)
    g_before, d_before = weights(gan.generator), weights(gan.discriminator)
    entry = gan.train(1)
    assert changed(g_before, gan.generator) and changed(d_before, gan.discriminator)
    assert gan.step == 1 and entry["step"] == 1
    assert all(torch.isfinite(torch.tensor(entry[k])) for k in ("d_loss", "g_loss", "distance"))
    assert 0 <= entry["modes"] <= 8


@pytest.mark.parametrize("which, g_moves, d_moves", [("d", False, True), ("g", True, False)])
def test_training_one_network_leaves_the_other_alone(which, g_moves, d_moves):
    gan = tiny_gan()
    g_before, d_before = weights(gan.generator), weights(gan.discriminator)
    gan.train(3, which=which)
    assert changed(g_before, gan.generator) is g_moves
    assert changed(d_before, gan.discriminator) is d_moves
    assert gan.step == 3 and len(gan.history) == 1


def test_d_steps_per_g_step_are_counted_as_one_step():
    gan = tiny_gan(d_steps=3)
    calls = []
    original = gan.d_step
    gan.d_step = lambda: calls.append(1) or original()
    gan.train(2)
    assert len(calls) == 6 and gan.step == 2


def test_same_seed_same_run_and_the_twins_start_equal():
    a, b = tiny_gan(seed=5), tiny_gan(seed=5)
    a.train(4), b.train(4)
    assert torch.equal(a.fake_points(), b.fake_points())
    for optimizer in ("sgd", "adam"):
        config = twin_config(ToyGANConfig.tiny(seed=5), "minimax", optimizer)
        assert config.loss == "minimax" and config.optimizer == optimizer
        minimax = ToyGAN(toy_dataset("ring"), config, display_points=64)
        assert torch.equal(minimax.fake_points(), tiny_gan(seed=5).fake_points())  # same init, different loss
    assert not torch.equal(tiny_gan(seed=6).fake_points(), tiny_gan(seed=5).fake_points())


def test_the_two_losses_differ_only_in_the_generator_objective():
    fake = torch.randn(32, 2)
    ns = tiny_gan(loss="non-saturating")
    mm = tiny_gan(loss="minimax")
    with torch.no_grad():
        d = torch.sigmoid(ns.discriminator(fake)).squeeze(1)  # same D: same seed
        assert torch.allclose(ns.generator_loss(fake), -torch.log(d), atol=1e-5)
        assert torch.allclose(mm.generator_loss(fake), torch.log(1 - d), atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1])
def test_with_plain_sgd_the_non_saturating_generator_moves_first(seed):
    """The course's claim, on the page's suggested setting: single Gaussian, 3 D steps per G step, SGD."""
    distance = {}
    for loss in ("non-saturating", "minimax"):
        gan = ToyGAN(toy_dataset("gaussian"), twin_config(ToyGANConfig(seed=seed, d_steps=3), loss, "sgd"))
        start = gan.distance_to_data()
        gan.train(25)
        distance[loss] = gan.distance_to_data()
    assert distance["non-saturating"] < 0.7 * distance["minimax"] < 0.7 * start


def test_a_short_run_on_a_single_gaussian_brings_the_fakes_closer():
    gan = ToyGAN(toy_dataset("gaussian"), ToyGANConfig(hidden=32, batch_size=64, lr_g=3e-3, lr_d=3e-3))
    start = gan.distance_to_data()
    gan.train(300)
    assert gan.distance_to_data() < 0.6 * start


def test_instance_noise_and_bad_settings():
    gan = tiny_gan(instance_noise=0.3)
    assert torch.isfinite(torch.tensor(gan.train(2)["d_loss"]))
    with pytest.raises(ValueError, match="loss must be"):
        ToyGANConfig(loss="wasserstein")
    with pytest.raises(ValueError, match="which must be"):
        gan.train(1, which="both networks")


def test_drawing_helpers_have_the_documented_shapes():
    gan = tiny_gan(latent_dim=3)
    ticks, probs = gan.discriminator_map(20)
    assert ticks.shape == (20,) and probs.shape == (20, 20) and 0 <= probs.min() and probs.max() <= 1
    assert gan.manifold_lines(lines=5, points_per_line=7).shape == (10, 7, 2)
    points, push = gan.fake_gradients(16)
    assert points.shape == push.shape == (16, 2) and torch.isfinite(push).all()
    assert all(p.grad is None for p in gan.discriminator.parameters())  # arrows leave no gradients behind
    assert gan.samples(10, seed=1).shape == (10, 2) and torch.equal(gan.samples(10, 1), gan.samples(10, 1))
    assert tiny_gan(latent_dim=1).manifold_lines(points_per_line=7).shape == (1, 7, 2)


def test_drawing_the_arrows_does_not_change_training():
    with_arrows, without = tiny_gan(instance_noise=0.2), tiny_gan(instance_noise=0.2)
    for _ in range(3):
        with_arrows.fake_gradients(16)
        with_arrows.train(2), without.train(2)
    assert torch.equal(with_arrows.fake_points(), without.fake_points())


def test_the_discriminator_map_rows_are_y():
    ticks, points = plane_grid(4, extent=2.0)
    assert torch.allclose(ticks, torch.tensor([-1.5, -0.5, 0.5, 1.5]))
    grid = points.reshape(4, 4, 2)
    assert torch.equal(grid[0, :, 1], torch.full((4,), -1.5))  # first row: lowest y
    assert torch.equal(grid[:, 0, 0], torch.full((4,), -1.5))  # first column: lowest x


def test_mode_counter_on_a_collapsed_and_a_spread_set():
    ring = toy_dataset("ring")
    spread = ring.sample(1000, seed=0)
    result = count_modes(spread, ring.centres, ring.mode_std)
    assert result.covered == 8 and result.total == 8 and result.near_fraction > 0.95
    collapsed = ring.centres[2] + ring.mode_std * torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))
    result = count_modes(collapsed, ring.centres, ring.mode_std)
    assert result.covered == 1 and result.per_mode[2] > 950
    two_modes = torch.cat([collapsed[:500], ring.centres[5] + collapsed[500:] - ring.centres[2]])
    assert count_modes(two_modes, ring.centres, ring.mode_std).covered == 2
    far = torch.zeros(100, 2)  # the middle of the ring: near no mode at all
    assert count_modes(far, ring.centres, ring.mode_std).covered == 0


def test_a_handful_of_stray_points_does_not_count_as_a_mode():
    ring = toy_dataset("ring")
    points = torch.cat([ring.centres[0].expand(990, 2), ring.centres[1].expand(10, 2)])  # 10 << 1000/8/4
    assert count_modes(points, ring.centres, ring.mode_std).covered == 1


@pytest.mark.parametrize("name", ["ring", "moons"])
def test_gaussian_mixture_density_integrates_to_about_one(name):
    data = toy_dataset(name)
    mixture = fit_gaussian_mixture(data.sample(1000, 0), components=8, seed=0)
    ticks, density = mixture_density(mixture, resolution=200)
    cell = (2 * PLANE / 200) ** 2
    assert density.shape == (200, 200) and density.min() >= 0
    assert float(density.sum() * cell) == pytest.approx(1.0, abs=0.03)
    held_out = mixture_log_likelihood(mixture, data.sample(500, 1))
    assert held_out > mixture_log_likelihood(mixture, torch.rand(500, 2) * 6 - 3)  # data beats noise


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
