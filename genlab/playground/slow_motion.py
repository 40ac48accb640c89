"""GAN slow motion (as GAN Lab's): one training step of a ToyGAN split into four sub-steps a class can watch.

1. draw a batch: real points x from the data, noise z, fakes G(z);
2. update D on that batch (its heat map shifts towards "real" on x and "fake" on G(z));
3. G's gradient: for each fake, the direction G's loss pushes it (minus the gradient of the loss at the point);
4. update G with the same z: the fakes move.
A step here is one D update and one G update on a batch of at most 64 points, whatever the playground's D steps
per G step and batch size (Play runs those); the arrows leave out instance noise, the updates do not.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from genlab.playground.gan import ToyGAN, one_thread

SUBSTEPS = ("Draw a batch", "Update D", "G's gradient", "Update G")
EXPLAIN = (
    "Draw a batch: {n} real points x from the data (black) and {n} noise vectors z ~ N(0, I), which G turns into "
    "fakes G(z) (orange). Next, D learns from exactly these points.",
    "Update D: one gradient step on −log D(x) − log(1 − D(G(z))), from {d_before:.3f} to {d_after:.3f} on this "
    "batch. The heat map moves towards blue (real) around the black points and red (fake) around the orange ones.",
    "G's gradient: the purple arrows show where G's loss pushes each fake (minus its gradient). They point up "
    "D's slope, towards where D says real, not at any particular real point.",
    "Update G: one gradient step on G's weights with the same z, so every fake moves at once (grey lines: from "
    "where it was). G's loss on this batch went from {g_before:.3f} to {g_after:.3f}. That was one training step "
    "with one D update (Play does as many as the sidebar's D steps per G step).",
)


@dataclass
class SlowMotion:
    gan: ToyGAN
    phase: int = 0  # how many sub-steps of the current step are done (0: none, 4: the step is complete)
    real: torch.Tensor | None = None  # (n, 2) the batch's real points
    z: torch.Tensor | None = None  # (n, latent) the batch's noise
    fake: torch.Tensor | None = None  # (n, 2) G(z) before G's update
    push: torch.Tensor | None = None  # (n, 2) minus the gradient of G's loss at each fake
    moved: torch.Tensor | None = None  # (n, 2) G(z) after G's update
    numbers: dict = field(default_factory=dict)  # the losses the sentences quote
    drawn_at: int = -1  # the GAN's step when this batch was drawn

    @property
    def stale(self) -> bool:
        """The GAN trained elsewhere (Play, One step) since this batch was drawn: its pictures no longer fit."""
        return self.phase > 0 and self.gan.step != self.drawn_at + (1 if self.phase == 4 else 0)

    @property
    def done(self) -> str | None:
        """The sentence for the last sub-step done (None before the first)."""
        return EXPLAIN[self.phase - 1].format(**self.numbers) if self.phase else None

    @one_thread()
    def advance(self) -> None:
        """Run the next sub-step (after the fourth, the next call starts a new step with a new batch)."""
        gan, n = self.gan, min(self.gan.config.batch_size, 64)  # a few dozen points stay readable on a projector
        if self.phase in (0, 4):
            self.real = gan.data.sample(n, gan.batches)  # (n, 2)
            self.z = gan.noise(n)  # (n, latent)
            with torch.no_grad():
                self.fake = gan.generator(self.z)  # (n, 2)
            self.push = self.moved = None
            self.numbers = {"n": n}
            self.drawn_at = gan.step
            self.phase = 1
        elif self.phase == 1:
            self.numbers["d_before"] = self._d_loss()
            gan.d_update(self.real, self.fake)
            self.numbers["d_after"] = self._d_loss()
            self.phase = 2
        elif self.phase == 2:
            fake = self.fake.clone().requires_grad_(True)  # (n, 2)
            (gradient,) = torch.autograd.grad(gan.generator_loss(fake, noisy=False).sum(), fake)  # (n, 2)
            self.push = -gradient
            self.phase = 3
        else:
            self.numbers["g_before"] = self._g_loss()
            gan.g_update(self.z)
            with torch.no_grad():
                self.moved = gan.generator(self.z)  # (n, 2)
            self.numbers["g_after"] = self._g_loss()
            gan.step += 1
            gan.record(self.numbers["d_after"], self.numbers["g_after"])
            self.phase = 4

    @torch.no_grad()
    def _d_loss(self) -> float:
        return self.gan.discriminator_loss(self.real, self.fake, noisy=False).item()

    @torch.no_grad()
    def _g_loss(self) -> float:
        return self.gan.generator_loss(self.gan.generator(self.z), noisy=False).mean().item()
