"""The cost of watching: how much slower does a model train while the Train page is open and refreshing, than
the same model trained headless from the command line?

Each round trains the default VAE on Fashion-MNIST (batch 128) for the same number of seconds three ways:
  - cli:       `python -m genlab train`, headless, in a process of its own, with as many CPU threads as a job
               of the app gets (genlab.training.jobs.training_threads);
  - page open: a job started on the Train page, in Chromium, with the page left open and refreshing for the
               whole run (curves, progress and sample grid every 1.5 s);
  - no page:   a job started the same way, after which the browser goes to a blank page.
The three take turns, each round in another of the six possible orders, so that a machine that speeds up or
slows down during the benchmark, or a run that leaves the machine warmer for the next, biases none of them.
Each run's speed is the images per second of its model card: steps x batch size / the training wall time,
timed by genlab.training.trainer.Trainer in the same way for all three (data loading, the test-split evaluation and saving
are outside it). The headline figure compares "page open" with "cli" round by round.

A last table splits the CPU time between the training thread, the rest of the server (page refreshes, the
job's drawing thread: genlab.training.live), the browser and the CLI process, from /proc. The server runs in a
session of its own, as when a teacher starts it from a terminal and opens the page in the desktop's browser:
Linux then schedules the two as separate groups (autogroup), so the training thread's lower priority
(genlab.training.jobs.TRAINING_NICE) ranks it below the server's other threads, not below the browser. `--same-session`
puts the server in the browser's group instead. How often the page changes is measured by quick_demo.py.

    .venv/bin/python benchmarks/watch_overhead.py --seconds 20 --rounds 12
"""
from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from live_app import (ROOT, chromium, cpu_seconds, descendants, images_per_second, open_train_page, progress_text,
                      read_card, start_run, streamlit_server, thread_cpu_seconds, wait_for_new_checkpoint)

BATCH = 128  # the Train page's default batch size
STATES = ("cli", "page open", "no page")


def cli_run(folder: Path, threads: int, seconds: float, new_session: bool) -> tuple[dict, float]:
    """Headless `python -m genlab train` of the same model: its model card, and the CPU seconds it used."""
    out = folder / f"cli-{time.time():.0f}.safetensors"
    with tempfile.TemporaryFile() as output:  # its progress bar: a file never fills up as a pipe would
        process = subprocess.Popen(
            [sys.executable, "-m", "genlab", "train", "vae", "--dataset", "fashion-mnist", "--minutes",
             f"{seconds / 60:g}", "--batch-size", str(BATCH), "--out", str(out)],
            cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": str(threads)}, stdout=output, stderr=output,
            start_new_session=new_session)
        used = 0.0
        while process.poll() is None:  # CPU seconds of the process, read while it still exists
            used = cpu_seconds(process.pid) or used
            time.sleep(0.2)
        if process.returncode:
            output.seek(0)
            raise RuntimeError(f"the CLI run failed: {output.read().decode()[-2000:]}")
    return read_card(out), used


