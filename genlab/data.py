"""Dataset registry and loaders.

Every dataset is a name in DATASETS. `load_dataset(name, split)` returns an ImageDataset whose images are
float tensors in [0, 1] of shape (N, C, H, W), with integer labels (used to colour plots).

Files are looked for in a fixed order (DESIGN.md): an explicit directory, $GENLAB_DATA/<name>, the project's
data/<name>, ../shared/data/<name>, Debian's /usr/share/datasets/<name>; then torchvision downloads them when
the network allows (never when GENLAB_OFFLINE=1). When nothing works, DatasetMissing says how to get them.
Procedural sets (`shapes`) are drawn by code and always work offline.
"""
from __future__ import annotations

import gzip
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from genlab import ROOT

SPLITS = ("train", "test")


class DatasetMissing(RuntimeError):
    """The dataset's files are not on this machine; the message says how to get them."""


@dataclass
class ImageDataset(torch.utils.data.Dataset):
    """Images in [0, 1] with labels, usable directly as a torch Dataset of (image, label) pairs."""

    name: str
    split: str
    images: torch.Tensor  # (N, C, H, W) float32 in [0, 1]
    labels: torch.Tensor  # (N,) int64
    class_names: list[str]
    source: str  # where the images came from, for model cards
    factors: torch.Tensor | None = None  # (N, F) ground-truth factors of procedural sets
    factor_names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[i], self.labels[i]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    description: str  # one sentence for the pages
    class_names: tuple[str, ...]
    load: Callable[[str, Path | None], ImageDataset]  # (split, explicit_dir) -> dataset
    how_to_get: str  # the sentence DatasetMissing ends with
    image_shape: tuple[int, int, int] = (1, 28, 28)
    derived_from: str | None = None  # the data set whose images these are, changed (its classifier scores them)
    black_and_white: bool = False  # every pixel 0 or 1 (a Bernoulli score is then a likelihood of the images)
    owner: str | None = None  # a student's upload, listed for that student only until shared (genlab/classroom.py)


DATASETS: dict[str, DatasetSpec] = {}


def register_dataset(spec: DatasetSpec) -> DatasetSpec:
    DATASETS[spec.name] = spec
    return spec


def unregister_dataset(name: str) -> None:
    """Forget a registered dataset (an uploaded one) and drop the cached splits, so its memory is freed."""
    DATASETS.pop(name, None)
    _load_cached.cache_clear()


def load_dataset(name: str, split: str = "train", root: str | Path | None = None) -> ImageDataset:
    """Load a registered dataset split. Raises DatasetMissing (with instructions) or ValueError."""
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset '{name}'. Known datasets: {', '.join(sorted(DATASETS))}.")
    if split not in SPLITS:
        raise ValueError(f"Unknown split '{split}': use one of {', '.join(SPLITS)}.")
    return _load_cached(name, split, str(root) if root else None)


@lru_cache(maxsize=16)
def _load_cached(name: str, split: str, root: str | None) -> ImageDataset:
    return DATASETS[name].load(split, Path(root) if root else None)


def dataset_available(name: str) -> bool:
    """True when the test split loads from local files (never downloads)."""
    try:
        with _offline():
            load_dataset(name, "test")
        return True
    except DatasetMissing:
        return False


class _offline:
    """Context manager that forbids downloads while it is active."""

    def __enter__(self):
        self.before = os.environ.get("GENLAB_OFFLINE")
        os.environ["GENLAB_OFFLINE"] = "1"

    def __exit__(self, *exc):
        if self.before is None:
            os.environ.pop("GENLAB_OFFLINE", None)
        else:
            os.environ["GENLAB_OFFLINE"] = self.before


# ---------------------------------------------------------------------------------------------------------
# IDX files (the MNIST family's format)


def search_dirs(name: str, explicit: Path | None = None) -> list[Path]:
    """The folders looked in for `name`'s files, in order."""
    dirs = []
    if explicit:
        dirs.append(Path(explicit))
    if os.environ.get("GENLAB_DATA"):
        dirs.append(Path(os.environ["GENLAB_DATA"]) / name)
    dirs += [ROOT / "data" / name, ROOT.parent / "shared" / "data" / name, Path("/usr/share/datasets") / name]
    if name in TORCHVISION_CLASS:  # where torchvision's own download puts them
        dirs.append(ROOT / "data" / "torchvision" / TORCHVISION_CLASS[name] / "raw")
    return dirs


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped): a magic number, the dimensions, then unsigned bytes."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DatasetMissing(f"{path} is not an IDX file of unsigned bytes.")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != math.prod(dims):
        raise DatasetMissing(f"{path} is truncated: expected {math.prod(dims)} values, found {body.size}.")
    return body.reshape(dims)


