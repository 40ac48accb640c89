"""The Diffusion page in Chromium: moving the steps slider draws new samples from the same seed."""
import re

import pytest
from e2e_helpers import wait_for_app

from genlab import checkpoints
from genlab.checkpoints import list_checkpoints
from genlab.models import ITERATIVE, kind_names_with

pytestmark = pytest.mark.e2e
CAPTION = re.compile(r"16 samples, (\d+) steps")


def shown_steps(page) -> int:
    caption = page.get_by_text(CAPTION).first
    caption.wait_for(timeout=180_000)
    return int(CAPTION.search(caption.inner_text()).group(1))


def test_moving_the_steps_slider_draws_a_new_sample(app_server, page):
    if not list_checkpoints(kinds=kind_names_with(ITERATIVE), folders=[(checkpoints.SHIPPED_DIR, "shipped")]):
        pytest.skip("no shipped diffusion or flow model in checkpoints/")
    page.goto(f"{app_server}/Diffusion?diff_tab=Steps+and+guidance")
    thumb = page.locator(".st-key-diff_steps input[type='range']")  # react-aria: a visually hidden range input
    thumb.wait_for(state="attached", timeout=180_000)  # the first run loads torch, a model and a dataset
    wait_for_app(page)
    before_steps = shown_steps(page)
    before_image = page.locator("[data-testid='stImage'] img").last.get_attribute("src")
    thumb.focus()
    for _ in range(5):
        thumb.press("ArrowLeft")  # five steps fewer
    # Each key press may start its own rerun (19, 18, ...): wait for the run of the last one.
    page.wait_for_function(
        """(n) => [...document.querySelectorAll("[data-testid='stImageCaption']")]
                 .some(c => c.innerText.includes(`16 samples, ${n} steps`))""",
        arg=before_steps - 5, timeout=180_000)
    wait_for_app(page)
    assert shown_steps(page) == before_steps - 5
    assert page.locator("[data-testid='stImage'] img").last.get_attribute("src") != before_image
    assert page.locator("[data-testid='stException']").count() == 0
