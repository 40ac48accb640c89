"""Two replicas of the app behind nginx on loopback (scripts/replicas.py, docs/deploy.md): two browsers land on
different replicas and stay there; a model the teacher trains on one replica is listed on the other."""
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT, TEACHER_KEY, _free_port
from e2e_helpers import start_custom_vae_run, wait_for_app

pytestmark = pytest.mark.e2e

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    if not os.path.exists(NGINX):
        pytest.skip("no nginx: install it with `apt-get install nginx-light`")
    port = _free_port()
    log = tmp_path_factory.mktemp("replicas") / "replicas.log"
    env = {**os.environ, "GENLAB_USER_CHECKPOINTS": str(tmp_path_factory.mktemp("shared_user_checkpoints")),
           "GENLAB_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "scripts/replicas.py", "--replicas", "2", "--port", str(port),
                                    "--first-replica-port", "0"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(480):
            if process.poll() is not None:
                pytest.fail(f"scripts/replicas.py stopped; its log:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"the replicas did not start; the log:\n{log.read_text()}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def open_train_page(page, url: str, query: str = "") -> str:
    """Open the Train page; returns the replica it names ('replica 1 of 2 (port ...)')."""
    page.goto(f"{url}/Train{query}")
    page.locator(".st-key-train_start").wait_for(timeout=180_000)
    wait_for_app(page)
    text = page.get_by_text("This server:").inner_text()
    return re.search(r"This server: (replica \d of 2)", text).group(1)


def test_two_browsers_on_two_replicas_share_the_trained_models(replicas, browser):
    contexts = []
    try:
        teacher = browser.new_context().new_page()
        contexts.append(teacher.context)
        teacher.set_default_navigation_timeout(180_000)
        here = open_train_page(teacher, replicas, f"?teacher={TEACHER_KEY}")  # the teacher, on its replica

        for _ in range(4):  # nginx deals first visits out in turn; other requests may take a turn in between
            student = browser.new_context().new_page()
            contexts.append(student.context)
            student.set_default_navigation_timeout(180_000)
            there = open_train_page(student, replicas)
            if there != here:
                break
        assert there != here, "every new browser landed on the same replica"

        start_custom_vae_run(teacher, minutes="0.1")  # 6 seconds
        teacher.get_by_text("every page's model list shows it now").wait_for(timeout=240_000)
        heading = teacher.locator("h3", has_text=re.compile(r"^Job \d+:")).first.inner_text()
        title = re.match(r"Job \d+: (.*?) \(you\)", heading).group(1)

        student.goto(f"{replicas}/VAE_explorer")  # the other replica lists the new file
        student.locator(".st-key-vae_model").wait_for(timeout=180_000)
        wait_for_app(student)
        student.locator(".st-key-vae_model").click()
        options = student.get_by_role("option")
        options.first.wait_for(timeout=30_000)
        assert any(title in text for text in options.all_inner_texts()), options.all_inner_texts()
        assert open_train_page(student, replicas) == there  # the student never left its replica
    finally:
        for context in contexts:
            context.close()
