"""AppTest of the GAN arithmetic page, with a tiny DCGAN checkpoint (and once with the shipped ones)."""
import json
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from genlab import checkpoints
from genlab.checkpoints import save_checkpoint
from genlab.models.conditional_gan import ConditionalGAN, ConditionalGANConfig
from genlab.models.dcgan import DCGAN, DCGANConfig
from genlab.models.infogan import InfoGAN, InfoGANConfig
from genlab.models.progan import ProGAN, ProGANConfig

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "2_GAN_arithmetic.py")
SHIPPED = ROOT / "checkpoints" / "fashion-mnist" / "dcgan.safetensors"


@pytest.fixture
def tiny_gan(tmp_path, monkeypatch, user_checkpoint_dir):
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    torch.manual_seed(0)
    save_checkpoint(user_checkpoint_dir / "gan.safetensors", DCGAN(DCGANConfig.tiny()).eval(), "dcgan",
                    {"dataset": "shapes", "title": "tiny GAN"})


def open_page(tab: str | None = None):
    at = AppTest.from_file(PAGE, default_timeout=120)
    if tab:
        at.query_params["gan_tab"] = tab  # only the open tab computes its pictures
    at.run()
    assert not at.exception, at.exception
    return at


def captions(at):
    return [caption for image in at.image for caption in image.captions]


def build_equation(at, a=(0, 1, 2), b=(3, 4, 5), c=(6, 7, 8)):
    for key, indices in (("gan_group_a", a), ("gan_group_b", b), ("gan_group_c", c)):
        at.multiselect(key=key).set_value(list(indices))
    at.run()
    assert not at.exception, at.exception


def test_page_says_implicit_and_shows_a_seeded_gallery(tiny_gan):
    at = open_page()
    assert "implicit model" in at.markdown[0].value
    assert at.number_input(key="gan_seed").value == 0
    assert [f"#{i}" for i in range(24)] == captions(at)[:24]
    assert "result" not in captions(at)  # no equation before the groups are filled
    at.button(key="gan_new_batch").click().run()
    assert not at.exception and at.number_input(key="gan_seed").value != 0


def test_equation_from_three_groups_shows_means_result_and_variations(tiny_gan):
    at = open_page()
    build_equation(at)
    shown = captions(at)
    assert {"mean(z of A)", "mean(z of B)", "mean(z of C)", "result"} <= set(shown)
    assert sum(c.startswith("variation ") for c in shown) == 8
    at.multiselect(key="gan_group_b").set_value([]).run()
    assert "result" not in captions(at) and not at.exception


def test_interpolation_strip_and_downloads(tiny_gan):
    closed = open_page()
    assert "Download GIF" not in {b.label for b in closed.get("download_button")}  # a closed tab makes no GIF
    at = open_page("Interpolation")
    at.selectbox(key="gan_interp_from").set_value(2)
    at.selectbox(key="gan_interp_to").set_value(5)
    at.radio(key="gan_interp_method").set_value("lerp")
    at.slider(key="gan_interp_steps").set_value(5).run()
    assert not at.exception, at.exception
    labels = {b.label for b in at.get("download_button")}
    assert {"Download PNG strip", "Download GIF"} <= labels
    assert "slerp" in " ".join(c.value for c in at.caption)
    at = open_page("Latent walk")
    at.slider(key="gan_walk_step").set_value(2.0)
    at.button(key="gan_walk_new").click().run()
    assert not at.exception, at.exception


def test_saved_equation_downloads_and_replays_after_a_restart(tiny_gan):
    at = open_page()
    at.number_input(key="gan_seed").set_value(77)
    build_equation(at, a=[1, 2], b=[3], c=[4, 5, 6])
    at.text_input(key="gan_eq_name").set_value("my equation")
    at.button(key="gan_save").click().run()
    assert not at.exception, at.exception
    assert at.get("download_button")  # at least the saved equation's JSON download
    assert any(b.label == "Download" for b in at.get("download_button"))
    saved = json.loads(next(c.value for c in at.code if c.language == "json"))
    assert saved["name"] == "my equation" and saved["seed"] == 77
    assert (saved["a"], saved["b"], saved["c"]) == ([1, 2], [3], [4, 5, 6])

    fresh = open_page()  # a new session: nothing kept but the file
    fresh.file_uploader(key="gan_upload").set_value(("eq.json", json.dumps(saved).encode(), "application/json"))
    fresh.run()
    fresh.button(key="gan_replay_upload").click().run()
    assert not fresh.exception, fresh.exception
    assert fresh.number_input(key="gan_seed").value == 77
    assert fresh.multiselect(key="gan_group_c").value == [4, 5, 6]
    assert "result" in captions(fresh)
    assert "my equation" in " ".join(m.value for m in fresh.markdown)


def test_bad_equation_file_gets_one_sentence(tiny_gan):
    at = open_page()
    at.file_uploader(key="gan_upload").set_value(("eq.json", b"{not json", "application/json")).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["The file is not valid JSON, so it cannot be a saved equation."]
    wrong_size = {"name": "x", "seed": 1, "latent_dim": 100, "a": [0], "b": [1], "c": [2]}
    at.file_uploader(key="gan_upload").set_value(("eq.json", json.dumps(wrong_size).encode(), "application/json"))
    at.run()
    assert "100-dimensional" in at.error[0].value


