"""NADE: the neural autoregressive distribution estimator, for binary images.

Larochelle & Murray, "The Neural Autoregressive Distribution Estimator", AISTATS 2011.
https://proceedings.mlr.press/v15/larochelle11a.html

The idea: write p(x) with the chain rule over the D pixels in raster order, and let one small network with
*shared* weights give every conditional:

    h_d = sigmoid(c + W[:, <d] x_<d)               the hidden layer (H units) sees the pixels before d
    p(x_d = 1 | x_<d) = sigmoid(b_d + V_d . h_d)

A full table of p(x) over D binary pixels needs 2^D - 1 numbers; NADE needs about 2DH (W: H x D, V: D x H).
Sharing W is also what makes it fast: the pre-activation a_d = c + W[:, <d] x_<d grows by one column per pixel,
a_{d+1} = a_d + W[:, d] x_d, so all D conditionals cost O(DH), the price of one hidden layer, not O(D^2 H).
Training computes every a_d at once with a cumulative sum; sampling keeps a_d and adds one column per pixel.
-log p(x) is exact, in nats per image.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from genlab.models import AUTOREGRESSIVE, EXACT, SAMPLES, ModelKind, register_kind
from genlab.models.autoregressive.pixel_model import PIXEL_CURVE_NOTE, PIXEL_LOSS_LABELS, PixelModel


@dataclass
class NADEConfig:
    hidden: int = field(default=500, metadata={
        "help": "Hidden units H shared by every conditional (the paper used 500): more capacity, slower steps."})
    image_channels: int = 1  # NADE here models one binary channel
    image_size: int = 28

    @classmethod
    def tiny(cls, **overrides) -> "NADEConfig":
        return cls(**{"hidden": 8, "image_size": 8, **overrides})

    def __post_init__(self):
        if self.image_channels != 1:
            raise ValueError("NADE models one binary channel (image_channels must be 1)")
        if not 1 <= self.hidden <= 4096:
            raise ValueError(f"hidden must be between 1 and 4096, not {self.hidden}")
        if self.image_size < 2:
            raise ValueError(f"image_size must be at least 2, not {self.image_size}")

    @property
    def levels(self) -> int:
        return 2  # every pixel is black or white

    @property
    def num_classes(self) -> int:
        return 0  # unconditional

    @property
    def output(self) -> str:
        return "bernoulli"  # what genlab/models/autoregressive/pixel_model.py reads

    @property
    def label_dropout(self) -> float:
        return 0.0


class NADE(PixelModel):
    """Pixel values, the likelihood from the logits, the loss and sampling come from PixelModel."""

    def __init__(self, config: NADEConfig):
        super().__init__()
        self.config = c = config
        d = c.image_size * c.image_size  # D pixels
        self.W = nn.Parameter(torch.randn(c.hidden, d) * 0.01)  # (H, D): pixel d's column feeds later pixels
        self.c = nn.Parameter(torch.zeros(c.hidden))  # (H,) hidden bias
        self.V = nn.Parameter(torch.randn(d, c.hidden) * 0.01)  # (D, H): pixel d's output weights
        self.b = nn.Parameter(torch.zeros(d))  # (D,) output bias

    # -- the network -------------------------------------------------------------------------------------
    def logits(self, x: torch.Tensor, label=None) -> torch.Tensor:
        """Binary images (N, 1, H, W) -> the logit of p(x_d = 1 | x_<d) for every pixel, (N, 1, H, W), in O(DH)
        per image: a cumulative sum gives every pre-activation a_d = c + sum_{j<d} W[:, j] x_j at once."""
        n, _, height, width = x.shape
        flat = x.reshape(n, 1, -1)  # (N, 1, D)
        steps = flat * self.W  # (N, H, D): column j is W[:, j] x_j
        before = torch.cumsum(steps, dim=2) - steps  # (N, H, D): sum over j < d (exclusive prefix sum)
        hidden = torch.sigmoid(self.c[None, :, None] + before)  # (N, H, D): h_d
        out = self.b + torch.einsum("nhd,dh->nd", hidden, self.V)  # (N, D): b_d + V_d . h_d
        return out.view(n, 1, height, width)

    # -- the protocol the trainer and pages use (genlab/models/base.py) ----------------------------------
    def describe(self) -> str:
        return (f"NADE with {self.config.hidden} hidden units shared by all {self.config.image_size ** 2} "
                "conditionals; each pixel is black or white (binarized at 0.5).")

    def context_note(self) -> str:
        """How a conditional sees the earlier pixels, in one sentence (the autoregressive page)."""
        return ("Every earlier pixel, through one hidden layer: pixel d's hidden units add up the columns of W of "
                "the white pixels before d, and each column is shared by every later conditional.")

    def context_pictures(self) -> list:
        return []  # no kernel to draw: the measured field on the right shows every earlier pixel seen

    def fast_steps(self, setup):
        """The incremental sampler: keep a_d and add one column of W per pixel (O(H) per pixel)."""
        return IncrementalSteps(self, setup)


class IncrementalSteps:
    """NADE's sampler steps (see sampling.py): a_d is kept and grows by W[:, j] x_j for every pixel j passed,
    known or drawn, so each conditional costs O(H) instead of a full O(DH) pass."""

    def __init__(self, model: NADE, setup):
        self.model, self.s = model, setup
        self.width = model.config.image_size
        self.a = model.c.expand(len(setup.x), -1).clone()  # (N, H): a_0 = c
        self.added = 0  # pixels 0 .. added-1 are in a

    def __call__(self, row: int, cols: list[int]):
        m, flat = self.model, self.s.x.view(len(self.s.x), -1)  # (N, D), live: drawn pixels appear in it
        for col in cols:
            d = row * self.width + col
            if d > self.added:  # pixels passed since the last call (known ones, or a skipped stretch)
                self.a += flat[:, self.added:d] @ m.W[:, self.added:d].T  # (N, H)
            self.added = d
            hidden = torch.sigmoid(self.a)  # (N, H): h_d
            yield col, (m.b[d] + hidden @ m.V[d])[:, None]  # (N, 1): the logit of p(x_d = 1 | x_<d)

    def pixel_set(self, row: int, col: int, value: torch.Tensor) -> None:
        d = row * self.width + col
        self.a += value[:, None] * self.model.W[:, d]  # (N, H): a_{d+1} = a_d + W[:, d] x_d
        self.added = d + 1


NADE_KIND = register_kind(ModelKind(
    name="nade", title="NADE (autoregressive)",
    family="explicit density, tractable (exact log p(x))",
    summary="One hidden layer with weights shared by all pixels gives every p(x_i | pixels before i), "
            "all of them in the time of one layer.",
    config_cls=NADEConfig, model_cls=NADE,
    paper="Larochelle & Murray 2011, The Neural Autoregressive Distribution Estimator",
    capabilities=frozenset({SAMPLES, AUTOREGRESSIVE}), likelihood=EXACT, likelihood_metric="nll",
    discretisation="binarized pixels (threshold 0.5)",
    loss_labels=PIXEL_LOSS_LABELS, curve_note=PIXEL_CURVE_NOTE,
    sample_batch=256, slow_sampler=True, lesson=2,
))
