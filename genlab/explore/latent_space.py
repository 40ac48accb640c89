"""Looking inside a trained VAE or autoencoder: encode a dataset, decode grids and traversals, interpolate,
reconstruct.

Everything here is plain PyTorch (no Streamlit), runs under torch.inference_mode() and never changes the
model: the VAE explorer page caches these results per checkpoint, and students can read them to see what
each picture on the page is made of.

Vocabulary: the encoder gives, for an image x, a Gaussian q(z|x) = N(mu, sigma^2) over latent codes z; the
decoder maps a code z to an image (the mean of p(x|z), grey levels in [0, 1]). A plain or adversarial
autoencoder gives one code per image instead: mu is that code, and sigma is 0.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from genlab.explore.latent import grid_points, interpolate, traversal


@dataclass
class EncodedSet:
    """Every image of a dataset split encoded by a VAE (all on the CPU)."""

    mu: torch.Tensor  # (N, latent) means of q(z|x)
    sigma: torch.Tensor  # (N, latent) standard deviations of q(z|x)
    labels: torch.Tensor  # (N,) class of each image

    @property
    def kl_per_dimension(self) -> torch.Tensor:
        """Average KL(q(z_d|x) || N(0, 1)) of each latent dimension over the set, in nats: (latent,).

        A dimension the model does not use keeps q = N(0, 1) for every image, so its KL is about 0: the decoder
        ignores it. Sorting by this number shows which dimensions carry information (a beta-VAE uses few)."""
        var = self.sigma.pow(2)
        return (0.5 * (self.mu.pow(2) + var - 1 - var.log())).mean(0)

    @property
    def stochastic(self) -> bool:
        """True for a VAE's q(z|x) = N(mu, sigma^2); False for an autoencoder's single code (sigma 0)."""
        return bool((self.sigma > 0).any())

    @property
    def spread_per_dimension(self) -> torch.Tensor:
        """Standard deviation of the codes (means) over the set, per dimension: (latent,)."""
        return self.mu.std(0)

    def dimensions_by_use(self) -> list[int]:
        """Latent dimensions, the most used first: by average KL for a VAE; by the codes' spread for an
        autoencoder, which has no KL."""
        use = self.kl_per_dimension if self.stochastic else self.spread_per_dimension
        return torch.argsort(use, descending=True).tolist()


def _device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.inference_mode()
def encode(model, images: torch.Tensor, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """images (N, C, H, W) in [0, 1] -> mu, sigma, each (N, latent), on the CPU. A deterministic encoder (an
    autoencoder: logvar None) gives sigma 0."""
    device = _device_of(model)
    mus, sigmas = [], []
    for batch in images.split(batch_size):
        mu, logvar = model.encode(batch.to(device))  # (B, latent) each, or mu and None
        mus.append(mu.float().cpu())
        sigmas.append(torch.zeros_like(mus[-1]) if logvar is None else torch.exp(0.5 * logvar).float().cpu())
    return torch.cat(mus), torch.cat(sigmas)


def encode_dataset(model, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500) -> EncodedSet:
    mu, sigma = encode(model, images, batch_size)
    return EncodedSet(mu=mu, sigma=sigma, labels=labels.cpu())


@torch.inference_mode()
def decode(model, z: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Codes z (N, latent) -> images (N, C, H, W) in [0, 1], on the CPU."""
    device = _device_of(model)
    return torch.cat([model.decode(batch.to(device)).float().cpu() for batch in z.float().split(batch_size)])


def decode_grid(model, n: int, span: float, dims: tuple[int, int] = (0, 1),
                base: torch.Tensor | None = None) -> torch.Tensor:
    """Kingma & Welling's manifold figure: decode an n x n grid over two latent dimensions, [-span, span] each,
    the other dimensions fixed at `base` (zeros by default). Returns (n*n, C, H, W), row-major, top row at +span."""
    latent_dim = model.latent_dim
    return decode(model, grid_points(n, span, dims=dims, base=base, latent_dim=latent_dim))


