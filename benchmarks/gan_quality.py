"""Sample quality of GAN checkpoints side by side, measured the same way in one run: FID, precision and recall of
N samples on the features of the dataset's shipped metrics classifier, and for a class-conditional generator the
share of 1,000 samples the classifier puts in the class asked for (classes in turn).

    python benchmarks/gan_quality.py checkpoints/fashion-mnist/dcgan.safetensors \
        checkpoints/fashion-mnist/conditional-gan.safetensors
    python benchmarks/gan_quality.py --n 5000 checkpoints/digits/*gan*.safetensors

Every checkpoint must be of the same dataset (one reference, one set of test features).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from diffusion_quality import draw, one_dataset, scored, table  # noqa: E402  (same folder: one way to score samples)

from genlab.device import describe_device, pick_device  # noqa: E402
from genlab.evaluation.class_agreement import conditional_sample_accuracy  # noqa: E402
from genlab.evaluation.compare import load_reference  # noqa: E402
from genlab.models import CONDITIONAL, get_kind  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--n", type=int, default=5000, help="samples per model for FID, precision and recall")
    parser.add_argument("--class-n", type=int, default=1000, help="samples per conditional model for the class share")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device()
    loaded, dataset = one_dataset(args.checkpoints, device)
    reference = load_reference(dataset, device)
    print(f"{dataset}: {args.n} samples per model, features of the shipped classifier; {describe_device(device)}, "
          f"{args.threads} threads\n")
    rows = []
    for path, checkpoint in zip(args.checkpoints, loaded):
        model, kind = checkpoint.model, get_kind(checkpoint.kind)
        result = scored(draw(model, args.n, 500), reference)
        share = "-"
        if kind.can(CONDITIONAL) and model.config.num_classes:
            share = conditional_sample_accuracy(model, reference.classifier, args.class_n).accuracy
        rows.append([Path(path).name, kind.title, checkpoint.card.get("steps", "?"),
                     round(checkpoint.card.get("wall_time_s", 0) / 60, 1), result["FID"], result["precision"],
                     result["recall"], share])
    table(["checkpoint", "kind", "steps", "training minutes", "FID", "precision", "recall",
           f"class asked for ({args.class_n} samples)"], rows)


if __name__ == "__main__":
    main()
