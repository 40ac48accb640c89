"""A GAN that learns in a minute: train a GAN from scratch for 60 s with each candidate setting, as the Train
page's quick-demo preset does, and print the FID at the end against the shipped DCGAN's (same N, same features of
the dataset's shipped classifier).

    python benchmarks/gan_quick_demo.py                      # Fashion-MNIST, every candidate, 60 s each
    python benchmarks/gan_quick_demo.py --seconds 30 --candidates defaults "batch 32, lr 5e-4"
    (defaults: what the Train page used before tuning, batch 128 and lr 2e-4)

Run it alone: the budget is wall-clock time, so another job on the machine takes steps away from every row.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from diffusion_quality import draw, scored, table  # noqa: E402  (same folder: one way to score samples)

from genlab.device import describe_device, pick_device  # noqa: E402
from genlab.evaluation.compare import load_reference  # noqa: E402
from genlab.models.loading import load_checkpoint  # noqa: E402
from genlab.training.run import RunSpec, TrainingRun  # noqa: E402

# name -> (kind, config changes, batch size, learning rate)
CANDIDATES = {
    "defaults": ("dcgan", {}, 128, 2e-4),  # batch 128, lr 2e-4
    "batch 64, lr 5e-4": ("dcgan", {}, 64, 5e-4),
    "batch 32, lr 5e-4": ("dcgan", {}, 32, 5e-4),
    "batch 32, lr 1e-3": ("dcgan", {}, 32, 1e-3),
    "batch 32, lr 5e-4, width 16": ("dcgan", {"width": 16}, 32, 5e-4),
    "batch 32, lr 5e-4, width 48": ("dcgan", {"width": 48}, 32, 5e-4),
    "batch 16, lr 5e-4": ("dcgan", {}, 16, 5e-4),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--n", type=int, default=2000, help="samples for each FID")
    parser.add_argument("--threads", type=int, default=2, help="as the Train page on a 2-core machine")
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES),
                        help="names from CANDIDATES")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device()
    reference = load_reference(args.dataset, device)
    shipped = load_checkpoint(Path("checkpoints") / args.dataset / "dcgan.safetensors", device=device)
    baseline = scored(draw(shipped.model, args.n, 500), reference)["FID"]
    print(f"{args.dataset}: {args.seconds:g} s of training from scratch per row, FID of {args.n} samples; "
          f"{describe_device(device)}, {args.threads} threads. Shipped DCGAN ({shipped.card.get('steps')} steps): "
          f"FID {baseline:.1f}, so the bar (at most twice it) is {2 * baseline:.1f}\n")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.candidates:
            kind, config, batch, lr = CANDIDATES[name]
            spec = RunSpec(kind=kind, dataset=args.dataset, config=config, minutes=args.seconds / 60,
                           batch_size=batch, lr=lr)
            run = TrainingRun(spec, Path(folder) / "run.safetensors", device, command="benchmark")
            torch.manual_seed(0)
            run.prepare()
            start = time.perf_counter()
            run.train()
            seconds = time.perf_counter() - start
            run.model.eval()
            fid = scored(draw(run.model, args.n, 500), reference)["FID"]
            steps = run.trainer.step if hasattr(run.trainer, "step") else int(run.model.steps_done)
            rows.append([name, steps, round(seconds, 1), fid, fid / baseline])
            print(f"  {name}: {steps} steps, FID {fid:.1f}", file=sys.stderr)
    table(["setting", "steps", "seconds", "FID", "FID / shipped DCGAN's"], rows)


if __name__ == "__main__":
    main()
