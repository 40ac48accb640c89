"""Compare model families on the same data with the same seeds: one row of metrics per checkpoint.

Rows are cached on disk, keyed by the checkpoint file's content and the settings, so a second visit of the
Compare page, or a second `python -m genlab eval --all`, is instant. The rows of the shipped checkpoints at the
default settings ship with the repository (`checkpoints/compare/`, written by `python -m genlab eval --all
--dataset NAME --ship`), so the page's first visit only computes the models a user trained.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch

import genlab
from genlab import checkpoints
from genlab.checkpoints import CheckpointError, list_checkpoints
from genlab.classroom import short
from genlab.data import DATASETS, ImageDataset, load_dataset
from genlab.evaluation.metrics import (class_coverage, extract_features, fid_from_features, kid_from_features,
                                       nearest_training_images, precision_recall, predict_classes)
from genlab.images import grid, png_bytes
from genlab.models import FEATURES, SAMPLES, get_kind, kind_names_with
from genlab.models.base import count_parameters, evaluate_model, nats_to_bits_per_dim
from genlab.models.loading import load_checkpoint

Progress = Callable[[float, str], None]  # (fraction done, what is happening)
LIKELIHOOD_WORDS = {"exact": "exact", "bound": "ELBO (lower bound on log p(x))"}
GREY_SCORE_WORDS = "none: its training score on grey levels is no likelihood of the images"
BLACK_AND_WHITE = "black-and-white pixels (0 or 1)"

# What each metric means and which way is better: shown beside the table on the page and in the CLI.
METRIC_INFO = {
    "FID, same N": ("Frechet distance between Gaussians fitted to real and to generated classifier features, from "
                    "every column's first N samples, one N for all (the smaller sample count): the FID to compare "
                    "across columns.", "lower"),
    "FID": ("The same distance from all of the column's samples (its N row). FID falls as N grows, so compare it "
            "only between columns with the same N.", "lower"),
    "KID": ("Squared MMD between real and generated features; unbiased even for small N.", "lower"),
    "precision": ("Share of samples that land on the real images' manifold (are they realistic?). Fidelity only: "
                  "a sampler stuck on one realistic-looking image scores high, which recall exposes.", "higher"),
    "recall": ("Share of real images that land on the samples' manifold (is the variety covered?).", "higher"),
    "class entropy (bits)": ("Spread of predicted classes over samples; low means mode collapse (high does not rule "
                             "out collapse within a class).", "higher"),
    "nearest train (RMS)": ("Pixel distance from a sample to its closest training image; ~0 means copying.", "not ~0"),
    "bits/dim": ("−log₂ p(x) per pixel on test images: exact for autoregressive models, an upper bound for a VAE "
                 "(its true value is lower). Compare only columns with the same pixel values row; blank where the "
                 "score is no likelihood of these images.", "lower"),
    "IWAE bits/dim": ("Importance-weighted bound on the same, tighter than the ELBO (VAE only).", "lower"),
    "images/s": ("Sampling speed where the row was computed (the shipped rows: a shared 2-core CPU, so an order of "
                 "magnitude only).", "higher"),
    "parameters": ("Number of weights in the model.", "-"),
}


@dataclass(frozen=True)
class CompareSettings:
    samples: int = 5000  # generated images per model (VAE, GAN, diffusion), unless its sampler is pixel by pixel
    samples_autoregressive: int = 1000  # generated images per autoregressive model (one pass per pixel: slow)
    likelihood_images: int = 1000  # test images for bits/dim and IWAE
    iwae_k: int = 64  # importance samples for the IWAE bound
    seed: int = 0
    memorisation_samples: int = 8

    @property
    def same_n(self) -> int:
        """The one sample count every column's "FID, same N" uses."""
        return min(self.samples, self.samples_autoregressive)


def cache_dir() -> Path:
    return Path(os.environ.get("GENLAB_CACHE_DIR", genlab.ROOT / ".cache")) / "metrics"


