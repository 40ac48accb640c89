"""The VAE explorer in Chromium: dragging on the latent pad changes the decoded image in the browser, and the
point reaches Python when the pointer is released."""
import re

import pytest
from e2e_helpers import wait_for_app

pytestmark = pytest.mark.e2e


def open_pad(page, url, model: str | None = None):
    page.goto(f"{url}/VAE_explorer?tab=Latent+pad" + (f"&model={model}" if model else ""))
    page.locator("canvas.plane").wait_for(timeout=180_000)  # the first run loads torch, a model and a dataset
    wait_for_app(page)
    page.wait_for_function("() => window.genlabLatentPad && window.genlabLatentPad.sheetsLoaded >= 1",
                           timeout=60_000)
    page.locator("canvas.plane").scroll_into_view_if_needed()


def decoded_pixels(page) -> str:
    return page.locator("canvas.decoded").evaluate("canvas => canvas.toDataURL('image/png')")


def stats(page) -> dict:
    return page.evaluate("() => ({...window.genlabLatentPad})")


def test_dragging_on_the_latent_pad_changes_the_image_and_reports_the_point(app_server, page):
    open_pad(page, app_server)
    box = page.locator("canvas.plane").bounding_box()
    at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731

    page.mouse.move(*at(0.15, 0.15))
    page.mouse.down()
    page.wait_for_function("() => window.genlabLatentPad.frames >= 1")
    first_image, first = decoded_pixels(page), stats(page)
    page.mouse.move(*at(0.85, 0.8), steps=40)
    page.wait_for_function("(n) => window.genlabLatentPad.frames > n", arg=first["frames"])
    dragged_image, dragged = decoded_pixels(page), stats(page)

    assert dragged_image != first_image, "the decoded image did not change while dragging"
    assert dragged["tile"] != first["tile"]
    assert dragged["point"][0] > 0 > first["point"][0] and dragged["point"][1] < 0 < first["point"][1]
    assert page.locator(".readout").inner_text() == f"z = ({dragged['point'][0]:.2f}, {dragged['point'][1]:.2f})"
    assert dragged["releases"] == 0  # nothing went to Python during the drag

    page.mouse.up()
    received = page.get_by_text(re.compile(r"Decoded exactly at z\[\d+\] = "))
    received.wait_for(timeout=60_000)
    wait_for_app(page)
    x, y = (float(v) for v in re.findall(r"= (-?\d+\.\d+)", received.inner_text())[:2])
    final = stats(page)
    assert final["releases"] == 1
    assert (x, y) == (round(final["point"][0], 2), round(final["point"][1], 2))
    assert decoded_pixels(page) == dragged_image  # the rerun kept the pad as it was


def test_dragging_on_the_aae_pad_decodes_where_it_is_released(app_server, page):
    open_pad(page, app_server, model="digits/aae-mixture")
    page.get_by_text("prior: a mixture of 10 Gaussians").first.wait_for(timeout=60_000)  # the AAE describes itself
    box = page.locator("canvas.plane").bounding_box()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    page.wait_for_function("() => window.genlabLatentPad.frames >= 1")
    first_image = decoded_pixels(page)
    page.mouse.move(box["x"] + 0.8 * box["width"], box["y"] + 0.7 * box["height"], steps=30)
    page.wait_for_function("() => window.genlabLatentPad.frames > 1")
    assert decoded_pixels(page) != first_image, "the decoded image did not change while dragging"
    page.mouse.up()
    page.get_by_text(re.compile(r"Decoded exactly at z\[0\] = ")).wait_for(timeout=60_000)
    wait_for_app(page)
    assert stats(page)["releases"] == 1


def test_clicking_a_point_of_the_encoded_test_set_shows_that_image(app_server, page):
    page.goto(f"{app_server}/VAE_explorer?tab=Encoded+test+set")
    # the last trace: a class's test codes (the first one is the grey prior samples, with no image behind them)
    points = page.locator(".st-key-scatter_chart .scatterlayer .trace:last-of-type path.point")
    points.first.wait_for(timeout=180_000)
    wait_for_app(page)
    index = page.locator(".st-key-scatter_index input")
    assert index.input_value() == "0"
    target = points.nth(points.count() // 2)
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => document.querySelector('.st-key-scatter_index input').value !== '0'",
                           timeout=60_000)
    wait_for_app(page)
    chosen = index.input_value()
    page.get_by_text(re.compile(rf"^test image {chosen} \(")).wait_for(timeout=60_000)


def test_a_drawing_is_encoded_and_reconstructed(app_server, page):
    page.goto(f"{app_server}/VAE_explorer?tab=Your+own+input")
    canvas = page.locator("canvas.ink")
    canvas.wait_for(timeout=180_000)
    wait_for_app(page)
    box = canvas.bounding_box()
    at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
    page.mouse.move(*at(0.5, 0.2))
    page.mouse.down()
    page.mouse.move(*at(0.5, 0.8), steps=15)  # a "1"
    page.mouse.up()
    page.get_by_text("your input, as the model sees it").wait_for(timeout=60_000)
    page.get_by_text(re.compile("is a one-sample estimate of")).wait_for()
    page.locator(".genlab-draw button.clear").click()
    page.get_by_text("Draw on the black square").wait_for(timeout=60_000)
