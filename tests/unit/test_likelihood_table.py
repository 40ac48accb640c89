"""The likelihood table: one data set, one unit, the baseline beside every model, bounds said to be bounds."""
import pytest
import torch

from genlab.checkpoints import save_checkpoint
from genlab.data import DATASETS, DatasetSpec, ImageDataset
from genlab.evaluation.likelihood_table import likelihood_table
from genlab.models.autoregressive.nade import NADE, NADEConfig
from genlab.models.vae import VAE, VAEConfig


def binary_split(split: str) -> ImageDataset:
    g = torch.Generator().manual_seed(0 if split == "train" else 1)
    images = (torch.rand(40, 1, 28, 28, generator=g) > 0.8).float()
    return ImageDataset("toy-binary", split, images, torch.zeros(40, dtype=torch.long), ["a"], "random pixels")


@pytest.fixture
def toy_binary(monkeypatch, user_checkpoint_dir):
    monkeypatch.setitem(DATASETS, "toy-binary", DatasetSpec("toy-binary", "Toy", "Random pixels.", ("a",),
                                                            lambda split, _dir: binary_split(split), "By code."))
    torch.manual_seed(0)
    save_checkpoint(user_checkpoint_dir / "nade.safetensors", NADE(NADEConfig(hidden=4)), "nade",
                    {"dataset": "toy-binary", "title": "tiny NADE"})
    save_checkpoint(user_checkpoint_dir / "vae.safetensors", VAE(VAEConfig.tiny()), "vae",
                    {"dataset": "toy-binary", "title": "tiny VAE"})


def test_every_model_with_a_likelihood_is_scored_beside_the_baseline(toy_binary):
    table = likelihood_table("toy-binary", iwae_k=5)
    measures = {(row.name, row.measure) for row in table.rows}
    assert measures >= {("independent pixels (baseline)", "exact"), ("tiny NADE", "exact"),
                        ("tiny VAE", "bound: −ELBO"), ("tiny VAE", "bound: IWAE, k = 5")}
    assert [r.nats for r in table.rows] == sorted(r.nats for r in table.rows)
    assert table.images == 40


def test_grey_images_are_refused_with_one_sentence():
    with pytest.raises(ValueError, match="not black and white"):
        likelihood_table("shapes", iwae_k=1)