@pytest.mark.skipif(not SHIPPED.exists(), reason="the shipped DCGAN checkpoint is not there")
def test_works_from_the_shipped_checkpoints():
    at = open_page()
    assert all("(shipped)" in option for option in at.selectbox(key="gan_model").options)
    build_equation(at)
    assert "result" in captions(at)


@pytest.fixture
def tiny_conditional_gan(tmp_path, monkeypatch, user_checkpoint_dir):
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    torch.manual_seed(0)
    model = ConditionalGAN(ConditionalGANConfig.tiny(num_classes=3)).eval()
    save_checkpoint(user_checkpoint_dir / "cgan.safetensors", model, "conditional-gan",
                    {"dataset": "shapes", "title": "tiny conditional GAN", "class_names": ["ring", "square", "bar"]})


def gallery_urls(at):
    return [image.url for image in at.image[0].proto.imgs]  # media addresses: a hash of each picture


def test_a_conditional_generator_takes_a_class_and_swaps_it_under_the_same_z(tiny_conditional_gan):
    at = open_page()
    assert at.selectbox(key="gan_class").options == ["ring", "square", "bar"]
    before = gallery_urls(at)
    at.selectbox(key="gan_class").set_value(2).run()
    assert not at.exception, at.exception
    assert "class y = bar" in " ".join(c.value for c in at.caption)
    assert gallery_urls(at) != before  # the same z drawn for another class
    swap = open_page("Same z, another class")
    assert "Rows, top to bottom: ring, square, bar" in " ".join(c.value for c in swap.caption)
    build_equation(at)  # arithmetic within the class
    assert "result" in captions(at)
    at.text_input(key="gan_eq_name").set_value("bars")
    at.button(key="gan_save").click().run()
    saved = json.loads(next(c.value for c in at.code if c.language == "json"))
    assert saved["label"] == 2

    fresh = open_page()
    fresh.file_uploader(key="gan_upload").set_value(("eq.json", json.dumps(saved).encode(), "application/json"))
    fresh.run()
    fresh.button(key="gan_replay_upload").click().run()
    assert not fresh.exception, fresh.exception
    assert fresh.selectbox(key="gan_class").value == 2  # the class comes back with the seed and groups
    unconditional = {**saved, "label": None}
    fresh.file_uploader(key="gan_upload").set_value(("eq.json", json.dumps(unconditional).encode(),
                                                     "application/json")).run()
    assert "without classes" in fresh.error[0].value


@pytest.fixture
def tiny_infogan(tmp_path, monkeypatch, user_checkpoint_dir):
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    torch.manual_seed(0)
    save_checkpoint(user_checkpoint_dir / "infogan.safetensors", InfoGAN(InfoGANConfig.tiny(continuous=2)).eval(),
                    "infogan", {"dataset": "shapes", "title": "tiny InfoGAN"})


def test_an_infogan_shows_its_codes_grid_and_a_strip_per_continuous_code(tiny_infogan):
    at = open_page("Codes")
    assert not [box for box in at.selectbox if box.key == "gan_class"]
    assert "3 values and 2 continuous codes" in " ".join(m.value for m in at.markdown)
    strips = [c for c in captions(at) if c.startswith("c") and "from -2 to 2" in c]
    assert len(strips) == 2
    at.slider(key="gan_code_0").set_value(1.5)
    at.number_input(key="gan_code_category").set_value(2).run()
    assert not at.exception, at.exception
    at = open_page()
    build_equation(at)  # arithmetic works on the whole latent vector
    assert "result" in captions(at)


def test_a_tab_in_the_address_that_this_model_lacks_leaves_the_page_whole(tiny_gan):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["gan_tab"] = "Codes"  # a link made for an InfoGAN, opened with a DCGAN
    at.run()
    assert not at.exception, at.exception
    assert [tab.label for tab in at.tabs][:4] == ["Equation", "Interpolation", "Latent walk", "Saved equations"]


@pytest.fixture
def tiny_progan(tmp_path, monkeypatch, user_checkpoint_dir):
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    torch.manual_seed(0)
    model = ProGAN(ProGANConfig.tiny(phase_steps=1))
    model.steps_done.fill_(3)  # in the fade to 28x28
    save_checkpoint(user_checkpoint_dir / "progan.safetensors", model.eval(), "progan",
                    {"dataset": "shapes", "title": "tiny progressive GAN"})


def test_a_progressive_gan_works_like_any_generator(tiny_progan):
    at = open_page()
    assert [f"#{i}" for i in range(24)] == captions(at)[:24]
    assert not [box for box in at.selectbox if box.key == "gan_class"]
    build_equation(at)
    assert "result" in captions(at)
    shown = [c.value for c in at.caption] + [m.value for m in at.markdown]
    assert any("grown to 28x28, fading in (alpha 0.00) after 3 steps" in text for text in shown), shown
