"""The cost of watching: how much slower does a model train while the Train page is open and refreshing?

Three ways to train the same model (the default VAE) for the same time, in the same session, interleaved:
  page open  the job runs in the app's server while Chromium shows the Train page (it refreshes every 1.5 s)
  no page    the same job with the browser closed right after pressing Start: nobody watches
  CLI        `python -m genlab train` in its own process: headless, no live extras at all

Throughput is steps x batch size / training wall time, read from each run's model card. Overhead of watching
is 1 - (page open) / (no page); the CLI row shows what the job's own live extras (sample grid, held-out
metrics) cost on top. While the page is open, the script also records how often the progress bar and the
sample grid changed in the browser.

    .venv/bin/python benchmarks/watch_overhead.py --seconds 60 --repeats 2
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from live_app import (ROOT, chromium, grid_caption, images_per_second, open_train_page, progress_step,
                      progress_text, read_card, start_run, streamlit_server, wait_for_new_checkpoint)


def watch(page, folder: Path, known: set[Path]) -> tuple[Path, list[float], list[float]]:
    """Keep the page open until the run's checkpoint appears; note when the progress and the grid changed."""
    progress_changes, grid_changes, last_progress, last_grid = [], [], None, None
    while True:
        new = set(folder.rglob("*.safetensors")) - known
        if new:
            return wait_for_new_checkpoint(folder, known), progress_changes, grid_changes
        text, grid = progress_text(page), grid_caption(page)
        now = time.monotonic()
        if text and text != last_progress:
            progress_changes.append(now)
            last_progress = text
        if grid and grid != last_grid:
            grid_changes.append(now)
            last_grid = grid
        time.sleep(0.25)


def intervals(times: list[float]) -> str:
    gaps = [b - a for a, b in zip(times, times[1:])]
    if not gaps:
        return "-"
    return f"median {statistics.median(gaps):.1f} s, max {max(gaps):.1f} s ({len(gaps)} changes)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="training time of each run")
    parser.add_argument("--repeats", type=int, default=2, help="rounds of the three conditions, interleaved")
    parser.add_argument("--dataset", default="fashion-mnist")
    args = parser.parse_args()
    minutes = args.seconds / 60
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "user_checkpoints"
        folder.mkdir()
        with streamlit_server(folder) as url, chromium() as browser:
            for round_index in range(args.repeats):
                conditions = ["page open", "no page", "CLI"]
                conditions = conditions[round_index % 3:] + conditions[:round_index % 3]  # vary the order
                for condition in conditions:
                    updates = ""
                    if condition == "CLI":
                        out = Path(tmp) / f"cli-{round_index}.safetensors"
                        subprocess.run([sys.executable, "-m", "genlab", "train", "vae", "--dataset", args.dataset,
                                        "--minutes", f"{minutes:g}", "--batch-size", "128", "--out", str(out)],
                                       cwd=ROOT, check=True, capture_output=True)
                        card = read_card(out)
                    else:
                        context = browser.new_context(viewport={"width": 1400, "height": 1000})
                        page = context.new_page()
                        open_train_page(page, url)
                        known = set(folder.rglob("*.safetensors"))
                        start_run(page, minutes)
                        while progress_step(page) is None:  # the job has started
                            time.sleep(0.2)
                        if condition == "no page":
                            context.close()  # nobody watches any more
                            path = wait_for_new_checkpoint(folder, known)
                        else:
                            path, progress_changes, grid_changes = watch(page, folder, known)
                            updates = (f"progress: {intervals(progress_changes)}; "
                                       f"grid: {intervals(grid_changes)}")
                            context.close()
                        card = read_card(path)
                    rows.append((condition, round_index + 1, card["steps"], card["wall_time_s"],
                                 images_per_second(card), updates))
                    print(f"  {condition:9} round {round_index + 1}: {images_per_second(card):7.1f} images/s",
                          file=sys.stderr)

    print(f"\nVAE (default config) on {args.dataset}, batch 128, {args.seconds:g} s per run, "
          f"{args.repeats} interleaved rounds\n")
    print("| condition | round | steps | train wall s | images/s | browser updates |")
    print("| --- | --- | --- | --- | --- | --- |")
    for condition, round_index, steps, wall, speed, updates in rows:
        print(f"| {condition} | {round_index} | {steps} | {wall:.1f} | {speed:.1f} | {updates} |")
    median = {c: statistics.median(r[4] for r in rows if r[0] == c) for c in ("page open", "no page", "CLI")}
    print("\n| condition | median images/s | relative to no page |")
    print("| --- | --- | --- |")
    for condition, speed in median.items():
        print(f"| {condition} | {speed:.1f} | {speed / median['no page']:.3f} |")
    print(f"\nOverhead of an open, refreshing Train page: {1 - median['page open'] / median['no page']:.1%} "
          f"(target: under 10%). Job vs CLI (live grid and held-out metrics): "
          f"{1 - median['no page'] / median['CLI']:.1%}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
