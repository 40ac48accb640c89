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

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genlab.models import AUTOREGRESSIVE, EXACT, SAMPLES, ModelKind, register_kind
from genlab.models.base import Model


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


class NADE(Model):
    default_lr = 1e-3
    clip_grad_norm = 1.0

    def __init__(self, config: NADEConfig):
        super().__init__()
        self.config = c = config
        d = c.image_size * c.image_size  # D pixels
        self.W = nn.Parameter(torch.randn(c.hidden, d) * 0.01)  # (H, D): pixel d's column feeds later pixels
        self.c = nn.Parameter(torch.zeros(c.hidden))  # (H,) hidden bias
        self.V = nn.Parameter(torch.randn(d, c.hidden) * 0.01)  # (D, H): pixel d's output weights
        self.b = nn.Parameter(torch.zeros(d))  # (D,) output bias

    # -- pixels, labels, device (what the samplers in sampling.py ask of an autoregressive model) ---------
    def quantize(self, x: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] -> binary images {0, 1} (threshold 0.5)."""
        return (x > 0.5).to(x.dtype)

    def check_label(self, label, n: int) -> None:
        """NADE here is unconditional: a label is ignored."""
        return None

    @property
    def conditional(self) -> bool:
        return False

    @property
    def device(self) -> torch.device:
        return self.W.device

    @property
    def logit_channels(self) -> int:
        return 1  # one Bernoulli logit per pixel

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

    def pixel_log_probs(self, x: torch.Tensor, label=None) -> torch.Tensor:
        """log p(x_d | x_<d) of every pixel, (N, H, W), in nats, for images in [0, 1] (binarized here)."""
        x = self.quantize(x)
        return -F.binary_cross_entropy_with_logits(self.logits(x)[:, 0], x[:, 0], reduction="none")

    def log_prob(self, x: torch.Tensor, label=None) -> torch.Tensor:
        """log p(x) per image, (N,), in nats: the sum of the D conditionals."""
        return self.pixel_log_probs(x).sum((1, 2))

    # -- the protocol the trainer and pages use (genlab/models/base.py) ----------------------------------
    def describe(self) -> str:
        return (f"NADE with {self.config.hidden} hidden units shared by all {self.config.image_size ** 2} "
                "conditionals; each pixel is black or white (binarized at 0.5).")

    def context_note(self) -> str:
        """How a conditional sees the earlier pixels, in one sentence (the autoregressive page)."""
        return ("Every earlier pixel, through one hidden layer: pixel d's hidden units add up W's columns of the "
                "pixels before d, and those columns are shared by every later conditional.")

    def context_pictures(self) -> list:
        return []  # no kernel to draw: the measured field on the right shows every earlier pixel seen

    def fast_steps(self, setup):
        """The incremental sampler: keep a_d and add one column of W per pixel (O(H) per pixel)."""
        return IncrementalSteps(self, setup)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        nll = -self.log_prob(x)  # (N,) nats per image
        loss = nll.mean() / x[0].numel()  # nats per dimension: the scale does not depend on the image size
        return loss, {"loss": nll.mean().item(), "bits_per_dim": loss.item() / math.log(2)}

    @torch.inference_mode()
    def sample(self, n: int, generator: int | torch.Generator | None = None, label=None,
               temperature: float = 1.0) -> torch.Tensor:
        """n binary images drawn pixel by pixel with the incremental sampler: (n, 1, H, W) in {0, 1}."""
        from genlab.models.autoregressive.sampling import fast_sample

        return fast_sample(self, n, generator=generator, temperature=temperature).images

    @torch.inference_mode()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None
                 ) -> dict[str, float]:
        """Sums over the batch: the exact -log p(x) in nats of the binarized images."""
        return {"nll": -self.log_prob(x).sum().item()}


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
    loss_labels={"loss": "−log p(x)", "nll": "−log p(x)", "bits_per_dim": "bits per dimension"},
    curve_note="Bits per dimension: the exact −log₂ p(x) divided by the number of pixels; lower means the model "
               "finds the images more likely.",
    sample_batch=256, slow_sampler=True, lesson=2,
))
