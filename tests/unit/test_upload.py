"""Uploaded checkpoints: safetensors only, validated, never unpickled; good ones are kept with your models."""
import pickle

import pytest
import torch

from genlab.checkpoints import CheckpointError, list_checkpoints, read_card, save_checkpoint
from genlab.models.dcgan import DCGAN, DCGANConfig
from genlab.models.loading import load_checkpoint
from genlab.models.vae import VAE, VAEConfig
from genlab.ui.upload import save_uploaded_checkpoint


class WritesAMarker:
    """Unpickling this runs code: it writes a marker file. A safe loader never gets that far."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('pwned')",)


def checkpoint_bytes(tmp_path, model, kind) -> bytes:
    path = save_checkpoint(tmp_path / f"{kind}.safetensors", model, kind, {"dataset": "fashion-mnist", "steps": 1})
    return path.read_bytes()


def test_the_marker_payload_is_live(tmp_path):
    """Control: plain unpickling of the payload does run code, so the next test means something."""
    control = tmp_path / "control-marker"
    pickle.loads(pickle.dumps(WritesAMarker(control)))
    assert control.exists()


@pytest.mark.parametrize("container", ["pickle", "torch.save"])
def test_a_malicious_pickle_renamed_to_safetensors_never_runs(tmp_path, container, user_checkpoint_dir):
    marker = tmp_path / "marker"
    if container == "pickle":
        payload = pickle.dumps({"weights": WritesAMarker(marker)})
    else:
        torch.save({"weights": WritesAMarker(marker)}, tmp_path / "evil.pt")
        payload = (tmp_path / "evil.pt").read_bytes()
    with pytest.raises(CheckpointError, match="not a safetensors checkpoint"):
        save_uploaded_checkpoint(payload, "evil.safetensors", "vae")
    with pytest.raises(CheckpointError):
        load_checkpoint(payload)
    # Even dropped straight into the user folder, listing and reading it stays inert.
    user_checkpoint_dir.mkdir(parents=True, exist_ok=True)
    (user_checkpoint_dir / "evil.safetensors").write_bytes(payload)
    [listed] = [c for c in list_checkpoints() if c.source == "yours"]
    assert listed.card is None and "not a safetensors checkpoint" in listed.error
    with pytest.raises(CheckpointError):
        read_card(user_checkpoint_dir / "evil.safetensors")
    assert not marker.exists()


def test_a_valid_upload_is_saved_where_the_pickers_look(tmp_path, user_checkpoint_dir):
    data = checkpoint_bytes(tmp_path, VAE(VAEConfig.tiny()), "vae")
    path = save_uploaded_checkpoint(data, "my model (v2).safetensors", "vae")
    assert path.parent == user_checkpoint_dir / "uploads" and path.read_bytes() == data
    assert [c.path for c in list_checkpoints(kind="vae") if c.source == "yours"] == [path]
    assert save_uploaded_checkpoint(data, "my model (v2).safetensors", "vae") == path  # same file, kept once
    assert load_checkpoint(path, expect_kind="vae").model.config.latent_dim == 2


def test_a_checkpoint_of_the_wrong_kind_gets_one_sentence(tmp_path, user_checkpoint_dir):
    data = checkpoint_bytes(tmp_path, DCGAN(DCGANConfig.tiny()), "dcgan")
    with pytest.raises(CheckpointError) as error:
        save_uploaded_checkpoint(data, "gan.safetensors", "vae")
    assert str(error.value) == "The uploaded file holds a dcgan model, but this page needs a vae."
    assert not user_checkpoint_dir.exists()


def test_a_checkpoint_whose_shapes_do_not_fit_gets_one_sentence(tmp_path, user_checkpoint_dir):
    model = VAE(VAEConfig.tiny(latent_dim=2))
    model.config = VAEConfig.tiny(latent_dim=3)  # the card will promise 3 latent dimensions; the weights have 2
    data = checkpoint_bytes(tmp_path, model, "vae")
    with pytest.raises(CheckpointError, match=r"does not fit: .* has shape .*, the model needs"):
        save_uploaded_checkpoint(data, "odd.safetensors", "vae")
    assert not user_checkpoint_dir.exists()


def test_only_safetensors_files_are_accepted(tmp_path):
    data = checkpoint_bytes(tmp_path, VAE(VAEConfig.tiny()), "vae")
    with pytest.raises(CheckpointError, match="Only .safetensors"):
        save_uploaded_checkpoint(data, "model.pt", "vae")
