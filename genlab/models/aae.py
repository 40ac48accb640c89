"""Adversarial autoencoder (AAE): an autoencoder whose codes a discriminator pushes towards any prior you pick.

Makhzani, Shlens, Jaitly, Goodfellow & Frey, "Adversarial Autoencoders", ICLR 2016 workshop.
https://arxiv.org/abs/1511.05644

A VAE keeps its codes near N(0, I) with a KL term, which needs the prior's density in closed form. The AAE
needs only samples of the prior: a small discriminator D on codes learns to tell prior samples from the
encoder's codes, and the encoder is trained to fool it, so the codes of the whole data set (the aggregated
posterior q(z)) take the prior's shape: a Gaussian, a mixture of 10 Gaussians, a ring, a swiss roll. Decoding
a prior sample then gives an image. Each step has two phases, as in the paper:

    reconstruction:  encoder and decoder minimise -log p(x | z = f(x))
    regularisation:  D learns prior samples -> 1, codes -> 0; then the encoder makes D say 1 for its codes

With classes (num_classes > 0), the prior is cut into that many parts and D is also told which part a prior
sample came from and which class an image has: each class is then pushed into its own part (the paper's
semi-supervised picture). There is no bound on log p(x): the AAE reports only its reconstruction cost.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genlab.models import LATENT, SAMPLES, ModelKind, register_kind
from genlab.models.autoencoder import DeterministicAutoencoder
from genlab.models.base import as_generator
from genlab.models.vae import check_code_and_image

PRIORS = ("gaussian", "mixture", "ring", "swiss-roll")
PRIOR_WORDS = {"gaussian": "N(0, I)", "mixture": "a mixture of 10 Gaussians on a circle",
               "ring": "a ring", "swiss-roll": "a swiss roll"}


@dataclass
class AAEConfig:
    latent_dim: int = field(default=2, metadata={
        "title": "Latent dimensions",
        "help": "Size of the code z. The mixture, ring and swiss roll are drawn in 2-D, so they need 2."})
    prior: str = field(default="mixture", metadata={
        "choices": PRIORS, "title": "Prior",
        "help": "The shape the codes are pushed into. Any shape works, as long as it can be sampled."})
    num_classes: int = field(default=10, metadata={
        "title": "Classes",
        "help": "10 (for data with 10 classes): the prior is cut into 10 parts and each class is pushed into its "
                "own part, the paper's semi-supervised picture. 0: the discriminator sees only codes (slower to "
                "settle, and a mixture's parts may be left empty). Shapes has 3 classes."})
    width: int = 32  # the encoder and decoder: as the VAE's
    hidden: int = 256
    d_hidden: int = 256  # units of each of D's two hidden layers
    image_channels: int = 1
    image_size: int = 28

    @classmethod
    def tiny(cls, **overrides) -> "AAEConfig":
        return cls(**{"width": 4, "hidden": 16, "d_hidden": 16, "num_classes": 0, **overrides})

    def __post_init__(self):
        if self.prior not in PRIORS:
            raise ValueError(f"prior must be one of {', '.join(PRIORS)}, not {self.prior!r}")
        check_code_and_image(self)
        if self.prior != "gaussian" and self.latent_dim != 2:
            raise ValueError(f"the {self.prior} prior is drawn in 2-D: set latent_dim to 2 (or pick gaussian)")
        if self.num_classes < 0 or self.num_classes == 1:
            raise ValueError(f"num_classes must be 0 (no classes) or at least 2, not {self.num_classes}")
        if self.num_classes and self.prior == "gaussian":
            raise ValueError("a Gaussian cannot be cut into one part per class: set Classes to 0, or pick the mixture, "
                             "ring or swiss roll")


def sample_prior(prior: str, n: int, latent_dim: int, parts: int, generator: torch.Generator,
                 part: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """n codes from the prior (n, latent_dim) and the part (n,) each came from (of `parts`, 10 when 0 is given;
    `part` picks them, else uniform). All 2-D priors fit in about [-3, 3]^2, where the explorer looks."""
    parts = parts or 10
    if part is None:
        part = torch.randint(0, parts, (n,), generator=generator)  # (n,)
    if prior == "gaussian":
        return torch.randn(n, latent_dim, generator=generator), part
    noise = torch.randn(n, 2, generator=generator)  # (n, 2)
    u = (part + torch.rand(n, generator=generator)) / parts  # (n,) uniform inside the chosen part, in [0, 1)
    if prior == "mixture":  # 10 (or `parts`) Gaussians with their means on a circle of radius 2
        angle = 2 * math.pi * part / parts  # (n,)
        centre = 2.0 * torch.stack([angle.cos(), angle.sin()], 1)  # (n, 2)
        return centre + 0.3 * noise, part
    if prior == "ring":  # radius 2, each part an arc
        angle = 2 * math.pi * u
        return (2.0 + 0.1 * noise[:, :1]) * torch.stack([angle.cos(), angle.sin()], 1), part
    angle = 3 * math.pi * u  # swiss roll: the radius grows with the angle, each part a stretch of the roll
    radius = 0.6 + 2.0 * u
    return radius[:, None] * torch.stack([angle.cos(), angle.sin()], 1) + 0.05 * noise, part


class AAE(DeterministicAutoencoder):
    default_lr = 1e-3

    def __init__(self, config: AAEConfig):
        super().__init__(config)
        c = config
        self.discriminator = nn.Sequential(  # (N, latent + classes) -> (N, 1) logit "a prior sample"
            nn.Linear(c.latent_dim + c.num_classes, c.d_hidden), nn.ReLU(),
            nn.Linear(c.d_hidden, c.d_hidden), nn.ReLU(),
            nn.Linear(c.d_hidden, 1),
        )

    def describe(self) -> str:
        classes = f"; one part of it per class ({self.config.num_classes})" if self.config.num_classes else ""
        return f"Latent size {self.config.latent_dim}; prior: {PRIOR_WORDS[self.config.prior]}{classes}."

    @property
    def prior_words(self) -> str:
        """The prior, as the explorer names it."""
        return PRIOR_WORDS[self.config.prior]

    def prior_sample(self, n: int, generator: torch.Generator | None = None,
                     part: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """n codes from this model's prior (n, latent) and the part each came from (n,)."""
        g = generator if generator is not None else torch.Generator().manual_seed(0)
        return sample_prior(self.config.prior, n, self.config.latent_dim, self.config.num_classes, g, part)

    def _d_logit(self, z: torch.Tensor, part: torch.Tensor) -> torch.Tensor:
        """D's logit (N,) that codes z (N, latent) are prior samples (told the part or class when classes are on)."""
        if self.config.num_classes:
            z = torch.cat([z, F.one_hot(part, self.config.num_classes).to(z.dtype)], 1)  # (N, latent + classes)
        return self.discriminator(z).squeeze(1)

    def make_optimizers(self, lr: float | None = None) -> dict[str, torch.optim.Optimizer]:
        lr = lr or self.default_lr
        autoencoder = list(self.encoder.parameters()) + list(self.decoder.parameters())
        return {"autoencoder": torch.optim.Adam(autoencoder, lr=lr),
                "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=lr / 5, betas=(0.5, 0.999)),
                "encoder": torch.optim.Adam(self.encoder.parameters(), lr=lr, betas=(0.5, 0.999))}

    def train_step(self, x: torch.Tensor, y: torch.Tensor, optimizers: dict) -> dict[str, float]:
        if self.config.num_classes and (y.min() < 0 or y.max() >= self.config.num_classes):
            raise ValueError(f"this AAE cuts its prior into {self.config.num_classes} parts, one per class, but the "
                             f"data has a class {int(y.max())}: set Classes to the data's number of classes, or 0")
        g = torch.Generator().manual_seed(int(torch.randint(0, 2 ** 31, (1,))))  # follows torch's global seed
        prior, part = self.prior_sample(len(x), g)  # (B, latent), (B,)
        recon = self.reconstruction_step(x, optimizers["autoencoder"])
        d_loss = self.discriminator_step(x, y, prior.to(x.device), part.to(x.device), optimizers["discriminator"])
        e_loss = self.encoder_step(x, y, optimizers["encoder"])
        return {"recon": recon, "d_loss": d_loss, "e_loss": e_loss}

    def reconstruction_step(self, x: torch.Tensor, optimizer: torch.optim.Optimizer) -> float:
        """Phase 1: encoder and decoder minimise the reconstruction cost."""
        recon = self.reconstruction_nats(x).mean()
        optimizer.zero_grad(set_to_none=True)
        recon.backward()
        optimizer.step()
        return recon.item()

    def discriminator_step(self, x: torch.Tensor, y: torch.Tensor, prior: torch.Tensor, part: torch.Tensor,
                           optimizer: torch.optim.Optimizer) -> float:
        """Phase 2a: D learns to say 1 for prior samples (B, latent) and 0 for the encoder's codes."""
        with torch.no_grad():
            codes, _ = self.encode(x)  # (B, latent), held fixed here
        real, fake = self._d_logit(prior, part), self._d_logit(codes, y)
        d_loss = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                  + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
        optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        optimizer.step()
        return d_loss.item()

    def encoder_step(self, x: torch.Tensor, y: torch.Tensor, optimizer: torch.optim.Optimizer) -> float:
        """Phase 2b: the encoder moves its codes where D takes them for prior samples (non-saturating loss)."""
        codes, _ = self.encode(x)  # (B, latent)
        fooled = self._d_logit(codes, y)
        e_loss = F.binary_cross_entropy_with_logits(fooled, torch.ones_like(fooled))
        optimizer.zero_grad(set_to_none=True)
        e_loss.backward()
        optimizer.step()
        self.discriminator.zero_grad(set_to_none=True)  # the encoder's loss left gradients in D: not D's step
        return e_loss.item()

    @torch.inference_mode()
    def sample(self, n: int, generator: int | torch.Generator | None = None) -> torch.Tensor:
        """n decodes of codes drawn from the prior: (n, C, H, W) in [0, 1]."""
        device = next(self.parameters()).device
        z, _ = self.prior_sample(n, as_generator(generator, "cpu"))  # (n, latent)
        return self.decode(z.to(device))


AAE_KIND = register_kind(ModelKind(
    name="aae", title="Adversarial autoencoder (AAE)",
    family="implicit density: a prior matched by a discriminator on codes",
    summary="An autoencoder whose codes a discriminator pushes into the shape of a prior you pick.",
    config_cls=AAEConfig, model_cls=AAE,
    paper="Makhzani et al. 2016, Adversarial Autoencoders",
    capabilities=frozenset({SAMPLES, LATENT}),
    no_likelihood="none: the discriminator matches the prior without a bound on log p(x)",
    loss_labels={"recon": "reconstruction −log p(x|z)", "d_loss": "D: prior samples vs codes",
                 "e_loss": "encoder: fool D"},
    panels_together=(("d_loss", "e_loss"),),
    curve_note="The reconstruction cost falls as in any autoencoder; D's and the encoder's losses fight, as in a "
               "GAN, and level off when D can no longer tell the codes from prior samples.",
    lesson=7,
))
