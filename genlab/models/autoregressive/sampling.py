"""Drawing images from an autoregressive model pixel by pixel: a naive reference sampler and a fast one, image
completion, per-pixel log-likelihood maps and ranking by log-likelihood. Nothing here knows an architecture:
a model gives `config` (image_size, levels, num_classes), `device`, `quantize`, `check_label`, `logits`,
`logit_channels`, `pixel_log_probs`, `log_prob`, and optionally `fast_steps`.

An autoregressive model samples in raster order: pixel i is drawn from p(x_i | x_<i), written into the image,
and only then can pixel i+1 be drawn. The naive sampler runs the whole network once per pixel (784 passes for
a 28x28 image), although a new pixel changes only a few activations. The fast sampler reuses the rest through
the model's `fast_steps` (PixelCNN's are in pixelcnn_fast.py).

Both samplers take the same inputs and draw the same random numbers (one uniform per pixel, turned into a value
by the inverse CDF of the pixel's distribution), so with the same seed and weights they give the same images
up to float rounding. Completion: pixels marked as known are never changed (they are only quantized to the
model's grey levels); unknown pixels are drawn in raster order, each seeing the known pixels before it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import torch

from genlab.models.base import as_generator

# progress(pixels done, pixels to draw, images so far): the images tensor is live, clone it to keep a frame.
ProgressCallback = Callable[[int, int, torch.Tensor], None]


@dataclass
class SampleResult:
    images: torch.Tensor  # (N, 1, H, W) in [0, 1]; known pixels as given (quantized)
    labels: torch.Tensor | None  # (N,) the class of each image for a conditional model (num_classes: none)
    logits: torch.Tensor | None = None  # (N, K, H, W) logits of every drawn pixel (NaN elsewhere), on request


# ---------------------------------------------------------------------------------------------------------
# What both samplers share


@dataclass
class Setup:
    x: torch.Tensor  # (N, 1, H, W) quantized images, unknown pixels set to 0
    known: torch.Tensor  # (N, 1, H, W) bool
    label: torch.Tensor | None  # (N,)
    noise: torch.Tensor  # (N, H, W) one uniform number per pixel
    rows: list[tuple[int, list[int]]]  # (row, the columns to draw in it), raster order


def _setup(model, n: int | None, partial: torch.Tensor | None, known: torch.Tensor | None, label,
           generator, temperature: float) -> Setup:
    if not temperature > 0:
        raise ValueError(f"the temperature must be positive, not {temperature}")
    c = model.config
    device = model.device
    if partial is None:
        if not n or n < 1:
            raise ValueError("give a number of images to draw, or a partial image to complete")
        partial = torch.zeros(n, 1, c.image_size, c.image_size)
        known = torch.zeros(1, 1, c.image_size, c.image_size, dtype=torch.bool)
    partial = partial.float()
    partial = partial[None] if partial.ndim == 3 else partial  # (N, 1, H, W)
    if n and len(partial) == 1:
        partial = partial.expand(n, -1, -1, -1)
    if partial.shape[1:] != (1, c.image_size, c.image_size):
        shape = "x".join(map(str, partial.shape[1:]))
        raise ValueError(f"images must be 1x{c.image_size}x{c.image_size}, not {shape}")
    count = len(partial)
    if known is None:
        raise ValueError("completion needs a mask of the known pixels")
    known = torch.as_tensor(known, dtype=torch.bool)
    known = known[None, None] if known.ndim == 2 else known[:, None] if known.ndim == 3 else known
    known = known.expand(count, 1, c.image_size, c.image_size).to(device)  # (N, 1, H, W)
    x = model.quantize(partial.to(device)) * known  # (N, 1, H, W): unknown pixels start at 0
    g = as_generator(generator, "cpu")
    label = model.check_label(label, count)  # a conditional model with no label: the class "none", p(x)
    noise = torch.rand(count, c.image_size, c.image_size, generator=g).to(device)  # (N, H, W)
    todo = (~known).any(0)[0]  # (H, W): positions some image must draw
    rows = [(r, todo[r].nonzero()[:, 0].tolist()) for r in range(c.image_size) if todo[r].any()]
    return Setup(x.clone(), known, label, noise, rows)


def draw_pixel(logits: torch.Tensor, uniform: torch.Tensor, temperature: float, levels: int) -> torch.Tensor:
    """Turn one pixel's logits (N, K) and a uniform number per image (N,) into a pixel value in [0, 1] (N,):
    the inverse CDF of softmax(logits / temperature) (or of the Bernoulli when K == 1)."""
    if logits.shape[1] == 1:  # Bernoulli: white when u < p(white)
        return (uniform < torch.sigmoid(logits[:, 0] / temperature)).float()
    cdf = torch.softmax(logits / temperature, dim=1).cumsum(1)  # (N, K)
    index = (cdf < uniform[:, None]).sum(1).clamp(max=levels - 1)  # (N,) first level whose CDF reaches u
    return index.float() / (levels - 1)


def _write(s: Setup, row: int, col: int, value: torch.Tensor) -> torch.Tensor:
    """Put a drawn value (N,) at (row, col) where the pixel is unknown; return what is there now (N,)."""
    new = torch.where(s.known[:, 0, row, col], s.x[:, 0, row, col], value)
    s.x[:, 0, row, col] = new
    return new


def guided_logits(conditional: torch.Tensor, unconditional: torch.Tensor, guidance: float) -> torch.Tensor:
    """Classifier-free guidance (Ho & Salimans 2022) on one pixel's logits, (N, K) each:

        l = l_uncond + (1 + w) (l_cond - l_uncond),  i.e.  q(x_i) ∝ p(x_i | x_<i, y) [p(y | x_<=i) / p(y | x_<i)]^w

    (Bayes' rule turns the ratio p(x_i | x_<i, y) / p(x_i | x_<i) into the bracket). w = 0 is the model's own
    p(x_i | x_<i, y); w > 0 favours the values that make the class more believable, at the cost of variety:
    the images are then no longer samples of the model's likelihood."""
    return unconditional + (1 + guidance) * (conditional - unconditional)


def _run(model, n, partial, known, label, generator, temperature, progress, keep_logits, step_maker,
         guidance: float = 0.0) -> SampleResult:
    if guidance < 0:
        raise ValueError(f"the guidance weight must be 0 or more, not {guidance}")
    with torch.inference_mode():
        s = _setup(model, n, partial, known, label, generator, temperature)
        kept = torch.full((len(s.x), model.logit_channels) + s.x.shape[2:], float("nan"),
                          device=s.x.device) if keep_logits else None
        total, done = sum(len(cols) for _, cols in s.rows), 0
        steppers = [step_maker(model, s)]
        none = model.config.num_classes
        if guidance > 0 and s.label is not None and bool((s.label < none).any()):  # a pass with "none" beside it
            steppers.append(step_maker(model, replace(s, label=torch.full_like(s.label, none))))
        for row, cols in s.rows:
            for steps in zip(*(stepper(row, cols) for stepper in steppers)):  # ((col, logits (N, K)), ...)
                col, logits = steps[0]
                if len(steps) == 2:
                    logits = guided_logits(logits, steps[1][1], guidance)
                if kept is not None:
                    kept[:, :, row, col] = logits
                value = draw_pixel(logits, s.noise[:, row, col], temperature, model.config.levels)
                value = _write(s, row, col, value)
                for stepper in steppers:
                    stepper.pixel_set(row, col, value)
                done += 1
                if progress is not None:
                    progress(done, total, s.x)
        return SampleResult(images=s.x, labels=s.label, logits=kept)


# ---------------------------------------------------------------------------------------------------------
# The naive sampler: one full network pass per pixel


class NaiveSteps:
    def __init__(self, model, s: Setup):
        self.model, self.s = model, s

    def __call__(self, row: int, cols: list[int]):
        for col in cols:
            yield col, self.model.logits(self.s.x, self.s.label)[:, :, row, col]  # (N, K)

    def pixel_set(self, row, col, value):
        pass  # nothing is cached


def naive_sample(model, n: int | None = None, *, partial: torch.Tensor | None = None,
                 known: torch.Tensor | None = None, temperature: float = 1.0, label=None,
                 generator: int | torch.Generator | None = None, progress: ProgressCallback | None = None,
                 keep_logits: bool = False, guidance: float = 0.0) -> SampleResult:
    """The reference: draw every unknown pixel in raster order, running the whole network for each one.

    n: images to draw (or copies of `partial`); partial: (N or 1, 1, H, W) in [0, 1]; known: bool mask
    (H, W) or (N, 1, H, W) of the pixels to keep; label: a class (or one per image) for conditional models;
    generator: a seed or torch.Generator; guidance: the classifier-free guidance weight w (`guided_logits`),
    0 for the model's own conditionals."""
    return _run(model, n, partial, known, label, generator, temperature, progress, keep_logits, NaiveSteps,
                guidance)


# ---------------------------------------------------------------------------------------------------------
# The fast sampler: the model's own `fast_steps` (e.g. pixelcnn_fast.py), else the naive steps


def fast_sample(model, n: int | None = None, *, partial: torch.Tensor | None = None,
                known: torch.Tensor | None = None, temperature: float = 1.0, label=None,
                generator: int | torch.Generator | None = None, progress: ProgressCallback | None = None,
                keep_logits: bool = False, guidance: float = 0.0) -> SampleResult:
    """Same arguments and same results as `naive_sample`, reusing work between pixels where the model offers a
    way (`model.fast_steps(setup)`, e.g. cached activations); a model without one is sampled naively."""
    steps = type(model).fast_steps if hasattr(model, "fast_steps") else NaiveSteps
    return _run(model, n, partial, known, label, generator, temperature, progress, keep_logits, steps, guidance)


# ---------------------------------------------------------------------------------------------------------
# Completion and likelihoods of finished images

HIDE_REGIONS = ("bottom half", "right half", "rectangle")


def hide_mask(region: str, size: int, rows: tuple[int, int] = (0, 0), cols: tuple[int, int] = (0, 0)
              ) -> torch.Tensor:
    """The known pixels (size, size) bool after hiding a region: the bottom half, the right half, or the
    rectangle rows[0] <= r < rows[1], cols[0] <= c < cols[1]."""
    known = torch.ones(size, size, dtype=torch.bool)
    if region == "bottom half":
        known[size // 2:] = False
    elif region == "right half":
        known[:, size // 2:] = False
    elif region == "rectangle":
        known[rows[0]:rows[1], cols[0]:cols[1]] = False
    else:
        raise ValueError(f"unknown region '{region}': use one of {', '.join(HIDE_REGIONS)}")
    return known



def pixel_log_likelihoods(model, images: torch.Tensor, label=None) -> torch.Tensor:
    """log p(x_i | x_<i) of every pixel, (N, H, W) in nats (given the label, if one is given); its negative is
    the "surprise" map: how unexpected each pixel was given the pixels before it."""
    with torch.inference_mode():
        return model.pixel_log_probs(images.to(model.device), label)


def log_likelihoods(model, images: torch.Tensor, label=None) -> torch.Tensor:
    """log p(x) per image (N,), in nats (log p(x | y) when a label is given)."""
    with torch.inference_mode():
        return model.log_prob(images.to(model.device), label)


@dataclass
class Completions:
    images: torch.Tensor  # (n, 1, H, W), most likely first
    log_likelihoods: torch.Tensor  # (n,) log p(image) in nats (log p(image | label) when a label was given)
    labels: torch.Tensor | None  # (n,) the class used for each completion (conditional models)


def complete(model, image: torch.Tensor, known: torch.Tensor, n: int, *, temperature: float = 1.0,
             label=None, generator: int | torch.Generator | None = None,
             progress: ProgressCallback | None = None, guidance: float = 0.0) -> Completions:
    """n completions of one image (1, H, W) whose `known` pixels (H, W) are kept, ranked by log-likelihood."""
    result = fast_sample(model, n, partial=image, known=known, temperature=temperature, label=label,
                         generator=generator, progress=progress, guidance=guidance)
    scores = log_likelihoods(model, result.images, label)  # (n,)
    order = scores.argsort(descending=True)
    return Completions(images=result.images[order].cpu(), log_likelihoods=scores[order].cpu(),
                       labels=None if result.labels is None else result.labels[order].cpu())


# ---------------------------------------------------------------------------------------------------------
# Guessing the class of a partial image with the model's own likelihoods (class-conditional models)


def visible_prefix(known: torch.Tensor) -> torch.Tensor:
    """(H, W) bool: the known pixels that come before the first hidden one in raster order. Their likelihood
    p(prefix | y) is exact: the chain rule's first factors, which no hidden pixel enters."""
    flat = known.reshape(-1).bool()  # (D,)
    hidden = (~flat).nonzero()
    first_hidden = int(hidden[0]) if len(hidden) else len(flat)
    prefix = torch.zeros_like(flat)
    prefix[:first_hidden] = True
    return prefix.view(known.shape[-2:])


def class_posterior(model, partial: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Bayes' rule on the model's own likelihoods, with equal prior odds for the classes:

        p(y | visible prefix) = p(prefix | y) / sum_y' p(prefix | y')

    partial (N, 1, H, W) in [0, 1], known (H, W) bool -> (N, classes) probabilities."""
    prefix = visible_prefix(known).to(model.device)  # (H, W)
    x = model.quantize(partial.to(model.device).float())  # (N, 1, H, W)
    with torch.inference_mode():
        log_p = torch.stack([(model.pixel_log_probs(x, y) * prefix).sum((1, 2))  # (N,) log p(prefix | y)
                             for y in range(model.config.num_classes)], dim=1)  # (N, classes)
    return torch.softmax(log_p, dim=1)


def guess_labels(model, partial: torch.Tensor, known: torch.Tensor,
                 generator: int | torch.Generator | None = None, most_likely: bool = False) -> torch.Tensor:
    """One class per image (N,) from `class_posterior`: drawn from it (seeded), so that completing with it draws
    from p(hidden | visible) = sum_y p(y | visible) p(hidden | visible, y), the model's own completion; or, with
    most_likely, its most probable class (the model's best single guess of what the image shows)."""
    posterior = class_posterior(model, partial, known).cpu()  # (N, classes)
    if most_likely:
        return posterior.argmax(1)
    return torch.multinomial(posterior, 1, generator=as_generator(generator, "cpu"))[:, 0]  # (N,)
