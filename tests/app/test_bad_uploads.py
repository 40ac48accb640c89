"""Every file of the bad-input corpus (tests/bad_corpus.py) through the pages' own uploaders (AppTest): each gets
exactly one error, a single sentence, and never an exception; the disguised pickle never runs."""
import re
from pathlib import Path

import pytest
import torch
from bad_corpus import BAD_DIR, MARKER_NAME, corpus
from streamlit.testing.v1 import AppTest

from genlab import checkpoints
from genlab.checkpoints import save_checkpoint
from genlab.models.autoregressive.pixelcnn import PixelCNN, PixelCNNConfig
from genlab.models.vae import VAE, VAEConfig
from genlab.ui.jobs import job_manager

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
VAE_PAGE = str(ROOT / "views" / "1_VAE_explorer.py")
PIXELCNN_PAGE = str(ROOT / "views" / "3_Autoregressive.py")
CHECKPOINTS = [f for f in corpus("checkpoint") if f.path.suffix == ".safetensors"]  # the uploader takes no other
IMAGES = corpus("image")
ZIPS = corpus("zip")


@pytest.fixture(autouse=True)
def no_shipped_models_and_no_jobs(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    yield
    job_manager().shutdown()
    job_manager.clear()
    assert not (BAD_DIR / MARKER_NAME).exists(), "the disguised pickle ran"


@pytest.fixture
def tiny_models(user_checkpoint_dir):
    torch.manual_seed(0)
    save_checkpoint(user_checkpoint_dir / "tiny-vae.safetensors", VAE(VAEConfig.tiny()), "vae",
                    {"dataset": "shapes", "title": "tiny VAE"})
    model = PixelCNN(PixelCNNConfig(channels=4, layers=1, head_channels=4, num_classes=0))
    save_checkpoint(user_checkpoint_dir / "tiny-pixelcnn.safetensors", model, "pixelcnn",
                    {"dataset": "shapes", "title": "tiny PixelCNN"})


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def assert_one_error_sentence(at: AppTest, name: str, expect: str) -> None:
    assert not at.exception, f"{name}: {at.exception}"
    errors = [e.value for e in at.error]
    assert len(errors) == 1, f"{name}: {errors}"
    [message] = errors
    assert expect in message and "\n" not in message and "Traceback" not in message, f"{name}: {message}"
    assert message.endswith(".") and len(re.split(r"(?<=[.!?])\s+(?=[A-Z])", message)) == 1, f"{name}: {message}"


def upload_each(at: AppTest, key: str, files, mime: str, accepted=("animated.gif",)) -> None:
    for bad in files:
        uploader = at.file_uploader(key=key)
        if uploader.value is not None:
            uploader.clear()
            run(at)
        at.file_uploader(key=key).upload(bad.name, bad.read(), mime)
        at.run()
        if bad.name in accepted:
            assert not at.exception and not at.error, f"{bad.name}: {[e.value for e in at.error]}"
        else:
            assert_one_error_sentence(at, bad.name, bad.expect)


def test_every_bad_checkpoint_in_the_latent_explorer_uploader_gets_one_sentence(tiny_models, user_checkpoint_dir):
    at = AppTest.from_file(VAE_PAGE, default_timeout=180)
    run(at)
    upload_each(at, "vae_model_upload", CHECKPOINTS, "application/octet-stream", accepted=())
    assert not (user_checkpoint_dir / "uploads").exists()  # nothing refused was kept
    assert len(at.selectbox(key="vae_model").options) == 1


def test_every_bad_picture_in_the_vae_own_input_upload_gets_one_sentence(tiny_models):
    at = AppTest.from_file(VAE_PAGE, default_timeout=180)
    at.query_params["tab"] = "Your own input"
    run(at)
    at.radio(key="own_source").set_value("Upload")
    run(at)
    upload_each(at, "own_upload", IMAGES, "image/png")


def test_every_bad_picture_in_the_pixelcnn_upload_gets_one_sentence(tiny_models):
    at = AppTest.from_file(PIXELCNN_PAGE, default_timeout=300)
    run(at)
    at.radio(key="pcnn_source").set_value("Upload")
    run(at)
    upload_each(at, "pcnn_upload", IMAGES, "image/png")


def test_every_bad_zip_on_the_train_page_gets_one_sentence_and_registers_nothing():
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("views/4_Train.py")
    run(at)
    datasets = list(at.selectbox(key="train_dataset").options)
    upload_each(at, "train_zip", ZIPS, "application/zip", accepted=())
    assert list(at.selectbox(key="train_dataset").options) == datasets and job_manager().jobs() == []
