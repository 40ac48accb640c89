"""How good is a translation? On domains whose ground truth we know (genlab/data.py), three questions:

1. Is it in the target domain? A small domain classifier (shipped, trained on the domain labels) reads it.
2. Did it keep the content? Digits: the shipped digits classifier still reads the same digit. Shapes: the
   translation's position and size, measured from its image moments, match the source image's known factors.
3. Does the round trip come back? The mean absolute pixel difference between x and back(there(x)).

Every function takes images in [0, 1] and a translator with `translate(x, target)` (genlab/models/base.py).
"""
from __future__ import annotations

import math

import torch

from genlab.checkpoints import CheckpointInfo
from genlab.data import DATASETS
from genlab.evaluation.compare import metrics_classifier

POSITION_TOLERANCE = 2.0  # pixels: a kept position lands within this distance of the source's centre
SCALE_TOLERANCE = 0.15  # a kept size is within 15% of the source's


@torch.inference_mode()
def classify(classifier, images: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """The classifier's most likely class for each image (N,), on the CPU whatever device the classifier is on."""
    device = next(classifier.parameters()).device if isinstance(classifier, torch.nn.Module) else images.device
    return torch.cat([classifier(x.to(device)).argmax(1).cpu() for x in images.split(batch)])  # (N,)


def image_moments(images: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) in [0, 1] -> (N, 3): the centre of brightness x, y (in pixels, a pixel's centre at i + 0.5,
    as the shapes' factors are) and the size sqrt(area / pi): the radius of a circle of the same area, which is the
    shapes' scale factor (every shape at scale s covers the area of a circle of radius s)."""
    n, _, h, w = images.shape
    mass = images.sum((1, 2, 3)).clamp_min(1e-6)  # (N,) the area, in pixels
    ys = torch.arange(h, dtype=images.dtype) + 0.5  # (H,)
    xs = torch.arange(w, dtype=images.dtype) + 0.5  # (W,)
    cx = (images.sum((1, 2)) * xs).sum(1) / mass  # (N,) sum over columns of column mass * x
    cy = (images.sum((1, 3)) * ys).sum(1) / mass  # (N,)
    return torch.stack([cx, cy, (mass / math.pi).sqrt()], dim=1)


def shape_content_kept(translated: torch.Tensor, source_factors: torch.Tensor, names: list[str]) -> torch.Tensor:
    """(N,) True where the translation kept the source's position (within POSITION_TOLERANCE pixels) and scale
    (within SCALE_TOLERANCE), judged from the translation's image moments against the source's known factors."""
    found = image_moments(translated)  # (N, 3) x, y, scale
    x, y, scale = (source_factors[:, names.index(k)] for k in ("x", "y", "scale"))
    moved = torch.hypot(found[:, 0] - x, found[:, 1] - y)  # (N,) pixels
    resized = (found[:, 2] / scale - 1).abs()  # (N,)
    return (moved <= POSITION_TOLERANCE) & (resized <= SCALE_TOLERANCE)


@torch.inference_mode()
def translate_all(model, images: torch.Tensor, target: int, batch: int = 500) -> torch.Tensor:
    """images (N, C, H, W) in [0, 1] -> their translations into `target` (N, C, H, W), in batches."""
    return torch.cat([model.translate(x, target) for x in images.split(batch)])


def round_trip_error(images: torch.Tensor, back: torch.Tensor) -> float:
    """Mean absolute pixel difference of x and back(there(x)), pixels in [0, 1]."""
    return (images - back).abs().mean().item()


def translation_figures(model, dataset, source: int, target: int, domain_classifier, content_classifier=None,
                        n: int = 1000) -> dict[str, float]:
    """The first n test images of domain `source`, translated into `target` and back. Returns shares in [0, 1]:
    domain_accuracy (the domain classifier reads `target`), content_kept (digits: the content classifier reads the
    source's digit; shapes: position and size kept; None where the data set's content is not known) with
    content_kept_source (the same test on the inputs), and round_trip (mean absolute difference), with n."""
    chosen = (dataset.labels == source).nonzero().flatten()[:n]  # (n,) indices of source images
    x = dataset.images[chosen]  # (n, C, H, W)
    there = translate_all(model, x, target)
    back = translate_all(model, there, source)
    figures = {"n": len(x), "domain_accuracy": (classify(domain_classifier, there) == target).float().mean().item(),
               "round_trip": round_trip_error(x, back)}
    figures["content_kept"] = figures["content_kept_source"] = None
    if "digit" in dataset.factor_names and content_classifier is not None:
        digit = dataset.factors[chosen, dataset.factor_names.index("digit")].long()  # (n,)
        figures["content_kept"] = (classify(content_classifier, there) == digit).float().mean().item()
        figures["content_kept_source"] = (classify(content_classifier, x) == digit).float().mean().item()
    elif {"x", "y", "scale"} <= set(dataset.factor_names):
        factors = dataset.factors[chosen]  # (n, F)
        figures["content_kept"] = shape_content_kept(there, factors, dataset.factor_names).float().mean().item()
        figures["content_kept_source"] = shape_content_kept(x, factors, dataset.factor_names).float().mean().item()
    return figures


def content_test(dataset_factor_names: list[str], has_content_classifier: bool) -> str | None:
    """In words, how translation_figures judges the content on a data set with these factors (None: it cannot)."""
    if "digit" in dataset_factor_names and has_content_classifier:
        return "the digits classifier reads the source's digit"
    if {"x", "y", "scale"} <= set(dataset_factor_names):
        return "centre within 2 px and size within 15% of the source's known factors, from the image moments"
    return None


def judge_files(dataset: str) -> tuple[CheckpointInfo | None, CheckpointInfo | None]:
    """The shipped classifiers that judge translations on `dataset`: its own classifier whose classes are its
    domains (not a parent's, whose classes are something else), and, for domains drawn from a labelled set (digits
    in styles), that set's classifier, which reads the content. None where there is none."""
    spec = DATASETS.get(dataset)
    if spec is None:
        return None, None
    domains = metrics_classifier(dataset)
    if domains is None or domains.dataset != dataset or \
            (domains.card or {}).get("config", {}).get("num_classes") != len(spec.class_names):
        domains = None
    content = metrics_classifier(spec.derived_from) if spec.derived_from else None
    if content is not None and content.dataset != spec.derived_from:
        content = None
    return domains, content
