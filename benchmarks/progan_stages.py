"""The progressive GAN stage by stage: train one from scratch and, at the end of every growth phase (7x7, the fade
to 14x14, 14x14, the fade to 28x28, 28x28), save a grid of samples from fixed seeds and print the FID of N samples
(features of the dataset's shipped classifier) and the minutes so far.

    python benchmarks/progan_stages.py --out test-artifacts/progan_stages
    python benchmarks/progan_stages.py --phase-steps 300 --n 500       # a quick look
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from diffusion_quality import draw, scored, table  # noqa: E402  (same folder: one way to score samples)

from genlab.data import load_dataset  # noqa: E402
from genlab.device import describe_device, pick_device  # noqa: E402
from genlab.evaluation.compare import load_reference  # noqa: E402
from genlab.images import grid, png_bytes  # noqa: E402
from genlab.models.progan import SIDES, ProGAN, ProGANConfig  # noqa: E402
from genlab.training.trainer import Trainer, TrainSettings  # noqa: E402

PHASES = ("7x7", "fade to 14x14", "14x14", "fade to 28x28", "28x28")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--phase-steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--n", type=int, default=1000, help="samples per FID")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="test-artifacts/progan_stages", help="folder for the grids")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = pick_device()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    reference = load_reference(args.dataset, device)
    model = ProGAN(ProGANConfig(phase_steps=args.phase_steps)).to(device)
    train = load_dataset(args.dataset, "train")
    print(f"{args.dataset}: progressive GAN, {args.phase_steps} steps per phase, batch {args.batch_size}, lr "
          f"{args.lr:g}; FID of {args.n} samples; {describe_device(device)}, {args.threads} threads\n")
    rows, spent = [], 0.0
    optimizers = model.make_optimizers(args.lr)  # one optimiser state across the phases, as in one run
    for phase, name in enumerate(PHASES):
        trainer = Trainer(model, train, TrainSettings(max_steps=args.phase_steps, batch_size=args.batch_size,
                                                      lr=args.lr, epochs=None, seed=phase), device=device,
                          optimizers=optimizers, start_step=int(model.steps_done))
        start = time.perf_counter()
        trainer.run()
        spent += time.perf_counter() - start
        model.eval()
        stage, alpha = model.growth(int(model.steps_done) - 1)  # where the last step trained
        picture = out / f"phase{phase + 1}_{name.replace(' ', '_')}.png"
        picture.write_bytes(png_bytes(grid(model.sample(64, 0).float().cpu(), nrow=8, scale=2)))
        fid = scored(draw(model, args.n, 500), reference)["FID"]
        model.train()
        rows.append([name, SIDES[stage], f"{alpha:.2f}", int(model.steps_done), round(spent / 60, 2), fid,
                     str(picture)])
    table(["phase ended", "resolution", "alpha", "steps", "training minutes", "FID", "grid"], rows)


if __name__ == "__main__":
    main()
