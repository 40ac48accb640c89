"""The Train page in Chromium: a run started in the browser survives a reload and a page switch, is seen by a
second browser, is never duplicated, and stops (saving its checkpoint) from the Stop button."""
import re

import pytest
from e2e_helpers import current_step, start_custom_vae_run, wait_for_app

pytestmark = pytest.mark.e2e


def open_train_page(page, url) -> None:
    page.goto(f"{url}/Train")
    page.locator(".st-key-train_start").wait_for(timeout=120_000)  # the first run imports torch: slow
    wait_for_app(page)


def run_label(page) -> str:
    """The heading of the run on show, without its state: 'Job 1: vae (latent dim 2) on fashion-mnist, trained at 14:05 (you)'."""
    heading = page.locator("h3", has_text=re.compile(r"^Job \d+:")).first
    heading.wait_for(timeout=120_000)
    return heading.inner_text().split(" · ")[0]


def test_a_run_survives_reload_and_page_switch_without_duplicates(app_server, page, browser):
    open_train_page(page, app_server)
    start_custom_vae_run(page, minutes="5")  # long enough to outlast the checks on a slow machine; the test stops it

    step_before = current_step(page, above=0)
    label = run_label(page)
    assert re.match(r"Job \d+: .*\(you\)$", label)  # (other tests' runs may have come before on this server)

    page.reload()  # the same browser comes back: same job, still going
    page.locator(".st-key-train_start").wait_for(timeout=120_000)
    wait_for_app(page)
    assert run_label(page) == label
    assert current_step(page, above=step_before) > step_before
    assert "1 training, 0 waiting" in page.get_by_text("On this server:").inner_text()

    page.goto(app_server)  # another page, then back
    page.get_by_text("Pretrained models").wait_for(timeout=120_000)
    open_train_page(page, app_server)
    assert run_label(page) == label

    other = browser.new_context().new_page()  # a second student's browser sees the same job
    other.set_default_navigation_timeout(180_000)
    try:
        open_train_page(other, app_server)
        seen = run_label(other)  # the same run, named by whose it is: another student's
        assert seen.rsplit(" (", 1)[0] == label.rsplit(" (", 1)[0] and re.search(r"\(student [0-9a-f]{6}\)$", seen)
        assert other.locator(".st-key-train_stop").count() == 0  # not theirs to stop
        current_step(other, above=0)
        assert "1 training, 0 waiting" in other.get_by_text("On this server:").inner_text()
    finally:
        other.context.close()

    page.locator(".st-key-train_stop").get_by_role("button", name="Stop").first.click()  # it saves a checkpoint
    page.get_by_text("every page's model list shows it now").wait_for(timeout=240_000)
    assert page.get_by_text("The run was stopped after").count() == 1
    assert "0 training, 0 waiting" in page.get_by_text("On this server:").inner_text()
    page.locator(".st-key-train_download").get_by_role("button", name="Download the checkpoint").first.wait_for()
