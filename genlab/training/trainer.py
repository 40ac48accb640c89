"""A model-agnostic trainer: it loops over batches, calls the model's own `train_step`, and reports through
callbacks. Nothing here knows what a VAE or a GAN is.

Callers watch training through events (a terminal progress bar in the CLI, a background job for the live
page) and stop it with a threading.Event checked between steps. A NaN or infinite loss stops training with a
clear message and puts back the last weights that gave a finite loss.

Under torchrun (a `World` of several processes, genlab/training/distributed.py) each process trains on its share
of every epoch, gradients are averaged before each optimiser step, and the processes agree after every step on
whether to stop and on the losses they report (the mean over the processes).
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from genlab.data import ImageDataset
from genlab.training import distributed
from genlab.training.distributed import SINGLE, World


class NonFiniteLoss(RuntimeError):
    """Training produced a NaN or infinite loss; the model holds the last good weights again."""


@dataclass
class TrainSettings:
    """How long and how to train. Of epochs, max_seconds and max_steps, whichever is reached first stops it."""
    epochs: float | None = 1.0  # passes over the training set (fractions allowed)
    max_seconds: float | None = None  # wall time
    max_steps: int | None = None  # optimisation steps in this run
    batch_size: int = 128
    lr: float | None = None  # None: the model's own default
    seed: int = 0  # the shuffling order

    def __post_init__(self):
        if self.epochs is None and self.max_seconds is None and self.max_steps is None:
            raise ValueError("give a number of epochs, a time limit or a step count")
        if self.batch_size < 1 or (self.lr is not None and self.lr <= 0):
            raise ValueError("batch size and learning rate must be positive")
        if any(v is not None and v <= 0 for v in (self.epochs, self.max_seconds, self.max_steps)):
            raise ValueError("epochs, minutes and steps must be positive")


@dataclass
class TrainEvent:
    """What a callback receives. `kind` is "step" or "end"."""
    kind: str
    step: int  # optimisation steps done so far (including any before a resume)
    epoch: float  # passes over the data so far in this run
    progress: float  # 0..1 of this run
    losses: dict[str, float]
    images_per_s: float
    elapsed_s: float
    eta_s: float | None


@dataclass
class TrainResult:
    steps: int
    epochs: float
    wall_time_s: float
    stopped_early: bool  # the stop flag was set
    history: list[dict[str, float]] = field(default_factory=list)  # losses per step


class Trainer:
    def __init__(self, model: torch.nn.Module, dataset: ImageDataset, settings: TrainSettings,
                 device: torch.device | str = "cpu", optimizers: dict | None = None,
                 callbacks: list[Callable[[TrainEvent], None]] | None = None,
                 stop: threading.Event | None = None, start_step: int = 0, world: World = SINGLE):
        self.model = model.to(device)
        self.dataset = dataset
        self.settings = settings
        self.device = torch.device(device)
        self.optimizers = optimizers or (
            model.make_optimizers(settings.lr) if settings.lr else model.make_optimizers())
        self.callbacks = callbacks or []
        self.stop = stop or threading.Event()
        self.step = start_step
        self.world = world
        n_here = math.ceil(len(dataset) / world.size)  # this process's share of an epoch
        self.steps_per_epoch = math.ceil(n_here / settings.batch_size)
        # A copy of the weights after the last finite step, put back if a step goes NaN.
        self._live = list(model.state_dict().values())  # views of the live weights and buffers
        self._good = [t.detach().clone() for t in self._live]

    def _emit(self, event: TrainEvent) -> None:
        for callback in self.callbacks:
            callback(event)

    def _remember_good_weights(self) -> None:
        for saved, current in zip(self._good, self._live):
            saved.copy_(current)

    def _restore_good_weights(self) -> None:
        for saved, current in zip(self._good, self._live):
            current.copy_(saved)

    def run(self) -> TrainResult:
        s = self.settings
        n = len(self.dataset)
        steps_per_epoch = self.steps_per_epoch
        budgets = [math.ceil(s.epochs * steps_per_epoch) if s.epochs is not None else None, s.max_steps]
        total = min((b for b in budgets if b is not None), default=None)  # steps in this run, if bounded
        g = torch.Generator().manual_seed(s.seed)
        images, labels = self.dataset.images, self.dataset.labels
        history: list[dict[str, float]] = []
        start = time.perf_counter()
        done = seen = epoch = 0
        self.model.train()
        hooks = self._join_world()
        try:
            while True:
                order = self._epoch_order(n, g, epoch)  # (n / processes,) a fresh shuffle per epoch
                epoch += 1
                for idx in order.split(s.batch_size):
                    elapsed = time.perf_counter() - start
                    stop = self.stop.is_set() or (total is not None and done >= total) or (
                        s.max_seconds is not None and elapsed >= s.max_seconds)
                    if self.world.distributed:
                        stop, _ = distributed.agree(stop, {}, self.device)
                    if stop:
                        return self._finish(history, done, steps_per_epoch, start)
                    losses = self._step(images[idx], labels[idx])
                    done += 1
                    seen += len(idx) * self.world.size  # every process's images
                    history.append(losses)
                    elapsed = time.perf_counter() - start
                    progress = self._progress(done, total, elapsed)
                    eta = elapsed / progress * (1 - progress) if progress > 0 else None
                    self._emit(TrainEvent("step", self.step, done / steps_per_epoch, progress, losses,
                                          seen / max(elapsed, 1e-9), elapsed, eta))
        finally:
            for hook in hooks:
                hook.remove()
            if self.world.distributed:
                distributed.share_buffers(self.model)

    def _join_world(self) -> list:
        """Under torchrun: rank 0's weights everywhere, and gradient averaging hooks (their handles)."""
        if not self.world.distributed:
            return []
        distributed.same_start(self.model)
        return distributed.average_gradients(self.model, self.world)

    def _epoch_order(self, n: int, g: torch.Generator, epoch: int) -> torch.Tensor:
        if self.world.distributed:  # DistributedSampler: this process's share of the epoch's shuffle
            return distributed.epoch_order(n, self.settings.seed, epoch, self.world)
        return torch.randperm(n, generator=g)  # (n,)

    def _step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """One optimisation step on a batch; a NaN or infinite loss puts back the last good weights and raises."""
        x = images.to(self.device, non_blocking=True)  # (B, C, H, W)
        y = labels.to(self.device, non_blocking=True)  # (B,)
        losses = self.model.train_step(x, y, self.optimizers)
        if self.world.distributed:  # the mean over the processes: NaN on any process is NaN here
            _, losses = distributed.agree(False, losses, self.device)
        if not all(math.isfinite(v) for v in losses.values()):
            self._restore_good_weights()
            bad = ", ".join(f"{k}={v}" for k, v in losses.items() if not math.isfinite(v))
            raise NonFiniteLoss(f"Training stopped at step {self.step + 1}: the loss became {bad}. The weights from "
                                "the last finite step were kept; try a lower learning rate.")
        self._remember_good_weights()
        self.step += 1
        return losses

    def _progress(self, done: int, total: int | None, elapsed: float) -> float:
        parts = []
        if total:
            parts.append(done / total)
        if self.settings.max_seconds:
            parts.append(elapsed / self.settings.max_seconds)
        return min(1.0, max(parts)) if parts else 0.0

    def _finish(self, history, done, steps_per_epoch, start) -> TrainResult:
        self.model.eval()
        elapsed = time.perf_counter() - start
        result = TrainResult(steps=self.step, epochs=done / steps_per_epoch, wall_time_s=elapsed,
                             stopped_early=self.stop.is_set(), history=history)
        last = history[-1] if history else {}
        self._emit(TrainEvent("end", self.step, result.epochs, 1.0, last, 0.0, elapsed, 0.0))
        return result
