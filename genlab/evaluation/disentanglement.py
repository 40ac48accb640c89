"""How well does each latent dimension capture one known factor of the data? A factor x dimension matrix and the
mutual information gap (MIG).

Chen, Li, Grosse & Duvenaud, "Isolating Sources of Disentanglement in Variational Autoencoders", NeurIPS 2018.
For each factor v_k, the mutual information I(z_d; v_k) with every latent dimension d (here by histograms:
each code dimension and each continuous factor cut into equal-width bins). MIG averages, over the factors, the
gap between the most and the second most informative dimension, divided by the factor's entropy:

    MIG = 1/K sum_k ( I(z_a; v_k) - I(z_b; v_k) ) / H(v_k),   a, b the two dimensions with most information

1 means one dimension per factor and no other dimension knowing it; 0 means no single dimension stands out.
Beside it, a plainer question a student can check with the sliders: how well does ONE dimension predict a
factor on its own (R^2 of the factor's mean in each bin of that dimension; for a category, the accuracy of the
most common one in each bin).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from genlab.data import CATEGORICAL_FACTORS, ImageDataset, where_factors_apply
from genlab.models.base import encode_codes

BINS = 20  # histogram bins per code dimension and per continuous factor


def _bin(values: torch.Tensor, bins: int = BINS) -> torch.Tensor:
    """(N,) values -> (N,) bin indices 0 .. bins-1, equal-width between the 1st and 99th percentile (outliers go
    to the end bins)."""
    low, high = torch.quantile(values, 0.01), torch.quantile(values, 0.99)
    if high <= low:
        return torch.zeros_like(values, dtype=torch.long)
    return ((values - low) / (high - low) * bins).long().clamp(0, bins - 1)


def _mutual_information(a: torch.Tensor, b: torch.Tensor) -> float:
    """I(a; b) in nats of two (N,) integer labellings, from their joint histogram."""
    joint = torch.zeros(int(a.max()) + 1, int(b.max()) + 1, dtype=torch.float64)  # (A, B)
    joint.index_put_((a, b), torch.ones(len(a), dtype=torch.float64), accumulate=True)
    joint /= joint.sum()
    pa, pb = joint.sum(1, keepdim=True), joint.sum(0, keepdim=True)  # (A, 1), (1, B)
    nonzero = joint > 0
    return float((joint[nonzero] * (joint[nonzero] / (pa @ pb)[nonzero]).log()).sum())


def _entropy(a: torch.Tensor) -> float:
    p = torch.bincount(a).double()
    p = p[p > 0] / len(a)
    return float(-(p * p.log()).sum())


@dataclass
class FactorMatrix:
    factor_names: list[str]
    mutual_information: torch.Tensor  # (K factors, D dimensions), nats
    entropy: torch.Tensor  # (K,) H(v_k) of each (binned) factor, nats
    one_dimension_fit: torch.Tensor  # (K, D): R^2 (continuous factors) or accuracy (categories) from that dimension alone

    @property
    def normalised(self) -> torch.Tensor:
        """I(z_d; v_k) / H(v_k): the share of each factor's uncertainty a dimension removes, (K, D) in [0, 1]."""
        return self.mutual_information / self.entropy.clamp_min(1e-12)[:, None]

    @property
    def gaps(self) -> torch.Tensor:
        """Per factor: (top - second) normalised mutual information, (K,)."""
        top2 = self.normalised.topk(min(2, self.normalised.shape[1]), dim=1).values  # (K, 2)
        return top2[:, 0] - (top2[:, 1] if top2.shape[1] > 1 else 0)

    @property
    def mig(self) -> float:
        return self.gaps.mean().item()

    def best_dimension(self, factor: int) -> int:
        """The dimension that predicts this factor best on its own."""
        return int(self.one_dimension_fit[factor].argmax())


def _one_dimension_fit(code: torch.Tensor, factor: torch.Tensor, categorical: bool) -> float:
    """How well one code dimension (N,) predicts a factor (N,) through its bins: R^2 of the per-bin mean, or the
    accuracy of the per-bin most common category."""
    bins = _bin(code)
    if categorical:
        labels = factor.long()
        right = 0
        for b in bins.unique():
            right += torch.bincount(labels[bins == b]).max().item()
        return right / len(labels)
    sums = torch.zeros(BINS, dtype=torch.float64).index_add_(0, bins, factor.double())
    counts = torch.zeros(BINS, dtype=torch.float64).index_add_(0, bins, torch.ones_like(factor, dtype=torch.float64))
    predicted = (sums / counts.clamp_min(1))[bins]  # (N,) the factor's mean in each point's bin
    total = ((factor.double() - factor.double().mean()) ** 2).sum()
    return float(1 - ((factor.double() - predicted) ** 2).sum() / total) if total > 0 else 0.0


def factor_matrix(codes: torch.Tensor, factors: torch.Tensor, factor_names: list[str],
                  categorical: frozenset[str] = CATEGORICAL_FACTORS, include: dict[str, torch.Tensor] | None = None
                  ) -> FactorMatrix:
    """codes (N, D) (encoder means), factors (N, K) with names; `categorical` factors are used as they are, the
    others binned. include: per factor, a (N,) mask of the images that count for it (rotation: not for circles,
    which have none)."""
    codes, factors = codes.float().cpu(), factors.float().cpu()
    binned_codes = [_bin(codes[:, d]) for d in range(codes.shape[1])]
    k, d = factors.shape[1], codes.shape[1]
    mi, fit, entropy = torch.zeros(k, d), torch.zeros(k, d), torch.zeros(k)
    for i, name in enumerate(factor_names):
        keep = (include or {}).get(name, torch.ones(len(codes), dtype=torch.bool))
        column = factors[keep, i]
        label = column.long() if name in categorical else _bin(column)
        entropy[i] = _entropy(label)
        for j in range(d):
            mi[i, j] = _mutual_information(binned_codes[j][keep], label)
            fit[i, j] = _one_dimension_fit(codes[keep, j], column, name in categorical)
    return FactorMatrix(list(factor_names), mi, entropy, fit)


def factors_of_model(model, dataset: ImageDataset) -> FactorMatrix:
    """The factor matrix of a latent model's codes (encoder means) on a data set with known factors."""
    if dataset.factors is None:
        raise ValueError(f"{dataset.name} has no known factors: pick a model trained on shapes")
    codes = encode_codes(model, dataset.images)  # (N, D)
    return factor_matrix(codes, dataset.factors, dataset.factor_names, include=where_factors_apply(dataset))
