"""Plain autoencoder: the VAE's encoder and decoder with no noise and no KL term.

Hinton & Salakhutdinov, "Reducing the Dimensionality of Data with Neural Networks", Science 2006.
https://doi.org/10.1126/science.1127647

The encoder maps an image to one code z = f(x) (no distribution over codes), the decoder maps it back, and
training minimises only the reconstruction cost -log p(x|z). Its codes are useful (similar images land close
together), but it is not a generative model: nothing says which codes are valid, so a code drawn at random,
for example from N(0, I) as a VAE would, can fall into a hole of the code space and decode to nonsense.
`sample` draws exactly those codes, to put the AE's holes beside the VAE's samples.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from genlab.models import LATENT, SAMPLES, ModelKind, register_kind
from genlab.models.base import Model, as_generator
from genlab.models.vae import check_code_and_image, conv_decoder, conv_encoder


@dataclass
class AutoencoderConfig:
    latent_dim: int = field(default=2, metadata={
        "title": "Latent dimensions",
        "help": "Size of the code z. 2 lets you see the whole code space on a plane."})
    width: int = 32  # channels of the first conv layer (the second has twice as many): as the VAE's
    hidden: int = 256  # size of the fully connected layer between the convs and z
    image_channels: int = 1
    image_size: int = 28  # must be divisible by 4

    @classmethod
    def tiny(cls, **overrides) -> "AutoencoderConfig":
        return cls(**{"latent_dim": 2, "width": 4, "hidden": 16, **overrides})

    def __post_init__(self):
        check_code_and_image(self)


class DeterministicAutoencoder(Model):
    """An encoder giving one code per image and a Bernoulli decoder (shared by the plain AE and the AAE)."""

    default_lr = 1e-3

    def __init__(self, config):
        super().__init__()
        self.config = c = config
        self.encoder = conv_encoder(c, outputs=c.latent_dim)  # (N, C, H, W) -> (N, latent)
        self.decoder = conv_decoder(c)  # (N, latent) -> (N, C, H, W) Bernoulli logits

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        """x (N, C, H, W) in [0, 1] -> the code z (N, latent), and None where a VAE gives log sigma^2: the code
        is a point, not a distribution."""
        return self.encoder(x), None

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, latent) -> Bernoulli logits (N, C, H, W)."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, latent) -> images (N, C, H, W) in [0, 1]: the mean of p(x|z)."""
        return torch.sigmoid(self.decode_logits(z))

    def reconstruction_nats(self, x: torch.Tensor) -> torch.Tensor:
        """Per-image reconstruction cost -log p(x|z) at z = f(x), in nats: (N,). (On grey levels, a Bernoulli
        score as in the VAE: a training score, not a likelihood.)"""
        z, _ = self.encode(x)  # (N, latent)
        return F.binary_cross_entropy_with_logits(self.decode_logits(z), x, reduction="none").sum((1, 2, 3))

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @torch.inference_mode()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None
                 ) -> dict[str, float]:
        """Sums over the batch: the reconstruction cost (no likelihood: there is no prior to bound it with)."""
        return {"recon": self.reconstruction_nats(x).sum().item()}


class Autoencoder(DeterministicAutoencoder):
    def describe(self) -> str:
        return (f"Latent size {self.config.latent_dim}; no prior over codes, so its 'samples' decode codes drawn "
                "from N(0, I), the VAE's prior, which this model never saw.")

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        loss = self.reconstruction_nats(x).mean()  # only the reconstruction: no noise, no KL
        return loss, {"loss": loss.item()}

    @torch.inference_mode()
    def sample(self, n: int, generator: int | torch.Generator | None = None) -> torch.Tensor:
        """n decodes of z ~ N(0, I) (n, C, H, W): what a VAE's sampler would do, here without a prior behind it."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.config.latent_dim, generator=as_generator(generator, "cpu")).to(device)  # (n, latent)
        return self.decode(z)


AUTOENCODER_KIND = register_kind(ModelKind(
    name="autoencoder", title="Plain autoencoder (no prior)",
    family="not a generative model: codes without a prior (shown beside the VAE)",
    summary="An encoder maps each image to one code and a decoder maps it back; nothing says which codes are valid.",
    config_cls=AutoencoderConfig, model_cls=Autoencoder,
    paper="Hinton & Salakhutdinov 2006, Reducing the Dimensionality of Data with Neural Networks",
    capabilities=frozenset({SAMPLES, LATENT}),
    no_likelihood="none: an autoencoder has no prior, so no density",
    loss_labels={"loss": "reconstruction −log p(x|z)", "recon": "reconstruction −log p(x|z)"},
    curve_note="The loss is only the reconstruction cost: nothing pulls the codes towards any prior.",
    lesson=5,
))
