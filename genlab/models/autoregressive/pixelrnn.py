"""PixelRNN: LSTMs that read an image in raster order, the Row LSTM and the Diagonal BiLSTM.

van den Oord, Kalchbrenner & Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016.
https://arxiv.org/abs/1601.06759

The density is the chain rule over pixels, p(x) = prod_i p(x_i | x_<i), as in every autoregressive model here.
PixelRNN computes the conditionals with two-dimensional LSTM layers over a first 7x7 mask-A convolution:

- **Row LSTM** processes the image one row at a time. The gates of row i come from a 1-D convolution of width 3
  over row i-1's hidden states (state-to-state) plus a masked convolution over row i's own inputs
  (input-to-state, the pixel itself and the one to its left). Every row above reaches a pixel, but only
  through that width-3 window per row: the context is a *triangle* above it, and a few pixels to its left.
- **Diagonal BiLSTM** *skews* the image, shifting row i right by i pixels, so that each diagonal of the image
  becomes a column. An LSTM then runs along the columns; each state sees the state above it and the state to its
  left (a 2x1 state-to-state convolution). A second LSTM runs in the other direction; its output is shifted down
  one row, so a pixel never sees the pixels to its right in its own row. Together they see the whole past but
  one pixel: the last of the row above enters only the features of the pixels after it (the first layer's
  mask A reaches it from row i, columns W-1-k//2 and beyond), so the pixels of row i left of that never see it
  (the shifted right-to-left LSTM carries row i-1's features, which never include their own pixel).

Every layer has the LSTM's cell: (o, f, i, g) = split(K_ss * h_prev + K_is * x); c = s(f) c_prev + s(i) tanh(g);
h = s(o) tanh(c), with s the sigmoid, and a residual connection. A class label adds a learned bias to the gates.
Training and the exact -log p(x) need one pass; sampling draws one pixel at a time. The Row LSTM's sampler
keeps each layer's state of the row above and recomputes only the current row per pixel; the Diagonal BiLSTM's
sampler steps each cell once per pixel (pixelrnn_fast.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genlab.models import AUTOREGRESSIVE, CONDITIONAL, EXACT, SAMPLES, ModelKind, check_choices, register_kind
from genlab.models.autoregressive.masks import MaskedConv2d
from genlab.models.autoregressive.pixel_model import (LABEL_DROPOUT_HELP, NUM_CLASSES_HELP, OUTPUT_HELP, OUTPUTS,
                                                      PIXEL_CURVE_NOTE, PIXEL_LOSS_LABELS, PixelModel,
                                                      check_pixel_settings, levels_of, pixel_discretisation)
from genlab.models.autoregressive.pixelrnn_fast import DiagonalCacheSteps

VARIANTS = ("row", "diagonal")


@dataclass
class PixelRNNConfig:
    variant: str = field(default="row", metadata={
        "choices": VARIANTS, "help": "'row': Row LSTM, one row at a time, a triangular context; 'diagonal': "
                                     "Diagonal BiLSTM on the skewed image, which sees nearly every earlier pixel."})
    output: str = field(default="bernoulli", metadata={"choices": OUTPUTS, "help": OUTPUT_HELP})
    channels: int = field(default=32, metadata={
        "help": "Hidden units of every LSTM layer (and channels of the first convolution)."})
    layers: int = field(default=2, metadata={"help": "LSTM layers after the first 7x7 masked convolution."})
    first_kernel_size: int = field(default=7, metadata={
        "help": "Width of the first (mask A) convolution (odd): how far the first layer looks."})
    head_channels: int = field(default=32, metadata={
        "help": "Hidden channels of the per-pixel output head (two 1x1 convolutions)."})
    num_classes: int = field(default=0, metadata={"help": NUM_CLASSES_HELP})
    label_dropout: float = field(default=0.2, metadata={"help": LABEL_DROPOUT_HELP})
    image_channels: int = 1  # grayscale only: the order is over pixels, not colour channels
    image_size: int = 28

    @classmethod
    def tiny(cls, **overrides) -> "PixelRNNConfig":
        return cls(**{"channels": 6, "layers": 1, "head_channels": 6, "image_size": 8, **overrides})

    def __post_init__(self):
        check_choices(self)
        check_pixel_settings(self)
        if self.first_kernel_size < 3 or self.first_kernel_size % 2 == 0:
            raise ValueError("first_kernel_size must be odd and at least 3")
        if not 1 <= self.channels <= 512 or not 1 <= self.layers <= 16 or self.head_channels < 1:
            raise ValueError("channels must be 1..512, layers 1..16 and head_channels positive")

    @property
    def levels(self) -> int:
        return levels_of(self.output)


def lstm_cell(gates: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """gates (N, 4C, ...) = (o, f, i, g) and the previous cell c (N, C, ...) -> new (h, c)."""
    o, f, i, g = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class RowLSTM(nn.Module):
    """One Row LSTM layer: (N, C, H, W) -> (N, C, H, W), row by row from the top."""

    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        # input-to-state, mask B of width 3: the pixel itself and the one to its left (left padding of 1)
        self.input_to_state = nn.Conv2d(channels, 4 * channels, (1, 2))
        self.state_to_state = nn.Conv1d(channels, 4 * channels, 3, padding=1)  # row i-1, columns j-1 .. j+1
        self.label = nn.Embedding(num_classes + 1, 4 * channels) if num_classes else None

    def input_gates(self, x: torch.Tensor, label: torch.Tensor | None) -> torch.Tensor:
        """The input-to-state part of the gates of every row at once: (N, C, H, W) -> (N, 4C, H, W)."""
        gates = self.input_to_state(F.pad(x, (1, 0)))
        return gates + self.label(label)[:, :, None, None] if self.label is not None else gates

    def step(self, input_gates: torch.Tensor, h: torch.Tensor, c: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """One row: its input gates (N, 4C, W) and the row above's (h, c), each (N, C, W) -> this row's (h, c)."""
        return lstm_cell(input_gates + self.state_to_state(h), c)

    def forward(self, x: torch.Tensor, label: torch.Tensor | None) -> torch.Tensor:
        n, channels, height, width = x.shape
        inputs = self.input_gates(x, label)  # (N, 4C, H, W)
        h = x.new_zeros(n, channels, width)  # (N, C, W): the row above the first one is empty
        c = x.new_zeros(n, channels, width)
        rows = []
        for i in range(height):
            h, c = self.step(inputs[:, :, i], h, c)  # (N, C, W) each
            rows.append(h)
        return x + torch.stack(rows, dim=2)  # (N, C, H, W), residual


class RowLSTMSteps:
    """The Row LSTM's fast sampler steps (see sampling.py): a pixel in row i depends on the rows above only
    through each layer's final (h, c) of row i-1, so those are kept and each pixel recomputes row i alone (one
    row step per layer instead of H), plus the first convolution on the band of rows it reads."""

    def __init__(self, model: "PixelRNN", setup):
        self.model, self.s = model, setup
        n, width = len(setup.x), model.config.image_size
        zeros = setup.x.new_zeros(n, model.config.channels, width)  # (N, C, W)
        self.states = [(zeros, zeros) for _ in model.lstms]  # each layer's (h, c) of the row above `self.row`
        self.row = 0  # the row whose pixels are being drawn (rows above it are final)

    def row_pass(self, row: int) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """Row `row`'s last features (N, C, W) and every layer's (h, c) for it, from the kept states above."""
        m = self.model
        top = max(0, row - m.config.first_kernel_size // 2)
        x = m.first(self.s.x[:, :, top:row + 1])[:, :, -1:]  # (N, C, 1, W): mask A on the band of rows read
        states = []
        for lstm, (h_above, c_above) in zip(m.lstms, self.states):
            h, c = lstm.step(lstm.input_gates(x, self.s.label)[:, :, 0], h_above, c_above)  # (N, C, W) each
            states.append((h, c))
            x = x + h[:, :, None]  # residual, (N, C, 1, W)
        return x[:, :, 0], states

    def __call__(self, row: int, cols: list[int]):
        while self.row < row:  # rows above are final now (drawn, or known in a completion): keep their states
            _, self.states = self.row_pass(self.row)
            self.row += 1
        for col in cols:
            features, _ = self.row_pass(row)  # (N, C, W)
            yield col, self.model.head(features[:, :, col, None, None])[:, :, 0, 0]  # (N, K)

    def pixel_set(self, row: int, col: int, value: torch.Tensor) -> None:
        pass  # the drawn value is in setup.x, which the next row pass reads


def skew(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, H, W + H - 1): row i shifted right by i, so image diagonals become columns.
    Padding each row to W + H and reading the flat rows back W + H - 1 wide shifts row i by exactly i."""
    n, c, height, width = x.shape
    flat = F.pad(x, (0, height)).flatten(2)  # (N, C, H * (W + H))
    return flat[:, :, :height * (width + height - 1)].view(n, c, height, width + height - 1)