def shipped_rows_dir() -> Path:
    """Rows of the shipped checkpoints (GENLAB_SHIPPED_ROWS points elsewhere, e.g. an empty folder to time the
    computation itself)."""
    return Path(os.environ.get("GENLAB_SHIPPED_ROWS", checkpoints.SHIPPED_DIR / "compare"))


def _cache_key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def cached_row(key: str) -> dict | None:
    """A row computed before with the same inputs (on this machine, or shipped with the repository), or None."""
    for folder in (cache_dir(), shipped_rows_dir()):
        try:
            return json.loads((folder / f"{key}.json").read_text())
        except (OSError, json.JSONDecodeError):
            continue
    return None


def ship_row(key: str, row: dict) -> Path:
    """Write a shipped checkpoint's row into the repository's folder of shipped rows, its path relative to the
    repository so that it reads the same on any clone."""
    row = dict(row)
    if row.get("path"):
        path = Path(row["path"])
        row["path"] = str(path.relative_to(genlab.ROOT)) if path.is_relative_to(genlab.ROOT) else str(path)
    target = shipped_rows_dir() / f"{key}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(row, indent=0, sort_keys=True) + "\n")
    return target


def _cached(key: str, compute: Callable[[], dict]) -> dict:
    row = cached_row(key)
    if row is not None:
        return row
    path = cache_dir() / f"{key}.json"
    row = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(row))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only or full disk only costs the cache
    return row


def _file_identity(path: Path) -> str:
    """The file's content hash: the same checkpoint gives the same cache entry on any clone."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def shipped_row_keys(settings: CompareSettings | None = None) -> dict[str, str]:
    """The key of every row that should ship, at the default settings: the real-data and noise rows of each
    dataset with a shipped generative checkpoint, and each such checkpoint's row, against what it is the row of."""
    settings = settings or CompareSettings()
    keys = {}
    for info in list_checkpoints(kinds=kind_names_with(SAMPLES), folders=[(checkpoints.SHIPPED_DIR, "shipped")]):
        if info.card is None or metrics_classifier(info.dataset) is None:
            continue  # no classifier to score it with: the page says so instead of showing a row
        keys[checkpoint_row_key(info.path, info.dataset, settings)] = str(info.path.relative_to(genlab.ROOT))
        keys[real_row_key(info.dataset, settings)] = f"{info.dataset}: real data"
        keys[noise_row_key(info.dataset, settings)] = f"{info.dataset}: pure noise"
    return keys


def stale_shipped_rows() -> list[Path]:
    """Shipped rows that no shipped checkpoint makes any more (it was retrained, or genlab's version moved on)."""
    wanted = shipped_row_keys()
    return sorted(p for p in shipped_rows_dir().glob("*.json") if p.stem not in wanted)


def metrics_classifier(dataset: str):
    """The checkpoint of the classifier whose features score `dataset` (its parent's for derived images, such
    as binarized digits), or None."""
    found = list_checkpoints(kinds=kind_names_with(FEATURES), dataset=dataset)
    parent = DATASETS[dataset].derived_from if dataset in DATASETS else None
    if not found and parent:  # images derived from another set (binarized digits) are scored by its classifier
        found = list_checkpoints(kinds=kind_names_with(FEATURES), dataset=parent)
    return found[0] if found else None


def _scored_by(dataset: str) -> str:
    """Which classifier file scores the rows: a retrained classifier makes every row anew."""
    info = metrics_classifier(dataset)
    return _file_identity(info.path) if info else "none"


def real_row_key(dataset: str, settings: CompareSettings) -> str:
    return _cache_key("real", dataset, _scored_by(dataset), asdict(settings), genlab.__version__)


def noise_row_key(dataset: str, settings: CompareSettings) -> str:
    return _cache_key("noise", dataset, _scored_by(dataset), asdict(settings), genlab.__version__)


