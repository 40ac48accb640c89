"""Variational autoencoder, with a beta weight on the KL term (beta-VAE).

Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014. https://arxiv.org/abs/1312.6114
Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a Constrained Variational Framework", ICLR 2017.

The idea: assume a latent code z ~ p(z) = N(0, I) and a decoder p(x|z). The encoder q(z|x) = N(mu, sigma^2)
approximates the intractable posterior, and training maximises the evidence lower bound (ELBO):

    log p(x) >= E_q[log p(x|z)] - KL(q(z|x) || p(z))
                 reconstruction     "prior fitting"

Pixels are modelled as Bernoulli variables (binary cross-entropy on grey levels, as in pytorch/examples).
beta > 1 weighs the KL term more, which pushes latent dimensions toward independent factors; the reported
negative ELBO always uses beta = 1, since only that is a bound on -log p(x).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genlab.models import BOUND, LATENT, SAMPLES, ModelKind, register_kind
from genlab.models.base import Model, as_generator


@dataclass
class VAEConfig:
    latent_dim: int = field(default=16, metadata={
        "help": "Size of the code z. 2 lets you see the whole latent space on a plane; more gives sharper "
                "reconstructions (samples need not improve)."})
    beta: float = field(default=1.0, metadata={
        "help": "Weight of the KL term. 1 is the true ELBO; above 1 (beta-VAE) favours independent, "
                "interpretable latent dimensions at the cost of blurrier reconstructions."})
    width: int = 32  # channels of the first conv layer (the second has twice as many)
    hidden: int = 256  # size of the fully connected layer between the convs and z
    image_channels: int = 1
    image_size: int = 28  # must be divisible by 4

    @classmethod
    def tiny(cls, **overrides) -> "VAEConfig":
        return cls(**{"latent_dim": 2, "width": 4, "hidden": 16, **overrides})

    def __post_init__(self):
        if not 1 <= self.latent_dim <= 64:
            raise ValueError(f"latent_dim must be between 1 and 64, not {self.latent_dim}")
        if self.beta <= 0:
            raise ValueError(f"beta must be positive, not {self.beta}")
        if self.image_size % 4:
            raise ValueError(f"image_size must be divisible by 4, not {self.image_size}")


class VAE(Model):
    default_lr = 1e-3

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = c = config
        side = c.image_size // 4  # 7 for 28x28 images
        self.encoder = nn.Sequential(
            nn.Conv2d(c.image_channels, c.width, 4, stride=2, padding=1), nn.ReLU(),  # (N, w, 14, 14)
            nn.Conv2d(c.width, 2 * c.width, 4, stride=2, padding=1), nn.ReLU(),  # (N, 2w, 7, 7)
            nn.Flatten(),  # (N, 2w*7*7)
            nn.Linear(2 * c.width * side * side, c.hidden), nn.ReLU(),  # (N, hidden)
            nn.Linear(c.hidden, 2 * c.latent_dim),  # (N, 2*latent): mu and log sigma^2
        )
        self.decoder = nn.Sequential(
            nn.Linear(c.latent_dim, c.hidden), nn.ReLU(),  # (N, hidden)
            nn.Linear(c.hidden, 2 * c.width * side * side), nn.ReLU(),
            nn.Unflatten(1, (2 * c.width, side, side)),  # (N, 2w, 7, 7)
            nn.ConvTranspose2d(2 * c.width, c.width, 4, stride=2, padding=1), nn.ReLU(),  # (N, w, 14, 14)
            nn.ConvTranspose2d(c.width, c.image_channels, 4, stride=2, padding=1),  # (N, C, 28, 28) logits
        )

    # -- the model ---------------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, C, H, W) in [0, 1] -> mu, logvar, each (N, latent)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-30, 20)  # keeps exp(logvar) finite

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, latent) -> Bernoulli logits (N, C, H, W)."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, latent) -> images (N, C, H, W) in [0, 1]: the mean of p(x|z)."""
        return torch.sigmoid(self.decode_logits(z))

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
                       ) -> torch.Tensor:
        """z = mu + sigma * eps, eps ~ N(0, I): the randomness no longer depends on the encoder's output,
        so gradients flow through mu and sigma."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)  # (N, latent)
        return mu + torch.exp(0.5 * logvar) * eps

    def elbo_terms(self, x: torch.Tensor, generator: torch.Generator | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-image reconstruction loss -log p(x|z) and KL(q(z|x) || N(0, I)), in nats, each (N,)."""
        mu, logvar = self.encode(x)  # (N, latent) each
        z = self.reparameterize(mu, logvar, generator)  # (N, latent)
        recon = F.binary_cross_entropy_with_logits(self.decode_logits(z), x, reduction="none").sum((1, 2, 3))
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)  # closed form for two Gaussians
        return recon, kl

    @torch.inference_mode()
    def importance_weighted_bound(self, x: torch.Tensor, k: int, generator: torch.Generator | None = None
                                  ) -> torch.Tensor:
        """IWAE bound (Burda et al. 2016, "Importance Weighted Autoencoders") on log p(x), per image (N,):

            log p(x) >= E[ log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x) ],  z_i ~ q(z|x)

        k = 1 is the ELBO; the bound tightens (rises) towards log p(x) as k grows."""
        mu, logvar = self.encode(x)  # (N, latent) each
        std = torch.exp(0.5 * logvar)
        eps = torch.randn((k, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)  # (k, N, latent)
        z = mu + std * eps  # (k, N, latent)
        logits = self.decode_logits(z.flatten(0, 1)).view(k, *x.shape)  # (k, N, C, H, W)
        log_px_given_z = -F.binary_cross_entropy_with_logits(
            logits, x.expand_as(logits), reduction="none").sum((2, 3, 4))  # (k, N)
        normal = torch.distributions.Normal
        log_pz = normal(0.0, 1.0).log_prob(z).sum(-1)  # (k, N) prior
        log_qz = normal(mu, std).log_prob(z).sum(-1)  # (k, N) encoder
        log_weights = log_px_given_z + log_pz - log_qz  # (k, N)
        return torch.logsumexp(log_weights, dim=0) - math.log(k)  # (N,)

    # -- the protocol the trainer and pages use (genlab/models/base.py) ----------------------------------
    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def describe(self) -> str:
        return (f"Latent size {self.config.latent_dim}; beta = {self.config.beta:g} (beta > 1 weighs the KL term "
                "more: a beta-VAE).")

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        recon, kl = self.elbo_terms(x)
        loss = (recon + self.config.beta * kl).mean()  # minimise -ELBO (with beta on the KL term)
        return loss, {"loss": loss.item(), "recon": recon.mean().item(), "kl": kl.mean().item()}

    @torch.inference_mode()
    def sample(self, n: int, generator: int | torch.Generator | None = None) -> torch.Tensor:
        """n images decoded from z ~ N(0, I): (n, C, H, W) in [0, 1]."""
        device = next(self.parameters()).device
        g = as_generator(generator, "cpu")
        z = torch.randn(n, self.config.latent_dim, generator=g).to(device)  # (n, latent)
        return self.decode(z)

    @torch.inference_mode()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None
                 ) -> dict[str, float]:
        """Sums over the batch (the caller divides by the count): negative ELBO with beta = 1."""
        recon, kl = self.elbo_terms(x, generator)
        return {"neg_elbo": (recon + kl).sum().item(), "recon": recon.sum().item(), "kl": kl.sum().item()}


VAE_KIND = register_kind(ModelKind(
    name="vae", title="Variational autoencoder (VAE / beta-VAE)",
    family="explicit density, approximate (a lower bound on log p(x))",
    summary="An encoder maps images to a Gaussian over latent codes; a decoder maps codes back to images.",
    config_cls=VAEConfig, model_cls=VAE,
    paper="Kingma & Welling 2014, Auto-Encoding Variational Bayes; Higgins et al. 2017, beta-VAE",
    capabilities=frozenset({SAMPLES, LATENT}), likelihood=BOUND, likelihood_metric="neg_elbo",
    discretisation="pixels scored as Bernoulli probabilities (a likelihood on black-and-white images only)",
    likelihood_on_grey=False,
    loss_labels={"loss": "loss = recon + β·KL", "recon": "reconstruction −log p(x|z)", "kl": "KL(q(z|x) ‖ p(z))",
                 "neg_elbo": "−ELBO"},
    curve_note="The loss is the reconstruction term plus β times the KL term (the negative ELBO when β = 1). The "
               "KL usually rises at first, as the codes start to carry information about the images.",
    lesson=5,
))
