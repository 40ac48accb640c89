"""A whole class on one server: N students in headless Chromium, each working through the pages, while one
training job runs. Prints p50/p95 time from action to updated image per action, errors, and the server's
memory and CPU over the lesson.

    .venv/bin/python benchmarks/classroom.py                      # 30 students, 30 minutes
    .venv/bin/python benchmarks/classroom.py --students 5 --minutes 3

Each student opens the pages in turn and, with a few seconds of thinking between actions:
  VAE explorer: drags on the latent pad and lets go (the point goes to Python), moves a latent slider;
  GAN arithmetic: builds an equation of three groups;  PixelCNN: asks for 4 completions of the bottom half;
  Compare: opens the page (its metrics were computed once beforehand, as a teacher would).
"Action to updated image" runs from the browser event to the new image (or text) being on screen.

The students' browsers share this machine's cores with the server, which a real class does not (every student
brings a laptop, and 30 Chromium tabs need more than these 2 cores), so the browsers run in a scheduling group
with priority over the server (Linux autogroup; `--no-browser-priority` turns that off): the server gets the CPU
the browsers leave, less than a real server would have. Times include the browsers' own rendering. Only
localhost is contacted. It stops by itself.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from live_app import CHROMIUM, CHROMIUM_ARGS, ROOT, cpu_seconds, server_log, streamlit_server

ACTION_TIMEOUT_MS = 60_000
FIRST_VISIT_TIMEOUT_MS = 180_000  # a student's first page load fetches and starts Streamlit's whole front end
IDLE_JS = ("() => !document.querySelector(\"[data-testid='stStatusWidget']\")"
           " || !document.querySelector(\"[data-testid='stStatusWidget']\").innerText.includes('Running')")


@dataclass
class Record:
    """What every student measured, shared by all of them (one asyncio thread: no lock needed)."""
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)  # what a page showed: an exception or an error box
    timeouts: list[str] = field(default_factory=list)  # actions whose result did not appear within the limit
    actions_done: int = 0

    def add(self, action: str, seconds: float) -> None:
        self.times[action].append(seconds)
        self.actions_done += 1


def memory_mb(pid: int) -> float:
    """Resident memory of the server process (MB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def idle(page, timeout_ms: int = ACTION_TIMEOUT_MS) -> None:
    await page.wait_for_function(IDLE_JS, timeout=timeout_ms)


async def check_page(page, who: str, record: Record) -> None:
    """A student sees an exception box or an error: count it (with the page's own words)."""
    for selector in ("[data-testid='stException']", "[data-testid='stAlertContentError']"):
        boxes = page.locator(selector)
        if await boxes.count():
            text = (await boxes.first.inner_text())[:200].replace("\n", " ")
            record.errors.append(f"{who} on {page.url}: {text}")


async def image_src(page, selector: str) -> str | None:
    images = page.locator(selector)
    return await images.first.get_attribute("src") if await images.count() else None


async def wait_new_image(page, selector: str, old: str | None) -> None:
    """Until the first image matching `selector` has a new source and has loaded."""
    await page.wait_for_function(
        """([selector, old]) => { const img = document.querySelector(selector);
                                  return img && img.getAttribute('src') !== old && img.complete
                                         && img.naturalWidth > 0; }""",
        arg=[selector, old], timeout=ACTION_TIMEOUT_MS)


# -- the actions ----------------------------------------------------------------------------------------------

async def visit(page, url: str, path: str, ready: str, tab: str | None = None) -> None:
    """Go to a page as a student does: the first time by its address, then by the sidebar's link (Streamlit
    switches pages without reloading the browser); then to a tab, and wait until `ready` is there."""
    timeout = FIRST_VISIT_TIMEOUT_MS if page.url == "about:blank" else ACTION_TIMEOUT_MS  # the first load is slow
    if urlparse(page.url).path.strip("/") != path:
        link = page.locator(f"[data-testid='stSidebarNav'] a[href$='/{path}']")
        if await link.count():
            await link.first.click()
        else:
            await page.goto(f"{url}/{path}", timeout=timeout)
    if tab:
        button = page.get_by_role("tab", name=tab, exact=True)
        await button.wait_for(timeout=timeout)
        if await button.get_attribute("aria-selected") != "true":
            await button.click()
    await page.locator(ready).first.wait_for(state="attached", timeout=timeout)
    await idle(page, timeout)


async def vae_pad(page, url: str, record: Record, rng: random.Random) -> None:
    await visit(page, url, "VAE_explorer", "canvas.plane", tab="Latent pad")
    plane = page.locator("canvas.plane")
    await page.wait_for_function("() => window.genlabLatentPad && window.genlabLatentPad.sheetsLoaded >= 1",
                                 timeout=ACTION_TIMEOUT_MS)
    await plane.scroll_into_view_if_needed()
    box = await plane.bounding_box()
    at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
    await page.mouse.move(*at(rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9)))
    await page.mouse.down()
    await page.mouse.move(*at(rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9)), steps=10)
    received = page.get_by_text(re.compile(r"Decoded exactly at z\[\d+\] = "))
    before = await received.first.inner_text() if await received.count() else None
    start = time.perf_counter()
    await page.mouse.up()  # the decoded image followed the drag in the browser; now Python gets the point
    await page.wait_for_function(
        """(before) => { const el = [...document.querySelectorAll("[data-testid='stImageCaption']")].find(
                             e => e.innerText.startsWith('Decoded exactly at z['));
                         return el && el.innerText !== before; }""", arg=before, timeout=ACTION_TIMEOUT_MS)
    record.add("VAE: release a drag on the latent pad", time.perf_counter() - start)


