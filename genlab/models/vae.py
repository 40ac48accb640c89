"""Variational autoencoder, with a beta weight on the KL term (beta-VAE).

Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014. https://arxiv.org/abs/1312.6114
Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a Constrained Variational Framework", ICLR 2017.
Chen et al., "Isolating Sources of Disentanglement in Variational Autoencoders", NeurIPS 2018 (beta-TCVAE).

The idea: assume a latent code z ~ p(z) = N(0, I) and a decoder p(x|z). The encoder q(z|x) = N(mu, sigma^2)
approximates the intractable posterior, and training maximises the evidence lower bound (ELBO):

    log p(x) >= E_q[log p(x|z)] - KL(q(z|x) || p(z))
                 reconstruction     "prior fitting"

Pixels are modelled as Bernoulli variables (binary cross-entropy on grey levels, as in pytorch/examples).
Two encoder/decoder pairs: the paper's one hidden layer (`architecture="mlp"`, quick to train on a CPU: the Train
page's default) and two strided convolutions (`"conv"`, the shipped VAEs and the CLI's default). Between layers,
ReLU or SiLU (Elfwing et al. 2018, x * sigmoid(x)): the 16-D Fashion-MNIST VAE reached a lower -ELBO with SiLU.
beta > 1 weighs the KL term more, which pushes latent dimensions toward independent factors; the reported
negative ELBO always uses beta = 1, since only that is a bound on -log p(x). The KL term averaged over the data
splits into three parts (Chen et al. 2018): the information the code carries about the image, the total
correlation (TC: how far the dimensions are from independent) and each dimension's distance from N(0, 1).
beta squeezes all three; tc_weight adds pressure on the TC alone (beta-TCVAE).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genlab.models import BOUND, LATENT, SAMPLES, ModelKind, check_choices, register_kind
from genlab.models.base import Model, as_generator


@dataclass
class VAEConfig:
    latent_dim: int = field(default=16, metadata={
        "help": "Size of the code z. 2 lets you see the whole latent space on a plane; more gives sharper "
                "reconstructions (samples need not improve)."})
    beta: float = field(default=1.0, metadata={
        "help": "Weight of the KL term. 1 is the true ELBO; above 1 (beta-VAE) favours independent, "
                "interpretable latent dimensions at the cost of blurrier reconstructions."})
    tc_weight: float = field(default=0.0, metadata={
        "title": "Extra weight on total correlation",
        "help": "beta-TCVAE (Chen et al. 2018): above 0 also penalises the dependence between the latent "
                "dimensions (their total correlation), which favours one factor per dimension without squeezing "
                "each dimension's information as a large beta does."})
    architecture: str = field(default="conv", metadata={
        "title": "Layers", "choices": ("conv", "mlp"),
        "help": "conv: two strided convolutions each way (the shipped VAEs). mlp: one fully connected hidden layer "
                "each way, as in Kingma & Welling's paper; fewer operations per image, so more steps per second "
                "on a CPU."})
    activation: str = field(default="relu", metadata={
        "choices": ("relu", "silu"),
        "help": "The nonlinearity between layers. relu: max(0, x). silu: x * sigmoid(x), a smooth curve that lets "
                "small negative values through, where relu gives 0 and passes no gradient."})
    width: int = 32  # channels of the first conv layer (the second has twice as many); unused by the mlp
    hidden: int = field(default=256, metadata={
        "help": "Units of the fully connected layer between the pixels (or the convolutions) and the code z, in "
                "the encoder and again in the decoder."})
    image_channels: int = 1
    image_size: int = 28  # must be divisible by 4

    @classmethod
    def tiny(cls, **overrides) -> "VAEConfig":
        return cls(**{"latent_dim": 2, "width": 4, "hidden": 16, **overrides})

    def __post_init__(self):
        check_code_and_image(self)
        check_choices(self)
        if self.beta <= 0:
            raise ValueError(f"beta must be positive, not {self.beta}")
        if self.tc_weight < 0:
            raise ValueError(f"the total correlation's weight must be 0 or more, not {self.tc_weight}")


def check_code_and_image(c) -> None:
    """The code size and image size that conv_encoder and conv_decoder accept (one sentence if not)."""
    if not 1 <= c.latent_dim <= 64:
        raise ValueError(f"latent_dim must be between 1 and 64, not {c.latent_dim}")
    if c.image_size % 4:
        raise ValueError(f"image_size must be divisible by 4, not {c.image_size}")


def nonlinearity(c) -> nn.Module:
    """A new SiLU where c.activation is "silu", else a new ReLU (the autoencoder's and AAE's configs have no such
    setting, so they keep ReLU)."""
    return nn.SiLU() if getattr(c, "activation", "relu") == "silu" else nn.ReLU()


def conv_encoder(c, outputs: int) -> nn.Sequential:
    """Images (N, C, H, W) -> (N, outputs): two strided convolutions and two fully connected layers. Shared by
    the VAE, the plain autoencoder and the AAE, so that they differ only in what they do with the code.
    c: a config with image_channels, image_size (divisible by 4), width and hidden (and, for the VAE, activation)."""
    side = c.image_size // 4  # 7 for 28x28 images
    return nn.Sequential(
        nn.Conv2d(c.image_channels, c.width, 4, stride=2, padding=1), nonlinearity(c),  # (N, w, 14, 14)
        nn.Conv2d(c.width, 2 * c.width, 4, stride=2, padding=1), nonlinearity(c),  # (N, 2w, 7, 7)
        nn.Flatten(),  # (N, 2w*7*7)
        nn.Linear(2 * c.width * side * side, c.hidden), nonlinearity(c),  # (N, hidden)
        nn.Linear(c.hidden, outputs),  # (N, outputs)
    )


def conv_decoder(c) -> nn.Sequential:
    """Codes (N, latent_dim) -> Bernoulli logits (N, C, H, W): the encoder's layers in reverse."""
    side = c.image_size // 4
    return nn.Sequential(
        nn.Linear(c.latent_dim, c.hidden), nonlinearity(c),  # (N, hidden)
        nn.Linear(c.hidden, 2 * c.width * side * side), nonlinearity(c),
        nn.Unflatten(1, (2 * c.width, side, side)),  # (N, 2w, 7, 7)
        nn.ConvTranspose2d(2 * c.width, c.width, 4, stride=2, padding=1), nonlinearity(c),  # (N, w, 14, 14)
        nn.ConvTranspose2d(c.width, c.image_channels, 4, stride=2, padding=1),  # (N, C, 28, 28) logits
    )


