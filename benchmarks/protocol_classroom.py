"""A class on one server, where the server is the bottleneck: simulated students speak Streamlit's own websocket
protocol (benchmarks/streamlit_client.py) instead of driving browsers, so 100 of them cost this machine far less
than the server they load. Optionally a few real Chromium students (benchmarks/classroom.py) join them.

    .venv/bin/python benchmarks/protocol_classroom.py --students 10 30 60 100 --minutes 5   # a capacity curve
    .venv/bin/python benchmarks/protocol_classroom.py --students 60 --minutes 30             # the lesson
    .venv/bin/python benchmarks/protocol_classroom.py --calibrate                           # against Chromium

Every simulated student opens the pages in turn and, with a think time between actions (5-15 s by default):
  VAE explorer: releases a drag on the latent pad (the point goes to Python), moves a latent slider;
  GAN arithmetic: builds an equation of three groups of two (the last pick is timed);
  Autoregressive: asks for 4 completions of the bottom half of a test image (its own seed, so no cache helps);
  Compare: opens the page;  Train: watches the teacher's run (the page's fragment refreshes on its timer).
An action is timed from sending it to the message that carries its new image (or the element it waits for),
and its images are requested over HTTP as they arrive, as a browser's <img> does (the fetch times and the images
the server did not serve are reported apart); the next action waits until they have loaded. The teacher starts
one VAE training run on the Train page first, long enough to outlast the lesson. Only 127.0.0.1 is contacted;
every level stops by itself after --minutes.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import tempfile
import time
from urllib.parse import urlencode
from dataclasses import dataclass, field
from pathlib import Path

import classroom
from classroom import Record, percentile, sample_server
from live_app import server_log, streamlit_server
from streamlit_client import Session, caption_starting, image_under, shows

ACTION_TIMEOUT_S = 60.0
INTERACTIVE = ("VAE: release a drag on the latent pad", "VAE: move a latent slider", "GAN: complete an equation")
TEACHER_KEY = f"benchmark-{os.getpid()}"  # given to the server; only the teacher's session shows it
PAD_TAB, SLIDER_TAB = ("tab", "Latent pad"), ("tab", "Sliders & traversals")


@dataclass
class ProtocolRecord(Record):
    """What the protocol students measured, with what only they can tell."""
    image_failures: list[str] = field(default_factory=list)  # images still on the page the server did not serve
    stale_image_failures: list[str] = field(default_factory=list)  # ... that the page had replaced by then
    image_wait_s: list[float] = field(default_factory=list)  # each image's arrival to the end of its fetch
    client_cores: float = float("nan")  # the students' own CPU: what simulating them cost this machine


def timed(timing, what: str, session: Session | None = None) -> float:
    """Seconds to the awaited result; a run that finished without it is a missing answer (with what the page
    said instead, when the session is given)."""
    if timing.to_result is None:
        said = f"; the page said: {' / '.join(session.texts())[-300:]}" if session is not None else ""
        raise TimeoutError(f"{what}: the run finished without the expected image{said}")
    return timing.to_result


# -- the actions (each opens its page if the student is elsewhere, then does one timed thing) ----------------

async def goto(session: Session, page: str, tab: tuple[str, str] | None = None) -> None:
    """Open `page` (by its address, with `tab` = (the tabs' key, a tab's label) in the query, as a lesson link
    does) unless the student is there; on the same page, click the tab as a browser does (the tabs' widget value)."""
    if session.page != page:
        await session.visit(page, urlencode([tab]) if tab else "")
        session.tab = tab
    elif tab and session.tab != tab:
        await session.set_widget(*tab)
        session.tab = tab


async def vae_pad(session: Session, record: Record, rng: random.Random) -> None:
    await goto(session, "VAE_explorer", PAD_TAB)
    point = {"x": round(rng.uniform(-2, 2), 3), "y": round(rng.uniform(-2, 2), 3)}
    timing = await session.set_widget("latent_pad", {"point": point}, until=caption_starting("Decoded exactly at z["))
    record.add(INTERACTIVE[0], timed(timing, "latent pad"))


async def vae_slider(session: Session, record: Record, rng: random.Random) -> None:
    await goto(session, "VAE_explorer", SLIDER_TAB)
    slider = session.widget("slider_z0").proto
    sent = session.value_of("slider_z0")  # what this student set last (the page does not echo a moved slider)
    value = sent.data[0] if sent is not None else (slider.value[0] if slider.value else slider.default[0])
    step = rng.choice([-1, 1]) * slider.step * rng.randint(1, 5)
    value = min(slider.max, max(slider.min, value + step))
    timing = await session.set_widget("slider_z0", round(value, 2), until=image_under("sliders_decoded"))
    record.add(INTERACTIVE[1], timed(timing, "latent slider"))


async def gan_equation(session: Session, record: Record, rng: random.Random) -> None:
    await goto(session, "GAN_arithmetic")
    picks = [f"#{i}" for i in rng.sample(range(16), 6)]
    for key, chosen in (("gan_group_a", picks[0:1]), ("gan_group_a", picks[0:2]), ("gan_group_b", picks[2:3]),
                        ("gan_group_b", picks[2:4]), ("gan_group_c", picks[4:5])):
        await session.set_widget(key, chosen)  # one pick at a time, as a student clicks them
        await asyncio.sleep(rng.uniform(0.5, 1.5))
    timing = await session.set_widget("gan_group_c", picks[4:6],
                                      until=lambda s, start: "variation 8" in [c.strip() for c in s.captions(start)])
    record.add(INTERACTIVE[2], timed(timing, "equation"))


def completions_shown(count: int):
    """Until: `count` completions, each captioned with its log-likelihood, and the line that says they're done."""
    def done(session: Session, start: float) -> bool:
        numbers = sum(bool(re.fullmatch(r"-?\d+\.\d", c.strip())) for c in session.captions(start))
        said = any(re.search(rf"{count} completions? in [\d.]+ s", t) for t in session.texts(start))
        return numbers >= count and said
    return done


async def pixelcnn_completions(session: Session, record: Record, rng: random.Random) -> None:
    await goto(session, "Autoregressive", ("pcnn_tab", "Complete"))
    await session.set_widget("pcnn_index", rng.randrange(1000))
    await session.set_widget("pcnn_seed", rng.randrange(10_000))  # a student's own seed: nothing to reuse
    if session.widget("pcnn_n").proto.value != [4.0]:
        await session.set_widget("pcnn_n", 4)
    timing = await session.set_widget("pcnn_complete", True, until=completions_shown(4))
    record.add("PixelCNN: 4 completions", timed(timing, "completions"))


async def open_compare(session: Session, record: Record, rng: random.Random) -> None:
    timing = await session.visit("Compare", until=shows("compare_bars"))
    record.add("Compare: open the page", timed(timing, "Compare"))


async def watch_training(session: Session, record: Record, rng: random.Random) -> None:
    timing = await session.visit("Train", until=image_under("train_losses"))
    record.add("Train: open the page and see the run", timed(timing, "Train", session))
    # the student keeps watching through the think time that follows: the fragment reruns on its timer


SCRIPT = [vae_pad, vae_slider, gan_equation, pixelcnn_completions, open_compare, watch_training]


async def student(number: int, url: str, record: ProtocolRecord, deadline: float, think: tuple[float, float],
                  arrive_s: float, students: int) -> None:
    rng = random.Random(number)
    await asyncio.sleep(arrive_s * number / max(1, students) + rng.uniform(0, 2))  # a class trickles in
    session = Session(url, timeout_s=ACTION_TIMEOUT_S)
    step = rng.randrange(len(SCRIPT))  # students start on different pages
    try:
        await session.open()
        while time.monotonic() < deadline:
            action = SCRIPT[step % len(SCRIPT)]
            step += 1
            try:
                await action(session, record, rng)
            except Exception as error:  # no answer in time, or the page lacked what a student would click
                record.timeouts.append(f"student {number}, {action.__name__}: {type(error).__name__}: {error}"[:500])
                print(f"  ! {record.timeouts[-1]}", file=sys.stderr)
            seen = [f"student {number} on {session.page}: {e}" for e in session.errors()]
            record.errors += [e for e in seen if e not in record.errors]  # each error once, not at every action
            await asyncio.sleep(rng.uniform(*think))
    finally:
        await session.close()  # after its last images have come
        record.image_failures += session.image_failures
        record.stale_image_failures += session.stale_image_failures
        record.image_wait_s += session.image_wait_s


async def start_training(url: str, minutes: float) -> None:
    """The teacher (the server's key in the address, as the teacher's browser shows it once) starts one VAE
    training run on the Train page: the default model and data, a custom length."""
    teacher = Session(url, timeout_s=180)
    await teacher.open()
    await teacher.visit("Train", query=f"teacher={TEACHER_KEY}")
    await teacher.set_widget("train_preset", "Custom")
    await teacher.set_widget("train_minutes", minutes)
    await teacher.set_widget("train_start", True)
    said = " ".join(teacher.texts())
    await teacher.close()
    if not re.search(r"On this server: 1 training", said):
        raise RuntimeError(f"the teacher's training run did not start: {said[-300:]}")


async def warm_up(url: str) -> None:
    """The teacher opens every page once before the class arrives, so models and data are loaded."""
    record = Record()
    session = Session(url, timeout_s=600)
    await session.open()
    for action in SCRIPT[:-1]:
        await action(session, record, random.Random(0))
    await session.close()


Samples = list[tuple[float, float, float]]  # (seconds into the level, server MB, server cores)


async def level(url: str, pid: int, students: int, minutes: float, think: tuple[float, float], arrive_s: float,
                browsers: int, profile_to: Path | None = None) -> tuple[Record, Record, Samples]:
    """One level of the curve: `students` protocol students (and `browsers` Chromium ones) for `minutes`."""
    record, browser_record, samples = ProtocolRecord(), None, []
    start, own_cpu = time.monotonic(), time.process_time()
    deadline = start + 60 * minutes

    tasks = [sample_server(pid, start, deadline, samples, record),
             *(student(i, url, record, deadline, think, arrive_s, students) for i in range(students))]
    if profile_to:  # once every student is in: sample the server's stacks until the level ends
        tasks.append(profile_server(pid, arrive_s + 5, 60 * minutes - arrive_s - 10, profile_to))
    if browsers:
        from playwright.async_api import async_playwright

        browser_record = Record()
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=classroom.CHROMIUM, args=classroom.CHROMIUM_ARGS,
                                              headless=True)
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(classroom.ACTION_TIMEOUT_MS)
            script = [classroom.vae_pad, classroom.vae_slider, classroom.gan_equation,
                      classroom.pixelcnn_completions, classroom.open_compare]
            tasks += [classroom.student(i, context, url, browser_record, deadline, think, script, browsers, arrive_s)
                      for i in range(browsers)]  # i: its place in the arrival order (and its random seed)
            await asyncio.gather(*tasks)
            await browser.close()
    else:
        await asyncio.gather(*tasks)
    record.client_cores = (time.process_time() - own_cpu) / (time.monotonic() - start)
    return record, browser_record, samples


