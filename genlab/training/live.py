"""What a training job shows while it trains: the sample grid (a translator's: translations and their round trips),
the latent map of a 2-D code and the held-out metrics, drawn in a thread of their own from a copy of the weights.

Drawn in the training thread, these frames cost it 4 to 7% of its time on a CPU (a 64-image grid every 1.2 s,
256 held-out test images every 10 s), time the headless command line does not spend. Here the training thread
only copies the weights into a shadow model between two steps (well under a millisecond for the default VAE)
and goes on; the drawing runs beside it. On a 2-core machine that is the core genlab.training.jobs.training_threads
leaves free; on more cores the drawing's torch operations use as many threads as training does, for the few
milliseconds a frame takes. On a GPU the frames are drawn in the training thread, between steps, as before:
the GPU's work queue runs one thing at a time anyway, and two Python threads using Apple's MPS backend at once
can crash the process (pytorch/pytorch#197805).

    extras = LiveExtras(model, test_set, device, publish)   # publish(frame) is called with each new Frame
                                                            # (grid_count=16: a smaller grid for a slow sampler)
    extras.draw_now(step)       # the first frame, before training (in the caller's thread)
    extras.offer(step)          # between steps: starts a new frame when one is due and the last is done
    extras.draw_now(step)       # the last frame, after training
    extras.close()
"""
from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from genlab.data import ImageDataset
from genlab.images import grid, png_bytes

FRAME_EVERY_S = 1.2  # a new sample grid (and latent map) this often: more often than the Train page refreshes
# (every 1.5 s), so every refresh finds a new grid...
BUDGET = 0.05  # ...or less often when drawing takes more than 5% of the time (a PixelCNN samples pixel by pixel)
HELD_OUT_EVERY_S = 10.0  # held-out metrics (~0.1 s on a CPU): a slow curve needs few points
GRID_COUNT, GRID_SEED = 64, 0  # the same noise vectors every frame (64 unless the kind asks for fewer)
TRANSLATION_COLUMNS = 8  # test images in a translator's live grid (one more per domain where they do not divide)
LATENT_POINTS = 300  # test images whose latent means are shown for a model with a 2-D code
HELD_OUT_IMAGES = 256  # test images for the held-out metrics


@dataclass(frozen=True)
class LatentMap:
    """Latent means of a fixed batch of test images, for models with a 2-D code."""
    points: np.ndarray  # (N, 2) float32
    labels: np.ndarray  # (N,) int
    class_names: list[str]
    step: int
    prior: np.ndarray | None = None  # (N, 2) samples of the model's prior, where it has one: where the codes go


@dataclass(frozen=True)
class Frame:
    """One drawing of the model at a training step."""
    step: int
    grid_png: bytes | None  # None: the model cannot sample
    latent: LatentMap | None  # None: the model has no 2-D code
    held_out: dict[str, float] = field(default_factory=dict)  # per image; empty when not measured this time


