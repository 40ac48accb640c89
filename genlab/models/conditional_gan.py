"""Class-conditional GAN: "draw a sneaker". A DCGAN whose generator and discriminator are both told the class.

Mirza & Osindero, "Conditional Generative Adversarial Nets", 2014. https://arxiv.org/abs/1411.1784
Miyato & Koyama, "cGANs with Projection Discriminator", ICLR 2018. https://arxiv.org/abs/1802.05637

The game is the DCGAN's (genlab/models/dcgan.py), with a label y on both sides:

    min_G max_D  E_(x,y)[log D(x, y)] + E_(z,y)[log(1 - D(G(z, y), y))].

G(z, y): the label's one-hot vector is appended to the noise z (Mirza & Osindero), so the same z with another y
draws "the same style" of another class.

D(x, y), the projection discriminator: D's features h = phi(x) (the DCGAN's convolutions, flattened) give

    logit(x, y) = psi(h) + <embed(y), h>,

an unconditional score plus the inner product of h with a learned vector for class y. Miyato & Koyama derive
this form from the optimal D's log-density ratio, log p(x, y)/q(x, y), when the class given the image is a
softmax over the same features under both the data and the generator.
Why projection and not ACGAN (Odena et al. 2017, a D that also classifies): ACGAN's classification loss rewards G
for images that are *easy* to classify, which shrinks the variety within a class; the projection term only asks
whether (x, y) looks like a real pair.

Text-to-image GANs (Reed et al. 2016) condition the same two players on a sentence embedding instead: appended to
G's input, and joined to D's features (there by concatenation, not a projection).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genlab.models import CONDITIONAL, GENERATOR, SAMPLES, ModelKind, register_kind
from genlab.models.dcgan import DCGAN, DCGAN_KIND, DCGANConfig, dcgan_init, discriminator_trunk, generator_net
from genlab.models.base import Model


@dataclass
class ConditionalGANConfig(DCGANConfig):
    num_classes: int = field(default=10, metadata={
        "help": "Number of classes G and D are told about; the dataset's labels must be below it."})

    def __post_init__(self):
        super().__post_init__()
        if not 2 <= self.num_classes <= 1000:
            raise ValueError(f"num_classes must be between 2 and 1000, not {self.num_classes}")


class ProjectionDiscriminator(nn.Module):
    """D(x, y): images (N, C, H, W) in [-1, 1] and labels (N,) -> logits (N,)."""

    def __init__(self, c: ConditionalGANConfig):
        super().__init__()
        side = c.image_size // 4
        features = 2 * c.width * side * side  # length of h = phi(x)
        self.trunk = nn.Sequential(*discriminator_trunk(c), nn.Flatten(1))  # phi: (N, 2w * 7 * 7)
        self.psi = nn.Linear(features, 1)  # the unconditional score
        self.embed = nn.Embedding(c.num_classes, features)  # one vector per class, projected onto h

    def forward(self, images: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.trunk(images)  # (N, F)
        return self.psi(h).squeeze(1) + (self.embed(y) * h).sum(1)  # (N,)


class ConditionalGAN(DCGAN):
    def __init__(self, config: ConditionalGANConfig):
        Model.__init__(self)  # not DCGAN.__init__: both players are built differently here
        self.config = c = config
        self.generator = generator_net(c, c.latent_dim + c.num_classes)  # input [z, one_hot(y)] (N, latent + K, 1, 1)
        self.discriminator = ProjectionDiscriminator(c)
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))
        self.apply(dcgan_init)
        nn.init.normal_(self.discriminator.embed.weight, 0.0, 0.02)  # starts close to the unconditional D

    @property
    def conditional(self) -> bool:
        return True

    def labels_for(self, n: int, label: int | torch.Tensor | None) -> torch.Tensor:
        """(n,) labels: the one asked for, a tensor of them, or with None the classes in turn (0, 1, ..., K-1, 0, ...)."""
        if label is None:
            return torch.arange(n) % self.config.num_classes
        labels = torch.as_tensor(label, dtype=torch.long).reshape(-1)
        labels = labels.expand(n) if labels.numel() == 1 else labels
        if len(labels) != n or labels.min() < 0 or labels.max() >= self.config.num_classes:
            raise ValueError(f"labels must be {n} classes between 0 and {self.config.num_classes - 1}")
        return labels

    def generate(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z (N, latent) and labels y (N,) -> G(z, y) (N, C, H, W) in [-1, 1]."""
        one_hot = F.one_hot(self.labels_for(len(z), y).to(z.device), self.config.num_classes).to(z.dtype)  # (N, K)
        return self.generator(torch.cat([z, one_hot], 1)[:, :, None, None])

    def discriminate(self, images: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.discriminator(images, self.labels_for(len(images), y).to(images.device))

    def decode(self, z: torch.Tensor, label: int | torch.Tensor | None = None) -> torch.Tensor:
        """z (N, latent) and a class (or N classes; None: classes in turn) -> images (N, C, H, W) in [0, 1]."""
        device = next(self.parameters()).device
        z = z.to(device=device, dtype=torch.float32)
        return (self.generate(z, self.labels_for(len(z), label)) + 1) / 2

    def describe(self) -> str:
        return (f"Latent size {self.config.latent_dim}; {self.config.num_classes} classes; generator loss "
                f"{self.config.loss}.")

    def train_step(self, x: torch.Tensor, y: torch.Tensor, optimizers: dict) -> dict[str, float]:
        if y.min() < 0 or y.max() >= self.config.num_classes:
            raise ValueError(f"the data's labels go up to {int(y.max())}, but this model knows only "
                             f"{self.config.num_classes} classes: set the number of classes to {int(y.max()) + 1} "
                             "or more")
        return super().train_step(x, y, optimizers)  # fakes drawn for the real batch's labels


CONDITIONAL_GAN_KIND = register_kind(ModelKind(
    name="conditional-gan", title="Conditional GAN (projection discriminator)",
    family=DCGAN_KIND.family,
    summary="A DCGAN told the class: G draws the class it is asked for, D judges (image, class) pairs.",
    config_cls=ConditionalGANConfig, model_cls=ConditionalGAN,
    paper="Mirza & Osindero 2014, Conditional GANs; Miyato & Koyama 2018, cGANs with Projection Discriminator",
    capabilities=frozenset({SAMPLES, GENERATOR, CONDITIONAL}),
    loss_labels=DCGAN_KIND.loss_labels, panels_together=DCGAN_KIND.panels_together,
    curve_note=DCGAN_KIND.curve_note + " The live grid asks for the classes in turn.",
    lesson=10,
))
