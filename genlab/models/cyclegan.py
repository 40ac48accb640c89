"""CycleGAN: translate images between two domains without a single paired example.

Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks",
ICCV 2017. https://arxiv.org/abs/1703.10593

Two generators, G: A -> B and F: B -> A, and two discriminators, D_B (is this a real B?) and D_A. The adversarial
terms alone only ask that G(a) *looks like* some B; nothing ties it to the a it came from, so G may draw any B
at all. The cycle-consistency term ties them:

    L = L_GAN(G, D_B) + L_GAN(F, D_A) + lambda_cyc * (|F(G(a)) - a|_1 + |G(F(b)) - b|_1)
                                      + lambda_id  * (|G(b) - b|_1 + |F(a) - a|_1)       (optional identity term)

If a -> G(a) -> F(G(a)) must come back to a, G(a) has to keep what is needed to rebuild a: the content.
As in the paper, the adversarial loss is least squares (LSGAN: D(real) -> 1, D(fake) -> 0, G wants D(fake) -> 1),
the generator is convolutions down, residual blocks, convolutions up (Johnson et al. 2016), with instance norm,
and D is a PatchGAN: it scores overlapping patches, not the whole image. Both are scaled down for 28x28 images.

A translation data set's labels are domains (genlab/data.py); a batch's images of `source` are A and those of
`target` are B, two different sets of images: no pairs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genlab.models import TRANSLATOR, ModelKind, register_kind
from genlab.models.base import Model


@dataclass
class CycleGANConfig:
    source: int = field(default=0, metadata={
        "title": "Domain A", "domain": True,
        "help": "Domain A: the label (domain index) of the images G translates from."})
    target: int = field(default=1, metadata={
        "title": "Domain B", "domain": True,
        "help": "Domain B: the label of the images G translates to (F translates back)."})
    cycle_weight: float = field(default=10.0, metadata={
        "title": "Cycle-consistency weight",
        "help": "lambda_cyc: how much F(G(a)) must come back to a. 0 leaves only the adversarial terms, which "
                "ask that G(a) look like domain B, not that it keep anything of a."})
    identity_weight: float = field(default=0.0, metadata={
        "title": "Identity weight",
        "help": "lambda_id: G given an image already in B should leave it alone (the paper used it for "
                "paintings, to keep the colours). 0 turns it off."})
    width: int = 16  # channels of the first conv layer (the residual blocks have twice as many)
    res_blocks: int = 3  # residual blocks at half resolution
    image_channels: int = 1
    image_size: int = 28  # must be divisible by 4

    @classmethod
    def tiny(cls, **overrides) -> "CycleGANConfig":
        return cls(**{"width": 4, "res_blocks": 1, **overrides})

    def __post_init__(self):
        if self.source == self.target or min(self.source, self.target) < 0:
            raise ValueError(f"source and target must be two different domains, not {self.source} and "
                             f"{self.target}")
        if self.cycle_weight < 0 or self.identity_weight < 0:
            raise ValueError("the cycle and identity weights must be 0 or more")
        check_translator_size(self)


def check_translator_size(c) -> None:
    """The sizes translator_net and the PatchGAN accept (one sentence if not); shared with StarGAN's config."""
    if c.width < 1 or c.res_blocks < 0:
        raise ValueError(f"width must be 1 or more and res_blocks 0 or more, not {c.width} and {c.res_blocks}")
    if c.image_size % 4:
        raise ValueError(f"image_size must be divisible by 4, not {c.image_size}")


