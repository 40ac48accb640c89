"""AppTest of the Diffusion page with a tiny untrained 28x28 flow-matching checkpoint: every tab renders, the
sliders change what is drawn (and every shipped iterative model opens)."""
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from genlab import checkpoints
from genlab.checkpoints import list_checkpoints, save_checkpoint
from genlab.data import FASHION_CLASSES, dataset_available
from genlab.models import ITERATIVE, kind_names_with
from genlab.models.diffusion.flow_matching import FlowMatching, FlowMatchingConfig

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "7_Diffusion.py")
SHIPPED = list_checkpoints(kinds=kind_names_with(ITERATIVE), folders=[(checkpoints.SHIPPED_DIR, "shipped")])
TABS = ["Forward process", "Reverse process", "Steps and guidance"]


@pytest.fixture
def tiny_flow(tmp_path, monkeypatch, user_checkpoint_dir):
    """A tiny untrained class-conditional flow-matching model 'trained on' Fashion-MNIST; no shipped models."""
    if not dataset_available("fashion-mnist"):
        pytest.skip("the Fashion-MNIST test images are not on this machine")
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    torch.manual_seed(0)
    model = FlowMatching(FlowMatchingConfig(width=8, num_classes=10))
    save_checkpoint(user_checkpoint_dir / "tiny.safetensors", model, "flow-matching",
                    {"dataset": "fashion-mnist", "title": "tiny flow", "class_names": list(FASHION_CLASSES)})


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def open_page(tab: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    if tab:
        at.query_params["diff_tab"] = tab
    return run(at)


def image_captions(at: AppTest) -> list[str]:
    return [picture.caption for image in at.get("image") for picture in image.proto.imgs]


def test_the_forward_tab_noises_a_test_image_by_the_slider(tiny_flow):
    at = open_page("Forward process")
    assert [label.split(" (")[0] for label in at.selectbox(key="diff_model").options] == ["tiny flow"]
    assert "x_t at t = 0.50" in image_captions(at)
    at.slider(key="diff_t").set_value(1.0)
    run(at)
    assert "x_t at t = 1.00" in image_captions(at)


def test_the_reverse_tab_shows_each_step_and_its_guess(tiny_flow):
    at = open_page("Reverse process")
    at.slider(key="diff_rev_steps").set_value(4)
    run(at)
    at.slider(key="diff_rev_step").set_value(2)
    run(at)
    found = image_captions(at)
    assert "x_t at t = 0.50 (step 2 of 4)" in found
    assert any(c.startswith("the network's guess") for c in found)
    at.slider(key="diff_rev_step").set_value(4)
    run(at)
    assert "the sample" in image_captions(at)


def test_the_steps_slider_and_the_ladders_draw_samples(tiny_flow):
    at = open_page("Steps and guidance")
    at.slider(key="diff_steps").set_value(3)
    at.slider(key="diff_guidance").set_value(2.0)
    run(at)
    assert any(c.startswith("16 samples, 3 steps (6 network passes each)") for c in image_captions(at))
    at.button(key="diff_ladder").click()
    run(at)
    assert any(c.startswith("Rows, top to bottom: 1 steps, 2 steps") for c in image_captions(at))
    at.button(key="diff_guidance_ladder").click()
    run(at)
    assert any("s = 0, 1, 2, 4" in c for c in image_captions(at))


@pytest.mark.skipif(not SHIPPED, reason="no shipped diffusion or flow model")
@pytest.mark.parametrize("tab", TABS)
def test_every_tab_opens_with_the_shipped_model(tab):
    at = open_page(tab)
    assert at.selectbox(key="diff_model")
