"""In Chromium: press Play on the GAN playground and see the step counter and the picture of the plane change."""
import pytest
from e2e_helpers import wait_for_app

pytestmark = pytest.mark.e2e

STEP = "[data-testid='stMetricValue']"  # the first metric is the step counter
PLANE = "() => { const img = document.querySelector('.st-key-gp_plot img'); return img ? img.src : null; }"


def step_counter(page) -> int:
    return int(page.locator(STEP).first.inner_text().replace(",", ""))


def test_play_moves_the_step_counter_and_the_plane(page, app_server):
    page.goto(f"{app_server}/GAN_playground", timeout=180_000)
    wait_for_app(page, timeout_ms=180_000)
    page.wait_for_selector(".st-key-gp_plot img", timeout=180_000)
    assert step_counter(page) == 0
    before = page.evaluate(PLANE)
    assert page.locator(".st-key-gp_plot img").evaluate("img => img.naturalWidth") > 0  # the picture loaded

    page.locator(".st-key-gp_play label").click()  # Play
    page.wait_for_function(f"() => parseInt(document.querySelector(\"{STEP}\").innerText) >= 50",
                           timeout=180_000)
    page.wait_for_function(f"() => ({PLANE})() !== {before!r}", timeout=60_000)  # a new picture of the plane
    page.wait_for_selector(".st-key-gp_history .js-plotly-plot", timeout=60_000)  # the loss curves

    page.locator(".st-key-gp_play label").click()  # Pause
    page.wait_for_timeout(2000)
    paused = step_counter(page)
    page.wait_for_timeout(2000)
    assert step_counter(page) == paused >= 50


def test_slow_motion_shows_the_four_sub_steps_and_moves_the_picture(page, app_server):
    page.goto(f"{app_server}/GAN_playground?gp_view=Slow+motion", timeout=180_000)
    wait_for_app(page, timeout_ms=180_000)
    page.locator("[data-testid='stAlert']", has_text="Press Next sub-step").wait_for(timeout=180_000)
    picture = "() => { const img = document.querySelector('.st-key-gp_slow_plot img'); return img ? img.src : null; }"
    page.wait_for_function(f"() => ({picture})() !== null", timeout=60_000)
    for number, name in enumerate(["Draw a batch", "Update D", "G's gradient", "Update G"], start=1):
        before = page.evaluate(picture)
        page.get_by_role("button", name="Next sub-step").click()
        page.locator("strong", has_text=f"{number}. {name}").wait_for(timeout=60_000)  # the sub-step in bold
        page.locator("[data-testid='stAlert']", has_text=f"{name}:").wait_for(timeout=60_000)
        wait_for_app(page)
        # points appear, D's map shifts, arrows, fakes move: a new picture (null while it is redrawn)
        page.wait_for_function(f"() => {{ const now = ({picture})(); return now !== null && now !== {before!r}; }}",
                               timeout=60_000)
    assert page.get_by_text("(step 1)").count() == 1
    assert page.locator("[data-testid='stException']").count() == 0
