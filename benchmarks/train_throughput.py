"""Training throughput: images per second of one training step, for each model kind, on the current device.

    python benchmarks/train_throughput.py                 # every row, 3 rounds of 4 s each
    python benchmarks/train_throughput.py --rounds 5 --seconds 6 --device cpu --threads 1

Each row is one model at its training resolution and batch size, fed random tensors (so only the model's
forward and backward passes are timed, not data loading). Rows are measured in interleaved rounds and the
median is reported, so a busy shared machine slows every row alike; the ratio columns compare each row with
the baseline measured in the same run. Images per CPU-second (this process's CPU time, all its threads) is
the steadier figure on a shared machine; on a busy one, --threads 1 avoids threads waiting for each other.

Baseline: the DCGAN of pytorch/examples (dcgan/main.py), re-implemented below from its published
description: 64x64 RGB images, nz=100, ngf=ndf=64, five ConvTranspose2d layers in G and five Conv2d layers in
D with batch norm, BCE loss, Adam lr 2e-4 betas (0.5, 0.999), batch 64, one D step then one G step.

To add a model: write a function that returns a Row and add it to ROWS.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genlab.device import describe_device, pick_device  # noqa: E402
from genlab.models.base import count_parameters  # noqa: E402
from genlab.models.dcgan import DCGAN, DCGANConfig  # noqa: E402


@dataclass
class Row:
    name: str
    image_shape: tuple[int, int, int]  # (C, H, W)
    batch_size: int
    parameters: int
    step: Callable[[torch.Tensor], None]  # one training step on a batch of images in [0, 1]
    baseline: bool = False


# -- the baseline: pytorch/examples DCGAN, rebuilt from its description ------------------------------------
class ExamplesGenerator(nn.Module):
    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3):
        super().__init__()
        widths = [ngf * 8, ngf * 4, ngf * 2, ngf]  # 512, 256, 128, 64 channels at 4, 8, 16, 32 pixels
        layers: list[nn.Module] = [nn.ConvTranspose2d(nz, widths[0], 4, 1, 0, bias=False),
                                   nn.BatchNorm2d(widths[0]), nn.ReLU(True)]
        for c_in, c_out in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]  # (N, 3, 64, 64)
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(z)


class ExamplesDiscriminator(nn.Module):
    def __init__(self, ndf: int = 64, nc: int = 3):
        super().__init__()
        widths = [ndf, ndf * 2, ndf * 4, ndf * 8]  # 64, 128, 256, 512 channels at 32, 16, 8, 4 pixels
        layers: list[nn.Module] = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        for c_in, c_out in zip(widths, widths[1:]):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out),
                       nn.LeakyReLU(0.2, inplace=True)]
        layers += [nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False), nn.Sigmoid()]  # (N, 1, 1, 1)
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).view(-1)


def pytorch_examples_dcgan(device: torch.device) -> Row:
    nz, batch = 100, 64
    netG, netD = ExamplesGenerator(nz).to(device), ExamplesDiscriminator().to(device)
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCELoss()

    def step(images: torch.Tensor) -> None:
        real = images * 2 - 1
        ones = torch.ones(len(real), device=device)
        zeros = torch.zeros(len(real), device=device)
        netD.zero_grad()
        bce(netD(real), ones).backward()  # D on real images
        fake = netG(torch.randn(len(real), nz, 1, 1, device=device))
        bce(netD(fake.detach()), zeros).backward()  # D on fakes
        optD.step()
        netG.zero_grad()
        bce(netD(fake), ones).backward()  # G: make D say "real"
        optG.step()

    return Row("DCGAN, pytorch/examples (64x64x3, nz 100, ngf=ndf=64)", (3, 64, 64), batch,
               count_parameters(netG) + count_parameters(netD), step, baseline=True)


# -- genlab's models ---------------------------------------------------------------------------------------
def genlab_dcgan(batch: int) -> Callable[[torch.device], Row]:
    def build(device: torch.device) -> Row:
        config = DCGANConfig()
        model = DCGAN(config).to(device).train()
        optimizers = model.make_optimizers()
        return Row(f"DCGAN, genlab (28x28x1, latent {config.latent_dim}, width {config.width})",
                   (1, 28, 28), batch, count_parameters(model),
                   lambda images: model.train_step(images, None, optimizers))
    return build


ROWS: list[Callable[[torch.device], Row]] = [
    pytorch_examples_dcgan,
    genlab_dcgan(32),  # the batch size of the shipped checkpoints
    genlab_dcgan(64),
    genlab_dcgan(128),
]


def measure(row: Row, device: torch.device, seconds: float) -> tuple[float, float]:
    """Images per second of wall time and per second of this process's CPU time, over about `seconds`
    (after one warm-up step). On a shared machine the CPU-time figure is the steadier one."""
    images = torch.rand(row.batch_size, *row.image_shape, device=device)
    row.step(images)  # warm-up: allocations, cuDNN autotuning
    _sync(device)
    steps, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while True:
        row.step(images)
        steps += 1
        _sync(device)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and steps >= 3:
            seen = steps * row.batch_size
            return seen / elapsed, seen / max(time.process_time() - cpu_start, 1e-9)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default=None, help="cpu or cuda (default: the fastest available)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is reported")
    parser.add_argument("--seconds", type=float, default=4.0, help="timed seconds per row per round")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's)")
    args = parser.parse_args()
    device = pick_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = [build(device) for build in ROWS]
    results: dict[str, list[tuple[float, float]]] = {row.name + str(row.batch_size): [] for row in rows}
    for round_index in range(args.rounds):
        for row in rows:
            results[row.name + str(row.batch_size)].append(measure(row, device, args.seconds))
        print(f"round {round_index + 1}/{args.rounds} done", file=sys.stderr)
    def medians(row: Row) -> tuple[float, float]:
        runs = results[row.name + str(row.batch_size)]
        return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)

    base_wall, base_cpu = next(medians(r) for r in rows if r.baseline)
    print(f"Training throughput on {describe_device(device)}, median of {args.rounds} rounds of {args.seconds:g} s "
          f"(torch {torch.__version__})\n")
    print(f"| {'model':<54} | {'batch':>5} | {'params':>9} | {'images/s':>8} | {'ratio':>8} "
          f"| {'images/CPU-s':>12} | {'ratio':>8} |")
    print(f"|{'-' * 56}|{'-' * 7}|{'-' * 11}|{'-' * 10}|{'-' * 10}|{'-' * 14}|{'-' * 10}|")
    for row in rows:
        wall, cpu = medians(row)
        ratios = ["baseline"] * 2 if row.baseline else [f"{wall / base_wall:.1f}x", f"{cpu / base_cpu:.1f}x"]
        print(f"| {row.name:<54} | {row.batch_size:>5} | {row.parameters:>9,} | {wall:>8.0f} | {ratios[0]:>8} "
              f"| {cpu:>12.0f} | {ratios[1]:>8} |")


if __name__ == "__main__":
    main()
