"""The cost of watching: how much slower does a model train while the Train page is open and refreshing?

One training job (the default VAE) runs in the app's server. Chromium alternates, in windows of a fixed
length, between showing the Train page (which redraws the curves and the grid every 1.5 s) and showing a
blank page (nobody watches), in the order ABBA so that slow changes of the machine's load cancel out. The
job logs its step count twice a second to the server's log, so both states are measured the same way, by
the job itself. The first seconds of each window (page load or unload) are left out. Nothing polls the page
during these windows; how often the progress bar and the grid change is measured afterwards, in a window of its
own. A last table splits the CPU time between the training thread, the rest of the server and the browser.

For reference, `python -m genlab train` runs the same model headless in its own process (with as many CPU
threads as the job uses) once before the job starts and once after it ends, and reports its images per second
from its model card: the mean of the two runs is the CLI figure, so a machine that speeds up or slows down
during the measurement biases it less than one run at either end would.

The server runs in a session of its own, as when a teacher starts it from a terminal and opens the page in the
desktop's browser: Linux then schedules the two as separate groups (autogroup), so the training thread's lower
priority (genlab.jobs.TRAINING_NICE) ranks it below the server's other threads, not below the browser.
`--same-session` puts the server in the browser's group instead, where the browser preempts the training thread.

    .venv/bin/python benchmarks/watch_overhead.py --window 20 --rounds 6
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from live_app import (ROOT, chromium, cpu_seconds, descendants, grid_caption, images_per_second, open_train_page,
                      progress_step, progress_text, read_card, server_log, start_run, streamlit_server,
                      thread_cpu_seconds, wait_idle)

BATCH = 128  # the Train page's default batch size
STEP_LINE = re.compile(r"job (\d+): step (\d+) at ([\d.]+)")
THREADS_LINE = re.compile(r"job \d+: training .* (\d+) CPU threads")


def step_samples(log: Path) -> list[tuple[float, int]]:
    """(time, step) pairs logged by the job."""
    return [(float(m.group(3)), int(m.group(2))) for m in STEP_LINE.finditer(log.read_text())]


def images_per_s_between(samples: list[tuple[float, int]], start: float, end: float) -> float:
    """Training speed in [start, end], from the first and last logged steps inside it."""
    inside = [(t, s) for t, s in samples if start <= t <= end]
    if len(inside) < 2:
        return float("nan")
    (t0, s0), (t1, s1) = inside[0], inside[-1]
    return (s1 - s0) * BATCH / (t1 - t0)


def watch_page(page, until: float) -> tuple[list[float], list[float]]:
    """Keep the page open until `until`; note when the progress bar and the sample grid changed."""
    progress, grid, last_progress, last_grid = [], [], None, None
    while time.time() < until:
        text, caption = progress_text(page), grid_caption(page)
        if text and text != last_progress:
            progress.append(time.time())
            last_progress = text
        if caption and caption != last_grid:
            grid.append(time.time())
            last_grid = caption
        time.sleep(0.5)
    return progress, grid


def cli_images_per_second(folder: Path, threads: int, seconds: float, new_session: bool) -> float:
    """Headless `python -m genlab train` of the same model for `seconds`: its images per second."""
    out = folder / f"cli-{time.time():.0f}.safetensors"
    subprocess.run([sys.executable, "-m", "genlab", "train", "vae", "--dataset", "fashion-mnist",
                    "--minutes", f"{seconds / 60:g}", "--batch-size", str(BATCH), "--out", str(out)],
                   cwd=ROOT, check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)},
                   start_new_session=new_session)
    return images_per_second(read_card(out))


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--window", type=float, default=20, help="seconds per window")
    parser.add_argument("--rounds", type=int, default=6, help="pairs of windows (page open, no page)")
    parser.add_argument("--settle", type=float, default=3, help="seconds left out at the start of each window")
    parser.add_argument("--cli-seconds", type=float, default=60, help="length of the headless CLI reference run")
    parser.add_argument("--same-session", action="store_true",
                        help="run the server in the browser's scheduling group (see above)")
    args = parser.parse_args()
    windows, progress_gaps, grid_gaps, cpu = [], [], [], {}
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cli_threads = max(1, cores - 1)  # what genlab.jobs.training_threads gives a job on this machine
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "user_checkpoints"
        folder.mkdir()
        cli_before = cli_images_per_second(Path(tmp), cli_threads, args.cli_seconds, not args.same_session)
        with streamlit_server(folder, {"GENLAB_JOB_LOG_EVERY_S": "0.5"},
                              new_session=not args.same_session) as server, chromium() as browser:
            url = server.url

            def cpu_now() -> tuple[dict[int, float], float]:
                """CPU seconds so far: per thread of the server, and for the browser (every process this
                script started except the server)."""
                browser_pids = descendants(os.getpid()) - descendants(server.pid) - {server.pid}
                return thread_cpu_seconds(server.pid), sum(cpu_seconds(pid) for pid in browser_pids)

            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            open_train_page(page, url)
            start_run(page, minutes=(2 * args.rounds * args.window) / 60 + 3)
            while (progress_step(page) or 0) < 1:
                time.sleep(0.2)
            for round_index in range(args.rounds):
                order = ["page open", "no page"] if round_index % 2 == 0 else ["no page", "page open"]
                for state in order:
                    start = time.time()
                    cpu_before = cpu_now()
                    if state == "page open":  # open and refreshing, watched by nobody but the class
                        page.goto(f"{url}/Train?job=1")
                        time.sleep(max(0.0, start + args.window - time.time()))
                    else:
                        page.goto("about:blank")
                        time.sleep(max(0.0, start + args.window - time.time()))
                    cpu_after = cpu_now()
                    cpu[(round_index + 1, state)] = (cpu_before, cpu_after, time.time() - start)
                    windows.append((round_index + 1, state, start + args.settle, start + args.window))
                    print(f"  round {round_index + 1} {state}", file=sys.stderr)
            # How often the page changes, seen by polling it twice a second: a window of its own, because
            # the polling itself costs the browser CPU that no classroom spends.
            page.goto(f"{url}/Train?job=1")
            progress, grid = watch_page(page, time.time() + args.window)
            progress_gaps += gaps(progress)
            grid_gaps += gaps(grid)
            # stop the job: it saves its checkpoint
            stop = page.locator(".st-key-train_stop").get_by_role("button", name="Stop").first
            stop.wait_for(timeout=120_000)
            stop.click()
            page.get_by_text("every page's model list shows it now").wait_for(timeout=600_000)
            wait_idle(page)
        log_text = server_log(folder).read_text()
        samples = step_samples(server_log(folder))
        threads = THREADS_LINE.search(log_text).group(1)
        if int(threads) != cli_threads:
            print(f"(the job used {threads} threads, the CLI runs {cli_threads})", file=sys.stderr)
        cli_after = cli_images_per_second(Path(tmp), cli_threads, args.cli_seconds, not args.same_session)
        cli_speed = (cli_before + cli_after) / 2

    speeds = [(r, state, images_per_s_between(samples, start, end)) for r, state, start, end in windows]
    print(f"\nVAE (default config) on fashion-mnist, batch {BATCH}, {threads} CPU thread(s) for training; "
          f"{args.rounds} rounds of two {args.window:g}-s windows (first {args.settle:g} s of each left out); "
          f"server {'in the browser' if args.same_session else 'in its own'} scheduling group\n")
    print("| round | page open: images/s | no page: images/s | ratio |")
    print("| --- | --- | --- | --- |")
    ratios = []
    for r in range(1, args.rounds + 1):
        on = next(s for rr, state, s in speeds if rr == r and state == "page open")
        off = next(s for rr, state, s in speeds if rr == r and state == "no page")
        ratios.append(on / off)
        print(f"| {r} | {on:.1f} | {off:.1f} | {on / off:.3f} |")
    on_all = statistics.mean(s for _, state, s in speeds if state == "page open")
    off_all = statistics.mean(s for _, state, s in speeds if state == "no page")
    print(f"| mean | {on_all:.1f} | {off_all:.1f} | {on_all / off_all:.3f} |")
    print(f"\nOverhead of an open, refreshing Train page: {1 - on_all / off_all:.1%} of training speed "
          f"(median of the per-round ratios: {1 - statistics.median(ratios):.1%}; target under 10%).")
    print(f"Headless CLI, same model, {cli_threads} thread(s), {args.cli_seconds:g} s before and after: "
          f"{cli_before:.1f} and {cli_after:.1f} images/s, mean {cli_speed:.1f}. Against it, the job with the page "
          f"open trains {1 - on_all / cli_speed:.1%} slower and the job without a page {1 - off_all / cli_speed:.1%} "
          "slower (negative: faster).")
    # Who used the processor: the training thread is the server thread that used the most CPU overall.
    totals: dict[int, float] = {}
    for (before, _), (after, _), _ in cpu.values():
        for tid, seconds in after.items():
            totals[tid] = totals.get(tid, 0.0) + seconds - before.get(tid, 0.0)
    trainer_tid = max(totals, key=totals.get)
    print("\n| state | training thread (cores) | rest of the server (cores) | browser (cores) |")
    print("| --- | --- | --- | --- |")
    for state in ("page open", "no page"):
        parts = []
        for (r, s_), ((before, browser_before), (after, browser_after), length) in cpu.items():
            if s_ != state:
                continue
            server_delta = sum(after.values()) - sum(before.get(t, 0.0) for t in after)
            trainer = after.get(trainer_tid, 0.0) - before.get(trainer_tid, 0.0)
            parts.append((trainer / length, (server_delta - trainer) / length, (browser_after - browser_before) / length))
        print(f"| {state} | " + " | ".join(f"{statistics.mean(p[i] for p in parts):.2f}" for i in range(3)) + " |")
    print("(cores = CPU seconds per second of wall time, averaged over the windows of that state; the machine has "
          f"{os.cpu_count()}.)")
    if progress_gaps and grid_gaps:
        print(f"While the page was open the progress bar changed every {statistics.median(progress_gaps):.1f} s "
              f"(median; 90th percentile {sorted(progress_gaps)[int(0.9 * len(progress_gaps))]:.1f} s) and the "
              f"sample grid every {statistics.median(grid_gaps):.1f} s (90th percentile "
              f"{sorted(grid_gaps)[int(0.9 * len(grid_gaps))]:.1f} s), as seen by polling twice a second.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
