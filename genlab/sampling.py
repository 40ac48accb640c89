"""Drawing images from a PixelCNN pixel by pixel: a naive reference sampler and a fast one, image completion,
per-pixel log-likelihood maps and ranking by log-likelihood.

An autoregressive model samples in raster order: pixel i is drawn from p(x_i | x_<i), written into the image,
and only then can pixel i+1 be drawn. The naive sampler runs the whole network once per pixel (784 passes for
a 28x28 image), although a new pixel changes only a few activations. The fast sampler reuses the rest, as in
Ramachandran et al., "Fast Generation for Convolutional Autoregressive Models", ICLR 2017 workshop
(https://arxiv.org/abs/1704.06001):

- Gated PixelCNN: every layer's vertical-stack activations are cached for the whole image. A vertical row only
  depends on the rows above it, so each finished image row is pushed through the vertical stack once (one row
  per layer). Inside a row, every layer's horizontal-stack activations are cached too, and each new pixel
  computes one new column per layer: a few small matrix products instead of a whole network pass.
- Plain PixelCNN: the masked convolutions see `receptive_rows` rows above a pixel, so each step runs the
  network on that band of rows only (exact, since rows outside the band cannot reach the pixel).

Both samplers take the same inputs and draw the same random numbers (one uniform per pixel, turned into a value
by the inverse CDF of the pixel's distribution), so with the same seed and weights they give the same images
up to float rounding. Completion: pixels marked as known are never changed (they are only quantized to the
model's grey levels); unknown pixels are drawn in raster order, each seeing the known pixels before it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from genlab.models import as_generator
from genlab.models.pixelcnn import gate

# progress(pixels done, pixels to draw, images so far): the images tensor is live, clone it to keep a frame.
ProgressCallback = Callable[[int, int, torch.Tensor], None]


@dataclass
class SampleResult:
    images: torch.Tensor  # (N, 1, H, W) in [0, 1]; known pixels as given (quantized)
    labels: torch.Tensor | None  # (N,) the class of each image for a conditional model (num_classes: none)
    logits: torch.Tensor | None = None  # (N, K, H, W) logits of every drawn pixel (NaN elsewhere), on request


# ---------------------------------------------------------------------------------------------------------
# What both samplers share


@dataclass
class _Setup:
    x: torch.Tensor  # (N, 1, H, W) quantized images, unknown pixels set to 0
    known: torch.Tensor  # (N, 1, H, W) bool
    label: torch.Tensor | None  # (N,)
    noise: torch.Tensor  # (N, H, W) one uniform number per pixel
    rows: list[tuple[int, list[int]]]  # (row, the columns to draw in it), raster order


def _setup(model, n: int | None, partial: torch.Tensor | None, known: torch.Tensor | None, label,
           generator, temperature: float) -> _Setup:
    if not temperature > 0:
        raise ValueError(f"the temperature must be positive, not {temperature}")
    c = model.config
    device = model.device
    if partial is None:
        if not n or n < 1:
            raise ValueError("give a number of images to draw, or a partial image to complete")
        partial = torch.zeros(n, 1, c.image_size, c.image_size)
        known = torch.zeros(1, 1, c.image_size, c.image_size, dtype=torch.bool)
    partial = partial.float()
    partial = partial[None] if partial.ndim == 3 else partial  # (N, 1, H, W)
    if n and len(partial) == 1:
        partial = partial.expand(n, -1, -1, -1)
    if partial.shape[1:] != (1, c.image_size, c.image_size):
        shape = "x".join(map(str, partial.shape[1:]))
        raise ValueError(f"images must be 1x{c.image_size}x{c.image_size}, not {shape}")
    count = len(partial)
    if known is None:
        raise ValueError("completion needs a mask of the known pixels")
    known = torch.as_tensor(known, dtype=torch.bool)
    known = known[None, None] if known.ndim == 2 else known[:, None] if known.ndim == 3 else known
    known = known.expand(count, 1, c.image_size, c.image_size).to(device)  # (N, 1, H, W)
    x = model.quantize(partial.to(device)) * known  # (N, 1, H, W): unknown pixels start at 0
    g = as_generator(generator, "cpu")
    label = model.check_label(label, count)  # a conditional model with no label: the class "none", p(x)
    noise = torch.rand(count, c.image_size, c.image_size, generator=g).to(device)  # (N, H, W)
    todo = (~known).any(0)[0]  # (H, W): positions some image must draw
    rows = [(r, todo[r].nonzero()[:, 0].tolist()) for r in range(c.image_size) if todo[r].any()]
    return _Setup(x.clone(), known, label, noise, rows)


def draw_pixel(logits: torch.Tensor, uniform: torch.Tensor, temperature: float, levels: int) -> torch.Tensor:
    """Turn one pixel's logits (N, K) and a uniform number per image (N,) into a pixel value in [0, 1] (N,):
    the inverse CDF of softmax(logits / temperature) (or of the Bernoulli when K == 1)."""
    if logits.shape[1] == 1:  # Bernoulli: white when u < p(white)
        return (uniform < torch.sigmoid(logits[:, 0] / temperature)).float()
    cdf = torch.softmax(logits / temperature, dim=1).cumsum(1)  # (N, K)
    index = (cdf < uniform[:, None]).sum(1).clamp(max=levels - 1)  # (N,) first level whose CDF reaches u
    return index.float() / (levels - 1)


def _write(s: _Setup, row: int, col: int, value: torch.Tensor) -> torch.Tensor:
    """Put a drawn value (N,) at (row, col) where the pixel is unknown; return what is there now (N,)."""
    new = torch.where(s.known[:, 0, row, col], s.x[:, 0, row, col], value)
    s.x[:, 0, row, col] = new
    return new


def _run(model, n, partial, known, label, generator, temperature, progress, keep_logits, step_maker
         ) -> SampleResult:
    with torch.inference_mode():
        s = _setup(model, n, partial, known, label, generator, temperature)
        kept = torch.full((len(s.x), model.head[-1].out_channels) + s.x.shape[2:], float("nan"),
                          device=s.x.device) if keep_logits else None
        total, done = sum(len(cols) for _, cols in s.rows), 0
        stepper = step_maker(model, s)
        for row, cols in s.rows:
            for col, logits in stepper(row, cols):  # logits (N, K) of pixel (row, col)
                if kept is not None:
                    kept[:, :, row, col] = logits
                value = draw_pixel(logits, s.noise[:, row, col], temperature, model.config.levels)
                stepper.pixel_set(row, col, _write(s, row, col, value))
                done += 1
                if progress is not None:
                    progress(done, total, s.x)
        return SampleResult(images=s.x, labels=s.label, logits=kept)


# ---------------------------------------------------------------------------------------------------------
# The naive sampler: one full network pass per pixel


class _NaiveSteps:
    def __init__(self, model, s: _Setup):
        self.model, self.s = model, s

    def __call__(self, row: int, cols: list[int]):
        for col in cols:
            yield col, self.model.logits(self.s.x, self.s.label)[:, :, row, col]  # (N, K)

    def pixel_set(self, row, col, value):
        pass  # nothing is cached


def naive_sample(model, n: int | None = None, *, partial: torch.Tensor | None = None,
                 known: torch.Tensor | None = None, temperature: float = 1.0, label=None,
                 generator: int | torch.Generator | None = None, progress: ProgressCallback | None = None,
                 keep_logits: bool = False) -> SampleResult:
    """The reference: draw every unknown pixel in raster order, running the whole network for each one.

    n: images to draw (or copies of `partial`); partial: (N or 1, 1, H, W) in [0, 1]; known: bool mask
    (H, W) or (N, 1, H, W) of the pixels to keep; label: a class (or one per image) for conditional models;
    generator: a seed or torch.Generator."""
    return _run(model, n, partial, known, label, generator, temperature, progress, keep_logits, _NaiveSteps)


# ---------------------------------------------------------------------------------------------------------
# The fast sampler


class _RowBandSteps:
    """Plain PixelCNN: each pixel runs the network on the `receptive_rows` rows above it and its own row."""

    def __init__(self, model, s: _Setup):
        self.model, self.s = model, s

    def __call__(self, row: int, cols: list[int]):
        top = max(0, row - self.model.receptive_rows)
        for col in cols:
            band = self.s.x[:, :, top:row + 1]  # (N, 1, rows, W): rows above the band cannot reach this row,
            # so the zeros the band's first layer sees above it change nothing here
            yield col, self.model.logits(band, self.s.label)[:, :, -1, col]  # (N, K)

    def pixel_set(self, row, col, value):
        pass


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


class _GatedCacheSteps:
    """Gated PixelCNN with cached activations (see the module docstring).

    v_in[l]: layer l's padded vertical input for the whole image (layer 0: the image); v_pre[l]: its vertical
    pre-activations. Vertical rows before `self.valid` are up to date. For the current row, h_in[l] is layer
    l's left-padded horizontal input (channels last) and link[l] the vertical features from the row above plus
    the label bias."""

    def __init__(self, model, s: _Setup):
        self.model, self.layers, self.s = model, model.gated, s
        self.columns = [_ColumnWeights(layer) for layer in self.layers]
        self.bias = [layer.label_bias(s.label) for layer in self.layers]  # (N, 2C, 1, 1) or 0 each
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
                self.v_in[l + 1][:, :, first + q:last + 1 + q, q:q + width] = gate(pre + bias)

    def __call__(self, row: int, cols: list[int]):
        if self.valid < row:
            self._update_vertical(self.valid, row - 1)
        self.valid = row  # this row is about to change
        links, self.h_in = [], []
        for layer, bias, pre in zip(self.layers, self.bias, self.v_pre):
            above = pre[:, :, row - 1:row] if row > 0 else torch.zeros_like(pre[:, :, :1])  # (N, 2C, 1, W)
            link = layer.vertical_to_horizontal(above) + bias + layer.horizontal.bias[:, None, None]  # (N, 2C, 1, W)
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
                yield col, torch.addmm(out_b, torch.relu(hidden), out_t)  # (N, K)

    def pixel_set(self, row: int, col: int, value: torch.Tensor) -> None:
        """A new pixel value (N,) enters layer 0's vertical and horizontal inputs."""
        p0 = self.layers[0].pad
        self.v_in[0][:, 0, row + p0, col + p0] = value
        self.h_in[0][:, col + p0, 0] = value


