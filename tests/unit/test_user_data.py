"""Your own images: good archives and folders become datasets; hostile or odd ones are refused or skipped."""
import io
import struct
import zipfile

import numpy as np
import pytest
from PIL import Image

import genlab.user_data as user_data
from genlab.__main__ import main
from genlab.checkpoints import read_card
from genlab.data import DATASETS, load_dataset, unregister_dataset
from genlab.user_data import UserDataError, images_from_zip, register_folder, register_zip


def picture_bytes(seed: int, size=(40, 30), colour=False, fmt="PNG") -> bytes:
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if colour else (size[1], size[0])
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(buffer, format=fmt)
    return buffer.getvalue()


def make_zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def forget_registered_datasets():
    before = set(DATASETS)
    yield
    for name in set(DATASETS) - before:
        unregister_dataset(name)
    user_data._uploads.clear()


def test_a_good_zip_becomes_a_registered_dataset_with_classes_from_folders():
    members = {f"holiday/cats/{i}.png": picture_bytes(i) for i in range(12)}
    members |= {f"holiday/dogs/{i}.jpg": picture_bytes(100 + i, fmt="JPEG") for i in range(8)}
    result = register_zip(make_zip(members), "holiday.zip")
    assert result.report.loaded == 20 and not result.report.skipped
    assert result.image_shape == (1, 28, 28) and result.class_names == ["cats", "dogs"]
    train, test = load_dataset(result.dataset_name, "train"), load_dataset(result.dataset_name, "test")
    assert len(train) == 18 and len(test) == 2  # a tenth held out
    assert train.images.shape[1:] == (1, 28, 28) and 0 <= train.images.min() and train.images.max() <= 1
    assert sorted(train.labels.tolist() + test.labels.tolist()) == [0] * 12 + [1] * 8
    assert result.preview.shape == (20, 1, 28, 28)
    assert register_zip(make_zip(members), "holiday.zip").dataset_name == result.dataset_name  # reused


def test_colour_images_stay_colour_and_can_be_32_pixels():
    members = {f"{i}.png": picture_bytes(i, colour=True) for i in range(5)}
    result = register_zip(make_zip(members), "colour.zip", size=32)
    assert result.image_shape == (3, 32, 32)
    assert load_dataset(result.dataset_name, "train").images.shape[1:] == (3, 32, 32)
    assert register_zip(make_zip(members), "colour.zip", size=32, channels=1).image_shape == (1, 32, 32)


@pytest.mark.parametrize("name", ["../evil.png", "photos/../../evil.png", "/etc/evil.png", "..\\evil.png",
                                  "C:/evil.png"])
