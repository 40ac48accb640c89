import io

import numpy as np
import pytest
import torch
from PIL import Image

from genlab.explore import latent_space as explore
from genlab.explore.latent import grid_points, traversal
from genlab.models.vae import VAE, VAEConfig


@pytest.fixture
def model():
    torch.manual_seed(0)
    return VAE(VAEConfig.tiny(latent_dim=3)).eval()


def test_encode_dataset_gives_means_sigmas_and_a_nonnegative_kl_per_dimension(model):
    images, labels = torch.rand(12, 1, 28, 28), torch.arange(12) % 3
    encoded = explore.encode_dataset(model, images, labels, batch_size=5)
    mu, logvar = model.encode(images)
    assert torch.allclose(encoded.mu, mu.detach()) and torch.allclose(encoded.sigma, (0.5 * logvar).exp().detach())
    assert encoded.kl_per_dimension.shape == (3,) and (encoded.kl_per_dimension >= 0).all()
    order = encoded.dimensions_by_use()
    assert sorted(order) == [0, 1, 2]
    assert encoded.kl_per_dimension[order[0]] >= encoded.kl_per_dimension[order[-1]]


def test_an_unused_dimension_has_zero_kl():
    encoded = explore.EncodedSet(mu=torch.tensor([[2.0, 0.0], [-2.0, 0.0]]), sigma=torch.tensor([[0.1, 1.0]] * 2),
                                 labels=torch.zeros(2))
    assert encoded.kl_per_dimension[1].item() == pytest.approx(0.0, abs=1e-6)
    assert encoded.dimensions_by_use() == [0, 1]


def test_decode_grid_is_the_decoder_on_grid_points(model):
    base = torch.tensor([0.0, 0.0, 0.7])
    images = explore.decode_grid(model, 4, 2.0, dims=(0, 1), base=base)
    expected = model.decode(grid_points(4, 2.0, (0, 1), base, latent_dim=3))
    assert images.shape == (16, 1, 28, 28) and torch.allclose(images, expected.detach())


def test_sprite_sheet_puts_tile_i_at_row_i_div_n_column_i_mod_n():
    images = torch.rand(6, 1, 28, 28)
    sheet = np.asarray(Image.open(io.BytesIO(explore.sprite_sheet_png(images, ncol=3))))
    assert sheet.shape == (56, 84)  # 2 rows x 3 columns of 28-pixel tiles, edge to edge
    tile_4 = sheet[28:56, 28:56] / 255  # row 1, column 1
    assert np.abs(tile_4 - images[4, 0].numpy()).max() <= 0.5 / 255 + 1e-6


def test_traversal_strips_vary_one_dimension_each(model):
    base = torch.tensor([0.3, -0.2, 0.1])
    strips = explore.traversal_strips(model, base, dims=[2, 0], span=2.0, steps=5)
    assert strips.shape == (2, 5, 1, 28, 28)
    assert torch.allclose(strips[0], model.decode(traversal(base, 2, 2.0, 5)).detach())


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_interpolation_starts_and_ends_at_the_two_means(model, method):
    a, b = torch.rand(1, 28, 28), torch.rand(1, 28, 28)
    path, frames = explore.interpolation(model, a, b, steps=7, method=method)
    mu, _ = model.encode(torch.stack([a, b]))
    assert path.shape == (7, 3) and frames.shape == (7, 1, 28, 28)
    assert torch.allclose(path[0], mu[0].detach(), atol=1e-5) and torch.allclose(path[-1], mu[1].detach(), atol=1e-5)


def test_reconstruct_is_seeded_and_leaves_the_model_alone(model):
    before = {k: v.clone() for k, v in model.state_dict().items()}
    image = torch.rand(1, 28, 28)
    first, second = explore.reconstruct(model, image, samples=4), explore.reconstruct(model, image, samples=4)
    assert first.samples.shape == (4, 1, 28, 28) and first.reconstruction.shape == (1, 28, 28)
    assert first.recon_nats == second.recon_nats and torch.equal(first.samples, second.samples)
    assert first.neg_elbo == pytest.approx(first.recon_nats + first.kl_nats) and first.kl_nats >= 0
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_fit_drawing_centres_and_scales_the_ink_like_mnist():
    drawing = torch.zeros(1, 28, 28)
    drawing[0, 2:8, 20:23] = 1.0  # a small stroke in the top right corner
    fitted = explore.fit_drawing(drawing, box=20)
    ink = fitted[0] > 0.05
    rows = ink.any(1).nonzero()[:, 0]
    assert rows[-1] - rows[0] + 1 == 20  # the tall side now spans the box
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    mass = fitted[0].sum()
    assert abs((fitted[0] * ys).sum() / mass - 13.5) < 1 and abs((fitted[0] * xs).sum() / mass - 13.5) < 1
    blank = torch.zeros(1, 28, 28)
    assert torch.equal(explore.fit_drawing(blank), blank)


def test_subsample_is_fixed_sorted_and_complete_when_small():
    assert explore.subsample(10, 20).tolist() == list(range(10))
    picked = explore.subsample(1000, 50, seed=3)
    assert len(set(picked.tolist())) == 50 and (np.diff(picked) > 0).all()
    assert np.array_equal(picked, explore.subsample(1000, 50, seed=3))