def _find_idx_pair(name: str, prefix: str, explicit: Path | None) -> tuple[Path, Path] | None:
    for folder in search_dirs(name, explicit):
        for ext in ("", ".gz"):
            images = folder / f"{prefix}-images-idx3-ubyte{ext}"
            labels = folder / f"{prefix}-labels-idx1-ubyte{ext}"
            if images.is_file() and labels.is_file():
                return images, labels
    return None


TORCHVISION_CLASS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def _try_torchvision_download(name: str) -> None:
    """Let torchvision fetch the IDX files into data/torchvision/ (only when online and allowed)."""
    if os.environ.get("GENLAB_OFFLINE") == "1":
        return
    import torchvision

    cls = getattr(torchvision.datasets, TORCHVISION_CLASS[name])
    try:
        for train in (True, False):
            cls(root=str(ROOT / "data" / "torchvision"), train=train, download=True)
    except Exception:  # no network, a proxy, a full disk: the caller explains what to do instead
        pass


def _load_idx_dataset(name: str, split: str, explicit: Path | None, class_names: tuple[str, ...],
                      how_to_get: str) -> ImageDataset:
    prefix = "train" if split == "train" else "t10k"
    pair = _find_idx_pair(name, prefix, explicit)
    if pair is None:
        _try_torchvision_download(name)
        pair = _find_idx_pair(name, prefix, explicit)
    if pair is None:
        looked = ", ".join(str(d) for d in search_dirs(name, explicit))
        raise DatasetMissing(f"The {split} split of {name} is not on this machine (looked in {looked}). {how_to_get}")
    images, labels = read_idx(pair[0]), read_idx(pair[1])
    return ImageDataset(
        name=name, split=split,
        images=torch.from_numpy(images.copy()).float().div_(255).unsqueeze(1),  # (N, 1, 28, 28)
        labels=torch.from_numpy(labels.astype(np.int64)),  # (N,)
        class_names=list(class_names), source=str(pair[0].parent),
    )


FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DIGIT_CLASSES = tuple(str(d) for d in range(10))
FASHION_HOW = ("Install it with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or put the four "
               "IDX files in data/fashion-mnist/, or run once with internet so torchvision downloads them.")
MNIST_HOW = ("Put the IDX files in data/mnist/ or set GENLAB_DATA, or run once with internet so torchvision "
             "downloads them. Offline, the `digits` dataset uses the 10k test file in ../shared/data/mnist.")

register_dataset(DatasetSpec(
    name="fashion-mnist", title="Fashion-MNIST",
    description="70,000 grayscale 28x28 photos of clothes in 10 classes (Zalando, 2017).",
    class_names=FASHION_CLASSES, how_to_get=FASHION_HOW,
    load=lambda split, d: _load_idx_dataset("fashion-mnist", split, d, FASHION_CLASSES, FASHION_HOW),
))
register_dataset(DatasetSpec(
    name="mnist", title="MNIST",
    description="Handwritten digits, 28x28 grayscale: 60,000 for training and 10,000 for testing.",
    class_names=DIGIT_CLASSES, how_to_get=MNIST_HOW,
    load=lambda split, d: _load_idx_dataset("mnist", split, d, DIGIT_CLASSES, MNIST_HOW),
))

# `digits`: MNIST's 10k test file, which ships beside the project, split 9,000 / 1,000 so that models can be
# trained and evaluated offline. Model cards that use it say exactly that.
DIGITS_TRAIN = 9000


def _load_digits(split: str, explicit: Path | None) -> ImageDataset:
    full = _load_idx_dataset("mnist", "test", explicit, DIGIT_CLASSES, MNIST_HOW)
    part = slice(0, DIGITS_TRAIN) if split == "train" else slice(DIGITS_TRAIN, None)
    return ImageDataset(
        name="digits", split=split, images=full.images[part], labels=full.labels[part],
        class_names=list(DIGIT_CLASSES),
        source=f"{full.source} (MNIST test file: {'first 9,000' if split == 'train' else 'last 1,000'} images)",
    )