async def vae_slider(page, url: str, record: Record, rng: random.Random) -> None:
    await visit(page, url, "VAE_explorer", ".st-key-slider_z0 input[type='range']", tab="Sliders & traversals")
    thumb = page.locator(".st-key-slider_z0 input[type='range']")  # react-aria: a visually hidden range input
    selector = ".st-key-sliders_decoded img"
    await page.locator(selector).first.wait_for(timeout=ACTION_TIMEOUT_MS)
    old, value = await image_src(page, selector), await thumb.input_value()
    key = "ArrowLeft" if float(value) > 0 else "ArrowRight"  # stay inside the slider's range
    start = time.perf_counter()
    await thumb.press(key)
    if await thumb.input_value() == value:  # the tab was redrawn under the key press: press again
        await thumb.press(key)
    await wait_new_image(page, selector, old)
    record.add("VAE: move a latent slider", time.perf_counter() - start)


async def open_option(page, key: str, label: str):
    """Type `label` into a multiselect and return its option, once the filtered list shows it.

    A rerun that lands while the list is open can close it, so this tries three times."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    box = page.locator(f".st-key-{key} input[role='combobox']")
    option = page.get_by_role("option", name=label, exact=True)
    for attempt in range(3):
        await box.click()
        await box.fill(label)
        try:
            await option.wait_for(timeout=10_000)
            return option
        except PlaywrightTimeout:
            await page.keyboard.press("Escape")
            await idle(page)
    return option  # the caller's click then fails with Playwright's own message


async def pick(page, key: str, label: str) -> float:
    """Open the option and click it; a rerun that replaces the open list under the click is tried again.
    Returns when the click that took began (the typing before it is the student's, not the server's)."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    for attempt in range(3):
        option = await open_option(page, key, label)
        clicked = time.perf_counter()
        try:
            await option.click(timeout=10_000)
            return clicked
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            await page.keyboard.press("Escape")
            await idle(page)


async def choose(page, key: str, labels: list[str]) -> None:
    for label in labels:
        await pick(page, key, label)
        await page.keyboard.press("Escape")
        await idle(page)


async def gan_equation(page, url: str, record: Record, rng: random.Random) -> None:
    await visit(page, url, "GAN_arithmetic", ".st-key-gan_group_a input[role='combobox']")
    for key in ("gan_group_a", "gan_group_b", "gan_group_c"):  # empty the groups of the last visit
        clear = page.locator(f".st-key-{key} [aria-label='Clear all'], .st-key-{key} [title='Clear all']")
        if await clear.count() and await clear.first.is_visible():
            await clear.first.click()
            await idle(page)
    picks = [f"#{i}" for i in rng.sample(range(16), 6)]
    await choose(page, "gan_group_a", picks[0:2])
    await choose(page, "gan_group_b", picks[2:4])
    await choose(page, "gan_group_c", picks[4:5])
    start = await pick(page, "gan_group_c", picks[5])  # the last pick completes the equation: timed from its click
    await page.keyboard.press("Escape")
    await page.wait_for_function(
        """() => [...document.querySelectorAll("[data-testid='stImageCaption']")]
                 .some(c => c.innerText.trim() === 'variation 8')""", timeout=ACTION_TIMEOUT_MS)
    await idle(page)
    record.add("GAN: complete an equation", time.perf_counter() - start)