class ResidualBlock(nn.Module):
    """x + conv(relu(norm(conv(x)))): the block keeps the shape (N, ch, H, W) and learns only a change."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect"),
            nn.InstanceNorm2d(channels, affine=True), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect"),
            nn.InstanceNorm2d(channels, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def translator_net(c, extra_channels: int = 0) -> nn.Sequential:
    """Images (N, C + extra, H, W) in [-1, 1] -> images (N, C, H, W) in [-1, 1]: down once, residual blocks, up.
    extra_channels: constant input planes (StarGAN's target domain); c needs image_channels, width, res_blocks."""
    w = c.width
    return nn.Sequential(
        nn.Conv2d(c.image_channels + extra_channels, w, 5, padding=2), nn.InstanceNorm2d(w, affine=True),
        nn.ReLU(),  # (N, w, H, W)
        nn.Conv2d(w, 2 * w, 4, stride=2, padding=1),  # (N, 2w, H/2, W/2)
        nn.InstanceNorm2d(2 * w, affine=True), nn.ReLU(),
        *[ResidualBlock(2 * w) for _ in range(c.res_blocks)],  # (N, 2w, H/2, W/2)
        nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1),  # (N, w, H, W)
        nn.InstanceNorm2d(w, affine=True), nn.ReLU(),
        nn.Conv2d(w, c.image_channels, 5, padding=2), nn.Tanh(),  # (N, C, H, W) in [-1, 1]
    )


