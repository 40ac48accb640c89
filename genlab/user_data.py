"""Your own images as a dataset: a zip of PNG/JPEG files (uploaded in the app) or a folder (from the CLI).

Archives are read member by member in memory; nothing is ever extracted to disk, so a hostile file name
cannot write anywhere. Still, an archive is refused outright when it has an unsafe name (an absolute path or
'..'), looks like a zip bomb (a member that expands more than MAX_RATIO times, or more bytes than declared),
or is too big (more than GENLAB_MAX_USER_IMAGES images or GENLAB_MAX_USER_MB megabytes). Single bad members
(not a PNG or JPEG, unreadable, too many pixels, too large, encrypted) are skipped and counted by reason.

Images are centre-cropped to a square, resized to 28x28 or 32x32, and kept grayscale or RGB. Subfolders
become class labels (used to colour plots); the images of one folder share one label. A seeded tenth of the
images is held out as the "test" split. The dataset is registered under a name derived from its content, so
the trainer, the jobs and every page can load it with genlab.data.load_dataset until the server restarts.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from genlab.data import DATASETS, DatasetSpec, ImageDataset, register_dataset, unregister_dataset

SIZES = (28, 32)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
IMAGE_FORMATS = ("PNG", "JPEG")
MAX_MEMBER_BYTES = 20_000_000  # one image file
MAX_PIXELS = 16_000_000  # one image, checked from its header before decoding
MAX_RATIO = 100  # PNG and JPEG are compressed already: a member expanding 100x is a bomb, not a photo
MAX_ENTRIES = 100_000  # names in the archive's directory, whatever they are
MAX_UPLOADED_DATASETS = 4  # registered uploads kept in memory; the oldest is forgotten first
TEST_FRACTION = 0.1


class UserDataError(ValueError):
    """An archive or folder that cannot become a dataset; the message is one sentence for the page."""


def max_images() -> int:
    return int(os.environ.get("GENLAB_MAX_USER_IMAGES", 20_000))


def max_total_bytes() -> int:
    return int(float(os.environ.get("GENLAB_MAX_USER_MB", 200)) * 1_000_000)


@dataclass
class LoadReport:
    loaded: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> number of files

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def summary(self) -> str:
        text = f"Loaded {self.loaded:,} image{'s' if self.loaded != 1 else ''}"
        if self.skipped:
            reasons = "; ".join(f"{count:,} {reason}" for reason, count in self.skipped.most_common())
            text += f"; skipped {sum(self.skipped.values()):,} file(s): {reasons}"
        return text + "."


@dataclass
class UserImages:
    """The result of reading an archive or folder: a registered dataset name and what happened."""
    dataset_name: str
    title: str
    image_shape: tuple[int, int, int]
    class_names: list[str]
    report: LoadReport
    preview: torch.Tensor  # (n, C, H, W) a few images, for the page


# ---------------------------------------------------------------------------------------------------------
# Decoding one image


def decode_image(raw: bytes, size: int, report: LoadReport) -> np.ndarray | None:
    """PNG/JPEG bytes -> (size, size, 3) uint8 RGB, centre-cropped; None (and a counted reason) if unusable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own pixel limit applies
            with Image.open(io.BytesIO(raw)) as picture:
                if picture.format not in IMAGE_FORMATS:
                    report.skip("not a PNG or JPEG")
                    return None
                width, height = picture.size
                if width * height > MAX_PIXELS:
                    report.skip(f"more than {MAX_PIXELS:,} pixels")
                    return None
                picture.draft("RGB", (2 * size, 2 * size))  # JPEG: decode at a reduced scale, much faster
                if picture.mode in ("RGBA", "LA", "P", "PA"):
                    # Transparent pixels become black, like the dark background of the built-in datasets.
                    rgba = picture.convert("RGBA")
                    rgb = Image.new("RGB", rgba.size)
                    rgb.paste(rgba, mask=rgba.getchannel("A"))
                else:
                    rgb = picture.convert("RGB")
                rgb = ImageOps.fit(rgb, (size, size), Image.LANCZOS)  # centre crop to a square, then resize
                return np.asarray(rgb, dtype=np.uint8).copy()  # (size, size, 3)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        report.skip("not a readable image")
        return None


def _is_macos_metadata(name: str) -> bool:
    path = PurePosixPath(name)
    return path.parts[:1] == ("__MACOSX",) or path.name.startswith("._") or path.name == ".DS_Store"


