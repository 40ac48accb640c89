"""Deep convolutional GAN (DCGAN), sized for 28x28 images and a CPU.

Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014. https://arxiv.org/abs/1406.2661
Radford, Metz & Chintala, "Unsupervised Representation Learning with Deep Convolutional Generative
Adversarial Networks", ICLR 2016. https://arxiv.org/abs/1511.06434

The idea: a generator G maps noise z ~ N(0, I) to an image; a discriminator D outputs the probability that
its input is a real image. They play a minimax game,

    min_G max_D  E_x[log D(x)] + E_z[log(1 - D(G(z)))],

one optimiser step for D, then one for G. G never writes down p(x): a GAN is an implicit model, a sampler only.

DCGAN's recipe: no fully connected hidden layers (transposed convolutions upsample in G, strided convolutions
downsample in D), batch norm, ReLU in G (tanh at the output), LeakyReLU in D, Adam with lr 2e-4 and beta1 0.5
(genlab's default step is 5e-4 at batch 32: see DCGAN.default_lr).
Here G goes z -> 7x7 -> 14x14 -> 28x28 with two upsampling layers, a few times narrower than the paper's
64x64 model, so that it trains in minutes on a laptop's CPU.

Instance noise (Sonderby et al. 2017; Arjovsky & Bottou 2017): Gaussian noise added to the real and the fake
images before D sees them makes the two distributions overlap, so D cannot separate them perfectly too early
and G keeps getting a useful gradient. It can be annealed to zero over training.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genlab.models import GENERATOR, SAMPLES, ModelKind, check_choices, register_kind
from genlab.models.base import Model, as_generator

LOSSES = ("non-saturating", "minimax")


@dataclass
class DCGANConfig:
    latent_dim: int = field(default=64, metadata={
        "help": "Size of the noise vector z that the generator turns into an image."})
    loss: str = field(default="non-saturating", metadata={
        "choices": LOSSES, "help": "Generator loss: 'minimax' minimises log(1 - D(G(z))), which is flat when D rejects the fakes "
                "(early in training); 'non-saturating' maximises log D(G(z)), which is steep exactly there."})
    instance_noise: float = field(default=0.0, metadata={
        "help": "Standard deviation of Gaussian noise added to real and fake images before D sees them "
                "(pixels span -1..1); 0 turns it off. It stops D from winning too early."})
    noise_anneal_steps: int = field(default=0, metadata={
        "help": "Shrink the instance noise linearly to 0 over this many steps; 0 keeps it fixed."})
    width: int = field(default=32, metadata={
        "help": "Channels of the 14x14 layers (the 7x7 layers have twice as many): wider is slower but sharper."})
    image_channels: int = 1
    image_size: int = 28  # must be divisible by 4

    @classmethod
    def tiny(cls, **overrides) -> "DCGANConfig":
        return cls(**{"latent_dim": 8, "width": 4, **overrides})

    def __post_init__(self):
        if not 1 <= self.latent_dim <= 512:
            raise ValueError(f"latent_dim must be between 1 and 512, not {self.latent_dim}")
        check_choices(self)
        if self.instance_noise < 0 or self.noise_anneal_steps < 0:
            raise ValueError("instance_noise and noise_anneal_steps must not be negative")
        if self.width < 1:
            raise ValueError(f"width must be positive, not {self.width}")
        if self.image_size % 4:
            raise ValueError(f"image_size must be divisible by 4, not {self.image_size}")


class DCGAN(Model):
    # The paper's Adam step is 2e-4 at batch 128; in a minute of 2-core CPU training, batch 32 at 5e-4 took the
    # FID from 108 to 42 (benchmarks/gan_quick_demo.py), and it is the shipped models' recipe.
    default_lr = 5e-4
    default_batch_size = 32

    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = c = config
        self.generator = generator_net(c, c.latent_dim)  # input z as (N, latent, 1, 1)
        self.discriminator = nn.Sequential(  # input images in [-1, 1], (N, C, 28, 28)
            *discriminator_trunk(c),  # (N, 2w, 7, 7)
            nn.Conv2d(2 * c.width, 1, c.image_size // 4),  # (N, 1, 1, 1): one logit per image
            nn.Flatten(0),  # (N,)
        )
        # Optimisation steps taken so far; anneals the instance noise and survives a checkpoint round trip.
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))
        self.apply(dcgan_init)

    # -- the model ---------------------------------------------------------------------------------------
    def random_latents(self, n: int, generator: int | torch.Generator | None = None) -> torch.Tensor:
        """n noise vectors z ~ N(0, I), drawn on the CPU so a seed gives the same z on every device: (n, latent)."""
        return torch.randn(n, self.config.latent_dim, generator=as_generator(generator, "cpu"))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, latent) -> images (N, C, H, W) in [0, 1]. Call in eval mode: batch norm then uses its running
        statistics, so an image does not depend on the others in the batch (a batch of one works)."""
        device = next(self.parameters()).device
        z = z.to(device=device, dtype=torch.float32)
        return (self.generate(z) + 1) / 2  # (N, C, H, W)

    def generate(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z (N, latent) -> G(z) (N, C, H, W) in [-1, 1]. y: the batch's labels, unused by an unconditional G."""
        return self.generator(z[:, :, None, None])

    def discriminate(self, images: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1] (N, C, H, W) -> logits (N,); D(x) = sigmoid(logit) is P(real). y: unused here."""
        return self.discriminator(images)

    def noise_std(self) -> float:
        """The instance noise for the current step: fixed, or shrinking linearly to 0."""
        c = self.config
        if c.noise_anneal_steps == 0:
            return c.instance_noise
        return c.instance_noise * max(0.0, 1.0 - self.steps_done.item() / c.noise_anneal_steps)

    def add_instance_noise(self, images: torch.Tensor, std: float) -> torch.Tensor:
        return images + std * torch.randn_like(images) if std > 0 else images

    def generator_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        """Minimax: G minimises log(1 - D(G(z))) = -softplus(logit). Non-saturating: G minimises
        -log D(G(z)) = softplus(-logit). When D confidently rejects a bad fake (logit << 0), the first is flat
        (tiny gradient) and the second is steep, which is why non-saturating learns faster early on."""
        if self.config.loss == "minimax":
            return -F.softplus(fake_logits).mean()
        return F.softplus(-fake_logits).mean()

    # -- the protocol the trainer and pages use ------------------------------------------------------------
    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def describe(self) -> str:
        return f"Latent size {self.config.latent_dim}; generator loss {self.config.loss}."

    def make_optimizers(self, lr: float | None = None) -> dict[str, torch.optim.Optimizer]:
        lr = lr or self.default_lr
        return {"discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=lr, betas=(0.5, 0.999)),
                "generator": torch.optim.Adam(self.generator.parameters(), lr=lr, betas=(0.5, 0.999))}

    def train_step(self, x: torch.Tensor, y: torch.Tensor, optimizers: dict) -> dict[str, float]:
        """One discriminator step, then one generator step, on the same fake batch."""
        real = x * 2 - 1  # (B, C, H, W) in [-1, 1], the range of G's tanh
        z = self.training_latents(len(x), x.device)  # (B, latent)
        fake = self.generate(z, y)  # (B, C, H, W)
        std = self.noise_std()

        # D: maximise log D(x) + log(1 - D(G(z))), i.e. minimise binary cross-entropy on real=1, fake=0.
        real_logits = self.discriminate(self.add_instance_noise(real, std), y)  # (B,)
        fake_logits = self.discriminate(self.add_instance_noise(fake.detach(), std), y)  # (B,) no grad to G
        loss_d = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        optimizers["discriminator"].zero_grad(set_to_none=True)
        loss_d.backward()
        optimizers["discriminator"].step()

        # G: fool the freshly updated D. D's weights are frozen here, so no gradient is computed for them.
        self.discriminator.requires_grad_(False)
        try:
            loss_g, extra = self.generator_objective(self.add_instance_noise(fake, std), y, z)
            optimizers["generator"].zero_grad(set_to_none=True)
            loss_g.backward()
            optimizers["generator"].step()
        finally:
            self.discriminator.requires_grad_(True)
        self.steps_done += 1
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
                "d_real": torch.sigmoid(real_logits).mean().item(),  # mean D(x): near 1 when D is winning
                "d_fake": torch.sigmoid(fake_logits).mean().item(),  # mean D(G(z)): near 0 when D is winning
                **extra}

    def training_latents(self, n: int, device) -> torch.Tensor:
        """The latent vectors of one training batch, drawn on `device`: (n, latent)."""
        return torch.randn(n, self.config.latent_dim, device=device)

    def generator_objective(self, fake: torch.Tensor, y: torch.Tensor, latents: torch.Tensor
                            ) -> tuple[torch.Tensor, dict[str, float]]:
        """What G's step minimises for fakes (B, C, H, W) drawn from latents (B, latent), and anything more to
        report; a GAN with another term for G (InfoGAN's) adds it here."""
        return self.generator_loss(self.discriminate(fake, y)), {}

    @torch.inference_mode()
    def sample(self, n: int, generator: int | torch.Generator | None = None, **decode_args) -> torch.Tensor:
        """n images from the model's prior: (n, C, H, W) in [0, 1], generated in eval mode (batch norm's running
        statistics), so the same seed gives the same images whatever else is in the batch. decode_args go to
        decode (a conditional GAN's label)."""
        was_training = self.generator.training
        self.generator.eval()
        try:
            return self.decode(self.random_latents(n, generator), **decode_args)
        finally:
            self.generator.train(was_training)


def generator_net(c: DCGANConfig, in_channels: int) -> nn.Sequential:
    """G's layers: (N, in_channels, 1, 1) -> (N, C, H, W) in [-1, 1]."""
    side = c.image_size // 4  # 7 for 28x28 images
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, 2 * c.width, side, bias=False),  # (N, 2w, 7, 7): project
        nn.BatchNorm2d(2 * c.width), nn.ReLU(),
        nn.ConvTranspose2d(2 * c.width, c.width, 4, stride=2, padding=1, bias=False),  # (N, w, 14, 14)
        nn.BatchNorm2d(c.width), nn.ReLU(),
        nn.ConvTranspose2d(c.width, c.image_channels, 4, stride=2, padding=1),  # (N, C, 28, 28)
        nn.Tanh(),  # pixels in [-1, 1]
    )


