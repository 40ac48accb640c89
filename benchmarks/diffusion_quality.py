"""Quality against steps and guidance, and sampling speed, of a diffusion or flow model, measured against the 16-D
VAE of the same data in the same run (the same features, the same number of samples).

    python benchmarks/diffusion_quality.py                                   # the shipped Fashion-MNIST model
    python benchmarks/diffusion_quality.py --checkpoint checkpoints/digits/flow-matching.safetensors \
        --baseline checkpoints/digits/vae-2d.safetensors
    python benchmarks/diffusion_quality.py --tables speed                    # one table only

Four tables:
- headline: FID of --headline-n samples (5,000, as on the Compare page) at the page's default steps and
  guidance, against the baseline's FID with the same N;
- steps: FID of --n samples at each of --steps, with the network evaluations per sample that costs;
- guidance: at the default steps, for each guidance scale: class accuracy (the shipped classifier gives the
  class asked for), FID, precision and recall (coverage; it falls as guidance narrows each class), and the mean
  entropy of the classifier's class probabilities (less doubt, clearer classes);
- speed: seconds for 16 samples at the default steps and guidance (median of --repeats), against the baseline's
  16 samples (one decoder pass) in the same run.
FID, precision and recall use the features of the dataset's shipped metrics classifier (genlab/evaluation).
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genlab.device import describe_device, pick_device  # noqa: E402
from genlab.evaluation.compare import load_reference  # noqa: E402
from genlab.evaluation.metrics import extract_features, fid_from_features, precision_recall  # noqa: E402
from genlab.models import ITERATIVE, get_kind  # noqa: E402
from genlab.models.loading import load_checkpoint  # noqa: E402


def draw(model, n: int, batch: int, **settings) -> torch.Tensor:
    """n samples (n, C, H, W) in batches, seeds 0, 1, 2, ... per batch (classes in turn for a conditional model)."""
    return torch.cat([model.sample(min(batch, n - start), start, **settings).float().cpu()
                      for start in range(0, n, batch)])


def scored(images: torch.Tensor, reference) -> dict:
    features = extract_features(reference.classifier, images)
    precision, recall = precision_recall(reference.test_features[:5000], features[:5000])
    return {"FID": fid_from_features(reference.test_features, features), "precision": precision, "recall": recall}


def one_dataset(paths: list[str], device) -> tuple[list, str]:
    """Load checkpoints that must all come from one dataset (one reference, one set of test features)."""
    loaded = [load_checkpoint(path, device=device) for path in paths]
    datasets = {checkpoint.card["dataset"] for checkpoint in loaded}
    if len(datasets) != 1:
        raise SystemExit(f"the checkpoints come from several datasets ({', '.join(sorted(datasets))}): give one")
    return loaded, datasets.pop()


def seconds(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def table(header: list[str], rows: list[list]) -> None:
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join("---" for _ in header) + " |")
    for row in rows:
        print("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) and abs(v) < 10 else
                                f"{v:.1f}" if isinstance(v, float) else str(v) for v in row) + " |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default="checkpoints/fashion-mnist/flow-matching.safetensors")
    parser.add_argument("--baseline", default="checkpoints/fashion-mnist/vae-16d.safetensors")
    parser.add_argument("--headline-n", type=int, default=5000)
    parser.add_argument("--n", type=int, default=2000, help="samples per row of the steps and guidance tables")
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 50, 25, 10, 5])
    parser.add_argument("--guidance", type=float, nargs="+", default=[0.0, 1.0, 1.5, 2.0, 3.0, 4.0])
    parser.add_argument("--tables", nargs="+", default=["headline", "steps", "guidance", "speed"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100, help="images per sampling call")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device()
    checkpoint = load_checkpoint(args.checkpoint, device=device)
    model, kind = checkpoint.model, get_kind(checkpoint.kind)
    if not kind.can(ITERATIVE):
        raise SystemExit(f"{args.checkpoint} holds a {kind.title}, which has no iterative sampler")
    baseline = load_checkpoint(args.baseline, device=device)
    reference = load_reference(checkpoint.card["dataset"], device)
    steps, guidance = model.default_steps, model.default_guidance if model.conditional else 1.0
    passes = lambda s, g: s * (2 if model.conditional and g not in (0.0, 1.0) else 1)  # noqa: E731
    print(f"{args.checkpoint} ({kind.title}) against {args.baseline} ({get_kind(baseline.kind).title}); "
          f"{describe_device(device)}, {args.threads} threads, {platform.processor() or platform.machine()}; "
          f"default {steps} steps, guidance scale {guidance:g}\n")

    if "headline" in args.tables:
        n = args.headline_n
        ours = scored(draw(model, n, args.batch), reference)
        theirs = scored(draw(baseline.model, n, 500), reference)
        print(f"FID with {n} samples each (same features, same test images):")
        table(["model", "network evaluations per sample", "FID", "precision", "recall"],
              [[checkpoint.card.get("title", kind.title), passes(steps, guidance), ours["FID"], ours["precision"],
                ours["recall"]],
               [baseline.card.get("title", baseline.kind), 1, theirs["FID"], theirs["precision"], theirs["recall"]]])

    if "steps" in args.tables:
        rows = []
        for s in args.steps:
            result = scored(draw(model, args.n, args.batch, steps=s, guidance=guidance), reference)
            rows.append([s, passes(s, guidance), result["FID"], result["precision"], result["recall"]])
        rows.append([f"{get_kind(baseline.kind).title} (baseline)", 1,
                     *scored(draw(baseline.model, args.n, 500), reference).values()])
        print(f"FID against steps ({args.n} samples each, guidance scale {guidance:g}):")
        table(["steps", "network evaluations per sample", "FID", "precision", "recall"], rows)

    if "guidance" in args.tables and model.conditional:
        rows = []
        classes = model.config.num_classes
        asked = torch.cat(  # draw() asks for the classes 0, 1, 2, ... in turn, batch by batch
            [torch.arange(min(args.batch, args.n - start)) % classes for start in range(0, args.n, args.batch)])
        for g in args.guidance:
            images = draw(model, args.n, args.batch, steps=steps, guidance=g)
            with torch.inference_mode():
                probabilities = torch.cat([reference.classifier(x.to(device)).softmax(1).cpu()
                                           for x in images.split(500)])  # (n, classes)
            accuracy = (probabilities.argmax(1) == asked).float().mean().item()
            entropy = -(probabilities * probabilities.clamp_min(1e-12).log2()).sum(1).mean().item()
            result = scored(images, reference)
            rows.append([g, passes(steps, g), accuracy, result["FID"], result["precision"], result["recall"], entropy])
        print(f"Guidance ({args.n} samples each, {steps} steps; s = 0 ignores the class, 1 is plain p(x | y)):")
        table(["guidance scale s", "network evaluations per sample", "class asked for", "FID", "precision", "recall",
               "classifier's doubt (bits)"], rows)

    if "speed" in args.tables:
        with torch.inference_mode():
            model.sample(16, 0)  # warm up
            ours = seconds(lambda: model.sample(16, 0), args.repeats)
            base = seconds(lambda: baseline.model.sample(16, 0), args.repeats)
        print(f"Speed (median of {args.repeats}):")
        table(["sampler", "network evaluations per sample", "16 samples (s)", "ratio to baseline"],
              [[f"{kind.title}, {steps} steps, s = {guidance:g}", passes(steps, guidance), ours, ours / base],
               [get_kind(baseline.kind).title, 1, base, 1.0]])


if __name__ == "__main__":
    main()
