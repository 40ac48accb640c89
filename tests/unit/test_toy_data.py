import math

import pytest
import torch

from genlab.playground.data import PLANE, TOY_DATASETS, drawn_points, ring_of_gaussians, toy_dataset

ALL = [*TOY_DATASETS, "drawn"]
DRAWN = [(0.0, 0.0), (1.0, -1.0), (-2.0, 2.5)]


def make(name):
    return toy_dataset(name, DRAWN if name == "drawn" else None)


def test_the_issue_lists_six_datasets():
    assert set(ALL) == {"ring", "grid", "moons", "spiral", "gaussian", "drawn"}


@pytest.mark.parametrize("name", ALL)
def test_each_dataset_gives_finite_points_on_the_plane(name):
    points = make(name).sample(500, seed=0)
    assert points.shape == (500, 2) and points.dtype == torch.float32
    assert torch.isfinite(points).all()
    assert points.abs().max() < PLANE  # the plots and the discriminator map cover [-PLANE, PLANE]^2


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_points_other_seed_other_points(name):
    data = make(name)
    assert torch.equal(data.sample(200, seed=3), data.sample(200, seed=3))
    assert not torch.equal(data.sample(200, seed=3), data.sample(200, seed=4))
    assert torch.equal(data.sample(50, torch.Generator().manual_seed(3)), data.sample(50, 3))


def test_mixtures_carry_their_mode_centres():
    ring, grid, single = make("ring"), make("grid"), make("gaussian")
    assert ring.centres.shape == (8, 2) and grid.centres.shape == (25, 2) and single.centres.shape == (1, 2)
    assert torch.allclose(ring.centres.norm(dim=1), torch.full((8,), 2.0))
    assert not make("moons").is_mixture and not make("spiral").is_mixture


def test_ring_points_sit_on_their_modes():
    data = ring_of_gaussians()
    points = data.sample(4000, seed=1)
    nearest = torch.cdist(points, data.centres).min(dim=1)  # (n,)
    assert (nearest.values < 4 * data.mode_std).float().mean() > 0.99
    counts = torch.bincount(nearest.indices, minlength=8)
    assert counts.min() > 400  # equal weights: about 500 each


def test_moons_and_spiral_have_their_shapes():
    moons = make("moons").sample(2000, 0)
    assert moons[:, 0].min() < -1.5 and moons[:, 0].max() > 1.5  # two interleaved arcs span about [-2.4, 2.4]
    spiral = make("spiral").sample(2000, 0)
    radius = spiral.norm(dim=1)
    assert radius.min() < 1.0 < 2.0 < radius.max()  # the radius grows along the arm


def test_drawn_points_become_a_sampler_around_the_clicks():
    data = drawn_points(DRAWN)
    points = data.sample(3000, 0)
    nearest = torch.cdist(points, torch.tensor(DRAWN)).min(dim=1)
    assert nearest.values.max() < 0.6  # blurred by std 0.1
    assert set(torch.bincount(nearest.indices, minlength=3).tolist()) != {0}


def test_drawing_nothing_or_outside_the_plane_is_one_clear_error():
    with pytest.raises(ValueError, match="at least one point"):
        toy_dataset("drawn", [])
    with pytest.raises(ValueError, match="inside the square"):
        drawn_points([(0.0, math.inf)])
    with pytest.raises(ValueError, match="Unknown 2-D dataset"):
        toy_dataset("swiss-cheese")
