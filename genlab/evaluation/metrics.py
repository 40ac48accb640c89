"""Numbers that say how good a generative model is, and in what way.

Sample quality is measured in the feature space of a small domain classifier (genlab/models/classifier.py),
because Inception-v3's weights cannot be downloaded here and its features suit 299x299 photos, not 28x28
grayscale images. FID and KID come from torchmetrics, fed with those features.

| metric | meaning | better |
| --- | --- | --- |
| FID | distance between Gaussians fitted to real and generated features | lower |
| KID | squared MMD between real and generated features (unbiased, fine for small N) | lower |
| precision | share of generated images that fall on the real data's manifold (fidelity) | higher |
| recall | share of real images that fall on the generated manifold (diversity) | higher |
| class entropy | spread of the classifier's predicted classes over the samples (mode collapse: low) | higher |
| nearest training image | pixel distance of a sample to its closest training image (memorisation: ~0) | not ~0 |
| bits/dim | negative log-likelihood (or a bound on it) per pixel | lower |
"""
from __future__ import annotations

import math

import torch
from torch import nn


@torch.inference_mode()
def extract_features(classifier: nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Penultimate classifier features of images (N, C, H, W) in [0, 1] -> (N, F) on the CPU."""
    device = next(classifier.parameters()).device
    classifier.eval()
    return torch.cat([classifier.features(chunk.to(device)).float().cpu() for chunk in images.split(batch_size)])


@torch.inference_mode()
def predict_classes(classifier: nn.Module, features: torch.Tensor) -> torch.Tensor:
    """Predicted classes (N,) from penultimate features (N, F): only the classifier's last layer runs again."""
    device = next(classifier.parameters()).device
    classifier.eval()
    return classifier.head(features.to(device)).argmax(1).cpu()


class _PrecomputedFeatures(nn.Module):
    """Lets torchmetrics' FID/KID take features we already extracted (and cached) instead of images."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def fid_from_features(real: torch.Tensor, fake: torch.Tensor) -> float:
    """Frechet distance between N(mu_r, S_r) and N(mu_f, S_f) fitted to (N, F) feature sets. Lower is better.
    Biased upwards for small N: compare figures computed with the same number of samples."""
    from torchmetrics.image.fid import FrechetInceptionDistance  # here: importing torchmetrics takes seconds,
    # and a page that only shows stored figures (Compare with shipped rows) should not wait for it

    metric = FrechetInceptionDistance(feature=_PrecomputedFeatures(real.shape[1]))
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return max(0.0, float(metric.compute()))  # rounding can give a tiny negative number for identical sets


def kid_from_features(real: torch.Tensor, fake: torch.Tensor, subsets: int = 50, subset_size: int = 500,
                      seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance (mean and std over random subsets) on (N, F) features. Lower is better."""
    from torchmetrics.image.kid import KernelInceptionDistance  # here: see fid_from_features

    subset_size = min(subset_size, len(real), len(fake))
    metric = KernelInceptionDistance(feature=_PrecomputedFeatures(real.shape[1]), subsets=subsets,
                                     subset_size=subset_size)
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


def _kth_neighbour_radius(points: torch.Tensor, k: int, chunk: int = 1024) -> torch.Tensor:
    """Distance from each point to its k-th nearest other point in the same set: (N,)."""
    radii = []
    for block in points.split(chunk):
        distances = torch.cdist(block, points)  # (b, N); includes the point itself at distance 0
        radii.append(distances.kthvalue(k + 1, dim=1).values)
    return torch.cat(radii)


def _inside_any_ball(queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int = 1024
                     ) -> torch.Tensor:
    """For each query, whether it lies within radii[j] of some centre j: (Q,) bool."""
    inside = []
    for block in queries.split(chunk):
        inside.append((torch.cdist(block, centres) <= radii.unsqueeze(0)).any(dim=1))
    return torch.cat(inside)


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019, NeurIPS) on (N, F) feature sets.

    Each set's manifold is the union of balls reaching each point's k-th nearest neighbour. Precision: the
    share of fake points inside the real manifold (are samples realistic?). Recall: the share of real points
    inside the fake manifold (is the data's variety covered?). Both in [0, 1], higher is better."""
    real, fake = real.float(), fake.float()
    precision = _inside_any_ball(fake, real, _kth_neighbour_radius(real, k)).float().mean().item()
    recall = _inside_any_ball(real, fake, _kth_neighbour_radius(fake, k)).float().mean().item()
    return precision, recall


def class_coverage(predicted: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, float]:
    """Histogram of predicted classes (num_classes,) and its entropy in bits (log2(num_classes) is a uniform
    spread; 0 means every sample looks like one class: mode collapse)."""
    counts = torch.bincount(predicted, minlength=num_classes).float()  # (num_classes,)
    p = counts / counts.sum()
    entropy = -(p[p > 0] * p[p > 0].log2()).sum().item()
    return counts, max(0.0, entropy)


@torch.inference_mode()
def nearest_training_images(samples: torch.Tensor, train_images: torch.Tensor, chunk: int = 10000
                            ) -> tuple[torch.Tensor, torch.Tensor]:
    """For each sample, the index of the closest training image and their RMS pixel distance: (S,), (S,).

    A distance near 0 means the model copied a training image (memorisation)."""
    flat = samples.flatten(1).float()  # (S, D)
    best = torch.full((len(flat),), float("inf"))
    index = torch.zeros(len(flat), dtype=torch.long)
    for start in range(0, len(train_images), chunk):
        block = train_images[start:start + chunk].flatten(1).float()  # (b, D)
        distances, nearest = torch.cdist(flat, block).min(dim=1)  # (S,)
        better = distances < best
        best[better], index[better] = distances[better], nearest[better] + start
    return index, best / math.sqrt(flat.shape[1])
