"""2-D toy datasets for the GAN playground: points on a plane, where a whole distribution fits on one plot.

Each dataset is a sampler of (n, 2) points, deterministic under a seed (or a torch.Generator). The mixtures
(ring of 8 Gaussians, 5x5 grid, single Gaussian) also carry their mode centres and spread, so a page can count
how many modes a generator covers (mode collapse). Everything lives in the square [-PLANE, PLANE]^2.

The ring and the grid are the standard mode-collapse tests (Metz et al., "Unrolled Generative Adversarial
Networks", ICLR 2017; Srivastava et al., "VEEGAN", NeurIPS 2017), drawn here a little wider (std 0.05) so that
each mode is visible on a projector.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from genlab.models.base import as_generator

PLANE = 3.0  # every toy dataset lives in [-PLANE, PLANE]^2; plots and the drawing grid use the same square


@dataclass(frozen=True, eq=False)
class ToyDataset:
    name: str
    title: str
    description: str  # one sentence for the page
    sampler: Callable[[int, torch.Generator], torch.Tensor]  # (n, generator) -> (n, 2)
    centres: torch.Tensor | None = None  # (K, 2) mode centres, for the mixtures
    mode_std: float | None = None  # standard deviation of each mode, for the mixtures

    def sample(self, n: int, seed: int | torch.Generator = 0) -> torch.Tensor:
        """n points, (n, 2) float32; the same seed (or generator state) gives the same points."""
        return self.sampler(n, as_generator(seed))

    @property
    def is_mixture(self) -> bool:
        return self.centres is not None


def gaussian_mixture_sampler(centres: torch.Tensor, std: float) -> Callable[[int, torch.Generator], torch.Tensor]:
    """Equal-weight mixture of isotropic Gaussians with the given centres (K, 2)."""
    def sample(n: int, g: torch.Generator) -> torch.Tensor:
        which = torch.randint(0, len(centres), (n,), generator=g)  # (n,) mode of each point
        return centres[which] + std * torch.randn(n, 2, generator=g)  # (n, 2)
    return sample


def ring_of_gaussians(modes: int = 8, radius: float = 2.0, std: float = 0.05) -> ToyDataset:
    angles = torch.arange(modes) * (2 * math.pi / modes)  # (K,)
    centres = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)  # (K, 2)
    return ToyDataset("ring", f"Ring of {modes} Gaussians",
                      f"{modes} small Gaussians on a circle: the classic test of mode collapse.",
                      gaussian_mixture_sampler(centres, std), centres, std)


def grid_of_gaussians(side: int = 5, spacing: float = 1.0, std: float = 0.05) -> ToyDataset:
    ticks = (torch.arange(side) - (side - 1) / 2) * spacing  # (side,)
    centres = torch.cartesian_prod(ticks, ticks)  # (side*side, 2)
    return ToyDataset("grid", f"{side}x{side} grid of Gaussians",
                      f"{side * side} small Gaussians on a grid: many modes, hard to cover them all.",
                      gaussian_mixture_sampler(centres, std), centres, std)


def single_gaussian(mean: tuple[float, float] = (1.5, 1.5), std: float = 0.3) -> ToyDataset:
    centres = torch.tensor([mean])  # (1, 2)
    return ToyDataset("gaussian", "Single Gaussian",
                      "One Gaussian away from the origin: the easiest target, the generator only has to move.",
                      gaussian_mixture_sampler(centres, std), centres, std)


def _moons(n: int, g: torch.Generator, noise: float = 0.05) -> torch.Tensor:
    """Two interleaved half circles (as scikit-learn's make_moons), centred and scaled to span about [-2, 2]."""
    t = math.pi * torch.rand(n, generator=g)  # (n,) position along the half circle
    upper = torch.rand(n, generator=g) < 0.5  # (n,) which moon
    x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
    y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
    points = torch.stack([x - 0.5, y - 0.25], dim=1) * 1.6  # (n, 2)
    return points + noise * torch.randn(n, 2, generator=g)


def _spiral(n: int, g: torch.Generator, noise: float = 0.05) -> torch.Tensor:
    """A two-turn spiral (radius grows with the angle), scaled to a radius of about 2.5."""
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=g))  # (n,) angle from 1.5 pi to 4.5 pi
    points = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) * (2.5 / (4.5 * math.pi))  # (n, 2)
    return points + noise * torch.randn(n, 2, generator=g)


def two_moons() -> ToyDataset:
    return ToyDataset("moons", "Two moons", "Two interleaved half circles: curved, thin structures.", _moons)


def spiral() -> ToyDataset:
    return ToyDataset("spiral", "Spiral", "A spiral arm: one long, curled curve the generator must unroll.",
                      _spiral)


def drawn_points(points: Sequence[Sequence[float]], std: float = 0.1) -> ToyDataset:
    """"Draw your own": the clicked points, each blurred into a small Gaussian (an equal-weight mixture)."""
    centres = torch.as_tensor(points, dtype=torch.float32).reshape(-1, 2)  # (K, 2)
    if len(centres) == 0:
        raise ValueError("Draw at least one point on the plane first.")
    if not torch.isfinite(centres).all() or centres.abs().max() > PLANE:
        raise ValueError(f"Drawn points must lie inside the square [-{PLANE:g}, {PLANE:g}] on both axes.")
    return ToyDataset("drawn", "Draw your own", "The points you clicked, each blurred into a small Gaussian.",
                      gaussian_mixture_sampler(centres, std))


# name -> builder, in the order the page offers them ("drawn" needs points: see drawn_points)
TOY_DATASETS: dict[str, Callable[[], ToyDataset]] = {
    "ring": ring_of_gaussians,
    "grid": grid_of_gaussians,
    "moons": two_moons,
    "spiral": spiral,
    "gaussian": single_gaussian,
}


def toy_dataset(name: str, points: Sequence[Sequence[float]] | None = None) -> ToyDataset:
    """A toy dataset by name; "drawn" builds one from the clicked points."""
    if name == "drawn":
        return drawn_points(points or [])
    if name not in TOY_DATASETS:
        raise ValueError(f"Unknown 2-D dataset '{name}'. Known: {', '.join([*TOY_DATASETS, 'drawn'])}.")
    return TOY_DATASETS[name]()