def mlp_encoder(c, outputs: int) -> nn.Sequential:
    """Images (N, C, H, W) -> (N, outputs): Kingma & Welling's encoder, one hidden layer of c.hidden units
    (ReLU where the paper has tanh, as pytorch/examples)."""
    pixels = c.image_channels * c.image_size * c.image_size
    return nn.Sequential(
        nn.Flatten(),  # (N, C*H*W)
        nn.Linear(pixels, c.hidden), nonlinearity(c),  # (N, hidden)
        nn.Linear(c.hidden, outputs),  # (N, outputs)
    )


def mlp_decoder(c) -> nn.Sequential:
    """Codes (N, latent_dim) -> Bernoulli logits (N, C, H, W): one hidden layer, one logit per pixel."""
    pixels = c.image_channels * c.image_size * c.image_size
    return nn.Sequential(
        nn.Linear(c.latent_dim, c.hidden), nonlinearity(c),  # (N, hidden)
        nn.Linear(c.hidden, pixels),  # (N, C*H*W) one logit per pixel
        nn.Unflatten(1, (c.image_channels, c.image_size, c.image_size)),  # (N, C, H, W)
    )


class VAE(Model):
    default_lr = 1e-3

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = c = config
        encoder, decoder = (mlp_encoder, mlp_decoder) if c.architecture == "mlp" else (conv_encoder, conv_decoder)
        self.encoder = encoder(c, outputs=2 * c.latent_dim)  # (N, 2*latent): mu and log sigma^2
        self.decoder = decoder(c)  # (N, latent) -> (N, C, H, W) Bernoulli logits

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
        recon, kl, _, _, _ = self._terms(x, generator)
        return recon, kl

    def _terms(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """recon (N,), KL (N,), and the code z with its q(z|x) = N(mu, exp(logvar)), each (N, latent)."""
        mu, logvar = self.encode(x)  # (N, latent) each
        z = self.reparameterize(mu, logvar, generator)  # (N, latent)
        recon = F.binary_cross_entropy_with_logits(self.decode_logits(z), x, reduction="none").sum((1, 2, 3))
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)  # closed form for two Gaussians
        return recon, kl, z, mu, logvar

    @staticmethod
    def total_correlation(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """TC = KL(q(z) || prod_d q(z_d)) of the batch's aggregate posterior q(z) = 1/M sum_j q(z|x_j), estimated
        at each image's own sample z_i (Chen et al. 2018, minibatch weighted sampling with the batch as the
        population): how far the dimensions are from independent, in nats. z, mu, logvar: (M, latent)."""
        m = len(z)
        log_q = torch.distributions.Normal(mu[None], torch.exp(0.5 * logvar[None])).log_prob(z[:, None])  # (M, M, D)
        log_qz = torch.logsumexp(log_q.sum(2), dim=1) - math.log(m)  # (M,) log q(z_i)
        log_prod = (torch.logsumexp(log_q, dim=1) - math.log(m)).sum(1)  # (M,) sum_d log q(z_id)
        return (log_qz - log_prod).mean()

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
        layers = f"one hidden layer of {self.config.hidden} units; " if self.config.architecture == "mlp" else ""
        return (f"Latent size {self.config.latent_dim}; {layers}beta = {self.config.beta:g} (beta > 1 weighs the KL "
                "term more: a beta-VAE).")

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        recon, kl, z, mu, logvar = self._terms(x)
        report = {"recon": recon.mean().item(), "kl": kl.mean().item()}
        loss = (recon + self.config.beta * kl).mean()  # minimise -ELBO (with beta on the KL term)
        if self.config.tc_weight:  # beta-TCVAE: penalise only the dependence between the dimensions, more
            tc = self.total_correlation(z, mu, logvar)
            loss = loss + self.config.tc_weight * tc
            report["tc"] = tc.item()
        return loss, {"loss": loss.item(), **report}

    prior_words = "N(0, I)"  # the prior, as the explorer names it

    def prior_sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """n codes from the prior N(0, I) (n, latent), and the part each came from (n,): one part, 0."""
        g = generator if generator is not None else torch.Generator().manual_seed(0)
        return torch.randn(n, self.config.latent_dim, generator=g), torch.zeros(n, dtype=torch.long)

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
    loss_labels={"loss": "loss = recon + β·KL (+ weight·TC)", "recon": "reconstruction −log p(x|z)",
                 "kl": "KL(q(z|x) ‖ p(z))", "tc": "total correlation of the batch's codes", "neg_elbo": "−ELBO"},
    curve_note="The loss is the reconstruction term plus β times the KL term (the negative ELBO when β = 1). The "
               "KL usually rises at first, as the codes start to carry information about the images.",
    # benchmarks/vae_live_demo.py (README): in 20 s and 60 s on a 2-core CPU the mlp reaches a lower test -ELBO than
    # the conv VAE (three to four times the steps) and than the pytorch/examples VAE.
    starts_with={"architecture": "mlp", "hidden": 400, "lr": 2e-3, "batch_size": 256},
    lesson=5,
))
