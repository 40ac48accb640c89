"""AppTest of the Compare page with two small checkpoints and a small metrics classifier on `shapes`."""
from pathlib import Path

import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from genlab import checkpoints
from genlab.checkpoints import save_checkpoint
from genlab.models.classifier import Classifier, ClassifierConfig
from genlab.models.vae import VAE, VAEConfig

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "5_Compare.py")


@pytest.fixture(autouse=True)
def fresh_streamlit_caches():
    """cache_resource lives as long as the process: each test starts from empty caches."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def two_models(tmp_path, monkeypatch, user_checkpoint_dir):
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path / "cache"))
    torch.manual_seed(0)
    save_checkpoint(user_checkpoint_dir / "clf.safetensors", Classifier(ClassifierConfig.tiny(num_classes=3)),
                    "classifier", {"dataset": "shapes", "title": "tiny classifier"})
    save_checkpoint(user_checkpoint_dir / "a.safetensors", VAE(VAEConfig.tiny()), "vae",
                    {"dataset": "shapes", "title": "VAE one"})
    save_checkpoint(user_checkpoint_dir / "b.safetensors", VAE(VAEConfig.tiny(latent_dim=3)), "vae",
                    {"dataset": "shapes", "title": "VAE two"})
    return tmp_path / "cache"


def metric_table(at):
    return at.dataframe[0].value


def test_two_checkpoints_become_columns_with_every_metric_and_are_cached(two_models):
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    at.number_input(key="compare_samples").set_value(300)
    at.number_input(key="compare_iwae_k").set_value(4)
    at.run()
    assert not at.exception, at.exception
    assert not at.dataframe  # nothing is computed before the button is pressed
    at.button(key="compare_compute").click()
    at.run()
    assert not at.exception, at.exception
    columns = list(metric_table(at).columns)
    assert {"real data (training images)", "VAE one", "VAE two", "pure noise"} <= set(columns)
    table = metric_table(at).set_index("metric")
    for metric in ("FID, same N", "FID", "KID", "precision", "recall", "class entropy (bits)"):
        assert table.loc[metric, "VAE one"] != "-", metric
    # shapes have grey (anti-aliased) edges: a Bernoulli decoder's score on them is no likelihood of the images
    assert table.loc["bits/dim", "VAE one"] == "-" and table.loc["likelihood", "VAE one"].startswith("none")
    cached = list(two_models.glob("metrics/*.json"))
    assert len(cached) >= 4  # real, two models, noise for each settings seen

    files_before = sorted(two_models.glob("metrics/*.json"))
    again = AppTest.from_file(PAGE, default_timeout=300)
    again.run()
    again.number_input(key="compare_samples").set_value(300)
    again.number_input(key="compare_iwae_k").set_value(4)
    again.run()
    assert not again.exception
    assert sorted(two_models.glob("metrics/*.json")) == files_before  # nothing recomputed: read from the cache
    assert metric_table(again).equals(metric_table(at))  # shown at once, without pressing the button


def test_no_classifier_is_one_sentence(tmp_path, monkeypatch, user_checkpoint_dir):
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "none")
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path / "cache"))
    save_checkpoint(user_checkpoint_dir / "a.safetensors", VAE(VAEConfig.tiny()), "vae", {"dataset": "shapes"})
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception
    assert any("No metrics classifier" in e.value for e in at.error)


def test_the_shipped_models_rows_show_at_once_without_computing(tmp_path, monkeypatch, user_checkpoint_dir):
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path / "empty-cache"))  # only the rows in checkpoints/compare/
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert not [b for b in at.button if b.key == "compare_compute"]
    columns = set(metric_table(at).columns)
    assert {"real data (training images)", "pure noise"} <= columns and len(columns) > 4
    assert not (tmp_path / "empty-cache").exists()  # nothing was computed or written