def _is_unsafe_name(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return name.startswith(("/", "\\")) or ".." in path.parts or (len(name) > 1 and name[1] == ":")


# ---------------------------------------------------------------------------------------------------------
# Reading a zip archive (in memory) or a folder


def images_from_zip(data: bytes, size: int = 28) -> tuple[list[np.ndarray], list[str], LoadReport]:
    """Decode every usable image of a zip archive. Returns (RGB arrays, their folder names, report).

    Raises UserDataError when the archive as a whole must be refused."""
    if len(data) > max_total_bytes():
        raise UserDataError(f"The archive is {len(data) / 1e6:.0f} MB; at most {max_total_bytes() // 1_000_000} MB "
                            "are accepted.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise UserDataError("That file is not a zip archive that can be read.") from None
    if len(members) > MAX_ENTRIES:
        raise UserDataError(f"The archive lists {len(members):,} files; at most {MAX_ENTRIES:,} are accepted.")
    for member in members:
        if _is_unsafe_name(member.filename):
            raise UserDataError(f"The archive contains an unsafe file name ({member.filename[:80]!r}): archives "
                                "with absolute paths or '..' are refused.")
    declared = sum(m.file_size for m in members)
    if declared > max_total_bytes():
        raise UserDataError(f"The archive would unpack to {declared / 1e6:,.0f} MB; at most "
                            f"{max_total_bytes() // 1_000_000} MB are accepted.")
    for member in members:
        if member.file_size > MAX_RATIO * max(member.compress_size, 1) and member.file_size > 1_000_000:
            raise UserDataError(f"The archive looks like a zip bomb: {member.filename[:80]!r} expands "
                                f"{member.file_size // max(member.compress_size, 1):,} times.")
    images = [m for m in members if not m.is_dir() and not _is_macos_metadata(m.filename)
              and m.filename.lower().endswith(IMAGE_EXTENSIONS)]
    if len(images) > max_images():
        raise UserDataError(f"The archive holds {len(images):,} images; at most {max_images():,} are accepted.")

    report = LoadReport()
    for member in members:
        if member.is_dir():
            continue
        if _is_macos_metadata(member.filename):
            report.skip("macOS metadata files")
        elif not member.filename.lower().endswith(IMAGE_EXTENSIONS):
            report.skip("not a .png, .jpg or .jpeg file")
        elif member.flag_bits & 0x1:
            report.skip("encrypted")
        elif member.file_size > MAX_MEMBER_BYTES:
            report.skip(f"larger than {MAX_MEMBER_BYTES // 1_000_000} MB")
    arrays, folders, unpacked = [], [], 0
    for member in images:
        if member.flag_bits & 0x1 or member.file_size > MAX_MEMBER_BYTES:
            continue
        raw = _read_member(archive, member)  # raises UserDataError for a lying size
        if raw is None:
            report.skip("damaged in the archive")
            continue
        unpacked += len(raw)
        if unpacked > max_total_bytes():
            raise UserDataError(f"The archive unpacks to more than {max_total_bytes() // 1_000_000} MB.")
        array = decode_image(raw, size, report)
        if array is not None:
            arrays.append(array)
            folders.append(str(PurePosixPath(member.filename).parent))
    report.loaded = len(arrays)
    return arrays, folders, report


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes | None:
    """A member's bytes, read in chunks and never more than it declared (a bomb can lie about its size)."""
    chunks, total = [], 0
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(1 << 20):
                total += len(chunk)
                if total > member.file_size:
                    raise UserDataError(f"The archive looks like a zip bomb: {member.filename[:80]!r} unpacks "
                                        "to more bytes than it declares.")
                chunks.append(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError,
            ValueError) as e:
        if isinstance(e, UserDataError):
            raise
        return None  # a CRC error, an unsupported compression method, a truncated archive
    return b"".join(chunks)


def images_from_folder(folder: str | Path, size: int = 28) -> tuple[list[np.ndarray], list[str], LoadReport]:
    """Decode every usable image under a folder (recursively; symbolic links to folders are not followed)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserDataError(f"'{folder}' is not a folder.")
    files = sorted(Path(root) / name for root, _, names in os.walk(folder) for name in names)
    candidates = [f for f in files if f.suffix.lower() in IMAGE_EXTENSIONS and not f.name.startswith("._")]
    if len(candidates) > max_images():
        raise UserDataError(f"The folder holds {len(candidates):,} images; at most {max_images():,} are accepted.")
    report = LoadReport()
    if len(files) > len(candidates):
        report.skipped["not a .png, .jpg or .jpeg file"] += len(files) - len(candidates)
    arrays, folders, total = [], [], 0
    for path in candidates:
        try:
            file_size = path.stat().st_size
        except OSError:
            report.skip("not readable")
            continue
        if file_size > MAX_MEMBER_BYTES:
            report.skip(f"larger than {MAX_MEMBER_BYTES // 1_000_000} MB")
            continue
        total += file_size
        if total > max_total_bytes():
            raise UserDataError(f"The folder's images add up to more than {max_total_bytes() // 1_000_000} MB.")
        array = decode_image(path.read_bytes(), size, report)
        if array is not None:
            arrays.append(array)
            folders.append(str(path.parent.relative_to(folder).as_posix()))
    report.loaded = len(arrays)
    return arrays, folders, report


# ---------------------------------------------------------------------------------------------------------
# From arrays to a registered dataset


def to_tensor(arrays: list[np.ndarray], channels: int | None) -> torch.Tensor:
    """RGB uint8 arrays -> (N, C, H, W) float in [0, 1]. channels None: 1 if every image is grey, else 3."""
    stacked = np.stack(arrays)  # (N, H, W, 3)
    if channels is None:  # grey when the three channels agree (JPEG noise allowed)
        spread = stacked.max(axis=3).astype(np.int16) - stacked.min(axis=3)  # (N, H, W)
        channels = 1 if spread.max() <= 8 else 3
    images = torch.from_numpy(stacked).permute(0, 3, 1, 2).float().div_(255)  # (N, 3, H, W)
    if channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)  # ITU-R 601 luma, as Pillow's "L"
        images = (images * weights).sum(1, keepdim=True)  # (N, 1, H, W)
    return images.clamp_(0, 1)


def class_labels(folders: list[str]) -> tuple[torch.Tensor, list[str]]:
    """Folder of each image -> label. The archive's common top folder is ignored; one folder: one class."""
    parts = [PurePosixPath(f).parts if f not in ("", ".") else () for f in folders]
    common = 0
    while parts and all(len(p) > common for p in parts) and len({p[common] for p in parts}) == 1:
        common += 1
    names = [p[common] if len(p) > common else "(top level)" for p in parts]
    class_names = sorted(set(names))
    if len(class_names) > 100:  # not class folders after all
        return torch.zeros(len(names), dtype=torch.long), ["images"]
    index = {name: i for i, name in enumerate(class_names)}
    return torch.tensor([index[n] for n in names], dtype=torch.long), class_names


def register_images(arrays: list[np.ndarray], folders: list[str], report: LoadReport, name: str, title: str,
                    source: str, channels: int | None, seed: int = 0, owner: str | None = None) -> UserImages:
    """Split into train/test (a seeded tenth held out), register as dataset `name`, return the summary."""
    if len(arrays) < 2:
        summary = report.summary()
        raise UserDataError(f"At least 2 usable PNG or JPEG images are needed, but {summary[0].lower()}{summary[1:]}")
    images = to_tensor(arrays, channels)  # (N, C, S, S)
    labels, class_names = class_labels(folders)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    n_test = max(1, int(len(images) * TEST_FRACTION))
    parts = {"test": order[:n_test], "train": order[n_test:]}
    splits = {split: ImageDataset(name=name, split=split, images=images[idx], labels=labels[idx],
                                  class_names=class_names, source=f"{source} ({len(idx)} images held as {split})")
              for split, idx in parts.items()}
    shape = tuple(images.shape[1:])
    register_dataset(DatasetSpec(
        name=name, title=title,
        description=f"{len(images):,} of your images, {shape[1]}x{shape[2]} "
                    f"{'grayscale' if shape[0] == 1 else 'colour'}; {n_test} held out for testing.",
        class_names=tuple(class_names), load=lambda split, _dir: splits[split],
        how_to_get="Upload the zip again on the Train page: uploaded images last until the server restarts.",
        image_shape=shape, owner=owner,
    ))
    return UserImages(dataset_name=name, title=title, image_shape=shape, class_names=class_names, report=report,
                      preview=images[order[:32]])


_uploads: dict[str, UserImages] = {}  # name -> result, oldest first


def register_zip(data: bytes, filename: str = "images.zip", size: int = 28, channels: int | None = None,
                 owner: str | None = None) -> UserImages:
    """An uploaded zip becomes dataset 'upload-<hash>'. The same bytes, settings and owner reuse the registration
    (owner: the student it is listed for; None lists it for everyone)."""
    if size not in SIZES:
        raise UserDataError(f"Images can be resized to {' or '.join(map(str, SIZES))} pixels, not {size}.")
    digest = hashlib.sha256(data + f"|{size}|{channels}|{owner}".encode()).hexdigest()[:10]
    name = f"upload-{digest}"
    if name in _uploads and name in DATASETS:
        return _uploads[name]
    arrays, folders, report = images_from_zip(data, size)
    stem = Path(filename).stem[:40] or "images"
    result = register_images(arrays, folders, report, name, title=f"Your images: {stem} ({len(arrays):,})",
                             source=f"uploaded archive {Path(filename).name[:60]}", channels=channels,
                             owner=owner)
    _uploads[name] = result
    while len(_uploads) > MAX_UPLOADED_DATASETS:  # a shared classroom server must not keep every upload
        oldest = next(iter(_uploads))
        unregister_dataset(oldest)
        del _uploads[oldest]
    return result


def share_upload(name: str) -> None:
    """List a student's uploaded images for everyone (the teacher's 'share')."""
    if name in DATASETS:
        DATASETS[name] = dataclasses.replace(DATASETS[name], owner=None)


def register_folder(folder: str | Path, size: int = 28, channels: int | None = None) -> UserImages:
    """A folder of images (CLI: --images-folder) becomes dataset 'folder-<name>'."""
    if size not in SIZES:
        raise UserDataError(f"Images can be resized to {' or '.join(map(str, SIZES))} pixels, not {size}.")
    folder = Path(folder).resolve()
    arrays, folders, report = images_from_folder(folder, size)
    name = "folder-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in folder.name)[:40]
    return register_images(arrays, folders, report, name, title=f"Your images: {folder.name} ({len(arrays):,})",
                           source=f"folder {folder}", channels=channels)