def test_a_path_traversal_name_refuses_the_archive(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    archive = make_zip({"ok.png": picture_bytes(0), name: picture_bytes(1)})
    with pytest.raises(UserDataError, match="unsafe file name"):
        register_zip(archive)
    assert list(tmp_path.rglob("*")) == [] and not (tmp_path.parent / "evil.png").exists()


def test_a_zip_bomb_is_refused_by_its_compression_ratio():
    archive = make_zip({"ok.png": picture_bytes(0), "bomb.png": bytes(50_000_000)})  # 50 MB of zeros -> ~50 kB
    assert len(archive) < 200_000
    with pytest.raises(UserDataError, match="zip bomb"):
        register_zip(archive)


def test_an_archive_that_would_unpack_beyond_the_limit_is_refused(monkeypatch):
    two_bit_noise = np.random.default_rng(0).integers(0, 4, 3_000_000, dtype=np.uint8).tobytes()  # packs ~4x
    archive = make_zip({"a.png": picture_bytes(0), "data.bin": two_bit_noise})
    monkeypatch.setenv("GENLAB_MAX_USER_MB", "2")
    assert len(archive) < 2_000_000  # the archive itself is allowed; what it declares is not
    with pytest.raises(UserDataError, match="would unpack to 3 MB"):
        images_from_zip(archive)


def test_a_member_that_lies_about_its_size_is_never_read_past_what_it_declares():
    raw = make_zip({"ok.png": picture_bytes(0), "liar.png": bytes(3_000_000), "ok2.png": picture_bytes(2)})
    archive = bytearray(raw)
    # Declare 1,000 bytes for liar.png, in its local header and in the central directory.
    struct.pack_into("<I", archive, zipfile.ZipFile(io.BytesIO(raw)).getinfo("liar.png").header_offset + 22, 1000)
    central = archive.index(b"liar.png", archive.index(b"PK\x01\x02")) - 46
    struct.pack_into("<I", archive, central + 24, 1000)
    arrays, _, report = images_from_zip(bytes(archive))
    assert len(arrays) == 2 and report.skipped == {"damaged in the archive": 1}


def test_non_images_and_huge_images_are_skipped_with_a_count_of_why(monkeypatch):
    monkeypatch.setattr(user_data, "MAX_PIXELS", 100 * 100)
    gif = io.BytesIO()
    Image.new("L", (10, 10)).save(gif, format="GIF")
    members = {
        "a.png": picture_bytes(0), "b.jpg": picture_bytes(1, fmt="JPEG"),
        "notes.txt": b"hello", "model.pt": b"\x80\x04K\x01.", "fake.png": b"this is not a png",
        "really-a-gif.png": gif.getvalue(), "huge.png": picture_bytes(2, size=(200, 200)),
        "__MACOSX/._a.png": b"\x00\x05\x16\x07", "folder/": b"",
    }
    arrays, _, report = images_from_zip(make_zip(members))
    assert len(arrays) == 2
    assert report.skipped == {"not a .png, .jpg or .jpeg file": 2, "not a readable image": 1,
                              "not a PNG or JPEG": 1, "more than 10,000 pixels": 1, "macOS metadata files": 1}
    assert "skipped 6 file(s)" in report.summary()


def test_too_many_images_refuse_the_archive(monkeypatch):
    monkeypatch.setenv("GENLAB_MAX_USER_IMAGES", "5")
    with pytest.raises(UserDataError, match="holds 6 images; at most 5"):
        register_zip(make_zip({f"{i}.png": picture_bytes(i) for i in range(6)}))


@pytest.mark.parametrize("data", [b"", b"hello", b"PK\x03\x04 broken", picture_bytes(0)])
def test_a_file_that_is_not_a_zip_gets_one_sentence(data):
    with pytest.raises(UserDataError, match="not a zip archive"):
        register_zip(data)


def test_an_archive_without_usable_images_says_what_it_skipped():
    with pytest.raises(UserDataError, match="At least 2 usable.*skipped 1 file"):
        register_zip(make_zip({"one.png": picture_bytes(0), "notes.txt": b"x"}))


def test_only_the_newest_uploads_are_kept_in_memory(monkeypatch):
    monkeypatch.setattr(user_data, "MAX_UPLOADED_DATASETS", 2)
    names = [register_zip(make_zip({f"{i}.png": picture_bytes(10 * k + i) for i in range(3)})).dataset_name
             for k in range(3)]
    assert names[0] not in DATASETS and names[1] in DATASETS and names[2] in DATASETS


def test_a_folder_becomes_a_dataset(tmp_path):
    for label in ("circles", "squares"):
        (tmp_path / label).mkdir()
        for i in range(5):
            (tmp_path / label / f"{i}.png").write_bytes(picture_bytes(i + len(label)))
    (tmp_path / "README.txt").write_text("not an image")
    result = register_folder(tmp_path)
    assert result.report.loaded == 10 and result.report.skipped == {"not a .png, .jpg or .jpeg file": 1}
    assert result.class_names == ["circles", "squares"] and result.dataset_name.startswith("folder-")
    assert len(load_dataset(result.dataset_name, "train")) + len(load_dataset(result.dataset_name, "test")) == 10
    with pytest.raises(UserDataError, match="not a folder"):
        register_folder(tmp_path / "README.txt")


def test_the_cli_trains_on_a_folder_of_images(tmp_path):
    images = tmp_path / "mine"
    images.mkdir()
    for i in range(20):
        (images / f"{i}.png").write_bytes(picture_bytes(i))
    out = tmp_path / "mine.safetensors"
    code = main(["train", "vae", "--images-folder", str(images), "--steps", "2", "--batch-size", "8",
                 "--latent-dim", "2", "--width", "4", "--hidden", "16", "--out", str(out)])
    assert code == 0
    card = read_card(out)
    assert card["dataset"] == "folder-mine" and card["steps"] == 2 and card["image_shape"] == [1, 28, 28]
