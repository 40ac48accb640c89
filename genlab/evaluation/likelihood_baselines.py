"""The simplest density a likelihood is measured against: every pixel an independent Bernoulli variable.

    p(x) = prod_i p_i^x_i (1 - p_i)^(1 - x_i),   p_i = (white count of pixel i + 1) / (training images + 2)

D parameters and no pixel sees another, so a model whose conditionals use the other pixels should beat it on
the same binarized images (by a wide margin once trained) (Laplace's +1/+2 keeps a pixel never white in training from costing infinity).
"""
from __future__ import annotations

import torch

from genlab.data import ImageDataset


def binarize(images: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] -> {0, 1} at the threshold 0.5 (the binarization genlab's Bernoulli models use)."""
    return (images > 0.5).float()


def independent_pixels_nll(train: ImageDataset, test: ImageDataset) -> float:
    """-log p(x) in nats per test image under independent per-pixel Bernoullis fitted to the training split."""
    white = binarize(train.images).sum(0)  # (C, H, W) how often each pixel is white
    p = (white + 1) / (len(train) + 2)  # (C, H, W)
    x = binarize(test.images)  # (N, C, H, W)
    log_p = x * p.log() + (1 - x) * (1 - p).log()  # (N, C, H, W)
    return -log_p.flatten(1).sum(1).mean().item()
