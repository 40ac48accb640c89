"""Training throughput under torchrun: images per second with 1 process and with N processes, same global batch.

    python benchmarks/distributed.py                       # VAE, DCGAN, PixelCNN on digits; 1 and 2 processes
    python benchmarks/distributed.py --processes 1 2 4 --steps 300 --kinds vae

Each row runs `torchrun --standalone --nproc_per_node N -m genlab train ...` for a fixed number of steps with the
global batch held fixed (per-process batch = global / N) and reads the checkpoint's card: images/s = steps x
global batch / training wall time (data loading and evaluation excluded). With N processes each gets
cores / N threads, so every row uses the whole machine. On a 2-core CPU no speed-up is to be expected: the two
processes split the same two cores and add the all-reduce of every gradient. Run it alone on the machine.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genlab.checkpoints import read_card  # noqa: E402

KINDS = {"vae": [], "dcgan": [], "pixelcnn": []}  # the shipped sizes' defaults


def run(kind: str, processes: int, steps: int, global_batch: int, dataset: str, folder: Path) -> float:
    out = folder / f"{kind}-{processes}.safetensors"
    threads = max(1, (os.cpu_count() or 1) // processes)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes),
               "-m", "genlab", "train", kind, *KINDS[kind], "--dataset", dataset, "--steps", str(steps),
               "--batch-size", str(global_batch // processes), "--weights-only", "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    if done.returncode != 0:
        raise SystemExit(f"{kind} with {processes} processes failed:\n{done.stderr[-3000:]}")
    card = read_card(out)
    return card["steps"] * global_batch / card["wall_time_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--processes", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--global-batch", type=int, default=64)
    parser.add_argument("--dataset", default="digits")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU cores; global batch {args.global_batch}; {args.steps} steps per row\n")
    print("| model | processes | threads each | images/s | vs 1 process |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.kinds:
            base = None
            for n in args.processes:
                speed = run(kind, n, args.steps, args.global_batch, args.dataset, Path(folder))
                base = base or speed
                threads = max(1, (os.cpu_count() or 1) // n)
                print(f"| {kind} | {n} | {threads} | {speed:,.0f} | {speed / base:.2f} |", flush=True)


if __name__ == "__main__":
    main()
