"""What each conditional of an autoregressive model can see, measured rather than assumed: the gradient of one
output pixel's logits with respect to the input image is non-zero exactly on the pixels that reach it.
Plain PixelCNN's blind spot (van den Oord et al. 2016b) shows up here as earlier pixels that are never seen.
"""
from __future__ import annotations

import torch


def receptive_field(model, row: int, col: int, trials: int = 3) -> torch.Tensor:
    """(H, W) bool: the input pixels that reach the output at (row, col), found by back-propagating from that
    output to random inputs (a gradient that is not zero means the pixel is seen). The model is not changed."""
    size = model.config.image_size
    seen = torch.zeros(size, size, dtype=torch.bool)
    generator = torch.Generator().manual_seed(0)
    with torch.enable_grad():
        for _ in range(trials):
            x = torch.rand(1, 1, size, size, generator=generator).to(model.device).requires_grad_(True)
            (grad,) = torch.autograd.grad(model.logits(x)[0, :, row, col].sum(), x)  # (1, 1, H, W)
            seen |= grad[0, 0].cpu() != 0
    return seen


def receptive_field_picture(model, row: int, col: int) -> torch.Tensor:
    """(H, W) codes for a picture of what pixel (row, col) sees: 0 a later pixel, unseen (as it must be), 1 an
    earlier pixel it does not see (a blind spot, or out of the layers' reach), 2 an earlier pixel it sees, 3 the
    pixel itself, 4 the pixel itself or a later one that reaches it: a leak, which a correct model never shows."""
    size = model.config.image_size
    seen = receptive_field(model, row, col)  # (H, W) bool
    earlier = (torch.arange(size * size) < row * size + col).view(size, size)  # (H, W) bool
    picture = earlier.long() * (1 + seen.long())
    picture[row, col] = 3
    picture[~earlier & seen] = 4
    return picture
