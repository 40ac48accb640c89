"""How live is the GAN playground, and how often does its default GAN cover the ring's modes?

    python benchmarks/playground_fps.py                 # Chromium against a live server: frames/s and steps/s
    python benchmarks/playground_fps.py --speeds 1 25 50 --seconds 15
    python benchmarks/playground_fps.py --modes         # headless: ring of 8, default settings, 10 seeds

Browser mode starts `streamlit run app.py` on a free localhost port, opens the playground in Debian's Chromium
(/usr/bin/chromium through playwright), sets the speed slider, presses Play and watches the page: a frame is a
new value of the step counter (each frame trains, then redraws the plot and the counter), and a plot redraw is a
new picture of the plane shown (its image source changed and finished loading). The baseline is the same
training, default settings, in a bare loop in this process (no page, no drawing): the ratio says what share of
that speed the live page keeps.

Modes mode trains the non-saturating GAN with default settings on the ring of 8 Gaussians for 5,000 steps per
seed and counts covered modes on 2,000 fresh samples every 250 steps (see genlab.playground.gan.count_modes).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import torch  # noqa: E402

from genlab.playground.data import toy_dataset  # noqa: E402
from genlab.playground.gan import ToyGAN, ToyGANConfig, count_modes, one_thread  # noqa: E402
from live_app import chromium, cpu_seconds, descendants, streamlit_server  # noqa: E402


def cpu_of(pids) -> float:
    """CPU seconds used so far by these processes (all their threads)."""
    return sum(cpu_seconds(pid) for pid in pids)


# Runs in the page: records every new value of the step counter and every new picture of the plane.
WATCH_JS = """() => {
  window.__steps = []; window.__redraws = 0; window.__source = null;
  const read = () => {
    const value = document.querySelector("[data-testid='stMetricValue']");
    const text = value ? value.innerText.trim() : null;
    const last = window.__steps.length ? window.__steps[window.__steps.length - 1][1] : null;
    if (text !== null && text !== last) window.__steps.push([performance.now(), text]);
    const plane = document.querySelector(".st-key-gp_plot img");
    if (plane && plane.complete && plane.src !== window.__source) {
      window.__source = plane.src;
      window.__redraws += 1;
    }
    requestAnimationFrame(read);
  };
  read();
}"""


def set_speed(page, speed: int) -> None:
    """Move the speed slider (1..100, default 25) with the keyboard, then wait for the page to take it."""
    thumb = page.locator(".st-key-gp_speed input[type='range']")
    if thumb.input_value() == str(speed):
        return
    thumb.focus()
    thumb.press("Home")
    for _ in range(speed - 1):
        thumb.press("ArrowRight")
    page.wait_for_function(f"() => document.querySelector(\".st-key-gp_speed input[type='range']\")"
                           f".value === '{speed}'")
    time.sleep(1.5)  # let the slider's value reach the server and the page rerun


def measure_page(page, seconds: float, warmup: float, server_pid: int) -> dict:
    page.locator(".st-key-gp_play label").click()  # Play (the page is closed afterwards; no need to pause)
    time.sleep(warmup)
    server = descendants(server_pid) | {server_pid}
    browser = descendants(os.getpid()) - server
    cpu_before = cpu_of(server), cpu_of(browser)
    page.evaluate(WATCH_JS)
    time.sleep(seconds)
    steps = page.evaluate("window.__steps")
    redraws = page.evaluate("window.__redraws")
    cpu = cpu_of(server) - cpu_before[0], cpu_of(browser) - cpu_before[1]
    values = [(t, int(v.replace(",", ""))) for t, v in steps]
    frames = max(len(values) - 1, 0)
    elapsed = (values[-1][0] - values[0][0]) / 1000 if frames else seconds
    return {"frames_s": frames / elapsed, "steps_s": (values[-1][1] - values[0][1]) / elapsed if frames else 0.0,
            "redraws_s": redraws / seconds, "steps_per_frame": (values[-1][1] - values[0][1]) / frames if frames
            else 0.0, "server_cpu_per_frame": cpu[0] / max(frames, 1), "browser_cpu_per_frame": cpu[1] / max(frames, 1)}


def bare_steps_per_second(seconds: float = 5.0) -> float:
    """The baseline: default settings on the ring, training only, in this process."""
    gan = ToyGAN(toy_dataset("ring"), ToyGANConfig())
    gan.train(20)
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        gan.train(25)
        steps += 25
    return steps / (time.perf_counter() - start)


def browser_benchmark(speeds: list[int], seconds: float, warmup: float) -> None:
    baseline = bare_steps_per_second()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "user_checkpoints"
        folder.mkdir()
        with streamlit_server(folder, {"GENLAB_OFFLINE": "1"}) as server, chromium() as browser:
            for speed in speeds:  # a fresh page (and session) per row, so each row starts from step 0
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{server.url}/GAN_playground", timeout=180000)
                page.wait_for_selector(".st-key-gp_plot img", timeout=180000)
                set_speed(page, speed)
                rows.append((speed, measure_page(page, seconds, warmup, server.pid)))
                page.close()
    print(f"GAN playground in Chromium, ring of 8 Gaussians, default settings, {seconds:g} s per row, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end, torch {torch.__version__}")
    print(f"baseline: bare training loop in this process, same settings: {baseline:.0f} steps/s\n")
    print("| steps per frame (slider) | frames/s | plot redraws/s | training steps/s | steps/frame | "
          "steps/s vs bare loop | server CPU ms/frame | browser CPU ms/frame |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for speed, r in rows:
        print(f"| {speed} | {r['frames_s']:.1f} | {r['redraws_s']:.1f} | {r['steps_s']:.0f} | "
              f"{r['steps_per_frame']:.1f} | {r['steps_s'] / baseline:.2f} | "
              f"{1000 * r['server_cpu_per_frame']:.0f} | {1000 * r['browser_cpu_per_frame']:.0f} |")
    print("\nCPU ms/frame: CPU time the server (all threads) and Chromium (all processes) spent per displayed "
          "frame. They work in parallel, so with two free cores the page could reach roughly 1000 / (the larger "
          "of the two) frames/s: an estimate of the rate on a quiet machine, not a measurement.")


def modes_benchmark(seeds: int, steps: int, every: int, need: int) -> None:
    data = toy_dataset("ring")
    print(f"Non-saturating GAN, default settings {ToyGANConfig()}, ring of 8 Gaussians, {steps} steps, modes "
          f"counted on 2,000 fresh samples every {every} steps\n")
    print(f"| seed | modes at step {steps} | best count | first step with >= {need} | seconds |")
    print("| --- | --- | --- | --- | --- |")
    final_ok = reached_ok = 0
    for seed in range(seeds):
        gan = ToyGAN(data, ToyGANConfig(seed=seed))
        start, counts, first = time.perf_counter(), [], None
        while gan.step < steps:
            gan.train(every)
            with one_thread():
                covered = count_modes(gan.samples(2000, 1000 + seed), data.centres, data.mode_std).covered
            counts.append(covered)
            if first is None and covered >= need:
                first = gan.step
        final_ok += counts[-1] >= need
        reached_ok += first is not None
        print(f"| {seed} | {counts[-1]} / 8 | {max(counts)} | {first if first else '-'} | "
              f"{time.perf_counter() - start:.0f} |", flush=True)
    print(f"\n{reached_ok} of {seeds} seeds reach >= {need} of 8 modes within {steps} steps; "
          f"{final_ok} of {seeds} cover >= {need} at step {steps}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", action="store_true", help="headless mode-coverage count instead of the browser")
    parser.add_argument("--speeds", type=int, nargs="+", default=[1, 25, 50], help="steps-per-frame settings")
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time per speed")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of play before measuring")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--need", type=int, default=6)
    args = parser.parse_args()
    if args.modes:
        modes_benchmark(args.seeds, args.steps, args.every, args.need)
    else:
        browser_benchmark(args.speeds, args.seconds, args.warmup)


if __name__ == "__main__":
    main()