def discriminator_trunk(c: DCGANConfig) -> list[nn.Module]:
    """D's convolutional layers: images (N, C, 28, 28) in [-1, 1] -> features (N, 2w, 7, 7)."""
    return [nn.Conv2d(c.image_channels, c.width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # (N, w, 14, 14)
            nn.Conv2d(c.width, 2 * c.width, 4, stride=2, padding=1, bias=False),  # (N, 2w, 7, 7)
            nn.BatchNorm2d(2 * c.width), nn.LeakyReLU(0.2)]


def dcgan_init(module: nn.Module) -> None:
    """The DCGAN paper's initialisation: weights from N(0, 0.02); batch norm scales from N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


DCGAN_KIND = register_kind(ModelKind(
    name="dcgan", title="Deep convolutional GAN (DCGAN)",
    family="implicit density (a sampler: its p_g is never written down or evaluated)",
    summary="A generator turns noise into images while a discriminator learns to tell them from real ones.",
    config_cls=DCGANConfig, model_cls=DCGAN,
    paper="Goodfellow et al. 2014, Generative Adversarial Nets; Radford et al. 2016, DCGAN",
    capabilities=frozenset({SAMPLES, GENERATOR}),
    loss_labels={"loss_d": "D loss", "loss_g": "G loss", "d_real": "D(x)", "d_fake": "D(G(z))"},
    panels_together=(("loss_d", "loss_g"), ("d_real", "d_fake")),
    curve_note="D(x) and D(G(z)) are the discriminator's average outputs on real and on generated images: near 1 "
               "and 0, D is winning; at the game's equilibrium both are 0.5. GAN losses do not fall steadily, so "
               "judge by the samples.",
    lesson=9,
))
