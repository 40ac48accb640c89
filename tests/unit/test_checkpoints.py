import json
import os
import pickle
import struct

import pytest
import torch

from genlab import checkpoints
from genlab.checkpoints import CheckpointError, list_checkpoints, read_card, save_checkpoint
from genlab.models.loading import load_checkpoint
from genlab.models.vae import VAE, VAEConfig


def tiny_vae(**config):
    torch.manual_seed(0)
    return VAE(VAEConfig.tiny(**config))


def test_round_trip_keeps_weights_and_card(tmp_path):
    model = tiny_vae()
    path = save_checkpoint(tmp_path / "a.safetensors", model, "vae", {"dataset": "shapes", "steps": 5})
    loaded = load_checkpoint(path)
    assert loaded.kind == "vae" and loaded.card["dataset"] == "shapes" and loaded.card["steps"] == 5
    assert loaded.card["config"]["latent_dim"] == 2
    for name, value in model.state_dict().items():
        assert torch.equal(value, loaded.model.state_dict()[name])
    assert not loaded.model.training


def test_half_precision_halves_the_file_and_loads_as_float32(tmp_path):
    model = VAE(VAEConfig(latent_dim=2, width=8, hidden=64))
    full = save_checkpoint(tmp_path / "f.safetensors", model, "vae", {})
    half = save_checkpoint(tmp_path / "h.safetensors", model, "vae", {}, half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded = load_checkpoint(half)
    assert next(loaded.model.parameters()).dtype == torch.float32


def test_optimizer_state_round_trip(tmp_path):
    model = tiny_vae()
    optimizers = model.make_optimizers(1e-3)
    model.train_step(torch.rand(4, 1, 28, 28), None, optimizers)
    path = save_checkpoint(tmp_path / "o.safetensors", model, "vae", {}, optimizers=optimizers)
    loaded = load_checkpoint(path)
    fresh = loaded.model.make_optimizers(1e-3)
    assert loaded.restore_optimizers(fresh)
    before, after = optimizers["model"].state_dict(), fresh["model"].state_dict()
    for index, entry in before["state"].items():
        assert torch.equal(entry["exp_avg"], after["state"][index]["exp_avg"])


def test_random_bytes_are_refused_in_one_sentence(tmp_path):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(os.urandom(2000))
    with pytest.raises(CheckpointError, match="not a safetensors checkpoint") as e:
        load_checkpoint(path)
    assert "\n" not in str(e.value)


def test_truncated_file_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "t.safetensors", tiny_vae(), "vae", {})
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(path)


def test_wrong_shapes_are_refused(tmp_path):
    path = save_checkpoint(tmp_path / "w.safetensors", tiny_vae(), "vae", {})
    data = path.read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    card = json.loads(header["__metadata__"]["genlab"])
    card["config"]["latent_dim"] = 7  # the card now promises a model the tensors do not fit
    header["__metadata__"]["genlab"] = json.dumps(card)
    body = json.dumps(header).encode()
    body += b" " * (-len(body) % 8)
    path.write_bytes(struct.pack("<Q", len(body)) + body + data[8 + length:])
    with pytest.raises(CheckpointError, match="shape"):
        load_checkpoint(path)


def test_wrong_kind_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "k.safetensors", tiny_vae(), "vae", {})
    with pytest.raises(CheckpointError, match="needs a dcgan"):
        load_checkpoint(path, expect_kind="dcgan")


def test_a_pickle_disguised_as_a_checkpoint_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    with pytest.raises(CheckpointError):
        load_checkpoint(path.read_bytes())
    assert not marker.exists()


def test_uploaded_bytes_load_like_a_file(tmp_path):
    path = save_checkpoint(tmp_path / "u.safetensors", tiny_vae(), "vae", {"dataset": "digits"})
    loaded = load_checkpoint(path.read_bytes())
    assert loaded.card["dataset"] == "digits" and loaded.path is None


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "keep.safetensors", tiny_vae(), "vae", {"steps": 1})
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoints.os, "fsync", disk_full)
    with pytest.raises(OSError):
        save_checkpoint(path, tiny_vae(), "vae", {"steps": 2})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.safetensors"]


def test_listing_reads_cards_and_reports_damaged_files(tmp_path):
    save_checkpoint(tmp_path / "shapes" / "good.safetensors", tiny_vae(), "vae", {"dataset": "shapes"})
    (tmp_path / "bad.safetensors").write_bytes(b"nope")
    found = list_checkpoints(folders=[(tmp_path, "yours")])
    by_name = {c.path.name: c for c in found}
    assert by_name["good.safetensors"].dataset == "shapes" and by_name["good.safetensors"].kind == "vae"
    assert by_name["bad.safetensors"].card is None and "not a safetensors" in by_name["bad.safetensors"].error
    assert [c.path.name for c in list_checkpoints(dataset="shapes", folders=[(tmp_path, "yours")])] == ["good.safetensors"]


def test_a_listed_card_is_read_once_per_version_of_its_file(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, tiny_vae(), "vae", {"dataset": "shapes", "title": "first"})
    reads = []
    monkeypatch.setattr(checkpoints, "read_card", lambda source: reads.append(source) or read_card(source))
    listed = lambda: list_checkpoints(folders=[(tmp_path, "yours")])[0]  # noqa: E731
    first = listed()
    first.card["title"] = "changed by a caller"  # each caller gets its own copy
    assert listed().card["title"] == "first" and len(reads) == 1  # the second listing read no file
    save_checkpoint(path, tiny_vae(), "vae", {"dataset": "shapes", "title": "second"})  # a new version
    assert listed().card["title"] == "second" and len(reads) == 2


def test_every_shipped_checkpoint_loads_with_a_model_card():
    shipped = list_checkpoints(folders=[(checkpoints.SHIPPED_DIR, "shipped")])
    assert shipped, "checkpoints/ ships no model"
    for info in shipped:
        assert info.error is None, info.error
        card = read_card(info.path)
        for field in ("dataset", "epochs", "wall_time_s", "device", "command", "metrics"):
            assert field in card, f"{info.path.name} has no {field} in its model card"
        load_checkpoint(info.path)