def checkpoint_row_key(path: Path, dataset: str, settings: CompareSettings) -> str:
    return _cache_key("checkpoint", _file_identity(Path(path)), _scored_by(dataset), asdict(settings),
                      genlab.__version__)


def cached_rows(dataset: str, paths: list[Path], settings: CompareSettings) -> list[dict] | None:
    """Every row of the comparison (real data, each checkpoint, noise) when all are already on disk or shipped,
    so the page can show them without loading the data or the classifier; else None."""
    keys = [real_row_key(dataset, settings), *(checkpoint_row_key(p, dataset, settings) for p in paths),
            noise_row_key(dataset, settings)]
    rows = [cached_row(k) for k in keys]
    return None if any(row is None for row in rows) else rows


def sample_count(kind: str, settings: CompareSettings) -> int:
    """Fewer samples for a kind whose sampler is slow (one network pass per pixel or per step)."""
    return settings.samples_autoregressive if get_kind(kind).slow_sampler else settings.samples


@dataclass
class Reference:
    """Real images and their features that every column is compared against."""
    dataset: str
    test: ImageDataset
    train: ImageDataset
    classifier: torch.nn.Module
    test_features: torch.Tensor  # (N_test, F)


def load_reference(dataset: str, device: str | torch.device = "cpu") -> Reference:
    """The dataset's shipped metrics classifier and the features of its test split."""
    found = metrics_classifier(dataset)
    if found is None:
        names = " or ".join(sorted(kind_names_with(FEATURES)))
        raise CheckpointError(f"No metrics classifier for {dataset}, so its samples cannot be scored (for the "
                              f"teacher: `python -m genlab train {names} --dataset {dataset}` makes one).")
    classifier = load_checkpoint(found.path, device=device).model
    test, train = load_dataset(dataset, "test"), load_dataset(dataset, "train")
    return Reference(dataset, test, train, classifier, extract_features(classifier, test.images))


def quality_metrics(images: torch.Tensor, reference: Reference, settings: CompareSettings) -> dict:
    """The sample-quality half of a row: FID, KID, precision/recall, class coverage, memorisation."""
    features = extract_features(reference.classifier, images)
    kid_mean, kid_std = kid_from_features(reference.test_features, features, seed=settings.seed)
    precision, recall = precision_recall(reference.test_features[:5000], features[:5000])
    counts, entropy = class_coverage(predict_classes(reference.classifier, features), len(reference.test.class_names))
    _, distances = nearest_training_images(images[:settings.memorisation_samples], reference.train.images)
    grid_png = base64.b64encode(png_bytes(grid(images[:36], nrow=6, scale=2))).decode()  # same seed, every column
    same_n = features[:settings.same_n]  # (N, F): the first N samples of every column
    return {"FID, same N": fid_from_features(reference.test_features, same_n), "same N": len(same_n),
            "FID": fid_from_features(reference.test_features, features), "KID": kid_mean, "KID std": kid_std,
            "precision": precision, "recall": recall, "class entropy (bits)": entropy,
            "class counts": counts.int().tolist(), "nearest train (RMS)": distances.mean().item(),
            "samples": len(images), "grid_png": grid_png}


def real_data_row(reference: Reference, settings: CompareSettings) -> dict:
    """Held-out real images scored like a model: the best a model can hope for with this many samples."""
    def compute():
        g = torch.Generator().manual_seed(settings.seed)
        n = min(settings.samples, len(reference.train))
        images = reference.train.images[torch.randperm(len(reference.train), generator=g)[:n]]
        row = quality_metrics(images, reference, settings)
        row.update({"name": "real data (training images)", "kind": "real", "family": "the data itself",
                    "nearest train (RMS)": None})  # they are training images: their distance is 0 by definition
        return row
    return _cached(real_row_key(reference.dataset, settings), compute)


