"""Faults (issue 8): a training step that raises, a checkpoint deleted or damaged after it was listed, and a full
disk during a checkpoint write. Each says what happened in one sentence, the server keeps serving, and nothing
saved before is lost."""
import errno
import os
import re

import pytest
import torch

from genlab import checkpoints
from genlab.checkpoints import CheckpointError, CheckpointWriteError, list_checkpoints, save_checkpoint
from genlab.data import DATASETS, DatasetSpec, ImageDataset
from genlab.models import KINDS, ModelKind
from genlab.models.loading import load_checkpoint
from genlab.models.vae import VAE, VAEConfig
from genlab.training.jobs import JobManager, JobSpec

TINY = {"latent_dim": 2, "width": 4, "hidden": 16}


def one_sentence(message: str) -> bool:
    return ("\n" not in message and "Traceback" not in message and message.endswith(".")
            and len(re.split(r"(?<=[.!?])\s+(?=[A-Z])", message)) == 1)


def toy_split(split: str) -> ImageDataset:
    g = torch.Generator().manual_seed(0 if split == "train" else 1)
    n = 128 if split == "train" else 32
    return ImageDataset("toy-faults", split, (torch.rand(n, 1, 28, 28, generator=g) > 0.6).float(),
                        torch.randint(0, 2, (n,), generator=g), ["a", "b"], "random pixels")


@pytest.fixture(autouse=True)
def toy_dataset(monkeypatch):
    monkeypatch.setitem(DATASETS, "toy-faults", DatasetSpec("toy-faults", "Toy", "Random pixels.", ("a", "b"),
                                                            lambda split, _dir: toy_split(split), "Made by code."))


@pytest.fixture
def manager():
    jobs = JobManager(max_running=1)
    yield jobs
    jobs.shutdown()


def tiny_spec(**changes) -> JobSpec:
    return JobSpec(**{"kind": "vae", "dataset": "toy-faults", "config": TINY, "epochs": 1, "minutes": None,
                      "batch_size": 32, **changes})


def tiny_vae(seed: int = 0) -> VAE:
    torch.manual_seed(seed)
    return VAE(VAEConfig.tiny())


class CrashesAtStep(VAE):
    """A VAE whose second training step raises, as a driver error or a bug in a model would."""

    def __init__(self, config):
        super().__init__(config)
        self.calls = 0

    def train_step(self, x, y, optimizers):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("the accelerator stopped responding")
        return super().train_step(x, y, optimizers)


class FullDisk:
    """os.fdopen for writing whose file takes half the data, then fails with ENOSPC (a disk filling up)."""

    def __init__(self, real_fdopen):
        self.real_fdopen, self.calls = real_fdopen, 0

    def __call__(self, fd, mode="r", *args, **kwargs):
        real = self.real_fdopen(fd, mode, *args, **kwargs)
        if "w" not in mode:
            return real
        self.calls += 1
        return _HalfWriter(real)