def sprite_sheet_png(images: torch.Tensor, ncol: int) -> bytes:
    """Tile images (N, 1, H, W) in [0, 1] edge to edge, `ncol` per row, into one grayscale PNG.

    Tile i sits at column i % ncol, row i // ncol, exactly H x W pixels each (no padding), so the browser can
    cut any tile out with drawImage."""
    n, channels, h, w = images.shape
    nrow = math.ceil(n / ncol)
    sheet = torch.zeros(channels, nrow * h, ncol * w)  # (C, rows*H, cols*W)
    for i, image in enumerate(images):
        r, c = divmod(i, ncol)
        sheet[:, r * h:(r + 1) * h, c * w:(c + 1) * w] = image
    array = (sheet.clamp(0, 1) * 255).round().to(torch.uint8).numpy()  # (C, H', W')
    picture = Image.fromarray(array[0]) if channels == 1 else Image.fromarray(array.transpose(1, 2, 0))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def traversal_strips(model, base: torch.Tensor, dims: list[int], span: float = 3.0, steps: int = 9) -> torch.Tensor:
    """For each dimension in `dims`, vary it from -span to +span with the others fixed at `base`.

    Returns (len(dims), steps, C, H, W): one row of images per dimension. In a beta-VAE each row should
    change one factor of the data (position, size, rotation, ...)."""
    z = torch.cat([traversal(base, d, span, steps) for d in dims])  # (len(dims)*steps, latent)
    images = decode(model, z)  # (len(dims)*steps, C, H, W)
    return images.view(len(dims), steps, *images.shape[1:])


def interpolation(model, image_a: torch.Tensor, image_b: torch.Tensor, steps: int = 10,
                  method: str = "slerp") -> tuple[torch.Tensor, torch.Tensor]:
    """Walk between the codes (means) of two images: returns the path z (steps, latent) and its decodes
    (steps, C, H, W). method is "lerp" (a straight line) or "slerp" (along a great circle)."""
    mu, _ = encode(model, torch.stack([image_a, image_b]))  # (2, latent)
    path = interpolate(mu[0], mu[1], steps, method)  # (steps, latent)
    return path, decode(model, path)


@dataclass
class Reconstruction:
    """What the VAE makes of one image x."""

    mu: torch.Tensor  # (latent,) mean of q(z|x)
    sigma: torch.Tensor  # (latent,) standard deviation of q(z|x)
    reconstruction: torch.Tensor  # (C, H, W) decode of mu
    samples: torch.Tensor  # (k, C, H, W) decodes of z = mu + sigma * eps for k seeded eps (k = 0: no sigma)
    recon_nats: float  # -log p(x|z) for one z = mu + sigma * eps, in nats
    kl_nats: float | None  # KL(q(z|x) || N(0, I)), in nats; None for an autoencoder (no KL term)

    @property
    def neg_elbo(self) -> float | None:
        """-ELBO = reconstruction loss + KL, an upper bound on -log p(x) (in nats); None without a KL term."""
        return None if self.kl_nats is None else self.recon_nats + self.kl_nats


@torch.inference_mode()
def reconstruct(model, image: torch.Tensor, samples: int = 3, seed: int = 0) -> Reconstruction:
    """Encode one image (C, H, W) in [0, 1], decode its mean and a few reparameterised samples, and compute
    the two ELBO terms with the model's own formula (same seed, same numbers). An autoencoder gives its one
    code, its reconstruction and the reconstruction cost only."""
    device = _device_of(model)
    x = image.unsqueeze(0).float().to(device)  # (1, C, H, W)
    mu, logvar = model.encode(x)  # (1, latent) each
    if logvar is None:  # an autoencoder: one code, no noise, no KL
        return Reconstruction(
            mu=mu[0].float().cpu(), sigma=torch.zeros(mu.shape[1]), reconstruction=model.decode(mu)[0].float().cpu(),
            samples=torch.zeros(0, *image.shape), recon_nats=float(model.reconstruction_nats(x)[0]), kl_nats=None)
    g = torch.Generator(device="cpu").manual_seed(seed)
    eps = torch.randn(samples, mu.shape[1], generator=g).to(device)  # (k, latent)
    z = mu + torch.exp(0.5 * logvar) * eps  # (k, latent): the reparameterisation trick
    recon, kl = model.elbo_terms(x, generator=torch.Generator(device=device).manual_seed(seed))
    return Reconstruction(
        mu=mu[0].float().cpu(), sigma=torch.exp(0.5 * logvar[0]).float().cpu(),
        reconstruction=model.decode(mu)[0].float().cpu(), samples=model.decode(z).float().cpu(),
        recon_nats=float(recon[0]), kl_nats=float(kl[0]),
    )


