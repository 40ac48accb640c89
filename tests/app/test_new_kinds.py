"""A model kind registered only here, in the test, shows up on the pages that can show it, with no page edited.

The pages ask the registry for "every kind that can do X" (genlab/models/__init__.py), so a tiny latent model
appears in the VAE explorer and a tiny generator on the GAN page as soon as their kinds are registered.
"""
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from genlab import checkpoints
from genlab.checkpoints import save_checkpoint
from genlab.models import GENERATOR, LATENT, SAMPLES, ModelKind, register_kind, unregister_kind
from genlab.models.base import Model, as_generator

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LinearConfig:
    latent_dim: int = 3
    image_channels: int = 1
    image_size: int = 28

    @classmethod
    def tiny(cls, **overrides):
        return cls(**overrides)


class LinearLatentModel(Model):
    """A linear encoder and decoder: the smallest model with a latent code."""

    def __init__(self, config: LinearConfig):
        super().__init__()
        self.config = config
        pixels = config.image_channels * config.image_size ** 2
        self.encoder = nn.Linear(pixels, 2 * config.latent_dim)  # (N, pixels) -> mu, logvar
        self.decoder = nn.Linear(config.latent_dim, pixels)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def encode(self, x):
        mu, logvar = self.encoder(x.flatten(1)).chunk(2, dim=1)  # (N, latent) each
        return mu, logvar

    def decode(self, z):
        c = self.config
        return torch.sigmoid(self.decoder(z)).view(-1, c.image_channels, c.image_size, c.image_size)

    def elbo_terms(self, x, generator=None):
        mu, logvar = self.encode(x)
        recon = nn.functional.binary_cross_entropy(self.decode(mu), x, reduction="none").sum((1, 2, 3))
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
        return recon, kl

    def random_latents(self, n, generator=None):
        return torch.randn(n, self.config.latent_dim, generator=as_generator(generator))

    def sample(self, n, generator=None):
        return self.decode(self.random_latents(n, generator))

    def loss(self, x, y):
        recon, kl = self.elbo_terms(x)
        loss = (recon + kl).mean()
        return loss, {"loss": loss.item()}

    def describe(self) -> str:
        return "A linear test model."


@pytest.fixture
def test_kinds(tmp_path, monkeypatch, user_checkpoint_dir):
    """Two kinds that exist only in this test, one checkpoint of each over `shapes`, and no shipped models."""
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "no-shipped-models")
    common = dict(family="test", summary="A test model.", config_cls=LinearConfig, model_cls=LinearLatentModel,
                  paper="no paper")
    register_kind(ModelKind(name="test-latent", title="Linear latent test model",
                            capabilities=frozenset({SAMPLES, LATENT}), **common))
    register_kind(ModelKind(name="test-generator", title="Linear generator test model",
                            capabilities=frozenset({SAMPLES, GENERATOR}), **common))
    torch.manual_seed(0)
    for name in ("test-latent", "test-generator"):
        save_checkpoint(user_checkpoint_dir / f"{name}.safetensors", LinearLatentModel(LinearConfig()), name,
                        {"dataset": "shapes", "title": f"my {name}"})
    yield
    unregister_kind("test-latent")
    unregister_kind("test-generator")


def run_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "views" / page), default_timeout=120)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_a_latent_kind_registered_in_a_test_appears_in_the_latent_explorer(test_kinds):
    at = run_page("1_VAE_explorer.py")
    picker = at.selectbox(key="vae_model")
    assert picker.options == ["my test-latent (yours) · Shapes (procedural)"]
    assert any("A linear test model." in c.value for c in at.caption)  # its describe() beside it
    assert at.tabs, "the explorer drew no tabs"


def test_a_generator_kind_registered_in_a_test_appears_on_the_generator_page(test_kinds):
    at = run_page("2_GAN_arithmetic.py")
    picker = at.selectbox(key="gan_model")
    assert picker.options == ["my test-generator (yours) · Shapes (procedural)"]
    assert any("A linear test model." in c.value for c in at.caption)
