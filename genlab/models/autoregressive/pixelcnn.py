"""PixelCNN and Gated PixelCNN: an autoregressive model with an exact, tractable likelihood.

van den Oord, Kalchbrenner & Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016 (PixelCNN, masks A/B,
residual blocks). https://arxiv.org/abs/1601.06759
van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves & Kavukcuoglu, "Conditional Image Generation with
PixelCNN Decoders", NeurIPS 2016 (Gated PixelCNN: vertical and horizontal stacks, gates, class conditioning).
https://arxiv.org/abs/1606.05328

The idea: order the pixels in raster scan (row by row, left to right) and write the density with the chain rule,

    p(x) = prod_i p(x_i | x_1, ..., x_{i-1}),

each factor a categorical distribution (256 grey levels, softmax) or a Bernoulli (binarized images). A stack of
*masked* convolutions computes all H*W conditionals in one pass while pixel i only ever sees pixels before it:
mask A (first layer) also hides the pixel itself, mask B (later layers) lets a position see its own features,
which only carry information from earlier pixels. Training is plain maximum likelihood with teacher forcing;
-log p(x) is exact, in nats per image (bits per dimension = nats / (H*W*ln 2)).

Stacking 3x3 masked convolutions leaves a *blind spot* (pixels above and to the right that never reach the
receptive field). The gated variant removes it with two stacks: a vertical stack that sees the rows above, as
far up as its depth reaches (its kernel covers the current row and is shifted down by one row before it feeds
the other stack), and a horizontal stack that sees the pixels to the left in the current row. Each layer uses a
gated unit tanh(W_f * x) * sigmoid(W_g * x); a class label adds a learned embedding inside every gate (p(x | y)),
the same at every position. With `class_maps` > 0 it also adds a *location-dependent* term (the Gated PixelCNN
paper's section 2.3): each class owns a learned picture with `class_maps` channels, and every layer adds a 1x1
projection of its class's picture at each position. The label alone says "a trouser"; the picture also says where
a trouser's legs usually are, which a layer whose window sees only a few rows above cannot work out. A
class-conditional model is also shown some images with the label "none" during training, so the same network
gives the unconditional p(x) too: that is what `evaluate` reports and what sampling without a class draws.

Sampling draws one pixel at a time (genlab/models/autoregressive/sampling.py holds the samplers, including a fast one that reuses
work between pixels); `sample(n, seed)` here uses the fast one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genlab.models import AUTOREGRESSIVE, CONDITIONAL, EXACT, SAMPLES, ModelKind, check_choices, register_kind
from genlab.models.autoregressive.masks import MaskedConv2d, gate, mask_picture
from genlab.models.autoregressive.pixel_model import (LABEL_DROPOUT_HELP, NUM_CLASSES_HELP, OUTPUT_WITH_MIXTURE_HELP,
                                                      OUTPUTS_WITH_MIXTURE, PIXEL_CURVE_NOTE, PIXEL_LOSS_LABELS,
                                                      PixelModel, check_pixel_settings, levels_of, pixel_discretisation)
from genlab.models.autoregressive.pixelcnn_fast import GatedCacheSteps, RowBandSteps

VARIANTS = ("gated", "plain")


@dataclass
class PixelCNNConfig:
    variant: str = field(default="gated", metadata={
        "choices": VARIANTS, "help": "'gated': vertical and horizontal stacks with gated units and no blind spot (van den Oord et al. "
                "2016b); 'plain': masked convolutions with residual blocks, which leave a blind spot."})
    output: str = field(default="softmax", metadata={"choices": OUTPUTS_WITH_MIXTURE,
                                                     "help": OUTPUT_WITH_MIXTURE_HELP})
    mixtures: int = field(default=5, metadata={
        "help": "With output 'logistic': how many logistics each pixel's distribution mixes."})
    channels: int = field(default=32, metadata={
        "help": "Feature channels in every layer: more capacity, but training and sampling get slower."})
    layers: int = field(default=6, metadata={
        "help": "Masked layers after the first one; each adds kernel_size // 2 rows (and columns) to the "
                "receptive field."})
    kernel_size: int = field(default=3, metadata={
        "help": "Width of the masked kernels after the first layer (odd); the receptive field grows by "
                "kernel_size // 2 pixels per layer."})
    first_kernel_size: int = field(default=7, metadata={
        "help": "Width of the first (mask A) kernel (odd): how far the first layer looks."})
    head_channels: int = field(default=32, metadata={
        "help": "Hidden channels of the per-pixel output head (two 1x1 convolutions)."})
    num_classes: int = field(default=0, metadata={"help": NUM_CLASSES_HELP})
    label_dropout: float = field(default=0.2, metadata={"help": LABEL_DROPOUT_HELP})
    class_maps: int = field(default=0, metadata={
        "title": "Class pictures (channels)",
        "help": "Gated, class-conditional models: channels of a learned picture per class that every layer reads at "
                "each position, so samples keep the class's overall shape. 0: the label shifts every position alike."})
    image_channels: int = 1  # grayscale only: the masks below order pixels, not colour channels
    image_size: int = 28

    @classmethod
    def tiny(cls, **overrides) -> "PixelCNNConfig":
        return cls(**{"channels": 8, "layers": 2, "head_channels": 8, "image_size": 8, **overrides})

    def __post_init__(self):
        check_choices(self)
        check_pixel_settings(self)
        if self.kernel_size < 3 or self.kernel_size % 2 == 0 or self.first_kernel_size < 3 or \
                self.first_kernel_size % 2 == 0:
            raise ValueError("kernel sizes must be odd and at least 3")
        if not 1 <= self.mixtures <= 32:
            raise ValueError(f"mixtures must be 1..32, not {self.mixtures}")
        if self.class_maps and (self.variant != "gated" or not self.num_classes):
            raise ValueError("class pictures (class_maps) need the gated variant and a class-conditional model "
                             "(num_classes, 'Classes' on the Train page, above 0)")
        if not 0 <= self.class_maps <= 64:
            raise ValueError(f"class_maps must be 0..64, not {self.class_maps}")
        if not 1 <= self.channels <= 512 or not 0 <= self.layers <= 64 or self.head_channels < 1:
            raise ValueError("channels must be 1..512, layers 0..64 and head_channels positive")

    @property
    def levels(self) -> int:
        return levels_of(self.output)


# ---------------------------------------------------------------------------------------------------------
# Plain PixelCNN: masked convolutions (genlab/models/autoregressive/masks.py)


class ResidualBlock(nn.Module):
    """PixelCNN's residual block: 1x1 to C/2 channels, k x k mask B, 1x1 back to C, added to the input."""

    def __init__(self, channels: int, kernel_size: int, num_classes: int):
        super().__init__()
        half = max(1, channels // 2)
        self.reduce = nn.Conv2d(channels, half, 1)
        self.masked = MaskedConv2d("B", half, half, kernel_size)
        self.expand = nn.Conv2d(half, channels, 1)
        self.label = nn.Embedding(num_classes + 1, channels) if num_classes else None  # the last row: no label

    def forward(self, x: torch.Tensor, label: torch.Tensor | None) -> torch.Tensor:
        h = self.reduce(F.relu(x))  # (N, C/2, H, W)
        h = self.masked(F.relu(h))  # (N, C/2, H, W)
        h = self.expand(F.relu(h))  # (N, C, H, W)
        if self.label is not None:
            h = h + self.label(label)[:, :, None, None]  # (N, C, 1, 1) broadcast: p(x | y)
        return x + h


# ---------------------------------------------------------------------------------------------------------
# Gated PixelCNN: vertical and horizontal stacks


class GatedLayer(nn.Module):
    """One gated layer. The vertical stack's kernel covers the k//2 rows above and the current row (k wide);
    the horizontal stack's kernel covers the k//2 pixels to the left and the pixel itself (mask B), or only the
    pixels to the left in the first layer (mask A). The vertical features, shifted down one row, are added to
    the horizontal stack, so a pixel sees a window of the rows above, with no blind spot. (pixelcnn_fast.py computes
    the same layer a row or a pixel at a time.)"""

    def __init__(self, in_channels: int, channels: int, kernel_size: int, first: bool, num_classes: int,
                 class_maps: int = 0):
        super().__init__()
        self.first = first
        self.pad = kernel_size // 2
        self.vertical = nn.Conv2d(in_channels, 2 * channels, (self.pad + 1, kernel_size))
        self.horizontal = nn.Conv2d(in_channels, 2 * channels, (1, self.pad if first else self.pad + 1))
        self.vertical_to_horizontal = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.horizontal_out = nn.Conv2d(channels, channels, 1)
        self.label = nn.Embedding(num_classes + 1, 2 * channels) if num_classes else None  # last row: no label
        self.label_map = nn.Conv2d(class_maps, 2 * channels, 1, bias=False) if class_maps else None

    def label_bias(self, label: torch.Tensor | None, maps: torch.Tensor | None = None) -> torch.Tensor | float:
        """(N,) class indices and their pictures (N, M, H, W) or None -> the bias added inside both gates:
        (N, 2C, 1, 1), (N, 2C, H, W) with class pictures, or 0 for an unconditional model."""
        if self.label is None:
            return 0.0
        bias = self.label(label)[:, :, None, None]  # (N, 2C, 1, 1)
        return bias if self.label_map is None else bias + self.label_map(maps)  # (N, 2C, H, W)

    # Padding: the vertical input is padded with k//2 zero rows on top and k//2 zero columns on each side; the
    # horizontal input with k//2 zero columns on the left. Valid convolutions on those padded tensors give one
    # output per pixel. The first layer's horizontal kernel is k//2 wide and reads columns j-k//2 .. j-1.
    def pad_vertical(self, v: torch.Tensor) -> torch.Tensor:
        return F.pad(v, (self.pad, self.pad, self.pad, 0))  # (N, C, H + p, W + 2p)

    def pad_horizontal(self, h: torch.Tensor) -> torch.Tensor:
        padded = F.pad(h, (self.pad, 0))  # (N, C, H, W + p)
        return padded[..., :-1] if self.first else padded  # mask A: drop the last column, never read

    def forward(self, v: torch.Tensor, h: torch.Tensor, label: torch.Tensor | None, maps: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        bias = self.label_bias(label, maps)  # (N, 2C, 1 or H, 1 or W) or 0
        v_pre = self.vertical(self.pad_vertical(v))  # (N, 2C, H, W): row i sees rows <= i
        v_shifted = F.pad(v_pre, (0, 0, 1, 0))[:, :, :-1]  # (N, 2C, H, W): row i sees rows < i only
        h_pre = self.horizontal(self.pad_horizontal(h)) + self.vertical_to_horizontal(v_shifted) + bias
        h_out = self.horizontal_out(gate(h_pre))  # (N, C, H, W)
        if not self.first:  # residual connection (the first layer's input has a different channel count)
            h_out = h + h_out
        return gate(v_pre + bias), h_out  # (N, C, H, W) each


# ---------------------------------------------------------------------------------------------------------
# The model


class PixelCNN(PixelModel):
    def __init__(self, config: PixelCNNConfig):
        super().__init__()
        self.config = c = config
        if c.variant == "gated":
            kernels = [c.first_kernel_size] + [c.kernel_size] * c.layers
            self.gated = nn.ModuleList(
                GatedLayer(c.image_channels if i == 0 else c.channels, c.channels, k, i == 0, c.num_classes,
                           c.class_maps)
                for i, k in enumerate(kernels))
            if c.class_maps:  # one picture per class and one for "no class"; blank at first, learned in training
                self.class_pictures = nn.Parameter(torch.zeros(c.num_classes + 1, c.class_maps, c.image_size,
                                                               c.image_size))  # (classes + 1, M, H, W)
        else:
            self.first = MaskedConv2d("A", c.image_channels, c.channels, c.first_kernel_size)
            self.blocks = nn.ModuleList(ResidualBlock(c.channels, c.kernel_size, c.num_classes)
                                        for _ in range(c.layers))
        # The output head works on each pixel alone (1x1 convolutions): it cannot break the ordering.
        self.head = nn.Sequential(
            nn.ReLU(), nn.Conv2d(c.channels, c.head_channels, 1),
            nn.ReLU(), nn.Conv2d(c.head_channels, self.head_outputs, 1))

    @property
    def receptive_rows(self) -> int:
        """How many rows above a pixel the plain variant can see (the fast sampler's window)."""
        c = self.config
        return c.first_kernel_size // 2 + c.layers * (c.kernel_size // 2)

    # -- the network -------------------------------------------------------------------------------------
    def pictures_of(self, label: torch.Tensor | None) -> torch.Tensor | None:
        """Checked labels (N,) -> their class pictures (N, M, H, W), or None without class_maps. They depend on
        the label only, never on a pixel, so the ordering holds."""
        return self.class_pictures[label] if self.config.class_maps else None

    def class_picture(self, label: int) -> torch.Tensor | None:
        """One class's learned picture (M, 1, H, W), each channel scaled to [0, 1]; None without class_maps."""
        if not self.config.class_maps:
            return None
        maps = self.class_pictures[label].detach().float()  # (M, H, W)
        low, high = maps.amin((1, 2), keepdim=True), maps.amax((1, 2), keepdim=True)
        return ((maps - low) / (high - low).clamp_min(1e-8))[:, None].cpu()  # (M, 1, H, W)

    def features(self, x: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """Quantized images (N, 1, H, W) and checked labels -> the last layer's features (N, C, H, W); position
        i saw only x_<i."""
        if self.config.variant == "gated":
            v = h = x
            maps = self.pictures_of(label)  # (N, M, H, W) or None
            for layer in self.gated:
                v, h = layer(v, h, label, maps)  # (N, C, H, W) each
            return h
        h = self.first(x)  # (N, C, H, W)
        for block in self.blocks:
            h = block(h, label)
        return h

    def logits(self, x: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """Quantized images (N, 1, H, W) -> logits of every pixel's conditional: (N, 1, H, W) for Bernoulli,
        (N, 256, H, W) for softmax or a logistic mixture."""
        return self.head_logits(self.head(self.features(x, self.check_label(label, len(x)))))

    def mixture_params(self, x: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """Quantized images (N, 1, H, W) -> each pixel's mixture of logistics (N, 3K, H, W) (output 'logistic')."""
        return self.head(self.features(x, self.check_label(label, len(x))))

    # -- the protocol the trainer and pages use (genlab/models/base.py) ----------------------------------
    def adds_without_effect(self, names: set[str]) -> bool:
        """Class pictures start blank (zeros), so a trained model resumed with class_maps computes the same
        conditionals until they learn."""
        return all(name == "class_pictures" or name.endswith(".label_map.weight") for name in names)

    def describe(self) -> str:
        c = self.config
        levels = {"bernoulli": "black or white (Bernoulli)", "softmax": "one of 256 grey levels (softmax)",
                  "logistic": f"one of 256 grey levels (a mixture of {c.mixtures} discretized logistics)"}[c.output]
        condition = "class-conditional" if self.conditional else "unconditional"
        if c.class_maps:
            condition += f", with a learned {c.class_maps}-channel picture per class"
        return (f"{c.variant.capitalize()} PixelCNN, {c.layers + 1} layers of {c.channels} channels; each pixel is "
                f"{levels}; {condition}.")

    def context_note(self) -> str:
        """How a conditional sees the earlier pixels, in one sentence (the autoregressive page)."""
        return ("A masked kernel looks at the rows above and the pixels to the left; mask A (first layer) also "
                "hides the pixel itself, mask B (later layers) does not.")

    def context_pictures(self) -> list[tuple[torch.Tensor, str]]:
        """Pictures (3, k, k) of the masks, with captions."""
        return [(mask_picture(5, "A"), "mask A (5x5): blue weights are used, black ones zeroed; red: the pixel "
                                       "itself, hidden"),
                (mask_picture(5, "B"), "mask B: the centre (violet) is kept; it only carries information from "
                                       "earlier pixels")]

    def fast_steps(self, setup):
        """The fast sampler's per-pixel work (pixelcnn_fast.py): cached activations (gated) or a band of rows."""
        return (GatedCacheSteps if self.config.variant == "gated" else RowBandSteps)(self, setup)


PIXELCNN_KIND = register_kind(ModelKind(
    name="pixelcnn", title="PixelCNN (autoregressive)",
    family="explicit density, tractable (exact log p(x))",
    summary="Generates an image one pixel at a time, each pixel drawn from p(x_i | the pixels before it), read "
            "through a window that grows with the network's depth (its receptive field).",
    config_cls=PixelCNNConfig, model_cls=PixelCNN,
    paper="van den Oord et al. 2016, Pixel Recurrent Neural Networks; van den Oord et al. 2016, Conditional "
          "Image Generation with PixelCNN Decoders",
    capabilities=frozenset({SAMPLES, AUTOREGRESSIVE, CONDITIONAL}), likelihood=EXACT, likelihood_metric="nll",
    discretisation=pixel_discretisation, loss_labels=PIXEL_LOSS_LABELS, curve_note=PIXEL_CURVE_NOTE,
    sample_batch=64, slow_sampler=True, lesson=4,
))
