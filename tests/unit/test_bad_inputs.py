"""The bad-input corpus (tests/bad_corpus.py) through the real validation the pages use: every file is refused
with one clear sentence, nothing is written outside the user folder, and the disguised pickle never runs."""
import os
import re
import shutil
import zlib
from pathlib import Path

import pytest
import torch
from bad_corpus import BAD_DIR, ESCAPED_NAME, MARKER_NAME, corpus, deflate_zeros, write_corpus

from genlab.checkpoints import CheckpointError, list_checkpoints, read_card
from genlab.images import ImageInputError, read_user_image
from genlab.models import KINDS, ModelKind
from genlab.models.loading import load_checkpoint
from genlab.models.vae import VAE, VAEConfig
from genlab.ui.upload import save_uploaded_checkpoint
from genlab.user_data import UserDataError, images_from_zip, register_zip

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINTS = corpus("checkpoint")
IMAGES = corpus("image")
ZIPS = corpus("zip")
MARKER = BAD_DIR / MARKER_NAME


def assert_one_sentence(message: str, expect: str = "") -> None:
    """One clear sentence for a teacher or a student: no traceback, one line, capitalised, a full stop."""
    assert expect in message, message
    assert "Traceback" not in message and 'File "' not in message and "\n" not in message, message
    assert (message[:1].isupper() or message.startswith("'")) and message.endswith("."), message  # or a file name
    assert len(message) <= 300, message
    assert len(re.split(r"(?<=[.!?])\s+(?=[A-Z])", message)) == 1, f"more than one sentence: {message}"


def snapshot(*folders: Path, recursive: bool = True) -> set[Path]:
    found = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        if recursive:
            found |= {Path(root) / name for root, dirs, names in os.walk(folder)
                      if "__pycache__" not in root for name in names}
        else:
            found |= set(folder.iterdir())
    return found


@pytest.fixture
def nothing_written_outside(tmp_path, user_checkpoint_dir):
    """Asserts afterwards that no file appeared anywhere but the user folder (and that the pickle never ran)."""
    watched = [ROOT / "genlab", ROOT / "views", ROOT / "checkpoints", ROOT / "tests" / "data", tmp_path]
    shallow = [ROOT, tmp_path.parent, Path("/tmp"), Path.cwd()]
    before, before_shallow = snapshot(*watched), snapshot(*shallow, recursive=False)
    yield
    after = {p for p in snapshot(*watched) if user_checkpoint_dir not in p.parents}
    new_shallow = {p for p in snapshot(*shallow, recursive=False) - before_shallow if p.name != "__pycache__"}
    assert after - before == set() and {p for p in new_shallow if p.name == ESCAPED_NAME} == set()
    assert not MARKER.exists(), "the disguised pickle ran"
    for place in (ROOT, ROOT.parent, Path("/tmp"), tmp_path, tmp_path.parent, user_checkpoint_dir):
        assert not (place / ESCAPED_NAME).exists()


def test_the_corpus_is_written_into_tests_data_bad_and_ignored_by_git():
    files = write_corpus()
    assert {f.path.parent for f in files} == {BAD_DIR} and all(f.path.exists() for f in files)
    assert {f.target for f in files} == {"checkpoint", "image", "zip"}
    assert "tests/data/bad/" in (ROOT / ".gitignore").read_text().split()


def test_the_zip_bomb_stream_really_expands_to_what_it_declares():
    """Control: the cheap bomb is a real one (checked on 3 MB; the corpus uses the same block 1024 times)."""
    stream, crc = deflate_zeros(3)
    unpacked = zlib.decompress(stream, -15)
    assert unpacked == bytes(3 * 2 ** 20) and zlib.crc32(unpacked) == crc and len(stream) < 10_000


@pytest.mark.parametrize("bad", CHECKPOINTS, ids=lambda f: f.name)
def test_a_bad_checkpoint_upload_is_refused_with_one_sentence(bad, nothing_written_outside, user_checkpoint_dir):
    with pytest.raises(CheckpointError) as refused:
        save_uploaded_checkpoint(bad.read(), bad.name, "vae")
    assert_one_sentence(str(refused.value), bad.expect)
    assert snapshot(user_checkpoint_dir) == set()  # a refused upload is not kept either