async def profile_server(pid: int, after_s: float, seconds: float, out: Path) -> None:
    """py-spy's stack samples of the server (every thread, 50 per second, without pausing it) as collapsed stacks."""
    await asyncio.sleep(after_s)
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
        "--duration", str(max(5, int(seconds))), "--rate", "50", "--threads", "--nonblocking",
        "--format", "raw", "--output", str(out),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    await process.wait()


WRAPPERS = tuple(f"({file})" for file in (  # frames that wrap every run: left out of the function table
    "threading.py", "<frozen runpy>", "core.py", "cli.py", "bootstrap.py", "runners.py", "base_events.py",
    "script_runner.py", "exec_code.py", "page.py", "__main__.py", "app.py", "events.py"))


TRAINING_FRAME = re.compile(r"(^|\.)_run \(.*training/jobs\.py")  # the job manager's thread (py-spy 0.3 or 0.4)


def profile_table(collapsed: Path, top: int = 20) -> list[str]:
    """Where the server's busy samples went (py-spy's collapsed stacks): the split between the training run,
    the script runs that answer students, and the rest (the web server's event loop), then the functions
    that took most of the students' share (inclusive: the function or what it called)."""
    parts = {"training run": 0, "script runs (answering students)": 0, "event loop and other": 0}
    inclusive: dict[str, int] = {}
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames, n = stack.split(";")[1:], int(count)  # the first frame names the thread
        part = ("training run" if any(TRAINING_FRAME.search(f) for f in frames) else
                "script runs (answering students)" if any("_run_script_thread" in f for f in frames) else
                "event loop and other")
        parts[part] += n
        if part == "training run":
            continue
        seen = set()
        for frame in frames:
            name = re.sub(r"\(([^)]*/)?([^/)]+):\d+\)", r"(\2)", frame.strip())  # function (file.py)
            if name not in seen and not name.endswith(WRAPPERS):
                seen.add(name)
                inclusive[name] = inclusive.get(name, 0) + n
    total = max(1, sum(parts.values()))
    rows = ["| where | share of the server's busy samples |", "| --- | --- |"]
    rows += [f"| {part} | {n / total:.1%} |" for part, n in parts.items()]
    rows += ["", "| function (file), outside the training run | share of the server's busy samples |", "| --- | --- |"]
    for name, count in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]:
        rows.append(f"| {name} | {count / total:.1%} |")
    return rows