register_dataset(DatasetSpec(
    name="digits", title="MNIST digits (offline 10k)",
    description="MNIST's 10,000 test digits: the first 9,000 train a model, the last 1,000 evaluate it.",
    class_names=DIGIT_CLASSES, how_to_get=MNIST_HOW, load=_load_digits,
))

# `binary-digits`: the same digits binarized once, each pixel white with probability its grey level (a fixed
# stochastic binarization, seeds 0 for train and 1 for test), as in the static binarized MNIST of Salakhutdinov &
# Murray 2008 that NADE and PixelRNN report on. Every Bernoulli model's likelihood here is measured on these same
# images, so genlab's figures compare with each other; with 9,000 training images they do not compare with the
# published full-MNIST figures.
BINARY_SEEDS = {"train": 0, "test": 1}


def _load_binary_digits(split: str, explicit: Path | None) -> ImageDataset:
    grey = _load_digits(split, explicit)
    g = torch.Generator().manual_seed(BINARY_SEEDS[split])
    return ImageDataset(
        name="binary-digits", split=split, images=torch.bernoulli(grey.images, generator=g), labels=grey.labels,
        class_names=grey.class_names,
        source=f"{grey.source}, each pixel white with probability its grey level (seed {BINARY_SEEDS[split]})",
    )


register_dataset(DatasetSpec(
    name="binary-digits", title="MNIST digits, binarized (offline 10k)",
    description="The digits binarized once at random (a pixel is white with probability its grey level, fixed "
                "seed): the data on which every black-or-white model's likelihood is compared.",
    class_names=DIGIT_CLASSES, how_to_get=MNIST_HOW, load=_load_binary_digits, derived_from="digits",
    black_and_white=True,
))


# ---------------------------------------------------------------------------------------------------------
# `shapes`: procedural images with known factors of variation (in the spirit of dSprites, Matthey et al. 2017)

SHAPE_CLASSES = ("square", "circle", "triangle")
SHAPE_FACTORS = ["shape", "scale", "rotation", "x", "y"]
SHAPES_SIZES = {"train": 20000, "test": 2000}


def draw_shapes(factors: torch.Tensor, size: int = 28, supersample: int = 3) -> torch.Tensor:
    """Render white shapes on black, anti-aliased by supersampling.

    factors: (N, 5) columns shape index, scale (the radius of a circle of the same area, in pixels), rotation
    (radians), x, y (pixel centre).
    Returns (N, 1, size, size) in [0, 1].
    """
    n = len(factors)
    s = size * supersample
    coords = (torch.arange(s, dtype=torch.float32) + 0.5) / supersample  # (s,) pixel-space sample points
    py, px = torch.meshgrid(coords, coords, indexing="ij")  # (s, s) each
    shape, scale, rot, cx, cy = (factors[:, i].view(n, 1, 1) for i in range(5))
    dx, dy = px - cx, py - cy  # (N, s, s) offsets from the centre
    cos, sin = torch.cos(rot), torch.sin(rot)
    u = (cos * dx + sin * dy) / scale  # (N, s, s) coordinates in the shape's own frame, unit size
    v = (-sin * dx + cos * dy) / scale
    masks = torch.zeros(n, 1, s, s)  # (N, 1, s, s) supersampled drawing
    for index, inside in enumerate((_inside_square, _inside_circle, _inside_triangle)):
        chosen = shape.view(n) == index
        if chosen.any():
            masks[chosen, 0] = inside(u[chosen], v[chosen]).float()
    return torch.nn.functional.avg_pool2d(masks, supersample)  # (N, 1, size, size)


# Every shape at scale s covers the area of a circle of radius s, so "scale" is the size you see, whatever the shape
SQUARE_HALF_SIDE = math.sqrt(math.pi) / 2  # (2 h)^2 = pi
TRIANGLE_INRADIUS = math.sqrt(math.pi / (3 * math.sqrt(3)))  # an equilateral triangle's area is 3 sqrt(3) r^2