class _HalfWriter:
    def __init__(self, real):
        self.real = real

    def write(self, data):
        self.real.write(data[:len(data) // 2])
        self.real.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()


@pytest.fixture
def full_disk(monkeypatch):
    disk = FullDisk(os.fdopen)
    monkeypatch.setattr(checkpoints.os, "fdopen", disk)
    return disk


# -- (1) the training thread raising -------------------------------------------------------------------------


def test_a_training_step_that_raises_fails_its_job_and_the_next_job_still_runs(manager, monkeypatch,
                                                                              user_checkpoint_dir):
    monkeypatch.setitem(KINDS, "crashing", ModelKind("crashing", "Crashing VAE", "test", "Raises.", VAEConfig,
                                                     CrashesAtStep, "none"))
    broken = manager.submit(tiny_spec(kind="crashing"))
    assert broken.finished.wait(120)
    view = manager.view(broken.id)
    assert view.state == "failed" and "the accelerator stopped responding" in view.error
    assert "\n" not in view.error and "Traceback" not in view.error and view.checkpoint is None  # one line

    after = manager.submit(tiny_spec())  # the manager keeps serving: the next run trains and saves
    assert after.finished.wait(120)
    assert manager.view(after.id).state == "done"
    assert load_checkpoint(manager.view(after.id).checkpoint).card["dataset"] == "toy-faults"


# -- (2) a checkpoint deleted or damaged after it was listed --------------------------------------------------


def test_a_checkpoint_deleted_after_listing_gives_one_sentence_when_loaded(tmp_path):
    folder = tmp_path / "models"
    for name in ("gone", "kept"):
        save_checkpoint(folder / f"{name}.safetensors", tiny_vae(), "vae", {"dataset": "shapes"})
    listed = {c.path.stem: c for c in list_checkpoints(folders=[(folder, "yours")])}
    listed["gone"].path.unlink()
    with pytest.raises(CheckpointError, match="does not exist") as refused:
        load_checkpoint(listed["gone"].path)
    assert one_sentence(str(refused.value))
    assert load_checkpoint(listed["kept"].path).card["dataset"] == "shapes"
    assert [c.path.stem for c in list_checkpoints(folders=[(folder, "yours")])] == ["kept"]


def test_the_pages_loader_says_a_deleted_or_damaged_file_in_one_sentence(tmp_path):
    from genlab.ui.common import load_model  # the cached loader every page uses
    path = save_checkpoint(tmp_path / "mine.safetensors", tiny_vae(), "vae", {"dataset": "shapes"})
    assert load_model(path).kind == "vae"
    modified = path.stat().st_mtime
    path.write_bytes(b"garbage " * 100)
    os.utime(path, (modified + 10, modified + 10))  # a new version of the file: the cache must not hide it
    with pytest.raises(CheckpointError, match="not a safetensors checkpoint") as damaged:
        load_model(path)
    path.unlink()
    with pytest.raises(CheckpointError, match="does not exist") as deleted:
        load_model(path)
    assert one_sentence(str(damaged.value)) and one_sentence(str(deleted.value))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_checkpoint_damaged_after_listing_is_refused_and_relisted_with_its_error(tmp_path, damage):
    folder = tmp_path / "models"
    for name in ("a-damaged", "b-good", "c-good"):
        save_checkpoint(folder / f"{name}.safetensors", tiny_vae(), "vae", {"dataset": "shapes"})
    [target, *_] = list_checkpoints(folders=[(folder, "yours")])
    data = target.path.read_bytes()
    target.path.write_bytes({"garbage": os.urandom(len(data)), "truncated": data[:len(data) // 2],
                             "empty": b""}[damage])
    with pytest.raises(CheckpointError) as refused:
        load_checkpoint(target.path)
    assert one_sentence(str(refused.value))
    relisted = list_checkpoints(folders=[(folder, "yours")])
    assert [c.path.stem for c in relisted] == ["a-damaged", "b-good", "c-good"]
    assert all(c.card is not None for c in relisted[1:])  # the damaged file does not stop the others listing
    if relisted[0].error is not None:  # a truncated file's header (and card) can still be whole
        assert one_sentence(relisted[0].error)


# -- (3) and (4) a full disk during a checkpoint write --------------------------------------------------------


def test_a_full_disk_midway_through_a_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, full_disk):
    folder = tmp_path / "models"
    path = folder / "keep.safetensors"
    with pytest.MonkeyPatch.context() as undo:
        undo.setattr(checkpoints.os, "fdopen", full_disk.real_fdopen)
        save_checkpoint(path, tiny_vae(0), "vae", {"dataset": "shapes", "steps": 1})
    before = path.read_bytes()
    with pytest.raises(CheckpointError) as refused:
        save_checkpoint(path, tiny_vae(1), "vae", {"dataset": "shapes", "steps": 2})
    assert full_disk.calls == 1
    assert isinstance(refused.value, OSError) and refused.value.errno == errno.ENOSPC
    assert one_sentence(str(refused.value)) and "no space left on device" in str(refused.value)
    assert path.read_bytes() == before  # byte for byte
    assert sorted(p.name for p in folder.iterdir()) == ["keep.safetensors"]  # no .tmp left behind
    assert load_checkpoint(path).card["steps"] == 1


def test_a_full_disk_on_a_new_file_leaves_nothing_at_all(tmp_path, full_disk):
    with pytest.raises(CheckpointWriteError):
        save_checkpoint(tmp_path / "new.safetensors", tiny_vae(), "vae", {"dataset": "shapes"})
    assert list(tmp_path.iterdir()) == []


def test_an_upload_on_a_full_disk_gets_one_sentence_and_keeps_nothing(tmp_path, full_disk, user_checkpoint_dir):
    from genlab.ui.upload import save_uploaded_checkpoint
    with pytest.MonkeyPatch.context() as undo:
        undo.setattr(checkpoints.os, "fdopen", full_disk.real_fdopen)
        data = save_checkpoint(tmp_path / "mine.safetensors", tiny_vae(), "vae", {"dataset": "shapes"}).read_bytes()
    with pytest.raises(CheckpointError) as refused:  # the uploader shows CheckpointError as one sentence
        save_uploaded_checkpoint(data, "mine.safetensors", "vae")
    assert one_sentence(str(refused.value))
    assert [p for p in user_checkpoint_dir.rglob("*") if p.is_file()] == []


def test_a_job_whose_checkpoint_save_hits_a_full_disk_fails_with_one_sentence(manager, full_disk):
    job = manager.submit(tiny_spec())
    assert job.finished.wait(120)
    view = manager.view(job.id)
    assert full_disk.calls >= 1
    assert view.state == "failed" and "could not be saved" in view.error and one_sentence(view.error)
    assert view.checkpoint is None and not job.checkpoint_path.exists()
    assert [p for p in job.checkpoint_path.parent.iterdir() if p.name.endswith(".tmp")] == []
