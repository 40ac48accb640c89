"""StarGAN: one generator for every pair of domains, told which domain to translate into.

Choi, Choi, Kim, Ha, Kim & Choo, "StarGAN: Unified Generative Adversarial Networks for Multi-Domain
Image-to-Image Translation", CVPR 2018. https://arxiv.org/abs/1711.09020

CycleGAN needs a pair of generators for every pair of domains (k domains: k(k-1) generators). StarGAN trains one,
G(x, c), with the target domain c given as extra input planes (its one-hot vector, one constant plane per
domain). D has two heads on shared features: D_src says real or fake, D_cls says which domain.

    D:  L_adv(real -> 1, G(x, c) -> 0) + lambda_cls * CE(D_cls(x), c_x)            (learn the domains on real images)
    G:  L_adv(G(x, c) -> 1) + lambda_cls * CE(D_cls(G(x, c)), c)                  (look real, and be in domain c)
                             + lambda_rec * |G(G(x, c), c_x) - x|_1                (the round trip: keep the content)
                             + lambda_id * |G(x, c_x) - x|_1                       (leave x in its own domain)

The reconstruction term is CycleGAN's cycle loss with the same G both ways. On its own it can be passed by
hiding the input in the translation (a faint pattern the same G decodes on the way back: Chu et al. 2017,
"CycleGAN, a Master of Steganography"): genlab's StarGAN trained without the identity term drew scribbles that
came back as the right digit. The identity term (CycleGAN's, not the StarGAN paper's) anchors G near the input.

D_src in the paper asks only "real or fake?", whatever the domain: a translation that still looks like its source
domain passes as real, and only D_cls pushes it across, which G can satisfy with changes too faint to see.
`projection` makes D_src ask "a real image of this domain?" (Miyato & Koyama's projection, per patch), as CycleGAN's
one discriminator per domain does.

The paper's adversarial loss is WGAN-GP; genlab uses least squares (as its CycleGAN does), which trains stably at
this size without the gradient penalty's second backward pass. The paper updates D five times per G update
(n_critic = 5): `d_steps` (default 1), each D step on new translations of the same batch. Networks: CycleGAN's
translator and PatchGAN (genlab/models/cyclegan.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genlab.models import TRANSLATOR, ModelKind, register_kind
from genlab.models.base import Model
from genlab.models.cyclegan import (TRANSLATOR_LOSSES, check_translator_size, least_squares, patch_trunk,
                                    to_signed, to_unit, translator_net)


@dataclass
class StarGANConfig:
    num_domains: int = field(default=4, metadata={
        "title": "Domains", "domain_count": True,
        "help": "How many domains G can translate into; the data set's labels are the domains and must be "
                "below this."})
    cls_weight: float = field(default=1.0, metadata={
        "title": "Domain classification weight",
        "help": "lambda_cls: how much G is pushed to make D's classifier read the target domain."})
    rec_weight: float = field(default=10.0, metadata={
        "title": "Reconstruction weight",
        "help": "lambda_rec: how much G(G(x, c), c_x) must come back to x (CycleGAN's cycle loss)."})
    id_weight: float = field(default=5.0, metadata={
        "title": "Identity weight",
        "help": "lambda_id: told the domain x is already in, G should return x unchanged (CycleGAN's identity "
                "term; the StarGAN paper has none). At 0, G may hide x in its translation and still pass the "
                "round trip."})
    projection: bool = field(default=False, metadata={
        "title": "Domain-aware real/fake score",
        "help": "The discriminator's real/fake score also asks 'a real image of *this* domain?' (a projection, as "
                "in genlab's conditional GAN), as CycleGAN's one discriminator per domain does. Off (the paper), "
                "a translation that still looks like its source domain passes as real, and only the domain head "
                "pushes it across."})
    d_steps: int = field(default=1, metadata={
        "title": "Discriminator steps per generator step",
        "help": "How many times D learns (each time on new translations of the batch) before G learns once; the "
                "paper uses 5 (its n_critic)."})
    width: int = 16  # channels of the first conv layer (the residual blocks have twice as many)
    res_blocks: int = 3  # residual blocks at half resolution
    image_channels: int = 1
    image_size: int = 28  # must be divisible by 4

    @classmethod
    def tiny(cls, **overrides) -> "StarGANConfig":
        return cls(**{"num_domains": 3, "width": 4, "res_blocks": 1, **overrides})

    def __post_init__(self):
        if not 2 <= self.num_domains <= 16:
            raise ValueError(f"num_domains must be between 2 and 16, not {self.num_domains}")
        if min(self.cls_weight, self.rec_weight, self.id_weight) < 0:
            raise ValueError("the classification, reconstruction and identity weights must be 0 or more")
        if not 1 <= self.d_steps <= 10:
            raise ValueError(f"d_steps must be between 1 and 10, not {self.d_steps}")
        check_translator_size(self)


class StarDiscriminator(nn.Module):
    """Images (N, C, H, W) in [-1, 1] (and, with a projection, the domain (N,) each is judged as) -> real/fake
    scores per patch (N, 1, H/4, W/4) and domain logits (N, k)."""

    def __init__(self, c: StarGANConfig):
        super().__init__()
        side = c.image_size // 4
        self.trunk = patch_trunk(c)  # (N, 2w, H/4, W/4)
        self.src = nn.Conv2d(2 * c.width, 1, 3, padding=1)  # (N, 1, H/4, W/4)
        self.cls = nn.Conv2d(2 * c.width, c.num_domains, side)  # (N, k, 1, 1): one kernel over the whole map
        # Projection (Miyato & Koyama 2018), per patch: score + <embed(domain), h> at every position
        self.embed = nn.Embedding(c.num_domains, 2 * c.width) if c.projection else None

    def forward(self, x: torch.Tensor, domain: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)  # (N, 2w, H/4, W/4)
        src = self.src(h)  # (N, 1, H/4, W/4)
        if self.embed is not None:
            src = src + (self.embed(domain)[:, :, None, None] * h).sum(1, keepdim=True)  # (N, 1, H/4, W/4)
        return src, self.cls(h).flatten(1)


class StarGAN(Model):
    default_lr = 2e-4
    default_batch_size = 64

    def __init__(self, config: StarGANConfig):
        super().__init__()
        self.config = c = config
        self.generator = translator_net(c, extra_channels=c.num_domains)  # G(x, c)
        self.discriminator = StarDiscriminator(c)

    @property
    def domains(self) -> tuple[int, ...]:
        return tuple(range(self.config.num_domains))

    def make_optimizers(self, lr: float | None = None) -> dict[str, torch.optim.Optimizer]:
        lr = lr or self.default_lr
        return {"generator": torch.optim.Adam(self.generator.parameters(), lr=lr, betas=(0.5, 0.999)),
                "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=lr, betas=(0.5, 0.999))}

    def generate(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """G(x, c): x (N, C, H, W) in [-1, 1], target (N,) domain indices -> (N, C, H, W) in [-1, 1]."""
        n, _, h, w = x.shape
        planes = F.one_hot(target, self.config.num_domains).float()  # (N, k)
        planes = planes.view(n, -1, 1, 1).expand(n, self.config.num_domains, h, w)  # (N, k, H, W)
        return self.generator(torch.cat([x, planes], dim=1))

    @torch.inference_mode()
    def translate(self, x: torch.Tensor, target: int | torch.Tensor) -> torch.Tensor:
        """x (N, C, H, W) in [0, 1] -> (N, C, H, W) in [0, 1] in domain `target` (an int, or (N,) indices)."""
        target = torch.as_tensor(target, dtype=torch.long, device=x.device).expand(len(x))  # (N,)
        if target.min() < 0 or target.max() >= self.config.num_domains:
            raise ValueError(f"this StarGAN knows domains 0 to {self.config.num_domains - 1}")
        was_training = self.training
        self.eval()
        try:
            device = next(self.parameters()).device  # the model's device; the result goes back to x's
            return to_unit(self.generate(to_signed(x.to(device)), target.to(device))).to(x.device)
        finally:
            self.train(was_training)

    def train_step(self, x: torch.Tensor, y: torch.Tensor, optimizers: dict) -> dict[str, float]:
        """d_steps discriminator steps, then one generator step; every image goes to a random *other* domain."""
        c = self.config
        if y.max() >= c.num_domains:
            raise ValueError(f"a label {int(y.max())} is not one of the model's {c.num_domains} domains")
        real = to_signed(x)  # (B, C, H, W)
        for d_step in range(c.d_steps):
            shift = torch.randint(1, c.num_domains, y.shape, device=y.device)  # (B,) never 0: another domain
            target = (y + shift) % c.num_domains  # (B,)
            with torch.set_grad_enabled(d_step == c.d_steps - 1):  # only the last translation teaches G too
                fake = self.generate(real, target)  # (B, C, H, W)

            # D: real or fake, and which domain a real image is in.
            src_real, cls_real = self.discriminator(real, y)  # a real image of its own domain
            src_fake, _ = self.discriminator(fake.detach(), target)  # judged as a member of the target domain
            domain_real = F.cross_entropy(cls_real, y)
            loss_d = least_squares(src_real, True) + least_squares(src_fake, False) + c.cls_weight * domain_real
            optimizers["discriminator"].zero_grad(set_to_none=True)
            loss_d.backward()
            optimizers["discriminator"].step()

        # G: look real, be read as the target domain, and come back to x when sent home.
        self.discriminator.requires_grad_(False)
        try:
            src, cls = self.discriminator(fake, target)
            adversarial = least_squares(src, True)
            domain_fake = F.cross_entropy(cls, target)
            cycle = F.l1_loss(self.generate(fake, y), real)
            identity = F.l1_loss(self.generate(real, y), real) if c.id_weight else torch.zeros(())
            loss_g = adversarial + c.cls_weight * domain_fake + c.rec_weight * cycle + c.id_weight * identity
            optimizers["generator"].zero_grad(set_to_none=True)
            loss_g.backward()
            optimizers["generator"].step()
        finally:
            self.discriminator.requires_grad_(True)
        return {"loss_g": loss_g.item(), "loss_d": loss_d.item(), "adversarial": adversarial.item(),
                "cycle": cycle.item(), "identity": identity.item(), "domain_real": domain_real.item(),
                "domain_fake": domain_fake.item()}

    def describe(self) -> str:
        c = self.config
        return (f"One generator for {c.num_domains} domains; reconstruction weight {c.rec_weight:g}, identity weight "
                f"{c.id_weight:g}" + ("; a domain-aware real/fake score." if c.projection else "."))


register_kind(ModelKind(
    name="stargan", title="StarGAN (many domains, one generator)",
    family="implicit density (a translator: adversarial, its p_g is never written down)",
    summary="One generator told the target domain; its discriminator also says which domain an image is in.",
    config_cls=StarGANConfig, model_cls=StarGAN,
    paper="Choi et al. 2018, StarGAN: Unified Generative Adversarial Networks for Multi-Domain Image-to-Image "
          "Translation",
    capabilities=frozenset({TRANSLATOR}),
    loss_labels={**TRANSLATOR_LOSSES, "domain_real": "D's domain loss (real)", "domain_fake": "G's domain loss"},
    panels_together=(("loss_g", "loss_d"), ("adversarial", "cycle"), ("domain_real", "domain_fake")),
    curve_note="The round trip is G(G(x, target), source) against x (L1, pixels in [-1, 1]); the domain losses "
               "fall as D learns the domains and G learns to draw into the one it is told.",
    starts_with={"dataset": "shapes"},
    lesson=11,
))
