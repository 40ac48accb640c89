"""The factor x dimension matrix and MIG: a code that copies one factor per dimension scores high, a mixed one low."""
import torch

from genlab.data import load_dataset, where_factors_apply
from genlab.evaluation.disentanglement import factor_matrix


def _factors(n=3000, seed=0):
    g = torch.Generator().manual_seed(seed)
    shape = torch.randint(0, 3, (n, 1), generator=g).float()
    rest = torch.rand(n, 2, generator=g)
    return torch.cat([shape, rest], 1), ["shape", "scale", "x"]


def test_a_code_that_copies_each_factor_has_one_bright_cell_per_row():
    factors, names = _factors()
    noise = 0.01 * torch.randn(len(factors), 3, generator=torch.Generator().manual_seed(1))
    codes = factors[:, [2, 0, 1]] + noise  # z0 = x, z1 = shape, z2 = scale
    fm = factor_matrix(codes, factors, names)
    assert [fm.best_dimension(k) for k in range(3)] == [1, 2, 0]
    assert fm.normalised.argmax(1).tolist() == [1, 2, 0]
    assert fm.one_dimension_fit[0, 1] > 0.99  # the shape read off z1's bins
    assert fm.one_dimension_fit[1, 2] > 0.95 and fm.one_dimension_fit[2, 0] > 0.95  # R^2
    assert fm.mig > 0.6


def test_a_code_that_mixes_the_factors_scores_a_low_mig():
    factors, names = _factors()
    mixing = torch.tensor([[1.0, 1.0, 1.0], [1.0, -1.0, 0.5], [0.5, 1.0, -1.0]])
    codes = factors @ mixing  # every dimension a blend of all three
    assert factor_matrix(codes, factors, names).mig < 0.3


def test_rotation_counts_only_where_a_shape_has_one():
    shapes = load_dataset("shapes", "test")
    mask = where_factors_apply(shapes)["rotation"]
    circle = shapes.class_names.index("circle")
    assert not mask[shapes.labels == circle].any() and mask[shapes.labels != circle].all()
