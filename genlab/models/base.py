"""The protocol every genlab model implements, in one place, and the helpers that only need that protocol.

Every model:

    model = kind.build(config)                        # config: a @dataclass with a tiny() preset for tests
    optimizers = model.make_optimizers(lr)            # dict name -> optimiser; lr None: the model's default_lr
    losses = model.train_step(x, y, optimizers)       # one step; returns {name: float}, the loss first
    images = model.sample(n, seed)                    # (n, C, H, W) in [0, 1]; same seed, same images

A model writes its `loss(x, y)`; `Model.train_step` does zero_grad, backward, (clipping) and step. A model with
several players (a GAN) overrides `train_step` and `make_optimizers`.

Optional, declared by the kind's capabilities (genlab/models/__init__.py):

    totals = model.evaluate(x, y, generator)          # sums over the batch of test metrics (a likelihood: nats)
    mu, logvar = model.encode(x); images = model.decode(z)          # LATENT; model.latent_dim
    z = model.random_latents(n, seed); images = model.decode(z)     # GENERATOR; model.latent_dim
    model.logits(x, label); model.pixel_log_probs(x, label)         # AUTOREGRESSIVE (see autoregressive/)
    model.importance_weighted_bound(x, k, generator)                # a tighter bound than the ELBO (IWAE)
    model.sample(n, seed, steps=S, label=y, guidance=s)             # ITERATIVE: a step count, a class, a guidance scale
    model.trajectory(n, seed, steps=S); model.forward_process(x, t, noise)   # ITERATIVE: every step; noising an image
    model.describe()                                                # one sentence about this checkpoint
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from genlab.data import ImageDataset


class Model(nn.Module):
    """Base class of genlab's models: the shared optimiser set-up and the default training step."""

    default_lr: float = 1e-3  # Adam's step size unless the user gives another
    default_batch_size: int = 128  # images per step unless the user gives another
    clip_grad_norm: float | None = None  # clip the gradient's norm to this before each step (None: never)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """The scalar to minimise for a batch (x (B, C, H, W) in [0, 1], labels y (B,)), and what to report."""
        raise NotImplementedError(f"{type(self).__name__} must define loss() or train_step()")

    def make_optimizers(self, lr: float | None = None) -> dict[str, torch.optim.Optimizer]:
        return {"model": torch.optim.Adam(self.parameters(), lr=lr or self.default_lr)}

    def train_step(self, x: torch.Tensor, y: torch.Tensor, optimizers: dict) -> dict[str, float]:
        loss, report = self.loss(x, y)
        optimizers["model"].zero_grad(set_to_none=True)
        loss.backward()
        if self.clip_grad_norm:
            nn.utils.clip_grad_norm_(self.parameters(), self.clip_grad_norm)
        optimizers["model"].step()
        return report

    def adds_without_effect(self, names: set[str]) -> bool:
        """Whether these weights (names in state_dict), missing from a checkpoint being resumed, are ones this
        model adds without changing what it computes until they are trained; then a trained model may grow them."""
        return False

    def describe(self) -> str:
        """One sentence about this checkpoint's settings, shown beside it on the pages."""
        return ""


def as_generator(seed_or_generator: int | torch.Generator | None, device: torch.device | str = "cpu"
                 ) -> torch.Generator:
    """Samplers take a seed or a torch.Generator; this turns either into a Generator on `device`."""
    if isinstance(seed_or_generator, torch.Generator):
        return seed_or_generator
    g = torch.Generator(device=device)
    g.manual_seed(0 if seed_or_generator is None else int(seed_or_generator))
    return g


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def set_learning_rate(optimizers: dict[str, torch.optim.Optimizer], lr: float) -> None:
    """Give every parameter group of every optimiser the step size lr (after restoring a saved state)."""
    for optimizer in optimizers.values():
        for group in optimizer.param_groups:
            group["lr"] = lr


def learning_rate(optimizers: dict[str, torch.optim.Optimizer]) -> float:
    """The step size in use (the first optimiser's first group: genlab's models use one rate)."""
    return next(iter(optimizers.values())).param_groups[0]["lr"]


@torch.inference_mode()
def encode_codes(model: nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """The codes of a LATENT model for images (N, C, H, W): encoder means for a VAE, the code itself for an
    autoencoder; (N, latent) float32 on the CPU."""
    device = next(model.parameters()).device
    return torch.cat([model.encode(x.to(device))[0].float().cpu() for x in images.split(batch_size)])


# -- likelihoods -----------------------------------------------------------------------------------------

def nats_to_bits_per_dim(nats_per_image: float, dims: int) -> float:
    """-log p(x) in nats per image -> bits per dimension: divide by the pixel count and by ln 2."""
    return nats_per_image / (dims * math.log(2))


def with_bits_per_dim(metrics: dict[str, float], dims: int, likelihood_metric: str | None) -> dict[str, float]:
    """Add `<metric>_bits_per_dim` beside the kind's likelihood metric (nats per image), if it is there."""
    if likelihood_metric is None or likelihood_metric not in metrics:
        return dict(metrics)
    return {**metrics, f"{likelihood_metric}_bits_per_dim": nats_to_bits_per_dim(metrics[likelihood_metric], dims)}


@torch.inference_mode()
def evaluate_model(model: nn.Module, dataset: ImageDataset, device: torch.device | str = "cpu",
                   batch_size: int = 500, seed: int = 0, part: range | None = None,
                   add_parts: Callable[[dict[str, float]], dict[str, float]] | None = None) -> dict[str, float]:
    """Average the model's `evaluate` sums over a dataset: metrics per image (e.g. negative ELBO in nats).
    {} for a model without `evaluate` (an implicit model such as a GAN has no likelihood).
    Several processes share the work by each summing its `part` (a range of indices) and `add_parts` adding
    every process's sums (genlab.training.distributed)."""
    if not hasattr(model, "evaluate"):
        return {}
    model.eval().to(device)
    part = range(len(dataset)) if part is None else part
    g = torch.Generator(device=device).manual_seed(seed)  # fixed noise: the same figure every run
    totals: dict[str, float] = {}
    for start in range(part.start, part.stop, batch_size):
        stop = min(start + batch_size, part.stop)
        x = dataset.images[start:stop].to(device)  # (B, C, H, W)
        y = dataset.labels[start:stop].to(device)  # (B,)
        for key, value in model.evaluate(x, y, generator=g).items():
            totals[key] = totals.get(key, 0.0) + value
    totals = add_parts(totals) if add_parts else totals
    return {key: value / len(dataset) for key, value in totals.items()}
