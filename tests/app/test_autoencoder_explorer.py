"""AppTest of the latent explorer with the plain autoencoder and the AAE (tiny untrained models on `shapes`): what
each lacks is said plainly, the AAE's prior is drawn, the side-by-side and factor tabs work."""
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from genlab import checkpoints
from genlab.checkpoints import save_checkpoint
from genlab.models.aae import AAE, AAEConfig
from genlab.models.autoencoder import Autoencoder, AutoencoderConfig
from genlab.models.vae import VAE, VAEConfig

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "1_VAE_explorer.py")


@pytest.fixture(autouse=True)
def tiny_models(tmp_path, monkeypatch, user_checkpoint_dir):
    """A 2-D autoencoder, a 2-D VAE and a 2-D AAE with a ring prior, untrained, on shapes; no shipped models."""
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    torch.manual_seed(0)
    for name, kind, model in (("tiny AE", "autoencoder", Autoencoder(AutoencoderConfig.tiny())),
                              ("tiny VAE", "vae", VAE(VAEConfig.tiny())),
                              ("tiny AAE", "aae", AAE(AAEConfig.tiny(prior="ring")))):
        save_checkpoint(user_checkpoint_dir / f"{kind}.safetensors", model, kind, {"dataset": "shapes", "title": name})


def open_tab(tab: str, model: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["tab"] = tab
    at.run()
    picker = at.selectbox(key="vae_model")
    picker.set_value(next(i for i, label in enumerate(picker.options) if model in label)).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def texts(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info])


def test_the_autoencoder_says_it_has_no_prior_and_no_bound():
    at = open_tab("Encoded test set", "tiny AE")
    assert "An autoencoder has no prior" in texts(at)
    assert "bounds no likelihood" in texts(at) and "KL(q(z|x) ‖ N(0, I))" not in texts(at)  # no KL term to show
    at = open_tab("ELBO gap", "tiny AE")
    assert "no likelihood bound to show: an autoencoder has no prior" in texts(at)


def test_the_aae_draws_its_prior_under_the_codes():
    at = open_tab("Encoded test set", "tiny AAE")
    assert "drawn from the prior, a ring" in texts(at)
    figure = at.get("plotly_chart")[0].proto.spec
    assert '"name":"prior samples"' in figure
    at = open_tab("Manifold", "tiny AAE")
    assert "pushed towards its prior, a ring" in texts(at)


def test_beside_another_model_puts_the_vae_beside_the_autoencoder():
    at = open_tab("Beside another model", "tiny AE")
    assert "tiny VAE" in at.selectbox(key="beside_model").format_func(at.selectbox(key="beside_model").value)
    assert len(at.get("plotly_chart")) == 2  # one scatter per model
    captions = [picture.caption for image in at.get("image") for picture in image.proto.imgs]
    assert any("N(0, I), a prior it never had" in c for c in captions)  # the autoencoder's
    assert any("codes drawn from N(0, I)" in c and "never had" not in c for c in captions)  # the VAE's


def test_the_factor_matrix_and_mig_on_shapes():
    at = open_tab("Factors", "tiny VAE")
    assert [c.key for c in at.get("plotly_chart")] == ["factors_heatmap"]
    assert at.metric[0].label.startswith("MIG")
    assert len(at.dataframe[0].value) == 5  # shape, scale, rotation, x, y