# -- calibration: the same action by this client and by Chromium, on an idle server ---------------------------

CALIBRATION = [("VAE: release a drag on the latent pad", vae_pad, "vae_pad"),
               ("VAE: move a latent slider", vae_slider, "vae_slider"),
               ("GAN: complete an equation", gan_equation, "gan_equation"),
               ("PixelCNN: 4 completions", pixelcnn_completions, "pixelcnn_completions"),
               ("Compare: open the page", open_compare, "open_compare")]


async def calibrate(url: str, repeats: int) -> dict[str, tuple[list[float], list[float]]]:
    from playwright.async_api import async_playwright

    protocol, chromium = ProtocolRecord(), Record()
    session = Session(url, timeout_s=ACTION_TIMEOUT_S)
    await session.open()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=classroom.CHROMIUM, args=classroom.CHROMIUM_ARGS,
                                          headless=True)
        page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
        for name, action, browser_action in CALIBRATION:
            for i in range(repeats + 1):  # the first of each is a page's first visit: not counted
                rng = random.Random(i)
                if action is open_compare:  # arrive from another page each time, both of them
                    await session.visit("Train")
                    await classroom.visit(page, url, "Train", ".st-key-train_start")
                await action(session, protocol if i else Record(), rng)
                await getattr(classroom, browser_action)(page, url, chromium if i else Record(), rng)
                await asyncio.sleep(1.0)
        await browser.close()
    await session.close()
    renamed = {"Compare: open the page (metrics cached)": "Compare: open the page"}
    chromium_times = {renamed.get(k, k): v for k, v in chromium.times.items()}
    return {name: (protocol.times[name], chromium_times.get(name, [])) for name, _, _ in CALIBRATION}