@pytest.mark.parametrize("bad", [f for f in CHECKPOINTS if f.path.suffix == ".safetensors"], ids=lambda f: f.name)
def test_a_bad_checkpoint_file_never_loads_and_says_why_in_one_sentence(bad, nothing_written_outside):
    for source in (bad.read(), bad.path):
        with pytest.raises(CheckpointError) as refused:
            load_checkpoint(source)
        assert_one_sentence(str(refused.value))
    try:
        card = read_card(bad.path)  # some damage is only in the tensors: the card alone may still read
    except CheckpointError as e:
        assert_one_sentence(str(e))
    else:
        assert isinstance(card, dict) and "kind" in card


def test_the_whole_corpus_in_the_user_folder_is_listed_without_failing(nothing_written_outside,
                                                                       user_checkpoint_dir):
    user_checkpoint_dir.mkdir(parents=True)
    for bad in CHECKPOINTS:
        shutil.copy(bad.path, user_checkpoint_dir / bad.name)
    listed = {c.path.name: c for c in list_checkpoints(folders=[(user_checkpoint_dir, "yours")])}
    assert set(listed) == {f.name for f in CHECKPOINTS if f.path.suffix == ".safetensors"}
    for info in listed.values():
        assert (info.card is None) != (info.error is None)
        if info.error:
            assert_one_sentence(info.error)


def test_a_card_asking_for_a_huge_model_never_allocates_it(monkeypatch, nothing_written_outside):
    """hidden=2,000,000 would need about 25 GB: the shapes are checked on the meta device before anything real
    is built, so the server never tries (this guard fails the test if it did)."""

    class GuardedVAE(VAE):
        def __init__(self, config):
            if config.hidden > 10_000 and torch.empty(0).device.type != "meta":
                raise AssertionError("a huge model was allocated for real")
            super().__init__(config)

    monkeypatch.setitem(KINDS, "vae", ModelKind("vae", "VAE", "test", "Guarded.", VAEConfig, GuardedVAE, "none"))
    [bad] = [f for f in CHECKPOINTS if f.name == "huge-config.safetensors"]
    with pytest.raises(CheckpointError, match="does not fit"):
        load_checkpoint(bad.read(), expect_kind="vae")


def test_a_checkpoint_of_an_unknown_kind_names_it_on_any_page(nothing_written_outside):
    [bad] = [f for f in CHECKPOINTS if f.name == "unknown-kind.safetensors"]
    with pytest.raises(CheckpointError) as refused:
        load_checkpoint(bad.read())
    assert_one_sentence(str(refused.value), "does not know ('diffusion'")
    with pytest.raises(CheckpointError, match="holds a diffusion model, but this page needs a vae"):
        load_checkpoint(bad.read(), expect_kind="vae")


@pytest.mark.parametrize("bad", [f for f in IMAGES if f.name != "animated.gif"], ids=lambda f: f.name)
def test_a_bad_image_upload_is_refused_with_one_sentence(bad, nothing_written_outside):
    with pytest.raises(ImageInputError) as refused:
        read_user_image(bad.read())
    assert_one_sentence(str(refused.value), bad.expect)


def test_an_animated_gif_is_read_as_its_first_frame_and_nothing_else(nothing_written_outside):
    """Not refused, on purpose (a GIF is a picture): its first frame, black, is the input."""
    [gif] = [f for f in IMAGES if f.name == "animated.gif"]
    image = read_user_image(gif.read(), invert_light_background=False)
    assert image.shape == (1, 28, 28) and image.max() == 0


@pytest.mark.parametrize("bad", ZIPS, ids=lambda f: f.name)
def test_a_bad_zip_upload_is_refused_with_one_sentence(bad, nothing_written_outside):
    with pytest.raises(UserDataError) as refused:
        register_zip(bad.read(), bad.name)
    assert_one_sentence(str(refused.value), bad.expect)


def test_a_lying_member_is_never_read_past_what_it_declares(nothing_written_outside):
    [bomb] = [f for f in ZIPS if f.name == "bomb-lying.zip"]
    arrays, _, report = images_from_zip(bomb.read())
    assert arrays == [] and sum(report.skipped.values()) == 2  # each read stops at its declared 1,000 bytes
