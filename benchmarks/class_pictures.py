"""Do class pictures or more training make a PixelCNN's class-conditional samples recognisable? One run, two arms
from the same trained checkpoint, the same batches and the same number of steps: one grows class pictures
(`class_maps`, the location-dependent conditioning of van den Oord et al. 2016b), the other trains on as it is.

    git show f409389:checkpoints/fashion-mnist/pixelcnn.safetensors > /tmp/pixelcnn-without-pictures.safetensors
    python benchmarks/class_pictures.py /tmp/pixelcnn-without-pictures.safetensors --steps 1850

(f409389's file is the Fashion-MNIST PixelCNN as it shipped before it had class pictures: 95 minutes of training.)
Each arm then draws --samples class-conditional samples (classes in turn, seed 0, no guidance), and the dataset's
shipped classifier says how many are in the class asked for; beside it, -log p(x) on the first 1,000 test images.
The table also has the starting checkpoint's own row. Batches of 32 at lr 1e-3, as the shipped model's last run.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genlab.data import load_dataset  # noqa: E402
from genlab.device import describe_device  # noqa: E402
from genlab.evaluation.class_agreement import conditional_sample_accuracy  # noqa: E402
from genlab.evaluation.compare import load_reference  # noqa: E402
from genlab.models import get_kind  # noqa: E402
from genlab.models.loading import load_checkpoint  # noqa: E402


def grown(start, class_maps: int):
    """The starting model, with blank class pictures of `class_maps` channels (0: as it is)."""
    kind = get_kind("pixelcnn")
    model = kind.build(kind.config_from_dict({**asdict(start.config), "class_maps": class_maps}))
    model.load_state_dict(start.state_dict(), strict=not class_maps)  # the pictures are the only new weights
    return model


def train(model, images: torch.Tensor, labels: torch.Tensor, steps: int, batch: int, lr: float) -> float:
    """`steps` Adam steps on batches drawn with seed 0 (the same batches for every arm); returns seconds."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)  # the label dropout's draws
    model.train()
    started = time.perf_counter()
    for step in range(steps):
        index = torch.randint(len(images), (batch,), generator=generator)  # (B,)
        loss, _ = model.loss(images[index], labels[index])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), model.clip_grad_norm)
        optimizer.step()
        if (step + 1) % 200 == 0:
            print(f"  step {step + 1} of {steps}", file=sys.stderr)
    model.eval()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", help="a trained class-conditional gated PixelCNN without class pictures")
    parser.add_argument("--steps", type=int, default=1850)
    parser.add_argument("--class-maps", type=int, default=8)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()

    checkpoint = load_checkpoint(args.checkpoint, expect_kind="pixelcnn")
    dataset = checkpoint.card["dataset"]
    train_set, test = load_dataset(dataset, "train"), load_dataset(dataset, "test")
    classifier = load_reference(dataset).classifier
    rows = []
    arms = [("the checkpoint as it is", None), ("trained on, without class pictures", 0),
            (f"trained on, with {args.class_maps}-channel class pictures", args.class_maps)]
    for name, class_maps in arms:
        print(f"{name} ...", file=sys.stderr)
        model, seconds = checkpoint.model, 0.0
        if class_maps is not None:
            model = grown(checkpoint.model, class_maps)
            seconds = train(model, train_set.images, train_set.labels, args.steps, args.batch_size, args.lr)
        with torch.inference_mode():
            nll = -model.log_prob(test.images[:1000]).mean().item()  # nats per image, no label: p(x)
        accuracy = conditional_sample_accuracy(model, classifier, args.samples, seed=0).accuracy
        rows.append((name, seconds, nll / (test.images[0].numel() * math.log(2)), accuracy))

    print(f"{dataset}, from {args.checkpoint}: {args.steps} steps of {args.batch_size} per arm, lr {args.lr:g}, "
          f"{describe_device(torch.device('cpu'))}\n")
    print(f"| model | training (s) | bits/dim, first 1,000 test images | {args.samples} samples: class asked for |")
    print("| --- | --- | --- | --- |")
    for name, seconds, bits, accuracy in rows:
        print(f"| {name} | {seconds:.0f} | {bits:.4f} | {accuracy:.1%} |")


if __name__ == "__main__":
    main()
