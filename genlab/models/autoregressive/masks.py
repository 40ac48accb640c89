"""The pieces autoregressive image models share: causal masks over raster order, the masked convolution, and
the gated activation unit.

van den Oord, Kalchbrenner & Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016 (masks A and B).
van den Oord et al., "Conditional Image Generation with PixelCNN Decoders", NeurIPS 2016 (the gated unit).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def gate(pre: torch.Tensor) -> torch.Tensor:
    """The gated activation unit: (N, 2C, ...) -> tanh(first half) * sigmoid(second half), (N, C, ...)."""
    features, gates = pre.chunk(2, dim=1)
    return torch.tanh(features) * torch.sigmoid(gates)


def causal_mask(kernel_size: int, mask_type: str) -> torch.Tensor:
    """(k, k) of 0/1: 1 where a masked kernel may look. Rows above the centre, and the pixels left of the
    centre; mask 'A' hides the centre pixel itself (first layer), mask 'B' keeps it (later layers)."""
    centre = kernel_size // 2
    mask = torch.ones(kernel_size, kernel_size)  # (k, k)
    mask[centre, centre + (mask_type == "B"):] = 0  # the centre row: the pixel itself (A) and the right
    mask[centre + 1:] = 0  # every row below
    return mask


def mask_picture(kernel_size: int, mask_type: str) -> torch.Tensor:
    """(3, k, k) RGB picture of a mask: blue where the kernel looks, black where it is zeroed, and the centre
    (the pixel being predicted) red when hidden (mask A) or violet when kept (mask B)."""
    mask = causal_mask(kernel_size, mask_type)  # (k, k)
    blue, black = torch.tensor([0.20, 0.60, 0.86]), torch.tensor([0.07, 0.07, 0.07])
    picture = torch.where(mask[..., None] > 0, blue, black)  # (k, k, 3)
    centre = kernel_size // 2
    picture[centre, centre] = torch.tensor([0.61, 0.35, 0.71]) if mask_type == "B" else torch.tensor([0.91, 0.30, 0.24])
    return picture.permute(2, 0, 1)  # (3, k, k)


class MaskedConv2d(nn.Conv2d):
    """A k x k convolution whose weights on the current row right of the centre (and on every row below) are
    zeroed, so an output pixel only sees input pixels before it in raster order."""

    def __init__(self, mask_type: str, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.register_buffer("mask", causal_mask(kernel_size, mask_type)[None, None], persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)