def overhead_interval(speeds: dict[tuple[int, str], float], rounds: int, state: str, reference: str,
                      resamples: int = 10_000) -> tuple[float, float]:
    """An approximate 95% interval of 1 - mean(state) / mean(reference): the percentile bootstrap, resampling
    whole rounds (the runs of a round are paired: they saw the same machine). With few rounds it is too narrow;
    use 12 or more."""
    draw, overheads = random.Random(0), []
    for _ in range(resamples):
        picked = [draw.randrange(1, rounds + 1) for _ in range(rounds)]
        overheads.append(1 - sum(speeds[(r, state)] for r in picked) / sum(speeds[(r, reference)] for r in picked))
    overheads.sort()
    return overheads[int(0.025 * resamples)], overheads[int(0.975 * resamples) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30, help="training time of every run")
    parser.add_argument("--rounds", type=int, default=12,
                        help="rounds of three runs (cli, page open, no page); a multiple of 6 balances the orders")
    parser.add_argument("--same-session", action="store_true",
                        help="run the server in the browser's scheduling group (see above)")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = max(1, cores - 1)  # what genlab.training.jobs.training_threads gives a job on this machine
    speeds: dict[tuple[int, str], float] = {}
    cpu: dict[str, list[dict[str, float]]] = {state: [] for state in STATES}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "user_checkpoints"
        folder.mkdir()
        with streamlit_server(folder, {"GENLAB_TRAIN_THREADS": str(threads)},
                              new_session=not args.same_session) as server, chromium() as browser:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()

            def browser_pids() -> set[int]:  # every process this script started except the server
                return descendants(os.getpid()) - descendants(server.pid) - {server.pid}

            def job_run(state: str) -> tuple[dict, dict[str, float]]:
                """Start a job on the Train page; keep the page open, or leave it for a blank page."""
                known = set(folder.rglob("*.safetensors"))
                open_train_page(page, server.url)
                start_run(page, minutes=args.seconds / 60)
                threads_before, server_before = thread_cpu_seconds(server.pid), cpu_seconds(server.pid)
                browser_before = {pid: cpu_seconds(pid) for pid in browser_pids()}
                started = time.time()
                while progress_text(page) is None:  # the job exists (and loads its data)
                    time.sleep(0.1)
                if state == "no page":
                    page.goto("about:blank")
                # The job's thread ends with the run, and a browser process may end when the page changes:
                # read their CPU time while they live.
                threads_after: dict[int, float] = {}
                browser_after: dict[int, float] = {}
                while not set(folder.rglob("*.safetensors")) - known:
                    threads_after.update(thread_cpu_seconds(server.pid))
                    browser_after.update({pid: cpu_seconds(pid) for pid in browser_pids()})
                    if time.time() - started > args.seconds + 600:
                        raise RuntimeError("the job did not save its checkpoint; see the server's log")
                    time.sleep(0.5)
                checkpoint = wait_for_new_checkpoint(folder, known)
                length = time.time() - started
                trainer = max(after - threads_before.get(tid, 0.0) for tid, after in threads_after.items())
                server_used = cpu_seconds(server.pid) - server_before
                browser_used = sum(max(0.0, used - browser_before.get(pid, 0.0)) for pid, used in browser_after.items())
                return read_card(checkpoint), {"training thread": trainer / length,
                                               "rest of the server": (server_used - trainer) / length,
                                               "browser": browser_used / length}

            open_train_page(page, server.url)  # the first visit loads the models and pages
            orders = list(itertools.permutations(STATES))
            for round_index in range(args.rounds):
                order = orders[round_index % len(orders)]
                for state in order:
                    if state == "cli":
                        page.goto("about:blank")
                        started = time.time()
                        card, used = cli_run(Path(tmp), threads, args.seconds, not args.same_session)
                        shares = {"cli process": used / (time.time() - started)}
                    else:
                        card, shares = job_run(state)
                    speeds[(round_index + 1, state)] = images_per_second(card)
                    cpu[state].append(shares)
                    print(f"  round {round_index + 1} {state}: {speeds[(round_index + 1, state)]:.1f} images/s",
                          file=sys.stderr)

    print(f"\nVAE (default config) on fashion-mnist, batch {BATCH}, {threads} CPU thread(s) for training; "
          f"{args.rounds} rounds of three {args.seconds:g}-s runs, in every order in turn; server "
          f"{'in the browser' if args.same_session else 'in its own'} scheduling group\n")
    print("| round | cli: images/s | page open: images/s | no page: images/s | page open / cli | page open / no page |")
    print("| --- | --- | --- | --- | --- | --- |")
    vs_cli, vs_no_page = [], []
    for r in range(1, args.rounds + 1):
        cli, on, off = (speeds[(r, state)] for state in STATES)
        vs_cli.append(on / cli)
        vs_no_page.append(on / off)
        print(f"| {r} | {cli:.1f} | {on:.1f} | {off:.1f} | {on / cli:.3f} | {on / off:.3f} |")
    means = {state: statistics.mean(speeds[(r, state)] for r in range(1, args.rounds + 1)) for state in STATES}
    print(f"| mean | {means['cli']:.1f} | {means['page open']:.1f} | {means['no page']:.1f} | "
          f"{means['page open'] / means['cli']:.3f} | {means['page open'] / means['no page']:.3f} |")
    low, high = overhead_interval(speeds, args.rounds, "page open", "cli")
    print(f"\nOverhead of an open, refreshing Train page against headless CLI training: "
          f"{1 - means['page open'] / means['cli']:.1%} of the training speed (approximate 95% interval, bootstrap "
          f"over the rounds: {low:.1%} to {high:.1%}; median of the per-round ratios: "
          f"{1 - statistics.median(vs_cli):.1%}; target under 10%).")
    low, high = overhead_interval(speeds, args.rounds, "page open", "no page")
    print(f"Against a job of the same server that nobody watches: {1 - means['page open'] / means['no page']:.1%} "
          f"({low:.1%} to {high:.1%}; median {1 - statistics.median(vs_no_page):.1%}). The unwatched job against "
          f"the CLI: {1 - means['no page'] / means['cli']:.1%} (negative: faster).")
    print("\n| run | training thread | rest of the server | browser | cli process |")
    print("| --- | --- | --- | --- | --- |")
    for state in STATES:
        columns = ("training thread", "rest of the server", "browser", "cli process")
        cells = [f"{statistics.mean(s[c] for s in cpu[state]):.2f}" if c in cpu[state][0] else "" for c in columns]
        print(f"| {state} | " + " | ".join(cells) + " |")
    print("(CPU cores in use: CPU seconds per second of wall time. For a job, from pressing Start to its checkpoint "
          "on disk, data loading and the test-split evaluation included; for the CLI, its whole process. The "
          f"machine has {os.cpu_count()} cores.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