def unskew(x: torch.Tensor, width: int) -> torch.Tensor:
    """The inverse of skew: (N, C, H, W + H - 1) -> (N, C, H, W)."""
    n, c, height, _ = x.shape
    flat = F.pad(x.flatten(2), (0, height))  # (N, C, H * (W + H))
    return flat.view(n, c, height, width + height)[..., :width]


class DiagonalLSTM(nn.Module):
    """One direction of a Diagonal BiLSTM layer: along the skewed image's columns, left to right."""

    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.input_to_state = nn.Conv2d(channels, 4 * channels, 1)  # the pixel's own features
        self.state_to_state = nn.Conv1d(channels, 4 * channels, 2)  # previous column, rows i-1 and i
        self.label = nn.Embedding(num_classes + 1, 4 * channels) if num_classes else None

    def forward(self, x: torch.Tensor, label: torch.Tensor | None) -> torch.Tensor:
        return unskew(self.scan(x, label)[0], x.shape[3])  # (N, C, H, W)

    def scan(self, x: torch.Tensor, label: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Every state (h, c) of the skewed image, (N, C, H, W + H - 1) each, padding positions included."""
        n, channels, height, width = x.shape
        inputs = self.input_to_state(skew(x))  # (N, 4C, H, W + H - 1)
        if self.label is not None:
            inputs = inputs + self.label(label)[:, :, None, None]
        h = x.new_zeros(n, channels, height)  # (N, C, H): one state per row of the skewed column
        c = x.new_zeros(n, channels, height)
        above, left = self.state_to_state.weight.unbind(2)  # (4C, C) each: the 2x1 kernel's two taps
        bias = self.state_to_state.bias[:, None]  # (4C, 1)
        hs, cs = [], []
        for col in range(inputs.shape[3]):
            # state above (row i-1) and state to the left (row i), both from the previous skewed column: the
            # 2x1 convolution written as two matrix products (much faster than a convolution call this small)
            h_above = F.pad(h, (1, 0))[:, :, :-1]  # (N, C, H): row i holds row i-1's state
            gates = inputs[:, :, :, col] + above @ h_above + left @ h + bias  # (N, 4C, H)
            h, c = lstm_cell(gates, c)  # (N, C, H) each
            hs.append(h)
            cs.append(c)
        return torch.stack(hs, dim=3), torch.stack(cs, dim=3)

    def cell(self, x: torch.Tensor, label: torch.Tensor | None, h_above: torch.Tensor, h_before: torch.Tensor,
             c_before: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The same cell at one pixel (pixelrnn_fast.py): its input features x (N, C), the state of the pixel
        above and (h, c) of the pixel before it along the row, (N, C) each -> its (h, c)."""
        gates = F.linear(x, self.input_to_state.weight[:, :, 0, 0], self.input_to_state.bias)  # (N, 4C)
        if self.label is not None:
            gates = gates + self.label(label)
        above, before = self.state_to_state.weight.unbind(2)  # (4C, C) each
        gates = gates + h_above @ above.T + h_before @ before.T + self.state_to_state.bias
        return lstm_cell(gates, c_before)

    def states_before_each_row(self, like: torch.Tensor, label: torch.Tensor | None
                               ) -> tuple[torch.Tensor, torch.Tensor]:
        """(h, c) just before column 0 of every row, (N, C, H) each: padding positions of the skewed image,
        whose inputs are zero whatever the image, so a scan of zeros gives them exactly."""
        hs, cs = self.scan(torch.zeros_like(like), label)  # (N, C, H, W + H - 1)
        height = like.shape[2]
        rows = torch.arange(1, height)
        h, c = like.new_zeros(hs.shape[:3]), like.new_zeros(cs.shape[:3])  # row 0 starts from nothing
        h[:, :, 1:], c[:, :, 1:] = hs[:, :, rows, rows - 1], cs[:, :, rows, rows - 1]  # row i, skewed column i-1
        return h, c


class DiagonalBiLSTM(nn.Module):
    """Both directions; the right-to-left one is shifted down a row, so no pixel sees its right neighbours."""

    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.forward_lstm = DiagonalLSTM(channels, num_classes)
        self.backward_lstm = DiagonalLSTM(channels, num_classes)

    def forward(self, x: torch.Tensor, label: torch.Tensor | None) -> torch.Tensor:
        left_to_right = self.forward_lstm(x, label)  # (N, C, H, W)
        right_to_left = self.backward_lstm(x.flip(3), label).flip(3)  # (N, C, H, W): sees the right too
        shifted = F.pad(right_to_left, (0, 0, 1, 0))[:, :, :-1]  # row i gets row i-1's: only earlier rows
        return x + left_to_right + shifted


class PixelRNN(PixelModel):
    def __init__(self, config: PixelRNNConfig):
        super().__init__()
        self.config = c = config
        self.first = MaskedConv2d("A", c.image_channels, c.channels, c.first_kernel_size)
        layer = RowLSTM if c.variant == "row" else DiagonalBiLSTM
        self.lstms = nn.ModuleList(layer(c.channels, c.num_classes) for _ in range(c.layers))
        # The output head works on each pixel alone (1x1 convolutions): it cannot break the ordering.
        self.head = nn.Sequential(
            nn.ReLU(), nn.Conv2d(c.channels, c.head_channels, 1),
            nn.ReLU(), nn.Conv2d(c.head_channels, 1 if c.output == "bernoulli" else 256, 1))

    def logits(self, x: torch.Tensor, label=None) -> torch.Tensor:
        """Quantized images (N, 1, H, W) -> logits of every pixel's conditional, (N, K, H, W)."""
        label = self.check_label(label, len(x))
        h = self.first(x)  # (N, C, H, W): position i saw pixels < i
        for lstm in self.lstms:
            h = lstm(h, label)  # (N, C, H, W)
        return self.head(h)

    def describe(self) -> str:
        c = self.config
        name = "Row LSTM" if c.variant == "row" else "Diagonal BiLSTM"
        levels = "black or white (Bernoulli)" if c.output == "bernoulli" else "one of 256 grey levels (softmax)"
        return (f"PixelRNN ({name}), {c.layers} LSTM layers of {c.channels} units; each pixel is {levels}; "
                f"{'class-conditional' if self.conditional else 'unconditional'}.")

    def context_note(self) -> str:
        if self.config.variant == "row":
            return ("Each row's LSTM reads the row above through a window 3 pixels wide and, in its own row, a few "
                    "pixels to the left: the context is a triangle above the pixel, one pixel wider on each side "
                    "per row up.")
        return ("The image is skewed so that diagonals become columns; one LSTM sees the state above and the state "
                "to the left, another runs right to left one row lower: together they see every earlier pixel "
                "except, for most of a row, the last pixel of the row above (measured on the right).")

    def context_pictures(self) -> list:
        return []  # the measured field beside it shows the triangle (Row LSTM) or nearly the whole past (diagonal)

    def fast_steps(self, setup):
        """The Row LSTM keeps the row above's states (RowLSTMSteps); the Diagonal BiLSTM steps its cells pixel by
        pixel (pixelrnn_fast.py)."""
        return (RowLSTMSteps if self.config.variant == "row" else DiagonalCacheSteps)(self, setup)


PIXELRNN_KIND = register_kind(ModelKind(
    name="pixelrnn", title="PixelRNN (autoregressive)",
    family="explicit density, tractable (exact log p(x))",
    summary="LSTMs read the image in raster order (a row at a time, or along its diagonals) and give every "
            "p(x_i | pixels before i).",
    config_cls=PixelRNNConfig, model_cls=PixelRNN,
    paper="van den Oord, Kalchbrenner & Kavukcuoglu 2016, Pixel Recurrent Neural Networks",
    capabilities=frozenset({SAMPLES, AUTOREGRESSIVE, CONDITIONAL}), likelihood=EXACT, likelihood_metric="nll",
    discretisation=pixel_discretisation, loss_labels=PIXEL_LOSS_LABELS, curve_note=PIXEL_CURVE_NOTE,
    sample_batch=64, slow_sampler=True, lesson=3,
))
