"""Latent vector arithmetic on a GAN, as in the DCGAN paper's "smiling woman - neutral woman + neutral man".

A seeded gallery of generated images gives every image a latent vector z. The user groups gallery images into
A, B and C; averaging the z of a group keeps what its images share (say, "has sleeves") and cancels the rest,
and mean(A) - mean(B) + mean(C) is decoded into the answer. A few variations add small uniform noise (+-0.25,
as in the paper's figure) to show that the neighbourhood of the answer decodes to similar images.

An equation is stored as the gallery seed, the latent size, the chosen indices and a name: with the same
model, the seed regenerates exactly the same gallery, so the JSON file replays the same result later.
This module is the page's backend: it never imports streamlit.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import torch

from genlab.explore.latent import interpolate, vector_arithmetic

GALLERY_SIZE = 24  # images per gallery; an equation's indices point into it
MAX_SEED = 2**31 - 1
VARIATION_SCALE = 0.25  # uniform noise in [-0.25, 0.25] per latent dimension, as in the DCGAN paper
MAX_EQUATION_BYTES = 100_000
GROUP_NAMES = ("A", "B", "C")


class EquationError(ValueError):
    """An equation that cannot be used; the message is one sentence for the page."""


# -- galleries and decoding -------------------------------------------------------------------------------
@torch.inference_mode()
def decode(model: torch.nn.Module, z: torch.Tensor, label: int | None = None) -> torch.Tensor:
    """Latent vectors (N, latent) -> images (N, C, H, W) in [0, 1] on the CPU; label: the class every image is
    drawn for (a class-conditional generator), else None. The model must be in eval mode (batch norm with running
    statistics), so each image depends only on its own z."""
    images = model.decode(z) if label is None else model.decode(z, label)
    return images.float().cpu()


def make_gallery(model: torch.nn.Module, seed: int, n: int = GALLERY_SIZE, label: int | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """The gallery for `seed`: latents (n, latent) and their images (n, C, H, W)."""
    z = model.random_latents(n, seed)  # the model's own prior, exactly as model.sample(n, seed) draws it
    return z, decode(model, z, label)


def typical_length(model: torch.nn.Module, n: int = 1000) -> float:
    """The median length of the model's own latent vectors: √d for z ~ N(0, I) in d dimensions, about that for
    InfoGAN's [noise, one-hot, uniform codes]."""
    return model.random_latents(n, 0).norm(dim=1).median().item()


def class_swap(model: torch.nn.Module, z: torch.Tensor, classes: int) -> torch.Tensor:
    """Every z (n, latent) drawn as every class: (classes * n, C, H, W), a row per class. With a conditional G the
    class changes along a column and what z holds (the style: slant, width, thickness) stays."""
    rows = [decode(model, z, k) for k in range(classes)]  # classes x (n, C, H, W)
    return torch.cat(rows)


# -- the equation ----------------------------------------------------------------------------------------
@dataclass
class EquationResult:
    group_means: torch.Tensor  # (3, latent): mean z of A, B and C
    result: torch.Tensor  # (latent,): mean(A) - mean(B) + mean(C)
    variations: torch.Tensor  # (k, latent): the result plus small uniform noise


def check_groups(groups: dict[str, list[int]] | list[list[int]], n: int = GALLERY_SIZE) -> list[list[int]]:
    """Three lists of gallery indices (A, B, C), each non-empty and in range, or EquationError."""
    lists = [groups[name] for name in GROUP_NAMES] if isinstance(groups, dict) else list(groups)
    if len(lists) != 3:
        raise EquationError("An equation needs exactly three groups: A, B and C.")
    for name, indices in zip(GROUP_NAMES, lists):
        if not indices:
            raise EquationError(f"Group {name} is empty: put at least one image into it.")
        bad = [i for i in indices if not 0 <= int(i) < n]
        if bad:
            raise EquationError(f"Group {name} refers to image #{bad[0]}, but the gallery has images #0 to #{n - 1}.")
    return [[int(i) for i in indices] for indices in lists]


def equation_latents(latents: torch.Tensor, groups, variations: int = 8, scale: float = VARIATION_SCALE,
                     seed: int = 0) -> EquationResult:
    """mean(A) - mean(B) + mean(C) over the gallery latents (n, latent), plus `variations` noisy copies.

    The noise is seeded, so the same equation always shows the same variations."""
    a, b, c = check_groups(groups, len(latents))
    result = vector_arithmetic(latents[a], latents[b], latents[c])  # (latent,)
    means = torch.stack([latents[a].mean(0), latents[b].mean(0), latents[c].mean(0)])  # (3, latent)
    g = torch.Generator().manual_seed(int(seed))
    noise = (torch.rand(variations, latents.shape[1], generator=g) * 2 - 1) * scale  # (k, latent) in [-s, s]
    return EquationResult(group_means=means, result=result, variations=result + noise)


@dataclass
class EquationImages:
    group_means: torch.Tensor  # (3, C, H, W): the decoded mean z of A, B and C
    result: torch.Tensor  # (C, H, W)
    variations: torch.Tensor  # (k, C, H, W)


def render_equation(model: torch.nn.Module, latents: torch.Tensor, groups, variations: int = 8,
                    seed: int = 0, label: int | None = None) -> EquationImages:
    """Decode the three group means, the answer and its variations in one batch (all of class `label`, if any)."""
    eq = equation_latents(latents, groups, variations, seed=seed)
    images = decode(model, torch.cat([eq.group_means, eq.result[None], eq.variations]), label)  # (3 + 1 + k, C, H, W)
    return EquationImages(group_means=images[:3], result=images[3], variations=images[4:])


