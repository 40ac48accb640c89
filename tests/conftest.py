"""Shared fixtures: offline mode, tiny temporary folders, and (for e2e tests) a live server and Chromium."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("GENLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]

# Tests never download anything.
os.environ["GENLAB_OFFLINE"] = "1"
# A known teacher key, so that no test makes (and announces) one; sessions without it are students.
TEACHER_KEY = "test-teacher-key"
os.environ["GENLAB_TEACHER_KEY"] = TEACHER_KEY


@pytest.fixture(autouse=True)
def user_checkpoint_dir(tmp_path, monkeypatch):
    """Every test gets its own empty user checkpoint folder, so nothing leaks between tests."""
    folder = tmp_path / "user_checkpoints"
    monkeypatch.setenv("GENLAB_USER_CHECKPOINTS", str(folder))
    return folder


SERVER_LOGS: dict[str, Path] = {}  # app_server's URL -> its log file (a test may read what the server wrote)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """`streamlit run app.py` on a free local port; yields its base URL and stops it afterwards."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    env = {**os.environ, "GENLAB_USER_CHECKPOINTS": str(tmp_path_factory.mktemp("user_checkpoints")),
           "GENLAB_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}  # the Compare page's metrics
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    SERVER_LOGS[url] = log
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"streamlit did not start; its log:\n{log.read_text()}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by playwright (never `playwright install`: no browser can be downloaded)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium`")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request, tmp_path):
    """A fresh browser page; on failure its screenshot is saved under test-artifacts/."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_navigation_timeout(180_000)  # a busy server (a training job, a loaded CI machine)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        artifacts = ROOT / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        page.screenshot(path=str(artifacts / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
