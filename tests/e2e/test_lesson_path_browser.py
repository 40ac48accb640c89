"""The lesson path in Chromium, walked as a teacher would: from step 1, each step's link opens its page with the
step's tab selected and no error; back on the lesson path, Next goes on, to the last step."""
import re
from urllib.parse import urlencode

import pytest
from e2e_helpers import wait_for_app

from genlab.ui.lesson_path import STEPS

pytestmark = pytest.mark.e2e
TAB_KEYS = ("tab", "pcnn_tab", "diff_tab", "gan_tab", "tr_tab")


def test_walking_the_lesson_path_from_step_1_to_the_last(app_server, page):
    page.goto(f"{app_server}/Lesson_path?step=1")
    for number, step in enumerate(STEPS, start=1):
        page.get_by_role("heading", name=re.compile(rf"^{number}\. ")).wait_for(timeout=180_000)
        wait_for_app(page)
        assert f"step={number}" in page.url or number == 1  # the default step leaves the address bar clean
        if step.page is not None:
            page.locator("[data-testid='stPageLink']").filter(has_text="with these settings").click()
            wanted = "/" + re.sub(r"^\d+_", "", step.page.removeprefix("views/").removesuffix(".py"))
            page.wait_for_url(re.compile(re.escape(wanted if wanted != "/home" else "/") + r"(\?|$)"),
                              timeout=180_000)
            page.locator("h1").first.wait_for(timeout=180_000)
            wait_for_app(page, timeout_ms=300_000)
            assert page.locator("[data-testid='stException']").count() == 0, number
            for key in TAB_KEYS:
                if key in step.settings:
                    selected = page.locator("[role='tab'][aria-selected='true']").first
                    selected.wait_for(timeout=60_000)
                    assert selected.inner_text().strip() == step.settings[key], number
            page.goto(f"{app_server}/Lesson_path?{urlencode({'step': number})}")
            page.get_by_role("heading", name=re.compile(rf"^{number}\. ")).wait_for(timeout=180_000)
            wait_for_app(page)
        if number < len(STEPS):
            page.locator(".st-key-step_next button").click()
    assert "step=13" in page.url


def root_font_px(page) -> float:
    return float(page.evaluate("getComputedStyle(document.documentElement).fontSize").removesuffix("px"))


def sidebar_open(page) -> bool:
    return page.locator("[data-testid='stSidebar'][data-collapsed='false']").count() == 1


def test_presenter_mode_from_the_url_large_type_and_the_lesson_only_across_pages(app_server, page):
    page.goto(f"{app_server}/VAE_explorer?tab=Latent+pad")
    page.locator("h1").first.wait_for(timeout=180_000)
    wait_for_app(page, timeout_ms=300_000)
    page.get_by_text("Model card").first.wait_for(timeout=120_000)
    normal = root_font_px(page)
    assert sidebar_open(page) and page.get_by_text("Upload a checkpoint").count() >= 1

    page.goto(f"{app_server}/Lesson_path?step=5&present=1")
    page.get_by_role("heading", name=re.compile(r"^5\. ")).wait_for(timeout=180_000)
    wait_for_app(page)
    page.wait_for_function("() => parseFloat(getComputedStyle(document.documentElement).fontSize) > 20")
    assert root_font_px(page) > normal and not sidebar_open(page)

    page.locator("[data-testid='stPageLink']").filter(has_text="with these settings").click()  # step 5: VAE
    page.wait_for_url(re.compile(r"/VAE_explorer"), timeout=60_000)
    page.locator("[data-testid='stAlert']", has_text="Like:").wait_for(timeout=180_000)  # the guide, open
    wait_for_app(page, timeout_ms=300_000)
    assert root_font_px(page) > normal and not sidebar_open(page)
    assert page.get_by_text("Upload a checkpoint").count() == 0 and page.get_by_text("Model card").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0
    assert "present=1" in page.url  # kept in the address on the new page

    page.reload()  # a new session: the address brings presenter mode back
    page.locator("h1").first.wait_for(timeout=180_000)
    wait_for_app(page, timeout_ms=300_000)
    page.wait_for_function("() => parseFloat(getComputedStyle(document.documentElement).fontSize) > 20",
                           timeout=120_000)  # the style lands with the new session's first run, not with the h1
    assert root_font_px(page) > normal and page.get_by_text("Model card").count() == 0

    page.goto(f"{app_server}/VAE_explorer?present=0")
    page.get_by_text("Model card").first.wait_for(timeout=180_000)
    wait_for_app(page)
    assert root_font_px(page) == normal and "present=" not in page.url
