import pytest
import torch

from genlab.explore.latent import grid_points, interpolate, slerp, traversal, vector_arithmetic


def test_grid_points_cover_the_span_row_major_top_down():
    points = grid_points(3, 2.0)
    assert points.shape == (9, 2)
    assert points[0].tolist() == [-2.0, 2.0]  # top left
    assert points[2].tolist() == [2.0, 2.0]  # top right
    assert points[8].tolist() == [2.0, -2.0]  # bottom right


def test_grid_over_chosen_dims_keeps_the_base_elsewhere():
    base = torch.arange(5.0)
    points = grid_points(4, 1.0, dims=(1, 3), base=base, latent_dim=5)
    assert torch.equal(points[:, [0, 2, 4]], base[[0, 2, 4]].expand(16, 3))


def test_traversal_varies_one_dimension():
    steps = traversal(torch.ones(4), dim=2, span=3, steps=7)
    assert steps[:, 2].tolist() == pytest.approx([-3, -2, -1, 0, 1, 2, 3])
    assert (steps[:, [0, 1, 3]] == 1).all()


def test_slerp_keeps_endpoints_and_gaussian_norms():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, generator=g), torch.randn(64, generator=g)
    path = slerp(a, b, 9)
    assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[-1], b, atol=1e-5)
    lerp_mid = interpolate(a, b, 9, "lerp")[4].norm()
    assert path[4].norm() > lerp_mid  # lerp cuts through the low-probability centre; slerp does not


def test_vector_arithmetic_on_known_vectors():
    a = torch.tensor([[1.0, 0, 0], [3.0, 0, 0]])  # mean (2, 0, 0)
    b = torch.tensor([[0.0, 1, 0]])
    c = torch.tensor([[0.0, 0, 5], [0.0, 0, 7]])  # mean (0, 0, 6)
    assert vector_arithmetic(a, b, c).tolist() == [2.0, -1.0, 6.0]
    with pytest.raises(ValueError, match="group B"):
        vector_arithmetic(a, torch.empty(0, 3), c)