async def pixelcnn_completions(page, url: str, record: Record, rng: random.Random) -> None:
    await visit(page, url, "Autoregressive", ".st-key-pcnn_complete button", tab="Complete")
    button = page.locator(".st-key-pcnn_complete button").first
    index = page.locator(".st-key-pcnn_index input")
    await index.fill(str(rng.randrange(1000)))
    await index.press("Enter")
    await idle(page)
    thumb = page.locator(".st-key-pcnn_n input[type='range']")
    if await thumb.input_value() != "4":
        await thumb.focus()
        for _ in range(4):
            await page.keyboard.press("ArrowLeft")  # 8 -> 4 completions
        await page.wait_for_function(
            "() => document.querySelector(\".st-key-pcnn_n input[type='range']\").value === '4'",
            timeout=ACTION_TIMEOUT_MS)
        await idle(page)
    start = time.perf_counter()
    await button.click()
    await page.get_by_text(re.compile(r"4 completions in [\d.]+ s")).wait_for(timeout=ACTION_TIMEOUT_MS)
    await page.wait_for_function(
        """() => [...document.querySelectorAll("[data-testid='stImageCaption']")]
                 .filter(c => /^-?\\d+\\.\\d$/.test(c.innerText.trim())).length >= 4""", timeout=ACTION_TIMEOUT_MS)
    record.add("PixelCNN: 4 completions", time.perf_counter() - start)


async def open_compare(page, url: str, record: Record, rng: random.Random) -> None:
    start = time.perf_counter()
    await visit(page, url, "Compare", ".st-key-compare_bars")
    record.add("Compare: open the page (metrics cached)", time.perf_counter() - start)


SCRIPT = [vae_pad, vae_slider, gan_equation, pixelcnn_completions, open_compare]


async def student(number: int, context, url: str, record: Record, deadline: float, think: tuple[float, float],
                  script: list, students: int, arrive_s: float):
    rng = random.Random(number)
    page = await context.new_page()  # a tab of the shared browser context: its own Streamlit session
    await asyncio.sleep(arrive_s * number / max(1, students) + rng.uniform(0, 2))  # a class trickles in
    step = 0
    try:
        while time.monotonic() < deadline:
            action = script[step % len(script)]
            step += 1
            try:
                await action(page, url, record, rng)
                await check_page(page, f"student {number}", record)
            except Exception as error:  # a timeout or a missing element: the student saw no result
                record.timeouts.append(f"student {number}, {action.__name__}: {str(error).splitlines()[0][:160]}")
                print(f"  ! {record.timeouts[-1]}", file=sys.stderr)
                await check_page(page, f"student {number}", record)
            await asyncio.sleep(rng.uniform(*think))
    finally:
        await page.close()


async def start_training(browser, url: str, minutes: float) -> None:
    """The teacher starts one VAE training run on the Train page, long enough to last the lesson."""
    page = await (await browser.new_context(viewport={"width": 1400, "height": 1000})).new_page()
    await page.goto(f"{url}/Train", timeout=180_000)
    await page.locator(".st-key-train_start").wait_for(timeout=180_000)
    await idle(page, 120_000)
    await page.locator(".st-key-train_preset").get_by_text("Custom").click()
    await idle(page)
    field_ = page.locator(".st-key-train_minutes input")
    await field_.fill(f"{minutes:g}")
    await field_.press("Enter")
    await idle(page)
    await page.locator(".st-key-train_start button").click()
    await page.get_by_text(re.compile(r"step [\d,]+")).first.wait_for(timeout=180_000)
    await page.context.close()


async def warm_up(browser, url: str, script: list) -> None:
    """One visit of every page, so the models and datasets are loaded before the class arrives (a teacher
    opens the app before the lesson)."""
    record = Record()
    page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
    for action in script:
        await action(page, url, record, random.Random(0))
    await page.context.close()


async def sample_server(pid: int, start: float, deadline: float, samples: list, record: Record) -> None:
    """Every 10 s until `deadline`: the server's memory (MB) and cores used since the last sample, appended to
    `samples` as (seconds since `start`, MB, cores), and a progress line on stderr."""
    samples.append((0.0, memory_mb(pid), 0.0))
    last_cpu, last_t = cpu_seconds(pid), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(min(10.0, max(0.1, deadline - time.monotonic())))
        now_cpu, now_t = cpu_seconds(pid), time.monotonic()
        samples.append((now_t - start, memory_mb(pid), (now_cpu - last_cpu) / (now_t - last_t)))
        last_cpu, last_t = now_cpu, now_t
        print(f"  {(now_t - start) / 60:5.1f} min: {record.actions_done} actions, {len(record.errors)} errors, "
              f"{len(record.timeouts)} unanswered, server {samples[-1][1]:.0f} MB, {samples[-1][2]:.2f} cores",
              file=sys.stderr)