def fast_sample(model, n: int | None = None, *, partial: torch.Tensor | None = None,
                known: torch.Tensor | None = None, temperature: float = 1.0, label=None,
                generator: int | torch.Generator | None = None, progress: ProgressCallback | None = None,
                keep_logits: bool = False) -> SampleResult:
    """Same arguments and same results as `naive_sample`, reusing work between pixels (cached activations for
    the gated variant, a band of rows for the plain one)."""
    steps = _GatedCacheSteps if model.config.variant == "gated" else _RowBandSteps
    return _run(model, n, partial, known, label, generator, temperature, progress, keep_logits, steps)


# ---------------------------------------------------------------------------------------------------------
# Completion and likelihoods of finished images

HIDE_REGIONS = ("bottom half", "right half", "rectangle")


def hide_mask(region: str, size: int, rows: tuple[int, int] = (0, 0), cols: tuple[int, int] = (0, 0)
              ) -> torch.Tensor:
    """The known pixels (size, size) bool after hiding a region: the bottom half, the right half, or the
    rectangle rows[0] <= r < rows[1], cols[0] <= c < cols[1]."""
    known = torch.ones(size, size, dtype=torch.bool)
    if region == "bottom half":
        known[size // 2:] = False
    elif region == "right half":
        known[:, size // 2:] = False
    elif region == "rectangle":
        known[rows[0]:rows[1], cols[0]:cols[1]] = False
    else:
        raise ValueError(f"unknown region '{region}': use one of {', '.join(HIDE_REGIONS)}")
    return known



def pixel_log_likelihoods(model, images: torch.Tensor, label=None) -> torch.Tensor:
    """log p(x_i | x_<i) of every pixel, (N, H, W) in nats (given the label, if one is given); its negative is
    the "surprise" map: how unexpected each pixel was given the pixels before it."""
    with torch.inference_mode():
        return model.pixel_log_probs(images.to(model.device), label)


def log_likelihoods(model, images: torch.Tensor, label=None) -> torch.Tensor:
    """log p(x) per image (N,), in nats (log p(x | y) when a label is given)."""
    with torch.inference_mode():
        return model.log_prob(images.to(model.device), label)


@dataclass
class Completions:
    images: torch.Tensor  # (n, 1, H, W), most likely first
    log_likelihoods: torch.Tensor  # (n,) log p(image) in nats (log p(image | label) when a label was given)
    labels: torch.Tensor | None  # (n,) the class used for each completion (conditional models)


def complete(model, image: torch.Tensor, known: torch.Tensor, n: int, *, temperature: float = 1.0,
             label=None, generator: int | torch.Generator | None = None,
             progress: ProgressCallback | None = None) -> Completions:
    """n completions of one image (1, H, W) whose `known` pixels (H, W) are kept, ranked by log-likelihood."""
    result = fast_sample(model, n, partial=image, known=known, temperature=temperature, label=label,
                         generator=generator, progress=progress)
    scores = log_likelihoods(model, result.images, label)  # (n,)
    order = scores.argsort(descending=True)
    return Completions(images=result.images[order].cpu(), log_likelihoods=scores[order].cpu(),
                       labels=None if result.labels is None else result.labels[order].cpu())
