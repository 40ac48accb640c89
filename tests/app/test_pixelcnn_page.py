"""AppTest of the PixelCNN page: completion, the raster-order animation, the surprise map and sampling, with a
tiny untrained 28x28 checkpoint (and every shipped PixelCNN opens)."""
import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from genlab import checkpoints
from genlab.checkpoints import list_checkpoints, save_checkpoint
from genlab.data import DATASETS, FASHION_CLASSES, dataset_available
from genlab.models import AUTOREGRESSIVE, kind_names_with
from genlab.models.autoregressive.nade import NADE, NADEConfig
from genlab.models.autoregressive.pixelcnn import PixelCNN, PixelCNNConfig
from genlab.models.autoregressive.pixelrnn import PixelRNN, PixelRNNConfig

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "3_Autoregressive.py")
SHIPPED = list_checkpoints(kinds=kind_names_with(AUTOREGRESSIVE), folders=[(checkpoints.SHIPPED_DIR, "shipped")])
TABS = ["Complete", "Watch it draw", "Surprise map", "Sample", "Parameters", "Likelihoods"]


@pytest.fixture
def tiny_pixelcnn(tmp_path, monkeypatch, user_checkpoint_dir):
    """A tiny untrained class-conditional 28x28 PixelCNN 'trained on' Fashion-MNIST; no shipped models."""
    if not dataset_available("fashion-mnist"):
        pytest.skip("the Fashion-MNIST test images are not on this machine")
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    torch.manual_seed(0)
    model = PixelCNN(PixelCNNConfig(channels=4, layers=1, head_channels=4, num_classes=10))
    save_checkpoint(user_checkpoint_dir / "tiny.safetensors", model, "pixelcnn",
                    {"dataset": "fashion-mnist", "title": "tiny PixelCNN", "class_names": list(FASHION_CLASSES)})


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def open_page(tab: str | None = None, model: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    if tab:
        at.query_params["pcnn_tab"] = tab
    run(at)
    if model:
        picker = at.selectbox(key="pcnn_model")
        picker.set_value(next(i for i, label in enumerate(picker.options) if model in label))
        run(at)
    return at


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def image_captions(at: AppTest) -> list[str]:
    return [picture.caption for image in at.get("image") for picture in image.proto.imgs]


def test_the_page_opens_with_its_controls(tiny_pixelcnn):
    at = open_page()
    assert [label.split(" (")[0] for label in at.selectbox(key="pcnn_model").options] == ["tiny PixelCNN"]
    for key in ["pcnn_region", "pcnn_class"]:
        assert at.selectbox(key=key)
    for key in ["pcnn_n", "pcnn_temperature"]:
        assert at.slider(key=key)
    assert at.radio(key="pcnn_source").value == "Test image"
    assert at.button(key="pcnn_complete")
    assert "Sneaker" in at.selectbox(key="pcnn_class").options


def test_completions_appear_ranked_with_their_log_likelihood(tiny_pixelcnn):
    at = open_page()
    at.slider(key="pcnn_n").set_value(3)
    at.selectbox(key="pcnn_class").set_value(8)  # "Bag"
    at.button(key="pcnn_complete").click()
    run(at)
    assert any("3 completions in" in c for c in captions(at))
    scores = [float(c) for c in image_captions(at) if c.lstrip("-").replace(".", "", 1).isdigit()]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    _, result, _ = at.session_state["pcnn_completions"]
    assert torch.equal(result.images[:, :, :14], result.images[:1, :, :14].expand(3, -1, -1, -1))  # top kept


def test_a_rectangle_shows_its_sliders_and_is_completed(tiny_pixelcnn):
    at = open_page()
    at.selectbox(key="pcnn_region").set_value("rectangle")
    run(at)
    at.slider(key="pcnn_rows").set_value((2, 6))
    at.slider(key="pcnn_cols").set_value((3, 9))
    at.slider(key="pcnn_n").set_value(2)
    at.button(key="pcnn_complete").click()
    run(at)
    _, result, _ = at.session_state["pcnn_completions"]
    assert len(result.images) == 2
    assert any("below the hole cannot guide any of them" in c for c in captions(at))
    at.slider(key="pcnn_rows").set_value((5, 5))  # an empty rectangle hides nothing
    at.button(key="pcnn_complete").click()
    run(at)
    assert [w.value for w in at.warning] == ["Hide at least one pixel first: the region to hide is empty."]
    at.selectbox(key="pcnn_region").set_value("brush")  # nothing painted yet: nothing hidden
    at.button(key="pcnn_complete").click()
    run(at)
    assert at.get("bidi_component"), "the brush canvas is not on the page"
    assert [w.value for w in at.warning] == ["Hide at least one pixel first: the region to hide is empty."]


def test_watching_the_raster_order_makes_an_animation_and_shows_the_receptive_field(tiny_pixelcnn):
    at = open_page("Watch it draw")
    assert at.get("plotly_chart")  # the receptive field picture
    at.slider(key="pcnn_rf_row").set_value(3)
    run(at)
    at.button(key="pcnn_watch").click()
    run(at)
    gif = at.session_state["pcnn_gif"]
    animation = Image.open(io.BytesIO(gif))
    assert gif[:6] == b"GIF89a" and animation.size == (28 * 8, 28 * 8) and animation.n_frames > 10


def test_the_surprise_map_sums_to_the_nll(tiny_pixelcnn):
    at = open_page("Surprise map")
    assert at.get("plotly_chart")
    assert any("nats" in c and "bits per dimension" in c for c in captions(at))


def test_unconditional_and_class_conditional_sampling(tiny_pixelcnn):
    at = open_page("Sample")
    at.slider(key="pcnn_sample_n").set_value(2)
    at.selectbox(key="pcnn_sample_class").set_value(3)
    at.button(key="pcnn_sample").click()
    run(at)
    images, _ = at.session_state["pcnn_samples"]
    assert images.shape == (2, 1, 28, 28)
    assert any("2 samples in" in c for c in image_captions(at))


def test_a_model_with_class_pictures_shows_the_chosen_class_picture_and_samples(tiny_pixelcnn, user_checkpoint_dir):
    torch.manual_seed(0)
    model = PixelCNN(PixelCNNConfig(channels=4, layers=1, head_channels=4, num_classes=10, class_maps=2))
    torch.nn.init.normal_(model.class_pictures)  # blank pictures would show nothing
    save_checkpoint(user_checkpoint_dir / "tiny-maps.safetensors", model, "pixelcnn",
                    {"dataset": "fashion-mnist", "title": "tiny pictures", "class_names": list(FASHION_CLASSES)})
    at = open_page("Sample", model="tiny pictures")
    assert not any("pictures of the class" in c for c in image_captions(at))  # no class asked for: no picture
    at.selectbox(key="pcnn_sample_class").set_value(2)  # index 0 is "any": 2 is the second class
    at.slider(key="pcnn_sample_n").set_value(2)
    at.button(key="pcnn_sample").click()
    run(at)
    assert any("pixels of 'Trouser' go: its 2 pictures of the class" in c for c in image_captions(at))
    assert at.session_state["pcnn_samples"][0].shape == (2, 1, 28, 28)
    tiny = open_page("Sample", model="tiny PixelCNN")
    tiny.selectbox(key="pcnn_sample_class").set_value(2)
    run(tiny)
    assert not any("pictures of the class" in c for c in image_captions(tiny))  # the label alone: no picture


def test_guidance_is_offered_only_when_a_class_is_in_play_and_reaches_the_sampler(tiny_pixelcnn, monkeypatch):
    import genlab.ui.autoregressive_explorer as explorer

    seen = []
    real = explorer.fast_sample
    monkeypatch.setattr(explorer, "fast_sample", lambda *a, **k: seen.append(k["guidance"]) or real(*a, **k))
    at = open_page("Sample")
    assert at.slider(key="pcnn_sample_guidance").disabled  # "any (p(x), no class)": nothing to guide towards
    at.slider(key="pcnn_sample_n").set_value(1)
    at.selectbox(key="pcnn_sample_class").set_value(3)
    run(at)
    assert not at.slider(key="pcnn_sample_guidance").disabled
    at.slider(key="pcnn_sample_guidance").set_value(2.0)
    at.button(key="pcnn_sample").click()
    run(at)
    assert seen == [2.0] and "reweights" in at.slider(key="pcnn_sample_guidance").help
    at.selectbox(key="pcnn_sample_class").set_value(0)  # back to no class: the slider is off and not applied
    at.button(key="pcnn_sample").click()
    run(at)
    assert seen == [2.0, 0.0]


def test_the_parameter_count_of_a_table_against_the_models(tiny_pixelcnn):
    at = open_page("Parameters")
    table = at.dataframe[0].value
    assert list(table["density"][:3]) == ["full joint table", "independent pixels", "first-order Markov chain"]
    assert table["parameters"][1] == "784" and table["parameters"][2] == "1,567"
    assert "tiny PixelCNN" in table["density"][3]
    assert any("atoms in the observable universe" in c for c in captions(at))
    at.slider(key="pcnn_count_n").set_value(10)
    run(at)
    assert at.dataframe[0].value["parameters"][0] == "1,023"


def test_an_upload_that_is_not_an_image_gets_one_sentence(tiny_pixelcnn):
    at = open_page()
    at.radio(key="pcnn_source").set_value("Upload")
    run(at)
    at.file_uploader(key="pcnn_upload").upload("broken.png", b"this is not a picture", "image/png")
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["That file is not an image that can be read (try a PNG or JPEG)."]
    picture = Image.new("L", (40, 40), 255)
    picture.paste(0, (18, 8, 23, 32))  # a dark stroke on white paper: inverted to light on dark
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    at.file_uploader(key="pcnn_upload").clear().upload("one.png", buffer.getvalue(), "image/png")
    run(at)
    assert "as the model sees it" in image_captions(at)
    at.button(key="pcnn_complete").click()
    run(at)
    assert any("8 completions in" in c for c in captions(at))


NON_PIXELCNN = {  # kind -> (a tiny 28x28 model, a phrase of its own context note)
    "nade": (lambda: NADE(NADEConfig(hidden=8)), "one hidden layer"),
    "pixelrnn": (lambda: PixelRNN(PixelRNNConfig(channels=4, layers=1, head_channels=4)), "a triangle above"),
    "pixelrnn-diagonal": (lambda: PixelRNN(PixelRNNConfig(variant="diagonal", channels=4, layers=1,
                                                          head_channels=4)), "diagonals become columns"),
}


@pytest.mark.parametrize("name", NON_PIXELCNN)
def test_other_autoregressive_kinds_work_on_every_tab_with_their_own_context_note(
        name, tmp_path, monkeypatch, user_checkpoint_dir):
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    torch.manual_seed(0)
    build, phrase = NON_PIXELCNN[name]
    save_checkpoint(user_checkpoint_dir / "model.safetensors", build(), name.split("-")[0],
                    {"dataset": "shapes", "title": f"tiny {name}"})
    at = open_page()
    assert "pcnn_class" not in [box.key for box in at.selectbox]  # unconditional: no class to pick
    at.slider(key="pcnn_n").set_value(2)
    at.button(key="pcnn_complete").click()
    run(at)
    _, result, _ = at.session_state["pcnn_completions"]
    assert len(result.images) == 2
    at.query_params["pcnn_tab"] = "Watch it draw"
    run(at)
    assert any(phrase in m.value for m in at.markdown)  # its own context, not a PixelCNN's masks
    assert not any("mask A" in c for c in image_captions(at))
    for tab in ("Surprise map", "Sample", "Parameters"):
        at.query_params["pcnn_tab"] = tab
        run(at)


@pytest.mark.parametrize("info", SHIPPED, ids=[f"{c.path.parent.name}-{c.path.stem}" for c in SHIPPED])
def test_every_shipped_autoregressive_model_opens_on_every_tab(info):
    if not dataset_available(info.dataset):
        pytest.skip(f"the {info.dataset} test images are not on this machine")
    at = open_page(model=f"{info.label} · {DATASETS[info.dataset].title}")
    for tab in TABS:
        at.query_params["pcnn_tab"] = tab
        run(at)


def test_the_measured_field_of_a_plain_pixelcnn_beside_a_gated_one_shows_the_blind_spot(
        tmp_path, monkeypatch, user_checkpoint_dir):
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    torch.manual_seed(0)
    for variant in ("gated", "plain"):
        model = PixelCNN(PixelCNNConfig(variant=variant, channels=4, layers=3, head_channels=4, output="bernoulli"))
        save_checkpoint(user_checkpoint_dir / f"{variant}.safetensors", model, "pixelcnn",
                        {"dataset": "shapes", "title": f"{variant} PixelCNN"})
    at = open_page("Watch it draw", model="gated PixelCNN")
    at.slider(key="pcnn_rf_row").set_value(10)
    at.slider(key="pcnn_rf_col").set_value(14)
    at.selectbox(key="pcnn_rf_other").set_value(
        next(o for o in at.selectbox(key="pcnn_rf_other").options if "plain" in o))
    run(at)
    assert len(at.get("plotly_chart")) == 2
    seen = {c.split(":")[0]: c for c in captions(at) if " earlier pixels." in c}
    gated, plain = (int(seen[name].split("sees ")[1].split(" ")[0]) for name in ("gated PixelCNN",
                                                                                 "plain PixelCNN (yours)"))
    assert plain < gated  # the plain stack misses a wedge that the gated one sees


def test_the_likelihood_tab_scores_every_model_on_the_binarized_digits(tmp_path, monkeypatch, user_checkpoint_dir):
    if not dataset_available("binary-digits"):
        pytest.skip("the MNIST test file is not on this machine")
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    torch.manual_seed(0)
    save_checkpoint(user_checkpoint_dir / "nade.safetensors", NADE(NADEConfig(hidden=8)), "nade",
                    {"dataset": "binary-digits", "title": "tiny NADE"})
    at = open_page("Likelihoods")
    table = at.dataframe[0].value
    assert set(table["model"]) == {"independent pixels (baseline)", "tiny NADE"}
    assert set(table["measured as"]) == {"exact"}
    assert any("importance samples here" in c for c in captions(at))


def test_completing_for_the_guessed_class_most_likely_or_drawn(tiny_pixelcnn):
    at = open_page()
    at.slider(key="pcnn_n").set_value(4)
    assert at.checkbox(key="pcnn_guess").value  # no class picked: the model guesses one
    assert at.radio(key="pcnn_guess_how").value == "its most likely class"
    at.button(key="pcnn_complete").click()
    run(at)
    _, result, _ = at.session_state["pcnn_completions"]
    _, posterior = at.session_state["pcnn_posterior"]
    assert result.labels.tolist() == [int(posterior.argmax())] * 4
    assert any("The model's guess from the visible pixels" in c for c in captions(at))
    at.radio(key="pcnn_guess_how").set_value("a class drawn from the guess")
    at.button(key="pcnn_complete").click()
    run(at)
    _, drawn, _ = at.session_state["pcnn_completions"]
    assert drawn.labels is not None and len(drawn.labels) == 4
    at.checkbox(key="pcnn_guess").uncheck()
    run(at)
    assert "pcnn_guess_how" not in [r.key for r in at.radio]


def test_the_surprise_map_shows_the_classifiers_p_y_given_x_beside_p_x():
    if not SHIPPED or not dataset_available("binary-digits"):
        pytest.skip("no shipped autoregressive model or no digits here")
    at = open_page("Surprise map")
    chart = next(c for c in at.get("plotly_chart") if c.key == "pcnn_classifier_plot")
    [bars] = json.loads(chart.proto.spec)["data"]
    y = bars["y"]
    if isinstance(y, dict):  # plotly sends numbers as a typed array
        y = np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"])
    assert len(bars["x"]) == 10 and abs(float(sum(y)) - 1) < 1e-4  # p(y | x) sums to 1 over the classes
    assert any("says nothing about how likely x itself is" in c for c in captions(at))