# -- report ------------------------------------------------------------------------------------------------

def table_rows(students: int, times: dict[str, list[float]], who: str = "") -> list[str]:
    rows = []
    for action, values in times.items():
        if values:
            rows.append(f"| {students} | {who}{action} | {len(values)} | {statistics.median(values):.2f} | "
                        f"{percentile(values, 0.95):.2f} | {max(values):.2f} |")
    interactive = [t for name in INTERACTIVE for t in times.get(name, [])]
    if interactive and not who:
        rows.append(f"| {students} | **interactive (drag, slider, equation)** | {len(interactive)} | "
                    f"{statistics.median(interactive):.2f} | {percentile(interactive, 0.95):.2f} | "
                    f"{max(interactive):.2f} |")
    return rows


@dataclass
class Level:
    students: int
    record: Record
    browser_record: object  # classroom.Record of the Chromium students, or None
    samples: Samples
    tracebacks: int  # new tracebacks in the server log during this level

    def summary(self) -> dict:
        interactive = [t for name in INTERACTIVE for t in self.record.times.get(name, [])]
        cpu = [c for _, _, c in self.samples[1:]]
        at5 = next((m for t, m, _ in self.samples if t >= 300), self.samples[-1][1])
        others = self.browser_record
        return {"students": self.students,
                "p95_interactive": percentile(interactive, 0.95) if interactive else float("nan"),
                "errors": len(self.record.errors) + (len(others.errors) if others else 0),
                "unanswered": len(self.record.timeouts) + (len(others.timeouts) if others else 0),
                "tracebacks": self.tracebacks, "cpu": statistics.mean(cpu) if cpu else float("nan"),
                "client_cpu": self.record.client_cores, "images_not_served": len(self.record.image_failures),
                "images_replaced": len(self.record.stale_image_failures),
                "image_p95": percentile(self.record.image_wait_s, 0.95) if self.record.image_wait_s else float("nan"),
                "mb_start": self.samples[0][1], "mb_5min": at5, "mb_end": self.samples[-1][1]}