async def lesson(url: str, server_pid: int, students: int, minutes: float, think: tuple[float, float],
                 script: list, arrive_s: float) -> tuple[Record, list[tuple[float, float, float]]]:
    from playwright.async_api import async_playwright

    record, samples = Record(), []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        print("warming up (the teacher opens every page once)…", file=sys.stderr)
        await warm_up(browser, url, script)
        await start_training(browser, url, minutes + 5)
        start = time.monotonic()
        deadline = start + 60 * minutes

        context = await browser.new_context(viewport={"width": 1280, "height": 900})  # shared cache, own sessions
        context.set_default_timeout(ACTION_TIMEOUT_MS)  # clicks too: a student waits a minute, then gives up
        await asyncio.gather(sample_server(server_pid, start, deadline, samples, record), *(
            student(i, context, url, record, deadline, think, script, students, arrive_s) for i in range(students)))
        await browser.close()
    return record, samples


Samples = list[tuple[float, float, float]]  # (seconds into the lesson, server MB, server cores)


def run_lesson(students: int, minutes: float, think: tuple[float, float] = (5, 15), script: list | None = None,
               browser_priority: bool = True, arrive_s: float = 120) -> tuple[Record, Samples, str]:
    """Start a server, hold the lesson, stop the server. Returns what the students measured, the server samples
    (seconds, MB, cores) and the server's log."""
    script = script or SCRIPT
    if open_compare in script:  # the teacher computed the Compare metrics once, before the lesson
        subprocess.run([sys.executable, "-m", "genlab", "eval", "--all", "--dataset", "fashion-mnist"], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "user_checkpoints"
        folder.mkdir()
        with streamlit_server(folder, new_session=True) as server:  # its own scheduling group
            if browser_priority:
                try:  # this process's group: the browsers it starts are in it too
                    Path("/proc/self/autogroup").write_text("-10")
                except OSError as error:
                    print(f"(could not give the browsers priority: {error})", file=sys.stderr)
            record, samples = asyncio.run(lesson(server.url, server.pid, students, minutes, think, script, arrive_s))
            log_text = server_log(folder).read_text()
    return record, samples, log_text


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(args, record: Record, samples, log_text: str) -> bool:
    print(f"\n{args.students} students, {args.minutes:g} minutes, think time {args.think_min:g}-{args.think_max:g} s, "
          f"one VAE training job running; machine: {os.cpu_count()} cores.\n")
    print("| action | count | p50 (s) | p95 (s) | max (s) |")
    print("| --- | --- | --- | --- | --- |")
    every = []
    for action, times in record.times.items():
        every += times
        print(f"| {action} | {len(times)} | {statistics.median(times):.2f} | {percentile(times, 0.95):.2f} | "
              f"{max(times):.2f} |")
    if every:
        print(f"| **all actions** | {len(every)} | {statistics.median(every):.2f} | {percentile(every, 0.95):.2f} | "
              f"{max(every):.2f} |")
    tracebacks = log_text.count("Traceback")
    print(f"\nErrors shown to students: {len(record.errors)}; tracebacks in the server log: {tracebacks}; actions "
          f"whose result did not appear within {ACTION_TIMEOUT_MS // 1000} s: {len(record.timeouts)}.")
    for error in (record.errors + record.timeouts)[:20]:
        print(f"  - {error}")
    first = samples[0][1]
    at5 = next((m for t, m, _ in samples if t >= 300), samples[-1][1])
    end = samples[-1][1]
    cpu = [c for t, _, c in samples[1:]]
    print(f"\nServer memory: {first:.0f} MB at the start, {at5:.0f} MB after 5 minutes, {end:.0f} MB at the end "
          f"({end / at5 - 1:+.1%} against 5 minutes; target within 20%).")
    if cpu:
        print(f"Server CPU: {statistics.mean(cpu):.2f} cores on average, {max(cpu):.2f} at most "
              "(10-second windows; the training thread is part of it).")
    p95 = percentile(every, 0.95) if every else float("inf")
    return not record.errors and not record.timeouts and tracebacks == 0 and p95 < 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--minutes", type=float, default=30, help="length of the lesson")
    parser.add_argument("--think-min", type=float, default=5, help="shortest pause between a student's actions (s)")
    parser.add_argument("--think-max", type=float, default=15, help="longest pause between a student's actions (s)")
    parser.add_argument("--arrive", type=float, default=120, help="seconds over which the students arrive")
    parser.add_argument("--no-browser-priority", action="store_true",
                        help="let the browsers compete with the server for the cores on equal terms")
    args = parser.parse_args(argv)
    record, samples, log_text = run_lesson(args.students, args.minutes, (args.think_min, args.think_max),
                                           browser_priority=not args.no_browser_priority, arrive_s=args.arrive)
    return 0 if report(args, record, samples, log_text) else 1


if __name__ == "__main__":
    sys.exit(main())
