"""The autoregressive (PixelCNN) page in Chromium: complete the bottom half of a test image and see the ranked
completions, with one kind and then with another."""
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from e2e_helpers import wait_for_app

from genlab import checkpoints
from genlab.checkpoints import list_checkpoints
from genlab.data import DATASETS
from genlab.models import AUTOREGRESSIVE, get_kind, kind_names_with

pytestmark = pytest.mark.e2e


def test_completing_an_image_shows_ranked_completions(app_server, page):
    shipped = list_checkpoints(kind="pixelcnn", folders=[(checkpoints.SHIPPED_DIR, "shipped")])
    if not shipped:
        pytest.skip("no shipped PixelCNN checkpoint in checkpoints/")
    page.goto(f"{app_server}/Autoregressive")
    button = page.locator(".st-key-pcnn_complete button")
    button.wait_for(timeout=180_000)  # the first run loads torch, a model and a dataset
    wait_for_app(page)
    given = page.get_by_text("what the model is given (grey: hidden)")
    given.wait_for(timeout=60_000)

    button.click()
    summary = page.get_by_text(re.compile(r"8 completions in [\d.]+ s, most likely first"))
    summary.wait_for(timeout=180_000)
    wait_for_app(page)
    # The summary arrives before the images stream in: wait until all eight scored captions are there.
    page.wait_for_function(
        """() => [...document.querySelectorAll("[data-testid='stImageCaption']")]
                 .filter(c => /^-?\\d+\\.\\d$/.test(c.innerText.trim())).length >= 8""", timeout=60_000)

    scores = [float(t) for t in page.locator("[data-testid='stImageCaption']").all_inner_texts()
              if re.fullmatch(r"-?\d+\.\d", t.strip())]
    assert len(scores) == 8
    assert scores == sorted(scores, reverse=True)  # ranked by log-likelihood, most likely first
    completions = page.locator("img[src*='media']")
    assert completions.count() >= 8 + 2  # the chosen image, what the model is given, the completions


def test_two_autoregressive_kinds_complete_the_same_image(app_server, page):
    shipped = list_checkpoints(kinds=kind_names_with(AUTOREGRESSIVE), dataset="binary-digits",
                               folders=[(checkpoints.SHIPPED_DIR, "shipped")])
    one_per_kind = list({info.kind: info for info in shipped}.values())[:2]
    if len(one_per_kind) < 2:
        pytest.skip("fewer than two autoregressive kinds are shipped for binary-digits")
    page.goto(f"{app_server}/Autoregressive")
    page.locator(".st-key-pcnn_complete button").wait_for(timeout=180_000)
    wait_for_app(page)
    for info in one_per_kind:
        label = f"{info.label} · {DATASETS[info.dataset].title}"
        box = page.locator(".st-key-pcnn_model input")
        for attempt in range(3):  # a rerun under load can replace the open option list under the click: open again
            box.click()
            box.fill(label)  # the select box filters its options by what is typed
            try:
                page.get_by_role("option", name=label).first.click(timeout=20_000)
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
        page.get_by_text(get_kind(info.kind).title).first.wait_for(timeout=120_000)  # the chosen kind's intro
        wait_for_app(page)
        page.locator(".st-key-pcnn_complete button").click()
        page.get_by_text(re.compile(r"8 completions in [\d.]+ s, most likely first")).wait_for(timeout=180_000)
        wait_for_app(page)
