"""One likelihood table on one protocol: every checkpoint of a data set that has a likelihood, scored on the same
test images in the same unit (nats per image), beside the independent-pixel baseline.

Exact likelihoods (NADE, PixelRNN, PixelCNN) are -log p(x); a VAE gives bounds: its negative ELBO and the
tighter importance-weighted bound (IWAE, k samples), both upper bounds on its -log p(x). Only images that are
black and white (binarized digits) make the rows comparable; a model that would quantize them to other values is
left out with a reason.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from genlab.checkpoints import list_checkpoints
from genlab.data import load_dataset
from genlab.evaluation.likelihood_baselines import independent_pixels_nll
from genlab.models import BOUND, EXACT, SAMPLES, get_kind, kind_names_with
from genlab.models.base import count_parameters, evaluate_model
from genlab.models.loading import load_checkpoint


@dataclass
class LikelihoodRow:
    name: str  # the model's title
    nats: float  # -log p(x) (or its upper bound) per test image
    measure: str  # "exact", "bound: -ELBO", "bound: IWAE, k = 1000"
    parameters: int


@dataclass
class LikelihoodTable:
    dataset: str
    images: int
    source: str
    rows: list[LikelihoodRow]  # best (lowest) first
    left_out: list[str]  # "title: why"


@torch.inference_mode()
def iwae_nats(model, images: torch.Tensor, k: int, seed: int = 0, batch: int = 10) -> float:
    """-log p(x) bound per image from the importance-weighted bound with k samples (model.importance_weighted_bound)."""
    device = next(model.parameters()).device
    g = torch.Generator(device=device).manual_seed(seed)
    total = 0.0
    for chunk in images.split(batch):
        total -= model.importance_weighted_bound(chunk.to(device), k, generator=g).sum().item()
    return total / len(images)


def likelihood_table(dataset: str, device: str | torch.device = "cpu", iwae_k: int = 1000,
                     progress=lambda text: None) -> LikelihoodTable:
    train, test = load_dataset(dataset, "train"), load_dataset(dataset, "test")
    if not set(test.images.unique().tolist()) <= {0.0, 1.0}:
        raise ValueError(f"the test images of {dataset} are not black and white, so a Bernoulli model and a "
                         "grey-level model would be scored on different data; use --dataset binary-digits")
    rows = [LikelihoodRow("independent pixels (baseline)", independent_pixels_nll(train, test), "exact",
                          test.images[0].numel())]
    left_out = []
    for info in list_checkpoints(kinds=kind_names_with(SAMPLES), dataset=dataset):
        if info.card is None:
            left_out.append(f"{info.path.name}: {info.error or 'its model card cannot be read'}")
            continue
        kind = get_kind(info.kind)
        if kind.likelihood not in (EXACT, BOUND):
            continue
        title = info.card.get("title", info.path.stem)
        checkpoint = load_checkpoint(info.path, device=device)
        model = checkpoint.model
        if hasattr(model, "quantize") and not torch.equal(model.quantize(test.images[:100]), test.images[:100]):
            left_out.append(f"{title}: it quantizes these images to other values, so its likelihood is of "
                            "different data")
            continue
        progress(f"scoring {title}")
        metrics = evaluate_model(model, test, device)
        measure = "exact" if kind.likelihood == EXACT else "bound: −ELBO"
        rows.append(LikelihoodRow(title, metrics[kind.likelihood_metric], measure, count_parameters(model)))
        if iwae_k > 1 and hasattr(model, "importance_weighted_bound"):
            progress(f"IWAE bound of {title}, k = {iwae_k}")
            rows.append(LikelihoodRow(title, iwae_nats(model, test.images, iwae_k), f"bound: IWAE, k = {iwae_k}",
                                      count_parameters(model)))
    return LikelihoodTable(dataset, len(test), test.source, sorted(rows, key=lambda r: r.nats), left_out)