def noise_row(reference: Reference, settings: CompareSettings) -> dict:
    """Uniform noise images: the worst case, to check that the metrics order things the right way round."""
    def compute():
        g = torch.Generator().manual_seed(settings.seed)
        images = torch.rand(settings.samples, *reference.test.image_shape, generator=g)
        row = quality_metrics(images, reference, settings)
        row.update({"name": "pure noise", "kind": "noise", "family": "uniform random pixels"})
        return row
    return _cached(noise_row_key(reference.dataset, settings), compute)


def checkpoint_row(path: Path, reference: Reference, settings: CompareSettings, device="cpu",
                   progress: Progress | None = None) -> dict:
    """Sample from a checkpoint, score the samples, and add its likelihood where the model has one."""
    path = Path(path)

    def compute():
        report = progress or (lambda fraction, message: None)
        checkpoint = load_checkpoint(path, device=device)
        model, kind = checkpoint.model, get_kind(checkpoint.kind)
        n = sample_count(checkpoint.kind, settings)
        chunks, done, start = [], 0, time.perf_counter()
        batch = kind.sample_batch
        while done < n:
            size = min(batch, n - done)
            report(0.8 * done / n, f"sampling {done}/{n} images")
            chunks.append(model.sample(size, settings.seed + done).float().cpu())
            done += size
        sampling_s = time.perf_counter() - start
        images = torch.cat(chunks)  # (n, C, H, W)
        report(0.8, "scoring the samples")
        row = quality_metrics(images, reference, settings)
        row.update({"name": short(checkpoint.card.get("title", path.stem)), "kind": checkpoint.kind,
                    "family": kind.family, "path": str(path), "images/s": n / sampling_s,
                    "parameters": count_parameters(model)})
        if kind.reports_likelihood:
            report(0.9, "computing the likelihood on test images")
            subset = _subset(reference.test, settings.likelihood_images)
            metrics = evaluate_model(model, subset, device)
            nll = metrics.get(kind.likelihood_metric) if kind.likelihood_metric else None
            dims = subset.images[0].numel()
            black_and_white = bool(((subset.images == 0) | (subset.images == 1)).all())
            if nll is not None and not black_and_white and not kind.likelihood_on_grey:
                row["likelihood"] = GREY_SCORE_WORDS  # e.g. a VAE's Bernoulli decoder on grey levels
                row["discretisation"] = "grey levels, scored as if black or white"
            elif nll is not None:
                row["bits/dim"] = nats_to_bits_per_dim(nll, dims)
                row["likelihood"] = LIKELIHOOD_WORDS[kind.likelihood]
                row["discretisation"] = (BLACK_AND_WHITE if black_and_white
                                         else kind.data_discretisation(model.config))
            if "bits/dim" in row and hasattr(model, "importance_weighted_bound"):
                g = torch.Generator(device=device).manual_seed(settings.seed)
                bound = torch.cat([model.importance_weighted_bound(x.to(device), settings.iwae_k, g).cpu()
                                   for x in subset.images.split(100)])  # (N,) lower bounds on log p(x)
                row["IWAE bits/dim"] = nats_to_bits_per_dim(-bound.mean().item(), dims)
        else:
            row["likelihood"] = kind.no_likelihood
        report(1.0, "done")
        return row

    return _cached(checkpoint_row_key(path, reference.dataset, settings), compute)


def _subset(dataset: ImageDataset, n: int) -> ImageDataset:
    return ImageDataset(dataset.name, dataset.split, dataset.images[:n], dataset.labels[:n], dataset.class_names,
                        dataset.source)


def generative_checkpoints(dataset: str, private: str | None = None):
    """Every readable checkpoint of a kind that samples images, trained on `dataset` (shipped first, then the
    shared user files, then the private ones of the student `private`)."""
    return [c for c in list_checkpoints(kinds=kind_names_with(SAMPLES), dataset=dataset, private=private)
            if c.card is not None]


def format_value(name: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if name in ("parameters", "samples"):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)
