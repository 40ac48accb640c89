"""Training throughput of every autoregressive kind (images per second of one training step), against a PixelCNN
in the style of pytorch-generative measured in the same run.

    python benchmarks/autoregressive_training.py                   # 3 interleaved rounds of 4 s per row
    python benchmarks/autoregressive_training.py --threads 1 --rounds 5

Baseline: pytorch-generative's PixelCNN (EugenHotaj/pytorch-generative, pixel_cnn.py) rebuilt below from its
description, not imported: a 7x7 mask-A convolution, 15 residual blocks of 32 channels (ReLU, 1x1 to 16, ReLU,
3x3 mask B, ReLU, 1x1 back to 32, added to the input), a head of two 1x1 convolutions, Bernoulli output on
binarized 28x28 images, Adam, batch 256 (as the issue asks; genlab's rows train at batch 32, as the shipped
checkpoints did, so the ratio includes the batch size's effect). genlab's rows: every autoregressive kind with the
configs of its shipped checkpoints (the binarized-digits ones and the Fashion-MNIST PixelCNN with its logistic
mixture), on random binary images, so only the forward and backward passes are timed. The measuring loop and the table are
those of benchmarks/train_throughput.py.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_throughput import Row, measure  # noqa: E402

from genlab.device import describe_device, pick_device  # noqa: E402
from genlab.models import AUTOREGRESSIVE, kinds_with  # noqa: E402
from genlab.models.base import count_parameters  # noqa: E402

CONFIGS = {  # kind -> configs to time (a kind missing here uses its defaults)
    "pixelcnn": [dict(output="bernoulli", num_classes=10, layers=12),
                 dict(variant="plain", output="bernoulli", layers=12),
                 dict(output="logistic", num_classes=10)],  # the Fashion-MNIST one
    "pixelrnn": [dict(variant="row"), dict(variant="diagonal")],
}


# -- the baseline, rebuilt from pytorch-generative's description ----------------------------------------
class CausalConv(nn.Conv2d):
    def __init__(self, c_in: int, c_out: int, k: int, include_centre: bool):
        super().__init__(c_in, c_out, k, padding=k // 2)
        mask = torch.ones(k, k)
        mask[k // 2, k // 2 + int(include_centre):] = 0
        mask[k // 2 + 1:] = 0
        self.register_buffer("mask", mask[None, None])

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class ResidualBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.net = nn.Sequential(nn.ReLU(), nn.Conv2d(c, c // 2, 1), nn.ReLU(), CausalConv(c // 2, c // 2, 3, True),
                                 nn.ReLU(), nn.Conv2d(c // 2, c, 1))

    def forward(self, x):
        return x + self.net(x)


def pytorch_generative_pixelcnn(device: torch.device) -> Row:
    channels, batch = 32, 256
    net = nn.Sequential(CausalConv(1, channels, 7, False), *[ResidualBlock(channels) for _ in range(15)],
                        nn.ReLU(), nn.Conv2d(channels, 32, 1), nn.ReLU(), nn.Conv2d(32, 1, 1)).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step(images: torch.Tensor) -> None:
        x = (images > 0.5).float()
        loss = F.binary_cross_entropy_with_logits(net(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return Row("PixelCNN, pytorch-generative style (15 blocks x 32)", (1, 28, 28), batch, count_parameters(net), step,
               baseline=True)


def genlab_rows(device: torch.device) -> list[Row]:
    rows = []
    for kind in kinds_with(AUTOREGRESSIVE):
        for changes in CONFIGS.get(kind.name, [{}]):
            model = kind.build(kind.config_cls(**changes)).to(device).train()
            optimizers = model.make_optimizers()
            labels = torch.zeros(32, dtype=torch.long, device=device)
            step = (lambda m, o: lambda images: m.train_step((images > 0.5).float(), labels, o))(model, optimizers)
            name = model.describe().split(";")[0] + (", logistic mixture" if changes.get("output") == "logistic" else "")
            rows.append(Row(name, (1, 28, 28), 32, count_parameters(model), step))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    device = pick_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = [pytorch_generative_pixelcnn(device), *genlab_rows(device)]
    results: dict[int, list[tuple[float, float]]] = {i: [] for i in range(len(rows))}
    for round_index in range(args.rounds):
        for i, row in enumerate(rows):
            results[i].append(measure(row, device, args.seconds))
        print(f"round {round_index + 1}/{args.rounds} done", file=sys.stderr)
    medians = {i: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
               for i, runs in results.items()}
    base_wall, base_cpu = medians[0]
    print(f"Autoregressive training throughput on {describe_device(device)}, median of {args.rounds} rounds of "
          f"{args.seconds:g} s (torch {torch.__version__})\n")
    print("| model | batch | params | images/s | ratio | images/CPU-s | ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for i, row in enumerate(rows):
        wall, cpu = medians[i]
        ratios = ["baseline"] * 2 if row.baseline else [f"{wall / base_wall:.2f}x", f"{cpu / base_cpu:.2f}x"]
        print(f"| {row.name} | {row.batch_size} | {row.parameters:,} | {wall:.0f} | {ratios[0]} | {cpu:.0f} | "
              f"{ratios[1]} |")


if __name__ == "__main__":
    main()
