"""InfoGAN's codes on the GAN page: the categorical code's values against noise, and each continuous code swept.

Works on any generator with the CODES capability (genlab/models/__init__.py): latents [z, one_hot(c_1), c_2, ...]
that `model.with_codes` rewrites and `model.decode` draws.
"""
from __future__ import annotations

import torch

from genlab.explore.arithmetic import decode

TRAVERSAL = (-2.0, 2.0)  # the codes were trained on U(-1, 1); the paper swept to ±2 to show they extrapolate


def category_grid(model, latents: torch.Tensor) -> torch.Tensor:
    """Every latent (n, latent) drawn with every value of the categorical code: (categories * n, C, H, W), a row
    per value, a column per latent (its noise and continuous codes kept)."""
    _, categories, _ = model.code_sizes
    return torch.cat([decode(model, model.with_codes(latents, category=k)) for k in range(categories)])


def set_codes(model, latent: torch.Tensor, category: int, continuous: list[float]) -> torch.Tensor:
    """latent (latent,) with c_1 = category and the continuous codes set: (1, latent)."""
    return model.with_codes(latent[None], category=category, continuous=dict(enumerate(continuous)))


def traversal(model, latent: torch.Tensor, category: int, continuous: list[float], code: int,
              frames: int = 9) -> torch.Tensor:
    """Continuous code number `code` swept over TRAVERSAL, the other codes as given: (frames, C, H, W)."""
    values = torch.linspace(*TRAVERSAL, frames)
    rows = [set_codes(model, latent, category, [v.item() if j == code else c for j, c in enumerate(continuous)])
            for v in values]
    return decode(model, torch.cat(rows))
