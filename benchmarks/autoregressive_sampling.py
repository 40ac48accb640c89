"""Autoregressive sampling speed: naive (one full network pass per pixel) against the model's fast sampler (cached
activations, a kept row state, an incremental sum), with the same weights in the same run. Task: complete the
bottom half of a 28x28 test image, 392 pixels. Any checkpoint with the autoregressive capability.

    python benchmarks/autoregressive_sampling.py                       # the shipped Fashion-MNIST PixelCNN
    python benchmarks/autoregressive_sampling.py --checkpoint checkpoints/digits/nade.safetensors
    python benchmarks/autoregressive_sampling.py --full-naive-up-to 64  # run naive in full at every batch size

Naive sampling does the same full pass for every pixel, so its time per pixel is constant: above batch
--full-naive-up-to (default 16) it is timed on the first --naive-pixels pixels (default 28, one row) and
multiplied up to 392 (the table says so). Fast times are the median of --repeats runs. When naive runs in
full, the table also gives the share of pixels where both samplers drew the same value (same seed: they
should agree almost everywhere).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genlab.data import DatasetMissing, load_dataset  # noqa: E402
from genlab.device import describe_device, pick_device  # noqa: E402
from genlab.models import AUTOREGRESSIVE  # noqa: E402
from genlab.models.autoregressive.sampling import fast_sample, hide_mask, naive_sample  # noqa: E402
from genlab.models.loading import load_checkpoint  # noqa: E402


def timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="checkpoints/fashion-mnist/pixelcnn.safetensors")
    parser.add_argument("--device", default=None)
    parser.add_argument("--batches", default="1,16,64", help="comma-separated batch sizes")
    parser.add_argument("--full-naive-up-to", type=int, default=16,
                        help="run naive sampling in full up to this batch size, and scale it above")
    parser.add_argument("--naive-pixels", type=int, default=28,
                        help="how many pixels naive sampling is timed on when it is scaled")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    device = pick_device(args.device)
    checkpoint = load_checkpoint(args.checkpoint, device=device, expect_capability=AUTOREGRESSIVE)
    model = checkpoint.model
    size = model.config.image_size
    try:
        image = load_dataset(checkpoint.card["dataset"], "test").images[0]  # (1, H, W)
    except (DatasetMissing, KeyError, ValueError):
        image = torch.rand(1, size, size)
    known = hide_mask("bottom half", size)
    pixels = int((~known).sum())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"checkpoint: {args.checkpoint} ({checkpoint.card.get('title', '')}); config: {model.config}")
    print(f"device: {describe_device(device)}; torch {torch.__version__}; {platform.processor() or platform.machine()}"
          f"; {os.cpu_count()} CPUs; load average {load:.1f} when the run started")
    print(f"task: complete the bottom half ({pixels} pixels) of one test image, N copies in a batch\n")

    fast_sample(model, 1, partial=image, known=known, generator=0)  # warm-up
    header = f"{'batch':>5} | {'naive s':>9} | {'fast s':>7} | {'naive img/s':>11} | {'fast img/s':>10} | " \
             f"{'speed-up':>8} | {'same pixels':>11}"
    print(header)
    print("-" * len(header))
    for batch in [int(b) for b in args.batches.split(",")]:
        fast_times = []
        for _ in range(args.repeats):
            seconds, fast = timed(lambda: fast_sample(model, batch, partial=image, known=known, generator=1))
            fast_times.append(seconds)
        fast_s = statistics.median(fast_times)
        if batch > args.full_naive_up_to and args.naive_pixels < pixels:
            partial_known = known.clone()
            partial_known.view(-1)[size * size - pixels + args.naive_pixels:] = True  # draw only the first N
            seconds, _ = timed(lambda: naive_sample(model, batch, partial=image, known=partial_known, generator=1))
            naive_s, same = seconds * pixels / args.naive_pixels, "n/a"
            note = f" (scaled from {args.naive_pixels} px)"
        else:
            naive_s, naive = timed(lambda: naive_sample(model, batch, partial=image, known=known, generator=1))
            same, note = f"{(naive.images == fast.images).float().mean().item():.2%}", ""
        print(f"{batch:>5} | {naive_s:>9.2f} | {fast_s:>7.3f} | {batch / naive_s:>11.2f} | {batch / fast_s:>10.1f} | "
              f"{naive_s / fast_s:>7.1f}x | {same:>11}{note}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
