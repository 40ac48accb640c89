"""How fast can a student move through a VAE's latent space? Prints one table:

- decode time for 1 image and for a 20x20 manifold grid, on this machine's device;
- the latent pad's frames per second while a pointer drags across it in Chromium (the custom component only
  swaps precomputed decodes, counted by requestAnimationFrame draws in window.genlabLatentPad);
- beside it, the time from an st.slider change to the new image in the same browser (a Streamlit rerun of
  the sliders tab: message to the server, decode, image back), median of several changes.

It starts its own `streamlit run app.py` on a free localhost port and stops it afterwards. The page shows the
first VAE checkpoint listed (shipped ones first), which is also the one timed here.

    .venv/bin/python benchmarks/latent_latency.py [--user-checkpoints DIR] [--slider-changes 9]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

CHROMIUM = os.environ.get("GENLAB_CHROMIUM", "/usr/bin/chromium")
LOG = tempfile.NamedTemporaryFile(prefix="genlab-bench-streamlit-", suffix=".log", delete=False)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def timed(fn, repeats: int, device: torch.device) -> tuple[float, float]:
    """(median, fastest) wall time of fn() in milliseconds, after two warm-up calls."""
    for _ in range(2):
        fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def decode_times(path: Path, device: torch.device) -> tuple[tuple[float, float], tuple[float, float]]:
    from genlab.explore.latent_space import decode, decode_grid
    from genlab.models.loading import load_checkpoint

    model = load_checkpoint(path, device=device, expect_kind="vae").model
    z = torch.zeros(1, model.config.latent_dim)
    one = timed(lambda: decode(model, z), 50, device)
    grid = timed(lambda: decode_grid(model, 20, 3.0), 10, device)
    return one, grid


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(user_dir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "GENLAB_USER_CHECKPOINTS": user_dir, "GENLAB_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=LOG, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("streamlit did not start")


# Runs on the pad's canvas: for `ms` milliseconds, dispatch two pointer moves per animation frame (a pointer
# faster than the screen), then count how many frames the pad drew against how many the browser displayed.
_IN_PAGE_DRAG_JS = """
(canvas, ms) => new Promise((resolve) => {
  const rect = canvas.getBoundingClientRect();
  const at = (t) => ({ clientX: rect.left + rect.width * (0.5 + 0.4 * Math.cos(t)),
                       clientY: rect.top + rect.height * (0.5 + 0.4 * Math.sin(3 * t)),
                       pointerId: 7, bubbles: true });
  const stats = window.genlabLatentPad, frames0 = stats.frames, start = performance.now();
  let ticks = 0, phase = 0;
  canvas.dispatchEvent(new PointerEvent("pointerdown", at(0)));
  const tick = () => {
    ticks += 1;
    for (let k = 0; k < 2; k++) { phase += 0.01; canvas.dispatchEvent(new PointerEvent("pointermove", at(phase))); }
    if (performance.now() - start < ms) { requestAnimationFrame(tick); return; }
    requestAnimationFrame(() => {
      const seconds = (performance.now() - start) / 1000;
      canvas.dispatchEvent(new PointerEvent("pointerup", at(phase)));
      resolve({ fps: (stats.frames - frames0) / seconds, displayFps: ticks / seconds });
    });
  };
  requestAnimationFrame(tick);
})
"""


def pad_fps_in_page(page, ms: int = 3000) -> tuple[float, float]:
    """(pad frames per second, display frames per second) with pointer events faster than the screen."""
    result = page.locator("canvas.plane").evaluate(_IN_PAGE_DRAG_JS, ms)
    return result["fps"], result["displayFps"]


def pad_fps(page, url: str, moves: int) -> tuple[float, float, float]:
    """Drag across the pad in `moves` pointer moves; returns (frames per second, ms per draw, moves per second)."""
    from e2e_helpers import wait_for_app

    page.goto(f"{url}/VAE_explorer?tab=Latent+pad")
    plane = page.locator("canvas.plane")
    plane.wait_for(timeout=300_000)
    wait_for_app(page)
    page.wait_for_function("() => window.genlabLatentPad && window.genlabLatentPad.sheetsLoaded >= 1", timeout=60_000)
    plane.scroll_into_view_if_needed()
    box = plane.bounding_box()
    point = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
    page.mouse.move(*point(0.1, 0.1))
    page.mouse.down()
    before = page.evaluate("() => ({...window.genlabLatentPad, t: performance.now()})")
    corners = [(0.9, 0.1), (0.9, 0.9), (0.1, 0.9), (0.1, 0.1)]  # a square loop, repeated
    per_leg = max(1, moves // 8)
    for leg in range(8):
        page.mouse.move(*point(*corners[leg % 4]), steps=per_leg)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")  # last frame
    after = page.evaluate("() => ({...window.genlabLatentPad, t: performance.now()})")
    page.mouse.up()
    seconds = (after["t"] - before["t"]) / 1000
    frames = after["frames"] - before["frames"]
    return frames / seconds, (after["drawMs"] - before["drawMs"]) / max(frames, 1), per_leg * 8 / seconds


# Runs in the page before each key press: records in window.sliderLatency the ms from the slider's keydown to
# the moment the decoded image (in the container keyed sliders_decoded) shows a new, fully loaded picture.
_WATCH_SLIDER_JS = """
() => {
  const img = () => document.querySelector(".st-key-sliders_decoded img");
  const old = img().src;
  let pressed = null;
  window.sliderLatency = null;
  window.addEventListener("keydown", () => { pressed = performance.now(); }, { once: true, capture: true });
  const poll = () => {
    const now = img();
    if (pressed !== null && now && now.src !== old && now.complete && now.naturalWidth > 0) {
      window.sliderLatency = performance.now() - pressed;
    } else {
      requestAnimationFrame(poll);
    }
  };
  requestAnimationFrame(poll);
}
"""


def slider_latency(page, url: str, changes: int) -> list[float]:
    from e2e_helpers import wait_for_app

    page.goto(f"{url}/VAE_explorer?tab=Sliders+%26+traversals")
    page.locator(".st-key-sliders_decoded img").wait_for(timeout=300_000)
    wait_for_app(page)
    thumb = page.locator("[class*='st-key-slider_z'] input[type='range']").first
    latencies = []
    for i in range(changes):
        wait_for_app(page)
        time.sleep(0.5)
        thumb.focus()
        page.evaluate(_WATCH_SLIDER_JS)
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        page.wait_for_function("() => window.sliderLatency !== null", timeout=60_000)
        latencies.append(page.evaluate("() => window.sliderLatency"))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--user-checkpoints", help="a folder of your own checkpoints to list (default: none)")
    parser.add_argument("--moves", type=int, default=400, help="pointer moves in the drag")
    parser.add_argument("--slider-changes", type=int, default=9, help="st.slider changes to time")
    args = parser.parse_args()

    user_dir = args.user_checkpoints or tempfile.mkdtemp(prefix="genlab-bench-")
    os.environ["GENLAB_USER_CHECKPOINTS"] = user_dir
    from genlab.checkpoints import list_checkpoints
    from genlab.device import describe_device, pick_device

    found = [c for c in list_checkpoints(kind="vae") if c.card is not None]
    if not found:
        raise SystemExit("No VAE checkpoint found: train one with `python -m genlab train vae ...`.")
    checkpoint = found[0]  # the page's default choice
    device = pick_device()
    (one_ms, one_min), (grid_ms, grid_min) = decode_times(checkpoint.path, device)

    from playwright.sync_api import sync_playwright

    process, url = start_server(user_dir)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(300_000)  # the first page load imports torch and loads data: slow on a busy CPU
            try:
                fps, draw_ms, moves_per_s = pad_fps(page, url, args.moves)
                fast_fps, display_fps = pad_fps_in_page(page)
                latencies = slider_latency(page, url, args.slider_changes)
            except Exception:
                page.screenshot(path=LOG.name + ".png")
                print(f"The browser part failed; the server log is {LOG.name}, a screenshot {LOG.name}.png")
                raise
            browser.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()

    slider_ms = statistics.median(latencies)
    rows = [
        ("decode 1 image (median of 50)", f"{one_ms:.2f} ms (fastest {one_min:.2f} ms)"),
        ("decode a 20x20 manifold grid (400 images, median of 10)",
         f"{grid_ms:.1f} ms = {grid_ms / 400:.3f} ms/image (fastest {grid_min:.1f} ms)"),
        (f"latent pad while dragging in Chromium ({args.moves} pointer moves, {moves_per_s:.0f}/s)",
         f"{fps:.1f} frames/s = {1000 / fps:.1f} ms/frame ({draw_ms:.2f} ms drawing each)"),
        ("latent pad, in-page pointer events (2 per displayed frame, 3 s)",
         f"{fast_fps:.1f} frames/s drawn, display ran at {display_fps:.1f} frames/s"),
        (f"st.slider change -> new image in Chromium (median of {len(latencies)})",
         f"{slider_ms:.0f} ms (min {min(latencies):.0f}, max {max(latencies):.0f})"),
        ("st.slider latency / pad frame interval", f"{slider_ms / (1000 / fps):.1f}x"),
    ]
    name = checkpoint.path.relative_to(ROOT) if checkpoint.path.is_relative_to(ROOT) else checkpoint.path
    print(f"\nLatent explorer latency: {name} (latent {checkpoint.card['config']['latent_dim']}), "
          f"on {describe_device(device)}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    width = max(len(r[0]) for r in rows)
    print(f"| {'measurement'.ljust(width)} | result |")
    print(f"| {'-' * width} | --- |")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


if __name__ == "__main__":
    main()
