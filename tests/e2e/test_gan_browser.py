"""The GAN arithmetic page in Chromium, from the shipped checkpoints: build an equation, see the result image."""
from pathlib import Path

import pytest
from e2e_helpers import wait_for_app

pytestmark = pytest.mark.e2e

SHIPPED = Path(__file__).resolve().parents[2] / "checkpoints" / "fashion-mnist" / "dcgan.safetensors"


def choose(page, key: str, labels: list[str]) -> None:
    """Pick options of the multiselect with this key as a user would: type to filter, click the option.
    (Streamlit 1.67's multiselect is a react-aria combobox; typing keeps the option list short, so the option
    never sits below the list's scroll edge.)"""
    for label in labels:
        box = page.locator(f".st-key-{key} input[role='combobox']")
        box.click()
        box.fill(label)
        page.get_by_role("option", name=label, exact=True).click()
        page.keyboard.press("Escape")
        wait_for_app(page)


@pytest.mark.skipif(not SHIPPED.exists(), reason="the shipped DCGAN checkpoint is not there")
def test_build_an_equation_and_see_the_result(app_server, page):
    page.goto(f"{app_server}/GAN_arithmetic", timeout=180_000)
    # The first run loads torch and a model; the multiselect itself arrives as a skeleton first.
    page.locator(".st-key-gan_group_a input[role='combobox']").wait_for(timeout=180_000)
    wait_for_app(page)
    assert page.get_by_text("implicit model").count() >= 1
    assert page.get_by_text("result", exact=True).count() == 0

    choose(page, "gan_group_a", ["#0", "#1", "#2"])
    choose(page, "gan_group_b", ["#3", "#4", "#5"])
    choose(page, "gan_group_c", ["#6", "#7", "#8"])

    caption = page.get_by_text("result", exact=True)
    caption.wait_for(timeout=60_000)
    result = page.locator("[data-testid='stImageContainer'], [data-testid='stImage']").filter(has=caption).locator("img")
    result.first.wait_for(timeout=30_000)
    page.wait_for_function("(img) => img.complete && img.naturalWidth >= 28", arg=result.first.element_handle())
    assert page.get_by_text("variation 8", exact=True).count() == 1


CONDITIONAL = SHIPPED.parents[1] / "digits" / "conditional-gan.safetensors"


def first_gallery_image(page) -> str:
    image = page.locator("[data-testid='stImage'] img, [data-testid='stImageContainer'] img").first
    image.wait_for(timeout=60_000)
    return image.get_attribute("src")


@pytest.mark.skipif(not CONDITIONAL.exists(), reason="the shipped conditional GAN is not there")
def test_ask_the_conditional_gan_for_a_class_and_see_the_gallery_change(app_server, page):
    page.goto(f"{app_server}/GAN_arithmetic?model=digits/conditional-gan", timeout=180_000)
    page.locator(".st-key-gan_class input").wait_for(timeout=180_000)
    wait_for_app(page)
    page.get_by_text("class y = 0").first.wait_for(timeout=60_000)
    before = first_gallery_image(page)
    box = page.locator(".st-key-gan_class input")
    box.click()
    box.fill("7")
    page.get_by_role("option", name="7", exact=True).click()
    page.get_by_text("class y = 7").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert first_gallery_image(page) != before  # the same z, drawn as a 7
