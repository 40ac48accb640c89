"""PixelCNN's fast sampling steps: the per-pixel work of genlab/models/autoregressive/sampling.py, reusing
activations between pixels, as in Ramachandran et al., "Fast Generation for Convolutional Autoregressive
Models", ICLR 2017 workshop (https://arxiv.org/abs/1704.06001).

- Gated PixelCNN: every layer's vertical-stack activations are cached for the whole image. A vertical row only
  depends on the rows above it, so each finished image row is pushed through the vertical stack once (one row
  per layer). Inside a row, every layer's horizontal-stack activations are cached too, and each new pixel
  computes one new column per layer: a few small matrix products instead of a whole network pass.
- Plain PixelCNN: the masked convolutions see `receptive_rows` rows above a pixel, so each step runs the
  network on that band of rows only (exact, since rows outside the band cannot reach the pixel).

A stepper is made from (model, setup) (setup: sampling.Setup); called with (row, columns) it yields
(column, logits (N, K)) in order, and `pixel_set(row, col, value)` tells it the value drawn there.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from genlab.models.autoregressive.masks import gate

if TYPE_CHECKING:  # sampling.py imports the models' steppers lazily; this only names its type
    from genlab.models.autoregressive.sampling import Setup


class RowBandSteps:
    """Plain PixelCNN: each pixel runs the network on the `receptive_rows` rows above it and its own row."""

    def __init__(self, model, s: Setup):
        self.model, self.s = model, s

    def __call__(self, row: int, cols: list[int]):
        top = max(0, row - self.model.receptive_rows)
        for col in cols:
            band = self.s.x[:, :, top:row + 1]  # (N, 1, rows, W): rows above the band cannot reach this row,
            # so the zeros the band's first layer sees above it change nothing here
            yield col, self.model.logits(band, self.s.label)[:, :, -1, col]  # (N, K)

    def pixel_set(self, row, col, value):
        pass


def rows(bias, first: int, stop: int):
    """Rows first..stop-1 of a label bias that differs by position (N, 2C, H, W); one that does not, as it is."""
    return bias[:, :, first:stop] if torch.is_tensor(bias) and bias.shape[2] > 1 else bias


class _ColumnWeights:
    """One gated layer's horizontal step for a single pixel, as two matrix products: the same arithmetic as
    its convolutions (kernel (1, kw) on C_in channels -> 2C, then 1x1 on C -> C), without the cost of a
    convolution call on one pixel. Inputs are channels-last: a window (N, kw, C_in) flattens to (N, kw*C_in)."""

    def __init__(self, layer):
        weight = layer.horizontal.weight[:, :, 0]  # (2C, C_in, kw)
        self.window_weight = weight.permute(2, 1, 0).reshape(-1, weight.shape[0])  # (kw*C_in, 2C)
        self.out_weight = layer.horizontal_out.weight[:, :, 0, 0].t()  # (C, C)
        self.out_bias = layer.horizontal_out.bias  # (C,)
        self.width, self.pad, self.residual = layer.horizontal.kernel_size[1], layer.pad, not layer.first

    def __call__(self, window: torch.Tensor, h_in: torch.Tensor, link: torch.Tensor) -> torch.Tensor:
        """window (N, kw, C_in), the input at the pixel h_in (N, C_in), link (N, 2C) (the vertical link, the
        label bias and the horizontal convolution's bias) -> output (N, C)."""
        pre = torch.addmm(link, window.reshape(len(window), -1), self.window_weight)  # (N, 2C)
        features, gates = pre.chunk(2, dim=1)
        out = torch.addmm(self.out_bias, torch.tanh(features) * torch.sigmoid(gates), self.out_weight)
        return h_in + out if self.residual else out


class GatedCacheSteps:
    """Gated PixelCNN with cached activations (see the module docstring).

    v_in[l]: layer l's padded vertical input for the whole image (layer 0: the image); v_pre[l]: its vertical
    pre-activations. Vertical rows before `self.valid` are up to date. For the current row, h_in[l] is layer
    l's left-padded horizontal input (channels last) and link[l] the vertical features from the row above plus
    the label bias."""

    def __init__(self, model, s: Setup):
        self.model, self.layers, self.s = model, model.gated, s
        self.columns = [_ColumnWeights(layer) for layer in self.layers]
        maps = model.pictures_of(s.label)  # (N, M, H, W) or None
        self.bias = [layer.label_bias(s.label, maps) for layer in self.layers]  # (N, 2C, 1 or H, 1 or W) or 0
        self.v_in, self.v_pre = [], []
        v = s.x  # (N, 1, H, W)
        for layer, bias in zip(self.layers, self.bias):  # one full vertical pass, unknown pixels at 0
            self.v_in.append(layer.pad_vertical(v))  # (N, C_in, H + p, W + 2p)
            self.v_pre.append(layer.vertical(self.v_in[-1]))  # (N, 2C, H, W)
            v = gate(self.v_pre[-1] + bias)  # (N, C, H, W)
        self.valid = s.rows[0][0] if s.rows else s.x.shape[2]  # rows above the first drawn row are exact
        hidden, out = model.head[1], model.head[3]  # the output head as matrix products too
        self.head = (hidden.weight[:, :, 0, 0].t(), hidden.bias, out.weight[:, :, 0, 0].t(), out.bias)

    def _update_vertical(self, first: int, last: int) -> None:
        """Recompute vertical rows first..last of every layer from the rows above them."""
        width = self.s.x.shape[3]
        for l, (layer, bias) in enumerate(zip(self.layers, self.bias)):
            slab = self.v_in[l][:, :, first:last + 1 + layer.pad]  # original rows first-p .. last
            pre = layer.vertical(slab)  # (N, 2C, last-first+1, W)
            self.v_pre[l][:, :, first:last + 1] = pre
            if l + 1 < len(self.layers):
                q = self.layers[l + 1].pad
                self.v_in[l + 1][:, :, first + q:last + 1 + q, q:q + width] = gate(pre + rows(bias, first, last + 1))

    def __call__(self, row: int, cols: list[int]):
        if self.valid < row:
            self._update_vertical(self.valid, row - 1)
        self.valid = row  # this row is about to change
        links, self.h_in = [], []
        for layer, bias, pre in zip(self.layers, self.bias, self.v_pre):
            above = pre[:, :, row - 1:row] if row > 0 else torch.zeros_like(pre[:, :, :1])  # (N, 2C, 1, W)
            link = (layer.vertical_to_horizontal(above) + rows(bias, row, row + 1)
                    + layer.horizontal.bias[:, None, None])  # (N, 2C, 1, W)
            links.append(link[:, :, 0].transpose(1, 2))  # (N, W, 2C)
            channels = 1 if layer.first else layer.horizontal.in_channels
            self.h_in.append(pre.new_zeros(len(pre), pre.shape[3] + layer.pad, channels))  # (N, W + p, C_in)
        self.h_in[0][:, self.layers[0].pad:, 0] = self.s.x[:, 0, row]  # the image row, known pixels included
        hidden_t, hidden_b, out_t, out_b = self.head
        wanted = set(cols)
        for col in range(cols[-1] + 1):  # known columns too: their features feed the columns to their right
            for l, (column, link) in enumerate(zip(self.columns, links)):
                buffer = self.h_in[l]  # (N, W + p, C_in)
                h = column(buffer[:, col:col + column.width], buffer[:, col + column.pad], link[:, col])  # (N, C)
                if l + 1 < len(self.layers):
                    self.h_in[l + 1][:, col + self.columns[l + 1].pad] = h
            if col in wanted:
                hidden = torch.addmm(hidden_b, torch.relu(h), hidden_t)  # (N, head)
                yield col, self.model.head_logits(torch.addmm(out_b, torch.relu(hidden), out_t))  # (N, K)

    def pixel_set(self, row: int, col: int, value: torch.Tensor) -> None:
        """A new pixel value (N,) enters layer 0's vertical and horizontal inputs."""
        p0 = self.layers[0].pad
        self.v_in[0][:, 0, row + p0, col + p0] = value
        self.h_in[0][:, col + p0, 0] = value