def run(levels: list[int], minutes: float, think: tuple[float, float] = (5, 15), arrive_s: float = 60,
        browsers: int = 0, training: bool = True, calibrate_n: int = 0, profile: bool = False):
    """Start a server (the Compare page reads the shipped checkpoints' metrics from checkpoints/compare/), warm it
    up, start the teacher's training run, hold one level per number of students; stop the server. Returns the
    levels, or with calibrate_n the calibration instead."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "user_checkpoints"
        folder.mkdir()
        with streamlit_server(folder, {"GENLAB_TEACHER_KEY": TEACHER_KEY}, new_session=True) as server:
            asyncio.run(warm_up(server.url))
            if calibrate_n:
                return asyncio.run(calibrate(server.url, calibrate_n))
            if training:
                asyncio.run(start_training(server.url, minutes * len(levels) + 10))
            done, log_seen = [], 0
            for students in levels:
                print(f"level: {students} students for {minutes:g} minutes", file=sys.stderr)
                profile_to = Path(tmp) / f"profile-{students}.txt" if profile else None
                record, browser_record, samples = asyncio.run(level(
                    server.url, server.pid, students, minutes, think, arrive_s, browsers, profile_to))
                if profile_to and profile_to.exists():
                    print(f"\nWhere the server's time went with {students} students (py-spy, every thread):\n")
                    print("\n".join(profile_table(profile_to)))
                log_text = server_log(folder).read_text()
                tracebacks, log_seen = log_text.count("Traceback", log_seen), len(log_text)
                done.append(Level(students, record, browser_record, samples, tracebacks))
                for problem in (record.errors + record.timeouts)[:10]:
                    print(f"  - {problem}", file=sys.stderr)
            return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, nargs="+", default=[60], help="one level of the curve per number")
    parser.add_argument("--minutes", type=float, default=5, help="length of each level")
    parser.add_argument("--think-min", type=float, default=5, help="shortest pause between a student's actions (s)")
    parser.add_argument("--think-max", type=float, default=15, help="longest pause between a student's actions (s)")
    parser.add_argument("--arrive", type=float, default=60, help="seconds over which a level's students arrive")
    parser.add_argument("--browsers", type=int, default=0, help="real Chromium students in the mix (2 or 3)")
    parser.add_argument("--no-training", action="store_true", help="leave out the teacher's training run")
    parser.add_argument("--profile", action="store_true",
                        help="sample the server's stacks with py-spy during each level and print where its time went")
    parser.add_argument("--calibrate", type=int, nargs="?", const=5, default=0, metavar="N",
                        help="instead of a lesson: each action N times by this client and by Chromium, idle server")
    args = parser.parse_args(argv)
    think = (args.think_min, args.think_max)
    if args.calibrate:
        found = run([], 0, calibrate_n=args.calibrate)
        print(f"\nCalibration on an idle server, {args.calibrate} times each: median (max) seconds from the action "
              "to its image, by this client and by one Chromium page.\n")
        print("| action | protocol client | Chromium page | Chromium / client |")
        print("| --- | --- | --- | --- |")
        for name, (mine, theirs) in found.items():
            a = statistics.median(mine) if mine else float("nan")
            b = statistics.median(theirs) if theirs else float("nan")
            print(f"| {name} | {a:.3f} ({max(mine, default=float('nan')):.3f}) | "
                  f"{b:.3f} ({max(theirs, default=float('nan')):.3f}) | {b / a:.1f} |")
        return 0
    levels = run(args.students, args.minutes, think, args.arrive, args.browsers, not args.no_training,
                 profile=args.profile)
    training = "no training run" if args.no_training else "one VAE training run"
    print(f"\nProtocol students, {args.minutes:g} minutes per level, think time {think[0]:g}-{think[1]:g} s, "
          f"{training}, {args.browsers} Chromium students beside them; machine: {os.cpu_count()} cores. "
          "Seconds from the action to the message carrying its image.\n")
    print("| students | action | count | p50 (s) | p95 (s) | max (s) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for done in levels:
        print("\n".join(table_rows(done.students, done.record.times)))
        if done.browser_record:
            print("\n".join(table_rows(done.students, done.browser_record.times, who="Chromium: ")))
    print("\n| students | p95 interactive (s) | errors shown | unanswered | broken images | images replaced before "
          "served | image fetch p95 (s) | tracebacks | server cores | students' cores | MB start | MB at 5 min | "
          "MB end |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    summaries = [done.summary() for done in levels]
    for s in summaries:
        print(f"| {s['students']} | {s['p95_interactive']:.2f} | {s['errors']} | {s['unanswered']} | "
              f"{s['images_not_served']} | {s['images_replaced']} | {s['image_p95']:.2f} | {s['tracebacks']} | "
              f"{s['cpu']:.2f} | {s['client_cpu']:.2f} | {s['mb_start']:.0f} | {s['mb_5min']:.0f} | "
              f"{s['mb_end']:.0f} |")
    return 0 if all(s["errors"] == 0 and s["unanswered"] == 0 and s["images_not_served"] == 0 and s["tracebacks"] == 0
                    for s in summaries) else 1


if __name__ == "__main__":
    sys.exit(main())
