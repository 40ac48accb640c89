"""A tiny GAN on 2-D points, for watching the minimax game (in the spirit of GAN Lab, Kahng et al. 2018).

Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014. https://arxiv.org/abs/1406.2661

A generator G maps noise z ~ N(0, I) to points on the plane; a discriminator D outputs the probability that a
point is real. They play

    min_G max_D  E_x[log D(x)] + E_z[log(1 - D(G(z)))]

For a fixed G the best D is p_data / (p_data + p_g); against that D the game's value is
2 JS(p_data || p_g) - log 4, so G minimises the Jensen-Shannon divergence between data and generator. G's "minimax" loss log(1 - D(G(z))) saturates when D confidently
rejects the fakes; the "non-saturating" loss -log D(G(z)) has the same fixed point and strong gradients early.

Everything here is small enough to train live on a CPU: a step is a few small matrix products. The same seed
gives the same initial weights and the same batches, so two runs that differ only in one setting can be
compared side by side. This is not an image model, so it does not live in genlab/models/.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import nn

from genlab.playground.data import PLANE, ToyDataset
from genlab.playground.divergence import jensen_shannon_bits, optimal_discriminator

LOSSES = ("non-saturating", "minimax")
OPTIMIZERS = ("adam", "sgd")
SGD_LR = 0.05  # plain SGD needs a much larger learning rate than Adam's 1e-3
OPTIMIZER_TITLES = {"sgd": f"plain SGD (learning rate {SGD_LR:g})", "adam": "Adam (sidebar rates)"}  # as shown


@dataclass(frozen=True)
class ToyGANConfig:
    loss: str = field(default="non-saturating", metadata={
        "help": "G's loss: minimax minimises log(1 - D(G(z))); non-saturating minimises -log D(G(z)), "
                "which gives strong gradients while D still rejects the fakes."})
    latent_dim: int = field(default=2, metadata={
        "help": "Size of the noise z fed to G. With 2, the lines show G's image of a grid of z values."})
    hidden: int = field(default=64, metadata={"help": "Units in each of the two hidden layers of G and of D."})
    lr_g: float = field(default=1e-3, metadata={"help": "Learning rate (step size) of G's optimizer."})
    lr_d: float = field(default=1e-3, metadata={"help": "Learning rate (step size) of D's optimizer."})
    d_steps: int = field(default=1, metadata={
        "help": "Discriminator updates per generator update: more brings D closer to the optimal D."})
    batch_size: int = field(default=128, metadata={"help": "Real and fake points per update."})
    optimizer: str = field(default="adam", metadata={
        "help": "Adam rescales every gradient to a similar step size (the usual choice); plain SGD steps in "
                "proportion to the gradient, so tiny (saturated) gradients give tiny steps."})
    instance_noise: float = field(default=0.0, metadata={
        "help": "Std of Gaussian noise added to every point D sees (real and fake): it blurs both "
                "distributions so they overlap and D cannot become perfectly confident."})
    seed: int = field(default=0, metadata={"help": "Same seed, same initial weights and batches."})

    @classmethod
    def tiny(cls, **overrides) -> "ToyGANConfig":
        return cls(**{"hidden": 16, "batch_size": 32, **overrides})

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, not '{self.loss}'.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not '{self.optimizer}'.")
        if not 1 <= self.latent_dim <= 16:
            raise ValueError(f"latent_dim must be between 1 and 16, not {self.latent_dim}.")
        if self.d_steps < 1 or self.batch_size < 1 or self.hidden < 1:
            raise ValueError("d_steps, batch_size and hidden must be positive.")
        if self.lr_g <= 0 or self.lr_d <= 0 or self.instance_noise < 0:
            raise ValueError("Learning rates must be positive and instance noise non-negative.")


@contextmanager
def one_thread():
    """Run tiny-tensor work on one thread (usable as a context manager or a decorator).

    With several threads, every op of these small MLPs waits for the others, and on a busy machine a training
    step can be ten times slower. torch's thread count is per Python thread, so this does not slow down other
    sessions, and the previous count is restored.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def mlp(inputs: int, hidden: int, outputs: int, activation: type[nn.Module]) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden), activation(), nn.Linear(hidden, hidden), activation(),
                         nn.Linear(hidden, outputs))


def make_optimizer(name: str, parameters, lr: float) -> torch.optim.Optimizer:
    parameters = list(parameters)
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr)
    # betas as in DCGAN; fused: one kernel per update instead of several per tensor (these nets are overhead-bound)
    try:
        return torch.optim.Adam(parameters, lr=lr, betas=(0.5, 0.999), fused=True)
    except RuntimeError:  # torch before 2.4 has no fused Adam on the CPU
        return torch.optim.Adam(parameters, lr=lr, betas=(0.5, 0.999))


