"""How live is the GAN playground, and how often does its default GAN cover the ring's modes?

    python benchmarks/playground_fps.py                 # Chromium against a live server: frames/s and steps/s
    python benchmarks/playground_fps.py --speeds 1 25 50 --seconds 15
    python benchmarks/playground_fps.py --modes         # headless: ring of 8, default settings, 10 seeds

Browser mode starts `streamlit run app.py` on a free localhost port, opens the playground in Debian's Chromium
(/usr/bin/chromium through playwright), sets the speed slider, presses Play and watches the page: a frame is a
new value of the step counter (each frame trains, then redraws the plot and the counter), and a plot redraw is a
Plotly `plotly_afterplot` event. The baseline is the same training, default settings, in a bare loop in this
process (no page, no drawing): the ratio says what share of that speed the live page keeps.

Modes mode trains the non-saturating GAN with default settings on the ring of 8 Gaussians for 5,000 steps per
seed and counts covered modes on 2,000 fresh samples every 250 steps (see genlab.toy_gan.count_modes).
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from genlab.toy_data import toy_dataset  # noqa: E402
from genlab.toy_gan import ToyGAN, ToyGANConfig, count_modes, one_thread  # noqa: E402

CHROMIUM = os.environ.get("GENLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]

# Runs in the page: records every new value of the step counter and every Plotly redraw of the main plot.
WATCH_JS = """() => {
  window.__steps = []; window.__redraws = 0; window.__watched = null;
  const read = () => {
    const value = document.querySelector("[data-testid='stMetricValue']");
    const text = value ? value.innerText.trim() : null;
    const last = window.__steps.length ? window.__steps[window.__steps.length - 1][1] : null;
    if (text !== null && text !== last) window.__steps.push([performance.now(), text]);
    const plot = document.querySelector(".st-key-gp_plot .js-plotly-plot");
    if (plot && plot !== window.__watched && plot.on) {
      window.__watched = plot;
      plot.on("plotly_afterplot", () => { window.__redraws += 1; });
    }
    requestAnimationFrame(read);
  };
  read();
}"""


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # the fields after "pid (name)"


def descendants(root: int) -> list[int]:
    """root and every process below it (Linux /proc; empty elsewhere)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _proc_stat(int(entry.name))):
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [root], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes (all their threads)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        if fields := _proc_stat(pid):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "GENLAB_OFFLINE": "1"})
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError(f"streamlit did not start; see {log_path}")


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
    server, browser = descendants(server_pid), [p for p in descendants(os.getpid()) if p != os.getpid()]
    cpu_before = cpu_seconds(server), cpu_seconds(browser)
    page.evaluate(WATCH_JS)
    time.sleep(seconds)
    steps = page.evaluate("window.__steps")
    redraws = page.evaluate("window.__redraws")
    cpu = cpu_seconds(server) - cpu_before[0], cpu_seconds(browser) - cpu_before[1]
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
    from playwright.sync_api import sync_playwright

    baseline = bare_steps_per_second()
    port = free_port()
    server = start_server(port, Path("/tmp") / f"genlab_playground_bench_{port}.log")
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for speed in speeds:  # a fresh page (and session) per row, so each row starts from step 0
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"http://127.0.0.1:{port}/GAN_playground", timeout=180000)
                page.wait_for_selector(".st-key-gp_plot .js-plotly-plot", timeout=180000)
                set_speed(page, speed)
                rows.append((speed, measure_page(page, seconds, warmup, server.pid)))
                page.close()
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
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
