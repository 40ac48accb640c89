"""Progressive GAN, sized for 28x28: G and D grow 7x7 -> 14x14 -> 28x28 while they train.

Karras, Aila, Laine & Lehtinen, "Progressive Growing of GANs for Improved Quality, Stability, and Variation",
ICLR 2018. https://arxiv.org/abs/1710.10196

The idea: first learn the coarse layout at a low resolution, where the game is easy and fast, then add layers
for finer detail. A new layer is faded in: while alpha goes from 0 to 1, G's output is

    (1 - alpha) * upsample(to_image_low(h_low)) + alpha * to_image_high(block(upsample(h_low))),

so at alpha = 0 the grown network draws exactly what the smaller one drew, upsampled; D grows the same way on its
input side, and real images are shown at the current resolution (blended the same way during a fade).

Training runs in phases of `phase_steps` optimiser steps: 7x7; fade to 14x14; 14x14; fade to 28x28; 28x28 from
then on. The phase is read from the step counter, so a resumed run continues where it stopped. Samples are always
returned as 28x28 images (a 7x7 stage upsampled by repeating pixels), so the Train page's grid sharpens stage by
stage.

Kept from the paper: the growing and the fade-in, pixelwise feature normalisation in G, the minibatch standard
deviation feature in D (it lets D see a batch's lack of variety). Left out: equalised learning rates and the
WGAN-GP loss (the DCGAN's non-saturating loss and Adam settings train this small model well), and the channel
counts of a 1024x1024 model.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genlab.models import GENERATOR, SAMPLES, ModelKind, register_kind
from genlab.models.base import Model
from genlab.models.dcgan import DCGAN, DCGAN_KIND, DCGANConfig

SIDES = (7, 14, 28)  # the resolutions of the three stages


@dataclass
class ProGANConfig(DCGANConfig):
    width: int = field(default=16, metadata={
        "help": "Channels of the 14x14 layers (twice as many at 7x7, half at 28x28): wider is slower but sharper."})
    phase_steps: int = field(default=1500, metadata={
        "title": "Steps per growth phase",
        "help": "Optimiser steps in each phase: 7x7, fade to 14x14, 14x14, fade to 28x28; then 28x28 until the end."})

    @classmethod
    def tiny(cls, **overrides) -> "ProGANConfig":
        return cls(**{"latent_dim": 8, "width": 4, "phase_steps": 2, **overrides})

    def __post_init__(self):
        super().__post_init__()
        if self.image_size != 28:
            raise ValueError("the progressive GAN grows 7x7 -> 14x14 -> 28x28: image_size must be 28")
        if self.phase_steps < 1:
            raise ValueError(f"phase_steps must be positive, not {self.phase_steps}")


class PixelNorm(nn.Module):
    """Scale each pixel's feature vector to unit average square (ProGAN's normalisation in G): (N, C, H, W)."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h * torch.rsqrt(h.pow(2).mean(1, keepdim=True) + 1e-8)