def _seeded_init(module: nn.Module, g: torch.Generator) -> None:
    """PyTorch's default Linear init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), but drawn from `g` (not global state)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            bound = 1 / math.sqrt(layer.in_features)
            with torch.no_grad():
                layer.weight.copy_((torch.rand(layer.weight.shape, generator=g) * 2 - 1) * bound)
                layer.bias.copy_((torch.rand(layer.bias.shape, generator=g) * 2 - 1) * bound)


@dataclass
class ModeCount:
    covered: int  # modes holding at least their minimum share of the points
    total: int  # modes in the mixture
    per_mode: list[int]  # points within reach of each mode
    near_fraction: float  # fraction of all points within reach of some mode ("high-quality" samples)


def count_modes(points: torch.Tensor, centres: torch.Tensor, std: float, within_std: float = 3.0,
                min_share: float = 0.25) -> ModeCount:
    """How many modes of a mixture hold generated points.

    A point belongs to its nearest centre when it lies within `within_std` standard deviations of it; a mode
    counts as covered when it holds at least `min_share` of its fair share (n / K) of the points.
    """
    distances = torch.cdist(points, centres)  # (n, K)
    nearest, which = distances.min(dim=1)  # (n,), (n,)
    near = nearest <= within_std * std  # (n,)
    per_mode = torch.bincount(which[near], minlength=len(centres))  # (K,)
    threshold = min_share * len(points) / len(centres)
    return ModeCount(covered=int((per_mode >= max(threshold, 1)).sum()), total=len(centres),
                     per_mode=per_mode.tolist(), near_fraction=float(near.float().mean()) if len(points) else 0.0)


def plane_grid(resolution: int, extent: float = PLANE) -> tuple[torch.Tensor, torch.Tensor]:
    """Cell centres of a resolution x resolution grid over [-extent, extent]^2.

    Returns the ticks (R,) and the points (R*R, 2), row by row (y outer, x inner), so values computed on the
    points reshape to an (R, R) image whose rows are y.
    """
    step = 2 * extent / resolution
    ticks = -extent + step * (torch.arange(resolution) + 0.5)  # (R,)
    ys, xs = torch.meshgrid(ticks, ticks, indexing="ij")  # (R, R) each
    return ticks, torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)  # (R,), (R*R, 2)


class ToyGAN:
    """Generator, discriminator, their optimizers, the data, and the training history of one run."""

    def __init__(self, data: ToyDataset, config: ToyGANConfig = ToyGANConfig(), display_points: int = 500):
        self.data, self.config = data, config
        c = config
        g = torch.Generator().manual_seed(c.seed)
        self.generator = mlp(c.latent_dim, c.hidden, 2, nn.ReLU)  # z (n, latent) -> x (n, 2)
        self.discriminator = mlp(2, c.hidden, 1, lambda: nn.LeakyReLU(0.2))  # x (n, 2) -> logit (n, 1)
        _seeded_init(self.generator, g)
        _seeded_init(self.discriminator, g)
        self.opt_g = make_optimizer(c.optimizer, self.generator.parameters(), c.lr_g)
        self.opt_d = make_optimizer(c.optimizer, self.discriminator.parameters(), c.lr_d)
        self.batches = torch.Generator().manual_seed(c.seed + 1)  # real batches, noise z, instance noise
        self.display_z = torch.randn(display_points, c.latent_dim, generator=g)  # fixed z: points move smoothly
        self.display_real = data.sample(display_points, c.seed + 2)  # (P, 2)
        # held-out points for the divergence estimate (their own generators: the runs above stay as they were)
        self.eval_real = data.sample(display_points, c.seed + 3)  # (P, 2)
        self.eval_z = torch.randn(display_points, c.latent_dim, generator=torch.Generator().manual_seed(c.seed + 4))
        self.step = 0  # training iterations so far (each: d_steps D updates and one G update, or one of them)
        self.history: list[dict] = []  # one entry per train() call: step, d_loss, g_loss, modes

    # -- losses ------------------------------------------------------------------------------------------
    def _noisy(self, x: torch.Tensor) -> torch.Tensor:
        if self.config.instance_noise <= 0:
            return x
        return x + self.config.instance_noise * torch.randn(x.shape, generator=self.batches)

    def noise(self, n: int) -> torch.Tensor:
        """n noise vectors z ~ N(0, I) from the run's own generator (n, latent): same seed, same batches."""
        return torch.randn(n, self.config.latent_dim, generator=self.batches)  # (n, latent)

    def d_step(self) -> float:
        """One discriminator update on a fresh batch of real points and fakes."""
        n = self.config.batch_size
        real = self.data.sample(n, self.batches)  # (n, 2)
        with torch.no_grad():
            fake = self.generator(self.noise(n))  # (n, 2); G is fixed during D's update
        return self.d_update(real, fake)

    def discriminator_loss(self, real: torch.Tensor, fake: torch.Tensor, noisy: bool = True) -> torch.Tensor:
        """-log D(x) - log(1 - D(G(z))) averaged over real (n, 2) and fake (m, 2) points: D minimises it."""
        logits = self.discriminator(self._noisy(torch.cat([real, fake])) if noisy else torch.cat([real, fake]))
        # (n + m, 1); -log D(x) = softplus(-logit), -log(1 - D(G(z))) = softplus(logit)
        return F.softplus(-logits[:len(real)]).mean() + F.softplus(logits[len(real):]).mean()

    def d_update(self, real: torch.Tensor, fake: torch.Tensor) -> float:
        """Maximise log D(x) + log(1 - D(G(z))) on real (n, 2) and fake (n, 2) points, i.e. minimise the BCE."""
        loss = self.discriminator_loss(real, fake)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return loss.item()

    def generator_loss(self, fake: torch.Tensor, noisy: bool = True) -> torch.Tensor:
        """Per-point G loss for fake points (n, 2) -> (n,), under the configured loss."""
        logits = self.discriminator(self._noisy(fake) if noisy else fake).squeeze(1)  # (n,)
        if self.config.loss == "minimax":
            return -F.softplus(logits)  # log(1 - D(G(z))), minimised by G
        return F.softplus(-logits)  # -log D(G(z)), minimised by G

    def g_step(self) -> float:
        """One generator update (D's weights get gradients too but are not stepped; d_step clears them)."""
        return self.g_update(self.noise(self.config.batch_size))

    def g_update(self, z: torch.Tensor) -> float:
        """One generator update from the noise z (n, latent)."""
        loss = self.generator_loss(self.generator(z)).mean()
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        return loss.item()

    @one_thread()
    def train(self, steps: int = 1, which: str = "both") -> dict:
        """Run `steps` iterations of "both" (d_steps D updates then one G update), "d" only or "g" only.

        Returns and records the mean losses of these steps (a loss not trained is measured without an update),
        the mean distance from fakes to the data and, for mixtures, the number of modes covered.
        """
        if which not in ("both", "d", "g"):
            raise ValueError(f"which must be 'both', 'd' or 'g', not '{which}'.")
        d_losses, g_losses = [], []
        for _ in range(steps):
            if which in ("both", "d"):
                for _ in range(self.config.d_steps if which == "both" else 1):
                    d_losses.append(self.d_step())
            if which in ("both", "g"):
                g_losses.append(self.g_step())
            self.step += 1
        current = self.current_losses()
        return self.record(sum(d_losses) / len(d_losses) if d_losses else current["d_loss"],
                           sum(g_losses) / len(g_losses) if g_losses else current["g_loss"])

    def record(self, d_loss: float, g_loss: float) -> dict:
        """Append the history entry for the current step (the losses given, the distance to the data, the
        divergence estimate and, for mixtures, the modes covered) and return it."""
        entry = {"step": self.step, "d_loss": d_loss, "g_loss": g_loss, "distance": self.distance_to_data(),
                 "jsd": self.jensen_shannon()}
        if self.data.is_mixture:
            entry["modes"] = self.modes().covered
        self.history.append(entry)
        return entry

    # -- what the page draws (no gradients, no training) --------------------------------------------------
    @one_thread()
    @torch.inference_mode()
    def current_losses(self) -> dict:
        real, fake = self.display_real, self.generator(self.display_z)  # (P, 2) each
        return {"d_loss": self.discriminator_loss(real, fake, noisy=False).item(),
                "g_loss": self.generator_loss(fake, noisy=False).mean().item()}

    @one_thread()
    @torch.inference_mode()
    def fake_points(self, n: int | None = None) -> torch.Tensor:
        """G's image of the fixed display noise, (P, 2)."""
        return self.generator(self.display_z[:n])

    @one_thread()
    @torch.inference_mode()
    def samples(self, n: int, seed: int) -> torch.Tensor:
        """n fresh generated points, (n, 2); the same seed gives the same points."""
        z = torch.randn(n, self.config.latent_dim, generator=torch.Generator().manual_seed(seed))
        return self.generator(z)

    @one_thread()
    @torch.inference_mode()
    def jensen_shannon(self) -> float:
        """JSD(p_data ‖ p_g) in bits, estimated from kernel densities (genlab/playground/divergence.py)."""
        return jensen_shannon_bits(self.display_real, self.fake_points(), self.eval_real,
                                   self.generator(self.eval_z))

    @one_thread()
    @torch.inference_mode()
    def optimal_discriminator_map(self, resolution: int = 48) -> tuple[torch.Tensor, torch.Tensor]:
        """D*(x) = p_data / (p_data + p_g) over the plane grid, from density estimates: ticks (R,), (R, R)."""
        ticks, points = plane_grid(resolution)
        probs = optimal_discriminator(self.display_real, self.fake_points(), points)  # (R*R,)
        return ticks, probs.reshape(resolution, resolution)

    @one_thread()
    @torch.inference_mode()
    def discriminator_map(self, resolution: int = 48) -> tuple[torch.Tensor, torch.Tensor]:
        """D(x) over a grid of the plane: ticks (R,) and probabilities (R, R), rows are y."""
        ticks, points = plane_grid(resolution)
        probs = torch.sigmoid(self.discriminator(points)).reshape(resolution, resolution)  # (R, R)
        return ticks, probs

    @one_thread()
    @torch.inference_mode()
    def manifold_lines(self, lines: int = 11, points_per_line: int = 40, reach: float = 2.5) -> torch.Tensor:
        """G's image of a grid in the first two latent dimensions (others 0): (2*lines, points_per_line, 2).

        The first `lines` curves hold z_2 fixed and sweep z_1, the others the opposite, over [-reach, reach].
        With a 1-D latent, G's whole image is a single curve: (1, points_per_line, 2).
        """
        if self.config.latent_dim == 1:
            return self.generator(torch.linspace(-reach, reach, points_per_line)[:, None])[None]  # (1, M, 2)
        ticks = torch.linspace(-reach, reach, lines)  # (L,)
        sweep = torch.linspace(-reach, reach, points_per_line)  # (M,)
        z = torch.zeros(2, lines, points_per_line, self.config.latent_dim)  # (2, L, M, latent)
        z[0, :, :, 0], z[0, :, :, 1] = sweep, ticks[:, None]
        z[1, :, :, 0], z[1, :, :, 1] = ticks[:, None], sweep
        return self.generator(z.reshape(-1, self.config.latent_dim)).reshape(2 * lines, points_per_line, 2)

    @one_thread()
    def fake_gradients(self, n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
        """Fake points (n, 2) and the direction G's loss pushes each one: minus its gradient (n, 2)."""
        fake = self.fake_points(n).clone().requires_grad_(True)  # (n, 2)
        loss = self.generator_loss(fake, noisy=False).sum()  # no instance noise: leaves the training RNG alone
        (gradient,) = torch.autograd.grad(loss, fake)  # (n, 2); D's weights get no .grad
        return fake.detach(), -gradient

    @one_thread()
    @torch.inference_mode()
    def modes(self, n: int | None = None) -> ModeCount:
        """Mode coverage of the display samples (only for mixture datasets)."""
        if not self.data.is_mixture:
            raise ValueError(f"{self.data.title} is not a mixture of Gaussians: it has no modes to count.")
        return count_modes(self.fake_points(n), self.data.centres, self.data.mode_std)

    @one_thread()
    @torch.inference_mode()
    def distance_to_data(self) -> float:
        """Mean distance from each displayed fake point to its nearest real point: how far G still is."""
        return torch.cdist(self.fake_points(), self.display_real).min(dim=1).values.mean().item()


def twin_config(config: ToyGANConfig, loss: str, optimizer: str = "sgd") -> ToyGANConfig:
    """The same settings and seed with another generator loss, for the side-by-side comparison.

    With "sgd" both networks use plain SGD at SGD_LR: a step is then proportional to the gradient, so the
    minimax loss's flat start shows. Adam divides each gradient by its running size, which hides most of it.
    """
    if optimizer == "sgd":
        return replace(config, loss=loss, optimizer="sgd", lr_g=SGD_LR, lr_d=SGD_LR)
    return replace(config, loss=loss, optimizer=optimizer)


# -- the explicit-density contrast: a Gaussian mixture fitted by maximum likelihood ---------------------------

def fit_gaussian_mixture(points: torch.Tensor, components: int, seed: int = 0):
    """Fit a K-component, full-covariance Gaussian mixture by EM (maximum likelihood); returns the sklearn model."""
    from sklearn.mixture import GaussianMixture  # imported here: only this contrast needs scikit-learn

    if not 1 <= components <= len(points):
        raise ValueError(f"A mixture needs between 1 and {len(points)} components, not {components}.")
    return GaussianMixture(n_components=components, covariance_type="full", random_state=seed,
                           reg_covar=1e-4).fit(points.double().numpy())


def mixture_density(mixture, resolution: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """The fitted mixture's density p(x) over the plane grid: ticks (R,) and densities (R, R), rows are y."""
    ticks, points = plane_grid(resolution)
    log_density = torch.from_numpy(mixture.score_samples(points.double().numpy()))  # (R*R,)
    return ticks, log_density.exp().float().reshape(resolution, resolution)


def mixture_log_likelihood(mixture, points: torch.Tensor) -> float:
    """Average log p(x) of `points` (n, 2) under the mixture, in nats per point."""
    return float(mixture.score(points.double().numpy()))
