"""A small CNN classifier per dataset: the domain feature extractor behind genlab's sample-quality metrics.

FID (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium")
and KID (Binkowski et al. 2018, "Demystifying MMD GANs") compare real and generated images in the feature space
of a classifier. The usual one is Inception-v3 trained on ImageNet; its weights cannot be downloaded here, and
its features describe 299x299 colour photos, not 28x28 grayscale digits or garments. So, like many papers on
small datasets, genlab trains a small classifier on the dataset itself and uses its penultimate layer
(`features`). Figures computed this way are comparable with each other, not with published Inception FIDs.

This is a discriminative model p(y|x), not a generative one: it has no sampler and is not offered for generation.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genlab.models import FEATURES, ModelKind, register_kind
from genlab.models.base import Model


@dataclass
class ClassifierConfig:
    num_classes: int = 10
    width: int = 32  # channels of the first conv layer (the second has twice as many)
    feature_dim: int = 128  # size of the penultimate layer used by FID, KID, precision and recall
    augment: bool = True  # random shifts of up to 2 pixels while training
    image_channels: int = 1
    image_size: int = 28  # must be divisible by 4

    @classmethod
    def tiny(cls, **overrides) -> "ClassifierConfig":
        return cls(**{"width": 4, "feature_dim": 8, **overrides})


class Classifier(Model):
    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = c = config
        side = c.image_size // 4
        self.body = nn.Sequential(
            nn.Conv2d(c.image_channels, c.width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (N, w, 14, 14)
            nn.Conv2d(c.width, 2 * c.width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (N, 2w, 7, 7)
            nn.Flatten(),  # (N, 2w*7*7)
            nn.Linear(2 * c.width * side * side, c.feature_dim), nn.ReLU(),  # (N, feature_dim)
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(c.feature_dim, c.num_classes))  # (N, classes)

    @property
    def num_features(self) -> int:
        return self.config.feature_dim

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, C, H, W) in [0, 1] -> penultimate features (N, feature_dim)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, C, H, W) -> class logits (N, classes)."""
        return self.head(self.body(x))

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        if self.config.augment:
            x = random_shift(x, 2)
        logits = self(x)  # (B, classes)
        loss = F.cross_entropy(logits, y)
        return loss, {"loss": loss.item(), "accuracy": (logits.argmax(1) == y).float().mean().item()}

    @torch.inference_mode()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None
                 ) -> dict[str, float]:
        """Sums over the batch: correct predictions and cross-entropy in nats."""
        logits = self(x)
        return {"accuracy": (logits.argmax(1) == y).sum().item(),
                "cross_entropy": F.cross_entropy(logits, y, reduction="sum").item()}


def random_shift(x: torch.Tensor, pixels: int) -> torch.Tensor:
    """Shift the whole batch by a random offset of up to `pixels` in x and y, filling with black."""
    dx, dy = torch.randint(-pixels, pixels + 1, (2,)).tolist()
    padded = F.pad(x, (pixels, pixels, pixels, pixels))  # (B, C, H+2p, W+2p)
    h, w = x.shape[-2:]
    return padded[..., pixels + dy: pixels + dy + h, pixels + dx: pixels + dx + w]


CLASSIFIER_KIND = register_kind(ModelKind(
    name="classifier", title="Domain classifier (for metrics)",
    family="discriminative: p(y|x), not a generative model",
    summary="A small CNN whose penultimate features stand in for Inception's in FID, KID, precision and recall.",
    config_cls=ClassifierConfig, model_cls=Classifier,
    paper="Heusel et al. 2017 (FID); Binkowski et al. 2018 (KID)",
    capabilities=frozenset({FEATURES}),
    loss_labels={"loss": "cross-entropy", "accuracy": "accuracy"},
))
