"""InfoGAN: codes that become controllable factors without labels.

Chen et al., "InfoGAN: Interpretable Representation Learning by Information Maximizing Generative Adversarial
Nets", NeurIPS 2016. https://arxiv.org/abs/1606.03657

G's input is split in two: incompressible noise z ~ N(0, I) and a code c, here one categorical value c_1 of
`categories` choices (a one-hot vector) and `continuous` values c_2, c_3, ... ~ U(-1, 1). A plain GAN is free to
ignore c. InfoGAN adds a reward for keeping c readable from the image: the mutual information I(c; G(z, c)).
It cannot be computed, but a network Q(c | x) that guesses the code gives a lower bound (the variational bound
of Barber & Agakov):

    I(c; G(z, c)) >= H(c) + E[log Q(c | G(z, c))] =: L_I,      min_{G,Q} max_D  V_GAN(D, G) - lambda * L_I.

Q is a small head on D's features (the paper's design: almost free). Q's loss is a cross-entropy for c_1 and,
for each continuous code, a Gaussian log-likelihood with unit variance (a squared error). D's step trains D alone;
G's step trains G and Q on the adversarial loss plus lambda times that loss, through D's frozen features.

Nothing tells the codes what to mean. On digits c_1 usually takes the digit's class, because a class is the largest
discrete factor in the data, and the continuous codes take smooth factors such as width and slant. That needed the
paper's shape here: fully connected layers first in G and last in D (the DCGAN's convolutions in between), and G
and Q learning 5 times faster than D. With the DCGAN's layers alone, the noise z took the class and c_1 a style
(20-40% agreement with the class, against about 90% now; the closing note of issue 16 has the runs).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genlab.models import CODES, GENERATOR, SAMPLES, ModelKind, register_kind
from genlab.models.base import Model, as_generator
from genlab.models.dcgan import DCGAN, DCGAN_KIND, DCGANConfig, dcgan_init, discriminator_trunk, generator_net


@dataclass
class InfoGANConfig(DCGANConfig):
    latent_dim: int = field(default=64, metadata={
        "title": "Noise dimensions (z)",
        "help": "Size of the noise z; the codes c come on top of it, so G's input is z plus the codes."})
    categories: int = field(default=10, metadata={
        "title": "Categorical code's values",
        "help": "Values of the one categorical code c₁ (10 for digits: it often becomes the digit's class)."})
    continuous: int = field(default=2, metadata={
        "title": "Continuous codes",
        "help": "Number of continuous codes c₂, c₃, … drawn from U(-1, 1): they often take slant and width."})
    info_weight: float = field(default=1.0, metadata={
        "title": "Information weight (λ)",
        "help": "λ: how much G and Q are rewarded for keeping the codes readable from the image (the mutual "
                "information bound). 0 gives a plain GAN whose codes mean nothing."})
    continuous_weight: float = field(default=0.1, metadata={
        "title": "Continuous codes' weight",
        "help": "Scales the continuous codes' part of the information term relative to the categorical one."})
    hidden: int = field(default=512, metadata={
        "title": "Hidden units",
        "help": "Width of the fully connected layers: G's first layer and the features D and Q share."})
    generator_lr_scale: float = field(default=5.0, metadata={
        "title": "G's learning rate ÷ D's",
        "help": "G and Q learn this many times faster than D (the paper's code: 1e-3 against 2e-4)."})
    q_hidden: int = 128  # hidden units of Q's head

    @classmethod
    def tiny(cls, **overrides) -> "InfoGANConfig":
        return cls(**{"latent_dim": 8, "width": 4, "categories": 3, "continuous": 1, "q_hidden": 8, "hidden": 16,
                      **overrides})

    def __post_init__(self):
        super().__post_init__()
        if not 2 <= self.categories <= 100 or not 0 <= self.continuous <= 10:
            raise ValueError("categories must be between 2 and 100 and continuous between 0 and 10")
        if self.hidden < 1 or self.q_hidden < 1 or self.generator_lr_scale <= 0:
            raise ValueError("hidden and q_hidden must be positive, and so must generator_lr_scale")
        if self.info_weight < 0 or self.continuous_weight < 0:
            raise ValueError("info_weight and continuous_weight must not be negative")


class InfoGAN(DCGAN):
    """The latent vector the pages hold is [z (noise), one_hot(c_1), c_2, ...]: (N, noise + categories + continuous)."""

    default_lr = 2e-4  # D's (the paper's); G and Q learn generator_lr_scale times faster
    default_batch_size = 64  # the shipped digits model's

    def __init__(self, config: InfoGANConfig):
        Model.__init__(self)  # not DCGAN.__init__: D is split into a trunk and two heads here
        self.config = c = config
        side = c.image_size // 4
        conv = generator_net(c, 2 * c.width)  # the DCGAN's layers after its first: (N, 2w, 7, 7) -> images
        self.generator = nn.Sequential(  # [z, one_hot(c_1), c_2..] (N, latent) -> images (N, C, H, W)
            nn.Linear(self.latent_dim, c.hidden), nn.BatchNorm1d(c.hidden), nn.ReLU(),  # (N, hidden)
            nn.Linear(c.hidden, 2 * c.width * side * side), nn.BatchNorm1d(2 * c.width * side * side), nn.ReLU(),
            nn.Unflatten(1, (2 * c.width, side, side)),  # (N, 2w, 7, 7)
            *list(conv)[3:],  # the DCGAN's upsampling layers: (N, w, 14, 14) -> (N, C, 28, 28)
        )
        features = c.hidden
        self.discriminator = nn.ModuleDict({
            "trunk": nn.Sequential(*discriminator_trunk(c), nn.Flatten(1),  # (N, 2w * 7 * 7)
                                   nn.Linear(2 * c.width * side * side, features), nn.BatchNorm1d(features),
                                   nn.LeakyReLU(0.2)),  # images -> features h (N, hidden)
            "head": nn.Linear(features, 1),  # h -> real or fake
        })
        self.q_head = nn.Sequential(nn.Linear(features, c.q_hidden), nn.LeakyReLU(0.2),
                                    nn.Linear(c.q_hidden, c.categories + c.continuous))  # h -> Q(c | x)
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))
        self.apply(dcgan_init)

    # -- the latent vector and its codes -------------------------------------------------------------------
    @property
    def latent_dim(self) -> int:
        c = self.config
        return c.latent_dim + c.categories + c.continuous

    @property
    def code_sizes(self) -> tuple[int, int, int]:
        """(noise, categories, continuous): how the latent vector is split."""
        c = self.config
        return c.latent_dim, c.categories, c.continuous

    def random_latents(self, n: int, generator: int | torch.Generator | None = None) -> torch.Tensor:
        """n latent vectors [z ~ N(0, I), one_hot(c_1 uniform), c_2.. ~ U(-1, 1)], drawn on the CPU so a seed gives
        the same vectors on every device: (n, latent)."""
        return self._draw_latents(n, as_generator(generator, "cpu"), "cpu")

    def _draw_latents(self, n: int, generator: torch.Generator | None, device) -> torch.Tensor:
        c = self.config
        z = torch.randn(n, c.latent_dim, generator=generator, device=device)  # (n, noise)
        category = torch.randint(c.categories, (n,), generator=generator, device=device)  # (n,)
        continuous = torch.rand(n, c.continuous, generator=generator, device=device) * 2 - 1  # (n, continuous)
        return torch.cat([z, F.one_hot(category, c.categories).float(), continuous], 1)

    def with_codes(self, latents: torch.Tensor, category: int | None = None,
                   continuous: dict[int, float] | None = None) -> torch.Tensor:
        """A copy of latents (N, latent) with c_1 set to `category` and continuous code j set to continuous[j]."""
        noise, categories, _ = self.code_sizes
        out = latents.clone()
        if category is not None:
            out[:, noise:noise + categories] = F.one_hot(torch.tensor(category), categories).float()
        for j, value in (continuous or {}).items():
            out[:, noise + categories + j] = value
        return out

    def split_codes(self, latents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The codes of latents (N, latent): c_1 as a class index (N,) and the continuous codes (N, continuous)."""
        noise, categories, _ = self.code_sizes
        return latents[:, noise:noise + categories].argmax(1), latents[:, noise + categories:]

    # -- the players -----------------------------------------------------------------------------------------
    def generate(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Latents (N, latent) -> G(z, c) (N, C, H, W) in [-1, 1]."""
        return self.generator(z)

    def discriminate(self, images: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.discriminator["head"](self.discriminator["trunk"](images)).squeeze(1)  # (N,)

    @torch.inference_mode()
    def read_codes(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Q's guess of the codes of images (N, C, H, W) in [0, 1]: c_1's probabilities (N, categories) and the
        continuous codes' means (N, continuous)."""
        device = next(self.parameters()).device
        was_training = self.training
        self.eval()  # batch norm with its running statistics: one image at a time works
        try:
            out = self.q_head(self.discriminator["trunk"](images.to(device) * 2 - 1))  # (N, categories + continuous)
        finally:
            self.train(was_training)
        return out[:, :self.config.categories].softmax(1), out[:, self.config.categories:]

    def information_loss(self, h: torch.Tensor, latents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor,
                                                                                  torch.Tensor]:
        """-L_I up to the constant H(c): cross-entropy of c_1 plus weighted squared errors of the continuous codes.
        Returns (the weighted sum, the categorical cross-entropy, Q's accuracy on c_1) for features h (B, F)."""
        c = self.config
        category, continuous = self.split_codes(latents)
        out = self.q_head(h)  # (B, categories + continuous)
        cross_entropy = F.cross_entropy(out[:, :c.categories], category)
        squared = 0.5 * ((out[:, c.categories:] - continuous) ** 2).sum(1).mean() if c.continuous else h.new_zeros(())
        accuracy = (out[:, :c.categories].argmax(1) == category).float().mean()
        return cross_entropy + c.continuous_weight * squared, cross_entropy, accuracy

    def make_optimizers(self, lr: float | None = None) -> dict[str, torch.optim.Optimizer]:
        """D's optimiser for D alone; G's for G and Q, which both maximise the information bound."""
        lr = lr or self.default_lr
        return {"discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=lr, betas=(0.5, 0.999)),
                "generator": torch.optim.Adam([*self.generator.parameters(), *self.q_head.parameters()],
                                              lr=lr * self.config.generator_lr_scale, betas=(0.5, 0.999))}

    def train_step(self, x: torch.Tensor, y: torch.Tensor, optimizers: dict) -> dict[str, float]:
        """The DCGAN's step: D on the GAN loss, then G and Q together (generator_objective)."""
        if len(x) < 2:  # an epoch's last batch of one image: batch norm needs two
            x, y = x.repeat(2, 1, 1, 1), y.repeat(2)
        return super().train_step(x, y, optimizers)

    def training_latents(self, n: int, device) -> torch.Tensor:
        return self._draw_latents(n, None, device)

    def generator_objective(self, fake: torch.Tensor, y: torch.Tensor, latents: torch.Tensor
                            ) -> tuple[torch.Tensor, dict[str, float]]:
        """Fool D, and keep the codes readable by Q: lambda times the information loss, through D's frozen
        features (Q's head is not part of D, so it learns here with G)."""
        h = self.discriminator["trunk"](fake)  # (B, F)
        info, cross_entropy, accuracy = self.information_loss(h, latents)
        loss = self.generator_loss(self.discriminator["head"](h).squeeze(1)) + self.config.info_weight * info
        bound_bits = (math.log(self.config.categories) - cross_entropy.item()) / math.log(2)
        return loss, {"mi_bits": bound_bits, "q_accuracy": accuracy.item()}

    def describe(self) -> str:
        c = self.config
        return (f"Noise {c.latent_dim}-D; codes: one categorical with {c.categories} values and {c.continuous} "
                f"continuous; information weight λ = {c.info_weight:g}.")


INFOGAN_KIND = register_kind(ModelKind(
    name="infogan", title="InfoGAN",
    family=DCGAN_KIND.family,
    summary="A GAN rewarded for keeping a few input codes readable from its images: unsupervised, they become "
            "factors such as the digit's class, its slant and its width.",
    config_cls=InfoGANConfig, model_cls=InfoGAN,
    paper="Chen et al. 2016, InfoGAN: Interpretable Representation Learning by Information Maximizing GANs",
    capabilities=frozenset({SAMPLES, GENERATOR, CODES}),
    loss_labels={**DCGAN_KIND.loss_labels, "mi_bits": "I(c₁; image) bound (bits)",
                 "q_accuracy": "Q's accuracy on c₁"},
    panels_together=(*DCGAN_KIND.panels_together, ("mi_bits",), ("q_accuracy",)),
    curve_note=DCGAN_KIND.curve_note + " The bound on I(c₁; image) rises towards log₂(values) bits (3.32 for 10) "
               "as G learns to draw c₁ so that Q can read it back.",
    lesson=10,
))