def channels(c: ProGANConfig) -> tuple[int, int, int]:
    """Channels at 7x7, 14x14 and 28x28: fewer at higher resolutions (as in the paper), so a step stays cheap."""
    return 2 * c.width, c.width, max(1, c.width // 2)


def conv_act(channels_in: int, channels_out: int, norm: bool) -> list[nn.Module]:
    return [nn.Conv2d(channels_in, channels_out, 3, padding=1), nn.LeakyReLU(0.2), *([PixelNorm()] if norm else [])]


class GrowingGenerator(nn.Module):
    def __init__(self, c: ProGANConfig):
        super().__init__()
        wide, narrow, fine = channels(c)
        self.start = nn.Sequential(nn.ConvTranspose2d(c.latent_dim, wide, 7), nn.LeakyReLU(0.2), PixelNorm()
                                   )  # z (N, latent, 1, 1) -> (N, 2w, 7, 7)
        self.blocks = nn.ModuleList([  # each doubles the side: (N, 2w, 7, 7) -> (N, w, 14, 14) -> (N, w/2, 28, 28)
            nn.Sequential(nn.Upsample(scale_factor=2), *conv_act(wide, narrow, True)),
            nn.Sequential(nn.Upsample(scale_factor=2), *conv_act(narrow, fine, True)),
        ])
        self.to_image = nn.ModuleList([nn.Conv2d(ch, c.image_channels, 1) for ch in (wide, narrow, fine)])

    def forward(self, z: torch.Tensor, stage: int, alpha: float) -> torch.Tensor:
        """z (N, latent) -> images (N, C, s, s) in [-1, 1], s = SIDES[stage]; alpha fades the newest block in."""
        h = self.start(z[:, :, None, None])  # (N, 2w, 7, 7)
        if stage == 0:
            return torch.tanh(self.to_image[0](h))
        for block in self.blocks[:stage - 1]:
            h = block(h)  # the stages already grown
        high = self.to_image[stage](self.blocks[stage - 1](h))  # the new block's image
        if alpha >= 1:
            return torch.tanh(high)
        low = F.interpolate(self.to_image[stage - 1](h), scale_factor=2)  # the smaller network's image, upsampled
        return torch.tanh((1 - alpha) * low + alpha * high)


class GrowingDiscriminator(nn.Module):
    def __init__(self, c: ProGANConfig):
        super().__init__()
        wide, narrow, fine = channels(c)
        self.from_image = nn.ModuleList([nn.Conv2d(c.image_channels, ch, 1) for ch in (wide, narrow, fine)])
        self.blocks = nn.ModuleList([  # each halves the side: (N, w, 14, 14) -> (N, 2w, 7, 7); (N, w/2, 28, 28) -> 14
            nn.Sequential(*conv_act(narrow, wide, False), nn.AvgPool2d(2)),
            nn.Sequential(*conv_act(fine, narrow, False), nn.AvgPool2d(2)),
        ])
        self.end = nn.Sequential(*conv_act(wide + 1, wide, False), nn.Conv2d(wide, 1, 7), nn.Flatten(0))  # (N,)

    def forward(self, images: torch.Tensor, stage: int, alpha: float) -> torch.Tensor:
        """Images (N, C, s, s) at the stage's side s in [-1, 1] -> logits (N,)."""
        h = F.leaky_relu(self.from_image[stage](images), 0.2)
        if stage > 0:
            h = self.blocks[stage - 1](h)  # through the new block
            if alpha < 1:  # fading in: blend with the input as the smaller D saw it
                old = F.leaky_relu(self.from_image[stage - 1](F.avg_pool2d(images, 2)), 0.2)
                h = (1 - alpha) * old + alpha * h
            for block in reversed(self.blocks[:stage - 1]):
                h = block(h)
        spread = h.std(0, unbiased=False).mean().expand(len(h), 1, *h.shape[2:])  # (N, 1, 7, 7): batch variety
        return self.end(torch.cat([h, spread], 1))


class ProGAN(DCGAN):
    def __init__(self, config: ProGANConfig):
        Model.__init__(self)  # not DCGAN.__init__: both players grow here
        self.config = config
        self.generator = GrowingGenerator(config)
        self.discriminator = GrowingDiscriminator(config)
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))

    def growth(self, step: int | None = None) -> tuple[int, float]:
        """(stage, alpha) at an optimiser step (default: now). Stage 0, 1, 2 = 7x7, 14x14, 28x28; alpha < 1 while
        the stage's block fades in."""
        phase = (int(self.steps_done) if step is None else step) // self.config.phase_steps
        if phase >= 4:
            return 2, 1.0
        stage = (phase + 1) // 2
        if phase % 2 == 1:  # a fade phase
            into = (int(self.steps_done) if step is None else step) - phase * self.config.phase_steps
            return stage, into / self.config.phase_steps
        return stage, 1.0

    def generate(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z (N, latent) -> G(z) at the current stage's resolution (N, C, s, s) in [-1, 1]."""
        return self.generator(z, *self.growth())

    def discriminate(self, images: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.discriminator(images, *self.growth())

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, latent) -> 28x28 images (N, C, 28, 28) in [0, 1]: a lower stage's image with its pixels repeated."""
        device = next(self.parameters()).device
        images = self.generate(z.to(device=device, dtype=torch.float32))  # (N, C, s, s)
        scale = self.config.image_size // images.shape[-1]
        return (F.interpolate(images, scale_factor=scale) + 1) / 2 if scale > 1 else (images + 1) / 2

    def train_step(self, x: torch.Tensor, y: torch.Tensor, optimizers: dict) -> dict[str, float]:
        """The DCGAN's step on real images shown at the current resolution (blended during a fade)."""
        stage, alpha = self.growth()
        side = SIDES[stage]
        real = F.adaptive_avg_pool2d(x, side)  # (B, C, s, s)
        if stage > 0 and alpha < 1:  # fade the real images in too, as D sees the fakes
            coarse = F.interpolate(F.adaptive_avg_pool2d(x, SIDES[stage - 1]), scale_factor=2)
            real = (1 - alpha) * coarse + alpha * real
        report = super().train_step(real, y, optimizers)
        return {**report, "resolution": float(side), "alpha": alpha}

    def describe(self) -> str:
        stage, alpha = self.growth()
        where = f"{SIDES[stage]}x{SIDES[stage]}" + (f", fading in (alpha {alpha:.2f})" if alpha < 1 else "")
        return f"Latent size {self.config.latent_dim}; grown to {where} after {int(self.steps_done):,} steps."


PROGAN_KIND = register_kind(ModelKind(
    name="progan", title="Progressive GAN",
    family=DCGAN_KIND.family,
    summary="A GAN that starts at 7x7 pixels and grows to 14x14 and 28x28 while it trains, fading each new layer in.",
    config_cls=ProGANConfig, model_cls=ProGAN,
    paper="Karras et al. 2018, Progressive Growing of GANs for Improved Quality, Stability, and Variation",
    capabilities=frozenset({SAMPLES, GENERATOR}),
    loss_labels={**DCGAN_KIND.loss_labels, "resolution": "Resolution (pixels per side)", "alpha": "Fade-in α"},
    panels_together=(*DCGAN_KIND.panels_together, ("resolution",), ("alpha",)), status_keys=("resolution", "alpha"),
    curve_note=DCGAN_KIND.curve_note + " The resolution steps 7 → 14 → 28; α rises from 0 to 1 while each new "
               "layer fades in, and the sample grid sharpens with each stage.",
    lesson=10,
))