class LiveExtras:
    """Draws frames of a training model in a thread of its own (on a CPU) or between steps (on a GPU). The
    training thread calls offer() between steps; a drawing error is raised there, at the next offer or
    draw_now."""

    def __init__(self, model: torch.nn.Module, test_set: ImageDataset, device: torch.device,
                 publish: Callable[[Frame], None], grid_count: int = GRID_COUNT):
        self.test_set, self.device, self.publish = test_set, device, publish
        self.grid_count = grid_count
        self.shadow = copy.deepcopy(model).eval()  # drawn from; the live model keeps training meanwhile
        self._live = list(model.state_dict().values())  # views of the live weights and buffers
        self._copy = list(self.shadow.state_dict().values())
        self.step = 0  # the training step the shadow's weights come from
        self.next_frame = self.next_held_out = 0.0  # time.perf_counter() when the next one is due
        self.costs: list[float] = []  # the last few frame costs, in seconds
        self._inputs: list[tuple[torch.Tensor, int, int]] | None = None  # a translator's test images, once picked
        self.error: BaseException | None = None
        self._idle = threading.Event()  # no frame in progress: the shadow may be overwritten
        self._idle.set()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        if device.type == "cpu":  # started from the training thread, it inherits its lower priority (genlab.training.jobs)
            self._thread = threading.Thread(target=self._loop, daemon=True,
                                            name=f"{threading.current_thread().name}-extras")
            self._thread.start()

    # -- called by the training thread ---------------------------------------------------------------------
    def offer(self, step: int) -> None:
        """Between two steps: if a frame is due and the last one is finished, copy the weights and start it."""
        self._raise_error()
        if time.perf_counter() < self.next_frame or not self._idle.is_set():
            return
        if self._thread is None:  # on a GPU: draw here, between steps
            self.draw_now(step)
            return
        self._take_weights(step)
        self._idle.clear()
        self._wake.set()

    def draw_now(self, step: int) -> None:
        """Draw a frame of the current weights in this thread (after any frame in progress)."""
        self._idle.wait()
        self._raise_error()
        self._take_weights(step)
        self._draw()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def _take_weights(self, step: int) -> None:
        with torch.no_grad():
            for mine, live in zip(self._copy, self._live):
                mine.copy_(live)
        self.step = step

    def _raise_error(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    # -- the drawing thread (and draw_now) -----------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._closed:
                return
            try:
                self._draw()
            except BaseException as e:  # handed to the training thread, which fails the job with it
                self.error = e
            finally:
                self._idle.set()

    def _draw(self) -> None:
        started = time.perf_counter()
        with torch.inference_mode():
            grid_png, latent = self._grid_png(), self._latent_map()
            cost = time.perf_counter() - started
            held_out = self._held_out_metrics() if started >= self.next_held_out else {}
            held_out_cost = time.perf_counter() - started - cost
        self.publish(Frame(self.step, grid_png, latent, held_out))
        if held_out:
            self.next_held_out = started + max(HELD_OUT_EVERY_S, held_out_cost / BUDGET)
        self.costs = (self.costs + [cost])[-5:]
        typical = sorted(self.costs)[len(self.costs) // 2]  # the median: robust to one slow frame
        self.next_frame = started + max(FRAME_EVERY_S, typical / BUDGET)

    def _grid_png(self) -> bytes | None:
        if hasattr(self.shadow, "translate"):  # a translator draws from images, not from nothing
            return self._translations_png()
        try:
            samples = self.shadow.sample(self.grid_count, GRID_SEED)  # (n, C, H, W) in [0, 1]
        except NotImplementedError:
            return None
        return png_bytes(grid(samples.float().cpu(), nrow=8, scale=2))

    def _translation_inputs(self) -> list[tuple[torch.Tensor, int, int]]:
        """(test images, their domain, the next domain) for each of the model's domains with test images: picked
        once, so every frame translates the same images."""
        if self._inputs is None:
            domains = list(self.shadow.domains)
            per = -(-TRANSLATION_COLUMNS // len(domains))  # images per source domain, rounded up
            picked = [(self.test_set.images[self.test_set.labels == source][:per].to(self.device),  # (n, C, H, W)
                       source, domains[(i + 1) % len(domains)])  # for two domains: the other one
                      for i, source in enumerate(domains)]
            self._inputs = [item for item in picked if len(item[0])]
        return self._inputs

    def _translations_png(self) -> bytes | None:
        """Three rows: the same test images every frame (their domains in turn), each translated into the next
        domain, and translated back: the round trip the cycle (or reconstruction) loss asks to return to row one.
        None when the test split holds no image of the model's domains."""
        rows: list[list[torch.Tensor]] = [[], [], []]  # inputs, translations, round trips
        for x, source, target in self._translation_inputs():
            there = self.shadow.translate(x, target)  # (n, C, H, W) in [0, 1]
            for row, images in zip(rows, (x, there, self.shadow.translate(there, source))):
                row.append(images.float().cpu())
        if not rows[0]:
            return None
        columns = sum(len(images) for images in rows[0])
        return png_bytes(grid(torch.cat([torch.cat(row) for row in rows]), nrow=columns, scale=2))

    def _latent_map(self) -> LatentMap | None:
        encode = getattr(self.shadow, "encode", None)
        if encode is None or getattr(self.shadow.config, "latent_dim", None) != 2:
            return None
        x = self.test_set.images[:LATENT_POINTS].to(self.device)  # (N, C, H, W)
        out = encode(x)
        means = out[0] if isinstance(out, tuple) else out  # (N, 2)
        prior_sample = getattr(self.shadow, "prior_sample", None)
        prior = prior_sample(len(means), torch.Generator().manual_seed(0))[0] if prior_sample else None  # (N, 2)
        return LatentMap(points=means.float().cpu().numpy(), labels=self.test_set.labels[:LATENT_POINTS].numpy(),
                         class_names=list(self.test_set.class_names), step=self.step,
                         prior=None if prior is None else prior.float().numpy())

    def _held_out_metrics(self) -> dict[str, float]:
        """The model's own metrics (e.g. negative ELBO in nats) per image of a fixed test batch."""
        if not hasattr(self.shadow, "evaluate"):
            return {}
        x = self.test_set.images[:HELD_OUT_IMAGES].to(self.device)  # (N, C, H, W)
        y = self.test_set.labels[:HELD_OUT_IMAGES].to(self.device)  # (N,)
        g = torch.Generator(device=self.device).manual_seed(0)  # the same noise every time
        return {k: v / len(x) for k, v in self.shadow.evaluate(x, y, generator=g).items()}
