"""Do a model's codes match its prior? The maximum mean discrepancy (MMD) between the encoded test set and as
many prior samples.

Gretton et al., "A Kernel Two-Sample Test", JMLR 2012. With a Gaussian kernel k, MMD^2(P, Q) =
E k(x, x') + E k(y, y') - 2 E k(x, y) is 0 exactly when P = Q; the unbiased estimate below leaves out the
pairs of a point with itself, so it can dip just below 0 when the two samples come from one distribution.
Kernels at several widths are summed, so both the overall spread and the finer shape (a ring, ten clusters)
count.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from genlab.data import ImageDataset
from genlab.models.base import encode_codes

BANDWIDTHS = (0.1, 0.3, 1.0, 3.0)  # kernel widths in code units: the priors span about [-3, 3]


def mmd_squared(x: torch.Tensor, y: torch.Tensor, bandwidths: tuple[float, ...] = BANDWIDTHS) -> float:
    """Unbiased MMD^2 between samples x (N, D) and y (M, D), Gaussian kernels of the given widths summed."""
    x, y = x.double(), y.double()
    xx, yy, xy = torch.cdist(x, x).pow(2), torch.cdist(y, y).pow(2), torch.cdist(x, y).pow(2)  # squared distances
    n, m = len(x), len(y)
    total = 0.0
    for h in bandwidths:
        kxx, kyy, kxy = (torch.exp(-d / (2 * h * h)) for d in (xx, yy, xy))
        total += ((kxx.sum() - n) / (n * (n - 1)) + (kyy.sum() - m) / (m * (m - 1)) - 2 * kxy.mean()).item()
    return total


@dataclass
class CodeMatch:
    mmd2: float  # between the test set's codes and prior samples
    baseline: float  # between two independent prior samples of the same size: what "matching" looks like
    codes: int


@torch.inference_mode()
def codes_against_prior(model, test: ImageDataset, n: int = 2000, seed: int = 0, prior_of=None) -> CodeMatch:
    """MMD^2 between the codes (encoder means) of the first n test images and n samples of a prior: the
    model's own, or that of `prior_of` (another model), so two models are judged against one prior."""
    codes = encode_codes(model, test.images[:n])  # (n, latent): the codes, or a VAE's means
    prior_model = prior_of if prior_of is not None else model
    g = torch.Generator().manual_seed(seed)
    first, _ = prior_model.prior_sample(len(codes), g)  # (n, latent)
    second, _ = prior_model.prior_sample(len(codes), g)
    return CodeMatch(mmd_squared(codes, first), mmd_squared(second, first), len(codes))