def patch_trunk(c) -> nn.Sequential:
    """PatchGAN's features: images (N, C, H, W) in [-1, 1] -> (N, 2w, H/4, W/4); each position sees a patch."""
    w = c.width
    return nn.Sequential(
        nn.Conv2d(c.image_channels, w, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # (N, w, H/2, W/2)
        nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.InstanceNorm2d(2 * w, affine=True),
        nn.LeakyReLU(0.2),  # (N, 2w, H/4, W/4)
    )


def patch_discriminator(c) -> nn.Sequential:
    """Images (N, C, H, W) in [-1, 1] -> a score per patch (N, 1, H/4, W/4): high means "looks real"."""
    return nn.Sequential(patch_trunk(c), nn.Conv2d(2 * c.width, 1, 3, padding=1))


def least_squares(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """LSGAN (Mao et al. 2017): mean (D - 1)^2 for "real", mean D^2 for "fake"."""
    return (scores - (1.0 if real else 0.0)).pow(2).mean()


def to_signed(x: torch.Tensor) -> torch.Tensor:
    return x * 2 - 1  # [0, 1] -> [-1, 1], the generators' tanh range


def to_unit(x: torch.Tensor) -> torch.Tensor:
    return (x + 1) / 2


class CycleGAN(Model):
    default_lr = 2e-4  # the paper's Adam step size, with beta1 = 0.5
    default_batch_size = 64

    def __init__(self, config: CycleGANConfig):
        super().__init__()
        self.config = c = config
        self.g_ab, self.g_ba = translator_net(c), translator_net(c)  # G: A -> B and F: B -> A
        self.d_a, self.d_b = patch_discriminator(c), patch_discriminator(c)

    @property
    def domains(self) -> tuple[int, int]:
        """The two domains (labels of the data set) this model translates between."""
        return self.config.source, self.config.target

    def make_optimizers(self, lr: float | None = None) -> dict[str, torch.optim.Optimizer]:
        lr = lr or self.default_lr
        generators = list(self.g_ab.parameters()) + list(self.g_ba.parameters())
        discriminators = list(self.d_a.parameters()) + list(self.d_b.parameters())
        return {"generator": torch.optim.Adam(generators, lr=lr, betas=(0.5, 0.999)),
                "discriminator": torch.optim.Adam(discriminators, lr=lr, betas=(0.5, 0.999))}

    @torch.inference_mode()
    def translate(self, x: torch.Tensor, target: int) -> torch.Tensor:
        """x (N, C, H, W) in [0, 1], from the other domain -> (N, C, H, W) in [0, 1] in domain `target`."""
        if target not in self.domains:
            raise ValueError(f"this CycleGAN translates between domains {self.domains[0]} and {self.domains[1]} "
                             f"only, not into {target}")
        was_training = self.training
        self.eval()
        try:
            net = self.g_ab if target == self.config.target else self.g_ba
            device = next(self.parameters()).device  # the model's device; the result goes back to x's
            return to_unit(net(to_signed(x.to(device)))).to(x.device)
        finally:
            self.train(was_training)

    def cycle_loss(self, a: torch.Tensor, b: torch.Tensor, fake_b: torch.Tensor, fake_a: torch.Tensor) -> torch.Tensor:
        """|F(G(a)) - a|_1 + |G(F(b)) - b|_1 (means over pixels), given fake_b = G(a) and fake_a = F(b)."""
        return F.l1_loss(self.g_ba(fake_b), a) + F.l1_loss(self.g_ab(fake_a), b)

    def train_step(self, x: torch.Tensor, y: torch.Tensor, optimizers: dict) -> dict[str, float]:
        """One step for both generators, then one for both discriminators, on the batch's A and B images."""
        c = self.config
        a, b = to_signed(x[y == c.source]), to_signed(x[y == c.target])  # (Na, C, H, W), (Nb, C, H, W)
        if not len(a) or not len(b):
            raise ValueError(f"a training batch held no image of domain {c.source if not len(a) else c.target}: "
                             "train on a data set whose labels are those domains, with a larger batch")

        # Generators: fool both discriminators, and come back around the cycle.
        self.d_a.requires_grad_(False)
        self.d_b.requires_grad_(False)
        try:
            fake_b, fake_a = self.g_ab(a), self.g_ba(b)  # G(a) and F(b)
            adversarial = least_squares(self.d_b(fake_b), True) + least_squares(self.d_a(fake_a), True)
            cycle = self.cycle_loss(a, b, fake_b, fake_a) if c.cycle_weight else torch.zeros(())
            identity = F.l1_loss(self.g_ab(b), b) + F.l1_loss(self.g_ba(a), a) if c.identity_weight else \
                torch.zeros(())
            loss_g = adversarial + c.cycle_weight * cycle + c.identity_weight * identity
            optimizers["generator"].zero_grad(set_to_none=True)
            loss_g.backward()
            optimizers["generator"].step()
        finally:
            self.d_a.requires_grad_(True)
            self.d_b.requires_grad_(True)

        # Discriminators: real images -> 1, this step's translations -> 0 (halved, as in the paper).
        loss_d = 0.5 * (least_squares(self.d_b(b), True) + least_squares(self.d_b(fake_b.detach()), False)
                        + least_squares(self.d_a(a), True) + least_squares(self.d_a(fake_a.detach()), False))
        optimizers["discriminator"].zero_grad(set_to_none=True)
        loss_d.backward()
        optimizers["discriminator"].step()
        if not c.cycle_weight:  # still report how far the round trip lands, so the curves can be compared
            with torch.no_grad():
                cycle = self.cycle_loss(a, b, fake_b, fake_a)
        return {"loss_g": loss_g.item(), "loss_d": loss_d.item(), "adversarial": adversarial.item(),
                "cycle": cycle.item() / 2, "identity": identity.item() / 2}

    def describe(self) -> str:
        c = self.config
        if not c.cycle_weight:
            return "Trained without the cycle loss: only the discriminators judge G's output."
        return f"Cycle-consistency weight {c.cycle_weight:g}" + (
            f", identity weight {c.identity_weight:g}." if c.identity_weight else ".")


TRANSLATOR_LOSSES = {"loss_g": "Generator loss", "loss_d": "Discriminator loss",
                     "adversarial": "G's adversarial term", "cycle": "Round trip (L1)",
                     "identity": "Identity term"}

register_kind(ModelKind(
    name="cyclegan", title="CycleGAN (two domains, unpaired)",
    family="implicit density (a translator: adversarial, its p_g is never written down)",
    summary="Two generators translate A -> B and B -> A; a round trip must come back to the input.",
    config_cls=CycleGANConfig, model_cls=CycleGAN,
    paper="Zhu, Park, Isola & Efros 2017, Unpaired Image-to-Image Translation using Cycle-Consistent "
          "Adversarial Networks",
    capabilities=frozenset({TRANSLATOR}),
    loss_labels=TRANSLATOR_LOSSES,
    panels_together=(("loss_g", "loss_d"), ("adversarial", "cycle")),
    curve_note="The round trip is the mean absolute difference between an image and its translation translated "
               "back (pixels in [-1, 1]); it is drawn even when the cycle loss is off, which shows what it buys.",
    starts_with={"dataset": "shapes"},
    lesson=11,
))
