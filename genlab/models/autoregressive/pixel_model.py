"""What every autoregressive image model here shares, whatever computes its conditionals (PixelCNN's masked
convolutions, PixelRNN's LSTMs): pixel values, class labels, the exact likelihood from the logits, the loss.

A subclass writes `logits(x, label)`: quantized images (N, 1, H, W) and checked labels -> the logits of every
pixel's conditional, (N, 1, H, W) for a Bernoulli pixel or (N, 256, H, W) for 256 grey levels, where position i
has seen only pixels before i in raster order. Its config has `output` ("bernoulli", "softmax" or, where the
model offers it, "logistic"), `num_classes`, `label_dropout` and `image_size`. Everything else (log p(x), the
loss, sampling and completion through genlab/models/autoregressive/sampling.py) follows from that.

A "logistic" model (a mixture of discretized logistics, logistic_mixture.py) writes `mixture_params(x, label)`
instead: (N, 3K, H, W); its logits are the 256 levels' log-probabilities, and its likelihood is computed at the
observed levels only (the same numbers, without building all 256).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from genlab.models.autoregressive import logistic_mixture
from genlab.models.base import Model

OUTPUTS = ("softmax", "bernoulli")
OUTPUT_HELP = ("'softmax': each pixel is one of 256 grey levels (exact likelihood of 8-bit images); 'bernoulli': "
               "images are binarized at 0.5 and each pixel is black or white.")
OUTPUTS_WITH_MIXTURE = ("softmax", "logistic", "bernoulli")
OUTPUT_WITH_MIXTURE_HELP = OUTPUT_HELP + (" 'logistic': 256 grey levels from a mixture of discretized logistics "
                                          "(PixelCNN++), so neighbouring levels share probability: it learns "
                                          "faster, and the likelihood stays exact.")
NUM_CLASSES_HELP = "0: unconditional p(x); 10: class-conditional p(x | y), so you can ask for 'a 7' or 'a sneaker'."
LABEL_DROPOUT_HELP = ("For a class-conditional model, the fraction of training images shown with the label 'none', "
                      "so the same network also learns the unconditional p(x) (used when no class is asked for).")


def levels_of(output: str) -> int:
    """How many values a pixel can take: 2 (Bernoulli) or 256 (softmax)."""
    return 2 if output == "bernoulli" else 256


def check_pixel_settings(config) -> None:
    """One sentence (ValueError) for settings every autoregressive image model shares."""
    if config.image_channels != 1:
        raise ValueError("this model orders the pixels of grayscale images only (image_channels must be 1)")
    if config.num_classes < 0:
        raise ValueError(f"num_classes must be 0 (unconditional) or positive, not {config.num_classes}")
    if not 0 <= config.label_dropout < 1:
        raise ValueError(f"label_dropout must be in [0, 1), not {config.label_dropout}")
    if config.image_size < 2:
        raise ValueError(f"image_size must be at least 2, not {config.image_size}")


class PixelModel(Model):
    default_lr = 1e-3
    clip_grad_norm = 1.0

    def logits(self, x: torch.Tensor, label=None) -> torch.Tensor:
        if self.config.output == "logistic":
            return logistic_mixture.log_pmf(self.mixture_params(x, label))  # (N, 256, H, W)
        raise NotImplementedError

    def mixture_params(self, x: torch.Tensor, label=None) -> torch.Tensor:
        raise NotImplementedError  # (N, 3K, H, W), for output "logistic"

    def head_logits(self, raw: torch.Tensor) -> torch.Tensor:
        """The output head's numbers for one pixel or all, (N, C, ...) -> logits (N, K, ...): as they are, or
        for a mixture the 256 levels' log-probabilities."""
        return logistic_mixture.log_pmf(raw) if self.config.output == "logistic" else raw

    @property
    def head_outputs(self) -> int:
        """Numbers the output head gives per pixel: 1 (Bernoulli), 256 (softmax) or 3 per logistic."""
        c = self.config
        return {"bernoulli": 1, "softmax": 256}.get(c.output) or logistic_mixture.channels_for(c.mixtures)

    # -- pixels: values, network inputs and targets ---------------------------------------------------
    def quantize(self, x: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] -> the values this model describes: {0, 1} (Bernoulli) or k/255 (softmax)."""
        if self.config.output == "bernoulli":
            return (x > 0.5).to(x.dtype)
        return torch.round(x.clamp(0, 1) * 255) / 255

    def targets(self, x: torch.Tensor) -> torch.Tensor:
        """Quantized images (N, 1, H, W) -> the class of each pixel (N, H, W): 0/1 or 0..255."""
        return torch.round(x[:, 0] * (self.config.levels - 1)).long()

    @property
    def logit_channels(self) -> int:
        """Logits per pixel: 1 (Bernoulli) or 256 (softmax)."""
        return 1 if self.config.output == "bernoulli" else 256

    @property
    def conditional(self) -> bool:
        return self.config.num_classes > 0

    def class_picture(self, label: int) -> torch.Tensor | None:
        """What the model learned about where one class's pixels go, as pictures (M, 1, H, W) in [0, 1], for a
        model that conditions on the position as well as the class; None for the others."""
        return None

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def check_label(self, label, n: int) -> torch.Tensor | None:
        """None for an unconditional model, else (n,) class indices from one label or n of them. No label means
        the extra class 'none' (index num_classes): the unconditional p(x) the model also learned."""
        if not self.conditional:
            return None
        if label is None:
            return torch.full((n,), self.config.num_classes, dtype=torch.long, device=self.device)
        label = torch.as_tensor(label, dtype=torch.long, device=self.device).reshape(-1)
        label = label.expand(n) if label.numel() == 1 else label  # (n,)
        if label.shape != (n,) or label.min() < 0 or label.max() > self.config.num_classes:
            raise ValueError(f"labels must be one or {n} class numbers between 0 and {self.config.num_classes - 1} "
                             f"({self.config.num_classes} means no class)")
        return label

    # -- the likelihood ------------------------------------------------------------------------------------
    def pixel_log_probs(self, x: torch.Tensor, label=None) -> torch.Tensor:
        """log p(x_i | x_<i) (or log p(x_i | x_<i, y)) of every pixel, (N, H, W), in nats, for images in [0, 1]
        (quantized here). No label: the unconditional model."""
        x = self.quantize(x)
        target = self.targets(x)  # (N, H, W)
        if self.config.output == "logistic":
            return logistic_mixture.log_prob_targets(self.mixture_params(x, label), target)
        logits = self.logits(x, label)  # (N, K, H, W)
        if self.config.output == "bernoulli":
            return -F.binary_cross_entropy_with_logits(logits[:, 0], target.float(), reduction="none")
        return -F.cross_entropy(logits, target, reduction="none")

    def log_prob(self, x: torch.Tensor, label=None) -> torch.Tensor:
        """log p(x) (or log p(x | y)) per image, (N,), in nats: the sum of the per-pixel conditionals."""
        return self.pixel_log_probs(x, label).sum((1, 2))

    # -- the protocol the trainer and pages use (genlab/models/base.py) ----------------------------------
    def loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        label = None
        if self.conditional:  # some images are shown without their label: the model also learns p(x)
            drop = torch.rand(len(y), device=y.device) < self.config.label_dropout  # (N,)
            label = torch.where(drop, torch.full_like(y, self.config.num_classes), y)
        nll = -self.log_prob(x, label)  # (N,) nats per image
        dims = x[0].numel()
        loss = nll.mean() / dims  # nats per dimension: the scale does not depend on the image size
        return loss, {"loss": nll.mean().item(), "bits_per_dim": loss.item() / math.log(2)}

    @torch.inference_mode()
    def sample(self, n: int, generator: int | torch.Generator | None = None, label=None,
               temperature: float = 1.0, guidance: float = 0.0) -> torch.Tensor:
        """n images drawn pixel by pixel (the fast sampler where the model has one): (n, 1, H, W) in [0, 1]; a
        class-conditional model draws from p(x | label), or from p(x) when no label is given (guidance: the
        classifier-free guidance weight, sampling.guided_logits)."""
        from genlab.models.autoregressive.sampling import fast_sample  # the samplers know no architecture

        return fast_sample(self, n, generator=generator, label=label, temperature=temperature,
                           guidance=guidance).images

    @torch.inference_mode()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None
                 ) -> dict[str, float]:
        """Sums over the batch: the exact -log p(x) in nats of the quantized images (a class-conditional model
        is evaluated with the label 'none', i.e. as the unconditional model it also learned)."""
        return {"nll": -self.log_prob(x).sum().item()}


def pixel_discretisation(config) -> str:
    """On which data an autoregressive image model's likelihood is measured."""
    return "binarized pixels (threshold 0.5)" if config.output == "bernoulli" else "256 grey levels"


PIXEL_LOSS_LABELS = {"loss": "−log p(x)", "nll": "−log p(x)", "bits_per_dim": "bits per dimension"}
PIXEL_CURVE_NOTE = ("Bits per dimension: the exact −log₂ p(x) divided by the number of pixels; lower means the model "
                    "finds the images more likely.")
