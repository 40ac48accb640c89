"""The Translate page in Chromium: a drawing uploaded as a picture (black ink on white paper, as a student would
scan or save one) is translated into thick strokes and back, and the page says what the classifiers read."""
import io
import re

import pytest
from e2e_helpers import wait_for_app
from PIL import Image, ImageDraw

from genlab.checkpoints import SHIPPED_DIR

pytestmark = pytest.mark.e2e
MODEL = "digit-styles/cyclegan-thick"


def drawn_seven() -> bytes:
    """A '7' drawn in black on white, 280x280, as a PNG."""
    paper = Image.new("RGB", (280, 280), "white")
    pen = ImageDraw.Draw(paper)
    pen.line([(70, 60), (210, 60), (120, 230)], fill="black", width=18, joint="curve")
    out = io.BytesIO()
    paper.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.skipif(not (SHIPPED_DIR / f"{MODEL}.safetensors").exists(), reason="the CycleGAN is not shipped")
def test_an_uploaded_drawing_is_translated_and_brought_back(app_server, page):
    page.goto(f"{app_server}/Translate?tr_tab=Translate&model={MODEL}")
    page.get_by_text("From (source domain)").wait_for(timeout=180_000)  # the first run loads torch and a model
    wait_for_app(page)
    page.locator(".st-key-tr_input").get_by_text("Upload").click()
    wait_for_app(page)
    page.locator(".st-key-tr_upload input[type=file]").set_input_files(
        files=[{"name": "seven.png", "mimeType": "image/png", "buffer": drawn_seven()}])
    page.get_by_text("translated to thick").wait_for(timeout=60_000)
    wait_for_app(page)
    for caption in ("input (plain)", "and back to plain", "difference |input − round trip|, 4× brighter"):
        assert page.get_by_text(caption).count() >= 1, caption
    readings = page.get_by_text(re.compile(r"reads as \w+; digit \d")).all_inner_texts()
    assert len(readings) == 3, readings  # the input, its translation and the round trip are each read
    assert "reads as thick" in readings[1]
    assert page.locator("[data-testid='stException']").count() == 0
