"""Helpers for the benchmarks that drive the real app: a `streamlit run app.py` server and Debian's Chromium.

Used by the benchmarks that drive the app in Chromium (not a benchmark by itself).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("GENLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                 "--disable-component-update", "--disable-sync"]


def server_log(user_checkpoints: Path) -> Path:
    return user_checkpoints.parent / "streamlit.log"


@dataclass
class Server:
    url: str
    pid: int


@contextlib.contextmanager
def streamlit_server(user_checkpoints: Path, extra_env: dict | None = None, new_session: bool = False):
    """`streamlit run app.py` on a free local port, saving trained checkpoints into `user_checkpoints`;
    its output goes to server_log(user_checkpoints). Yields a Server (url, pid). With `new_session` the server
    gets its own session, hence its own scheduling group (Linux autogroup)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GENLAB_USER_CHECKPOINTS": str(user_checkpoints), "PYTHONPATH": str(ROOT),
           **(extra_env or {})}
    log = open(server_log(user_checkpoints), "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=new_session)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("streamlit did not start")
        yield Server(url, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_train_page(page, url: str) -> None:
    page.goto(f"{url}/Train")
    page.locator(".st-key-train_start").wait_for(timeout=180_000)
    wait_idle(page)


def wait_idle(page, timeout_ms: int = 120_000) -> None:
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stStatusWidget']\")"
        " || !document.querySelector(\"[data-testid='stStatusWidget']\").innerText.includes('Running')",
        timeout=timeout_ms)


def start_run(page, minutes: float | None = None, config: dict | None = None) -> None:
    """Press Start on the Train page: the quick-demo preset when minutes is None, else a custom length."""
    if minutes is not None:
        page.locator(".st-key-train_preset").get_by_text("Custom").click()
        wait_idle(page)
        field = page.locator(".st-key-train_minutes input")
        field.fill(f"{minutes:g}")
        field.press("Enter")
        wait_idle(page)
    for name, value in (config or {}).items():
        field = page.locator(f".st-key-train_cfg_vae_{name} input")
        field.fill(str(value))
        field.press("Enter")
        wait_idle(page)
    page.locator(".st-key-train_start button").click()


def text_of(page, selector: str) -> str | None:
    """The text of the first element matching `selector`, or None (elements come and go while it reruns)."""
    try:
        return page.locator(selector).first.inner_text(timeout=1000)
    except Exception:  # playwright's TimeoutError: not there right now
        return None


def progress_text(page) -> str | None:
    return text_of(page, "[data-testid='stProgress']")


def grid_caption(page) -> str | None:
    caption = text_of(page, "[data-testid='stImageCaption']")
    return caption if caption and caption.startswith("Samples") else None


def progress_step(page) -> int | None:
    found = re.search(r"step ([\d,]+)", progress_text(page) or "")
    return int(found.group(1).replace(",", "")) if found else None


def read_card(path: Path) -> dict:
    """The model card of a checkpoint (header only), without importing genlab."""
    with open(path, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        return json.loads(json.loads(f.read(length))["__metadata__"]["genlab"])


def wait_for_new_checkpoint(folder: Path, known: set[Path], timeout_s: float = 900) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        new = set(folder.rglob("*.safetensors")) - known
        if new:
            time.sleep(0.5)  # written atomically: present means complete
            return new.pop()
        time.sleep(0.5)
    raise TimeoutError("no checkpoint appeared")


def images_per_second(card: dict) -> float:
    """Training throughput of a run from its model card: steps x batch size / training wall time."""
    return card["steps"] * card["batch_size"] / card["wall_time_s"]


# ---------------------------------------------------------------------------------------------------------
# CPU time from /proc (Linux), to see who used the processor during a window

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(path: Path) -> list[str] | None:
    try:
        text = path.read_text()
    except OSError:  # the process or thread has gone
        return None
    return text[text.rindex(")") + 2:].split()  # fields from the third on: state, ppid, ...


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by one process (all its threads)."""
    fields = _stat_fields(Path(f"/proc/{pid}/stat"))
    return (int(fields[11]) + int(fields[12])) / TICK if fields else 0.0


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds used so far by each thread of a process."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = _stat_fields(task / "stat")
        if fields:
            found[int(task.name)] = (int(fields[11]) + int(fields[12])) / TICK
    return found


def descendants(root: int) -> set[int]:
    """Every living process below `root`."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(entry / "stat")
            if fields:
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found