# -- interpolation and walks -----------------------------------------------------------------------------
def interpolation_frames(model: torch.nn.Module, z_from: torch.Tensor, z_to: torch.Tensor, steps: int,
                         method: str = "slerp", label: int | None = None) -> torch.Tensor:
    """Images along the path from z_from to z_to (lerp: straight line; slerp: great circle): (steps, C, H, W)."""
    return decode(model, interpolate(z_from, z_to, steps, method), label)


def random_direction(latent_dim: int, seed: int) -> torch.Tensor:
    """A random unit vector in latent space (uniform over directions): (latent_dim,)."""
    d = torch.randn(latent_dim, generator=torch.Generator().manual_seed(int(seed)))
    return d / d.norm()


def walk_latents(start: torch.Tensor, direction: torch.Tensor, step: float, steps_each_side: int = 4
                 ) -> torch.Tensor:
    """start + t * step * direction for t = -k..k: a straight walk through `start`: (2k + 1, latent)."""
    t = torch.arange(-steps_each_side, steps_each_side + 1, dtype=torch.float32)  # (2k+1,)
    return start[None] + (t * step)[:, None] * direction[None]


def walk_frames(model: torch.nn.Module, start: torch.Tensor, direction: torch.Tensor, step: float,
                steps_each_side: int = 4, label: int | None = None) -> torch.Tensor:
    return decode(model, walk_latents(start, direction, step, steps_each_side), label)


# -- saved equations ---------------------------------------------------------------------------------------
@dataclass
class Equation:
    """What replays an equation: the gallery seed, the model's latent size, the three groups, a name, and for a
    class-conditional generator the class the gallery was drawn for (None otherwise)."""
    name: str
    seed: int
    latent_dim: int
    a: list[int]
    b: list[int]
    c: list[int]
    label: int | None = None

    @property
    def groups(self) -> list[list[int]]:
        return [self.a, self.b, self.c]

    @property
    def file_name(self) -> str:
        """A safe download name: letters, digits, '-' and '_' only."""
        stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in self.name).strip("_") or "equation"
        return f"{stem[:60]}.json"

    def to_json(self) -> str:
        return json.dumps({"genlab": "gan-equation", "version": 1, **asdict(self)}, indent=2)

    @classmethod
    def from_json(cls, data: str | bytes) -> "Equation":
        """Parse and validate an uploaded equation; EquationError says in one sentence what is wrong."""
        if len(data) > MAX_EQUATION_BYTES:
            raise EquationError("The file is too large to be a saved equation (at most 100 kB).")
        try:
            values = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise EquationError("The file is not valid JSON, so it cannot be a saved equation.") from None
        if not isinstance(values, dict) or values.get("genlab", "gan-equation") != "gan-equation":
            raise EquationError("The file is JSON but not a saved GAN equation.")
        missing = [key for key in ("seed", "latent_dim", "a", "b", "c") if key not in values]
        if missing:
            raise EquationError(f"The saved equation lacks the field '{missing[0]}'.")
        name = values.get("name", "equation")
        if not isinstance(name, str) or len(name) > 100:
            raise EquationError("The equation's name must be a text of at most 100 characters.")
        if not _is_int(values["seed"]) or not 0 <= values["seed"] <= MAX_SEED:
            raise EquationError(f"The equation's seed must be a whole number from 0 to {MAX_SEED}.")
        if not _is_int(values["latent_dim"]) or not 1 <= values["latent_dim"] <= 512:
            raise EquationError("The equation's latent_dim must be a whole number from 1 to 512.")
        groups = []
        for key, group in zip("abc", GROUP_NAMES):
            indices = values[key]
            if not isinstance(indices, list) or not all(_is_int(i) for i in indices):
                raise EquationError(f"Group {group} must be a list of whole numbers (gallery indices).")
            groups.append(list(dict.fromkeys(indices)))  # drop repeats, keep the order
        a, b, c = check_groups(groups)
        label = values.get("label")
        if label is not None and (not _is_int(label) or not 0 <= label < 1000):
            raise EquationError("The equation's label must be a class number (0, 1, 2, ...) or null.")
        return cls(name=name.strip() or "equation", seed=values["seed"], latent_dim=values["latent_dim"],
                   a=a, b=b, c=c, label=label)

    def fits(self, latent_dim: int, classes: int = 0) -> bool:
        """Whether check_fits passes: the equation replays on this model."""
        try:
            self.check_fits(latent_dim, classes)
        except EquationError:
            return False
        return True

    def check_fits(self, latent_dim: int, classes: int = 0) -> None:
        """EquationError unless the equation was made for a model with this latent size (and, with a class, a
        class-conditional model that knows it; classes: the model's number of classes, 0 if unconditional)."""
        if self.latent_dim != latent_dim:
            raise EquationError(f"This equation was made for a model with a {self.latent_dim}-dimensional latent "
                                f"space, but the chosen model has {latent_dim}; pick a model of that size.")
        if self.label is None and classes:
            raise EquationError("This equation was made for a generator without classes; pick one of those.")
        if self.label is not None and not classes:
            raise EquationError("This equation was made for a class-conditional generator; pick one of those.")
        if self.label is not None and self.label >= classes:
            raise EquationError(f"This equation asks for class {self.label}, but the chosen model knows only "
                                f"{classes} classes.")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