def _inside_square(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return torch.maximum(u.abs(), v.abs()) <= SQUARE_HALF_SIDE


def _inside_circle(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return u ** 2 + v ** 2 <= 1


def _inside_triangle(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Equilateral triangle pointing up (y grows downwards), centred on the origin: inside all three edges."""
    inside = torch.ones_like(u, dtype=torch.bool)
    for angle in (math.pi / 2, math.pi / 2 + 2 * math.pi / 3, math.pi / 2 + 4 * math.pi / 3):
        inside &= (u * math.cos(angle) - v * math.sin(angle)) >= -TRIANGLE_INRADIUS  # half-plane opposite a vertex
    return inside


def sample_shape_factors(n: int, seed: int) -> torch.Tensor:
    """Uniform random factors: shape, scale in [3.5, 7] px, rotation in [0, 45) degrees, centre in [10, 18] px.
    Rotation stays within half a square's symmetry (90 degrees), so every angle draws a different picture and the
    factor runs from one end to another instead of round a circle (0 and 90 degrees would be the same square)."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 4, generator=g)  # (n, 4)
    shape = torch.randint(0, len(SHAPE_CLASSES), (n, 1), generator=g).float()
    scale = 3.5 + 3.5 * u[:, :1]
    rotation = (math.pi / 4) * u[:, 1:2]
    xy = 10 + 8 * u[:, 2:]
    return torch.cat([shape, scale, rotation, xy], dim=1)  # (n, 5)


CATEGORICAL_FACTORS = frozenset({"shape"})  # factors that are categories, not quantities


def where_factors_apply(dataset: ImageDataset) -> dict[str, torch.Tensor]:
    """Per factor, a (N,) mask of the images for which it means something: a circle has no rotation."""
    if "rotation" not in dataset.factor_names or "shape" not in dataset.factor_names:
        return {}
    shape = dataset.factors[:, dataset.factor_names.index("shape")]
    return {"rotation": shape != SHAPE_CLASSES.index("circle")}


def _load_shapes(split: str, explicit: Path | None) -> ImageDataset:
    factors = sample_shape_factors(SHAPES_SIZES[split], seed=0 if split == "train" else 1)
    images = torch.cat([draw_shapes(chunk) for chunk in factors.split(1000)])
    return ImageDataset(
        name="shapes", split=split, images=images, labels=factors[:, 0].long(),
        class_names=list(SHAPE_CLASSES), source="procedural (genlab.data.draw_shapes)",
        factors=factors, factor_names=list(SHAPE_FACTORS),
    )


register_dataset(DatasetSpec(
    name="shapes", title="Shapes (procedural)",
    description="Squares, circles and triangles with random scale, rotation and position: known factors.",
    class_names=SHAPE_CLASSES, how_to_get="It is drawn by code and always available.", load=_load_shapes,
))


# ---------------------------------------------------------------------------------------------------------
# Domains for unpaired image-to-image translation, built from data we have, where a correct translation is known.
# A translation data set's labels are *domains* (its class names are the domain names) and its factors hold what a
# correct translation must keep (the content); CycleGAN and StarGAN see only images and domain labels.
# - `shapes` (above) is one: its label is the shape, and every shape is drawn from the same distribution of scale,
#   rotation and position, so "square -> circle" must keep those factors.
# - `digit-styles`: every digit of `digits` drawn in one of four styles, plain, thick strokes, thin strokes or
#   slanted (a grey-level dilation, an erosion or a shear of the same digit; the shipped digits classifier still
#   reads 95% or more of each style correctly), chosen at random with a fixed seed. Each digit appears in one style
#   only, so the domains hold different images (unpaired, as CycleGAN assumes); the digit is the content to keep.

DIGIT_STYLES = ("plain", "thick", "thin", "slanted")
STYLE_SEEDS = {"train": 0, "test": 1}
SHEAR = 0.25  # slanted: x moves by a quarter pixel per pixel above the centre (about 14 degrees)


def _plus_neighbours(x: torch.Tensor) -> torch.Tensor:
    """Each pixel and its four neighbours (zeros outside the image): (N, C, H, W) -> (5, N, C, H, W)."""
    padded = F.pad(x, (1, 1, 1, 1))  # (N, C, H+2, W+2)
    h, w = x.shape[-2:]
    return torch.stack([padded[..., 1:h + 1, 1:w + 1], padded[..., 0:h, 1:w + 1], padded[..., 2:h + 2, 1:w + 1],
                        padded[..., 1:h + 1, 0:w], padded[..., 1:h + 1, 2:w + 2]])


def thicken(x: torch.Tensor) -> torch.Tensor:
    """Grey-level dilation: each pixel becomes the brightest of itself and its four neighbours (strokes grow by
    about a pixel on each side). (N, 1, H, W) -> same."""
    return _plus_neighbours(x).amax(0)


THIN_LIT = 0.05  # a pixel of a thin stroke keeps its grey level only where its four neighbours are all above this


def thin(x: torch.Tensor) -> torch.Tensor:
    """Strokes lose their edge pixels: a pixel keeps its grey level only where it and its four neighbours are all
    lit (above THIN_LIT), so the stroke's core stays as bright as it was. (N, 1, H, W) -> same."""
    return x * (_plus_neighbours(x).amin(0) > THIN_LIT)


def slant(x: torch.Tensor) -> torch.Tensor:
    """Shear to the right: a pixel at height v above the centre moves SHEAR * v pixels right. (N, 1, H, W)."""
    n = len(x)
    # affine_grid maps output coordinates to input ones in [-1, 1]; x_in = x_out + SHEAR * y_out (y grows down)
    theta = torch.tensor([[1.0, SHEAR, 0.0], [0.0, 1.0, 0.0]]).expand(n, 2, 3)  # (N, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (N, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


STYLE_OF = {"plain": lambda x: x, "thick": thicken, "thin": thin, "slanted": slant}


def draw_in_style(images: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
    """images (N, 1, H, W) in [0, 1], styles (N,) indices into DIGIT_STYLES -> the same digits in those styles."""
    out = images.clone()
    for index, name in enumerate(DIGIT_STYLES):
        chosen = styles == index
        if chosen.any():
            out[chosen] = STYLE_OF[name](images[chosen]).clamp(0, 1)
    return out


def _load_digit_styles(split: str, explicit: Path | None) -> ImageDataset:
    digits = load_dataset("digits", split, explicit)
    g = torch.Generator().manual_seed(STYLE_SEEDS[split])
    styles = torch.randint(0, len(DIGIT_STYLES), (len(digits),), generator=g)  # (N,) one style per digit
    return ImageDataset(
        name="digit-styles", split=split, images=draw_in_style(digits.images, styles), labels=styles,
        class_names=list(DIGIT_STYLES),
        source=f"{digits.source}, each drawn in one style chosen at random (seed {STYLE_SEEDS[split]})",
        factors=digits.labels.float().unsqueeze(1), factor_names=["digit"],
    )


register_dataset(DatasetSpec(
    name="digit-styles", title="Digits in four styles (translation domains)",
    description="The offline digits, each drawn plain, thick, thin or slanted: four domains whose translations "
                "must keep the digit.",
    class_names=DIGIT_STYLES, how_to_get=MNIST_HOW, load=_load_digit_styles, derived_from="digits",
))


def drawn_in_domain(name: str, split: str, domain: int) -> ImageDataset | None:
    """Every item of a translation set's split drawn in one domain: the same digits in one style, or the same
    scale, rotation and position as one shape. So a translation can be judged on all 1,000 test digits (or 2,000
    test shapes), not only on the share that happens to be in the source domain. None for other data sets."""
    if name == "digit-styles":
        digits = load_dataset("digits", split)
        styles = torch.full((len(digits),), domain)  # (N,) every digit in one style
        return ImageDataset(name=name, split=split, images=draw_in_style(digits.images, styles), labels=styles,
                            class_names=list(DIGIT_STYLES), source=f"{digits.source}, every one {DIGIT_STYLES[domain]}",
                            factors=digits.labels.float().unsqueeze(1), factor_names=["digit"])
    if name == "shapes":
        shapes = load_dataset("shapes", split)
        factors = shapes.factors.clone()
        factors[:, 0] = domain
        images = torch.cat([draw_shapes(chunk) for chunk in factors.split(1000)])
        return ImageDataset(name=name, split=split, images=images, labels=factors[:, 0].long(),
                            class_names=list(SHAPE_CLASSES), source=f"{shapes.source}, every one a "
                            f"{SHAPE_CLASSES[domain]}", factors=factors, factor_names=list(SHAPE_FACTORS))
    return None
