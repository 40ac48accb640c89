"""Compare's rows put side by side only what is comparable: one FID at the same N for every column, and bits/dim
only where the score is a likelihood of the images' own pixel values."""
import torch

from genlab.checkpoints import save_checkpoint
from genlab.data import ImageDataset
from genlab.evaluation.compare import (BLACK_AND_WHITE, GREY_SCORE_WORDS, CompareSettings, Reference,
                                       checkpoint_row, noise_row, real_data_row)
from genlab.evaluation.metrics import extract_features
from genlab.models.classifier import Classifier, ClassifierConfig
from genlab.models.vae import VAE, VAEConfig

SETTINGS = CompareSettings(samples=120, samples_autoregressive=40, likelihood_images=20, iwae_k=2)


def reference(images: torch.Tensor) -> Reference:
    torch.manual_seed(0)
    labels = torch.arange(len(images)) % 3
    data = ImageDataset("shapes", "test", images, labels, ["a", "b", "c"], "made here")
    classifier = Classifier(ClassifierConfig.tiny(num_classes=3)).eval()
    return Reference("shapes", data, data, classifier, extract_features(classifier, images))


def vae_row(tmp_path, monkeypatch, images):
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GENLAB_SHIPPED_ROWS", str(tmp_path / "none"))
    path = tmp_path / "vae.safetensors"
    save_checkpoint(path, VAE(VAEConfig.tiny()), "vae", {"dataset": "shapes", "title": "VAE"})
    return checkpoint_row(path, reference(images), SETTINGS)


def test_every_column_has_an_fid_at_the_same_n(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path / "cache"))
    ref = reference(torch.rand(150, 1, 28, 28))
    rows = [real_data_row(ref, SETTINGS), noise_row(ref, SETTINGS)]
    assert [r["samples"] for r in rows] == [120, 120]
    assert all(r["same N"] == SETTINGS.same_n == 40 for r in rows)
    assert all(r["FID, same N"] != r["FID"] for r in rows)  # 40 samples, not all 120


def test_a_vae_on_grey_levels_reports_no_likelihood(tmp_path, monkeypatch):
    row = vae_row(tmp_path, monkeypatch, torch.rand(150, 1, 28, 28))  # grey levels
    assert row["likelihood"] == GREY_SCORE_WORDS
    assert "bits/dim" not in row and "IWAE bits/dim" not in row


def test_a_vae_on_black_and_white_images_reports_its_bound(tmp_path, monkeypatch):
    row = vae_row(tmp_path, monkeypatch, torch.bernoulli(torch.full((150, 1, 28, 28), 0.3)))
    assert row["discretisation"] == BLACK_AND_WHITE
    assert row["bits/dim"] > 0 and row["IWAE bits/dim"] > 0
    assert row["likelihood"].startswith("ELBO")