def fit_drawing(image: torch.Tensor, box: int = 20, threshold: float = 0.05) -> torch.Tensor:
    """Centre and scale a drawing the way MNIST was made: the ink's bounding box is resized (keeping its
    aspect ratio) to fit a `box` x `box` square, then placed so its centre of mass is the image centre.

    image (1, H, W) in [0, 1] -> (1, H, W). A blank image is returned unchanged."""
    _, height, width = image.shape
    ink = image[0] > threshold  # (H, W)
    if not ink.any():
        return image.clone()
    rows, cols = ink.any(1).nonzero()[:, 0], ink.any(0).nonzero()[:, 0]
    crop = image[:, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]  # (1, h, w)
    scale = box / max(crop.shape[1:])
    new_h, new_w = max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[2] * scale))
    resized = F.interpolate(crop.unsqueeze(0), size=(new_h, new_w), mode="bilinear", antialias=True,
                            align_corners=False)[0].clamp(0, 1)  # (1, new_h, new_w)
    mass = resized[0].sum()
    centre_y = (resized[0].sum(1) * torch.arange(new_h)).sum() / mass  # centre of mass inside the crop
    centre_x = (resized[0].sum(0) * torch.arange(new_w)).sum() / mass
    top = int(round((height - 1) / 2 - centre_y.item()))
    left = int(round((width - 1) / 2 - centre_x.item()))
    top, left = min(max(top, 0), height - new_h), min(max(left, 0), width - new_w)  # keep it inside
    out = torch.zeros_like(image)
    out[:, top:top + new_h, left:left + new_w] = resized
    return out


def class_colours(n: int) -> list[str]:
    """n clearly different colours (hex), the same for a class everywhere on the page."""
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
               "#bcbd22", "#17becf"]
    return [palette[i % len(palette)] for i in range(n)]


def subsample(n_total: int, n: int, seed: int = 0) -> np.ndarray:
    """A fixed random subset of indices (sorted), so a plot of a big test set stays light and repeatable."""
    if n >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).choice(n_total, size=n, replace=False))


BOUND_KS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)  # importance samples k; k = 1 is the ELBO


@torch.inference_mode()
def bound_ladder(model, image: torch.Tensor, ks: tuple[int, ...] = BOUND_KS, repeats: int = 8,
                 seed: int = 0) -> dict[int, tuple[float, float]]:
    """The importance-weighted bound on log p(x) of one image (C, H, W) for each k: k -> (mean, std) over
    `repeats` independent estimates, in nats. The mean rises with k towards log p(x) (Burda et al. 2016);
    k = 1 is the ELBO, and log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)), the gap."""
    g = torch.Generator(device=_device_of(model)).manual_seed(seed)
    x = image[None].to(_device_of(model))  # (1, C, H, W)
    ladder = {}
    for k in ks:  # one estimate per call: at most k decodes at once, whatever `repeats` is
        bounds = torch.cat([model.importance_weighted_bound(x, k, g).float().cpu() for _ in range(repeats)])  # (R,)
        ladder[k] = (bounds.mean().item(), bounds.std().item() if repeats > 1 else 0.0)
    return ladder
