"""The bad-input corpus (issue 8): every kind of file a student might upload by mistake or on purpose, made by
code into tests/data/bad/ (never downloaded, never committed).

`write_corpus()` writes the files and returns them as BadFile records: the file, which uploader it is aimed
at ("checkpoint", "image" or "zip"), and a fragment of the one sentence a page should answer with. The files
are small (the largest is a few MB) and cheap to make, even the 50-megapixel PNG and the gigabyte zip bomb:
the PNG is 1-bit and all black, and the bomb repeats one DEFLATE block of a megabyte of zeros.
"""
from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
BAD_DIR = ROOT / "tests" / "data" / "bad"
MARKER_NAME = "PICKLE-RAN.txt"  # what the disguised pickle would write, next to itself, if it were ever unpickled
ESCAPED_NAME = "genlab-bad-corpus-escaped.png"  # what the hostile zip names try to write outside any folder


@dataclass(frozen=True)
class BadFile:
    path: Path
    target: str  # "checkpoint", "image" or "zip": which uploader it is aimed at
    expect: str  # a fragment of the sentence the validation should answer with

    @property
    def name(self) -> str:
        return self.path.name

    def read(self) -> bytes:
        return self.path.read_bytes()


class WritesAMarker:
    """Unpickling this runs code: it writes a marker file. A safe loader never gets that far."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('pwned')",)


# ---------------------------------------------------------------------------------------------------------
# Checkpoints


def tiny_vae_bytes(**card) -> bytes:
    """A real, valid genlab checkpoint of a tiny untrained VAE (a few kB)."""
    from dataclasses import asdict as config_to_dict

    from safetensors.torch import save

    from genlab.models.vae import VAE, VAEConfig
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny())
    full_card = {"kind": "vae", "config": config_to_dict(model.config), "dataset": "shapes", **card}
    return save(dict(model.state_dict()), metadata={"genlab": json.dumps(full_card)})


def _split(data: bytes) -> tuple[dict, bytes]:
    length = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + length]), data[8 + length:]


def _join(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # safetensors pads its header to 8 bytes with spaces
    return struct.pack("<Q", len(text)) + text + body


def checkpoint_files(folder: Path) -> list[BadFile]:
    from genlab.models.vae import VAE, VAEConfig
    good = tiny_vae_bytes()
    header, body = _split(good)
    torch.manual_seed(0)
    weights = VAE(VAEConfig.tiny()).state_dict()
    card = json.loads(header["__metadata__"]["genlab"])
    files = {}

    files["truncated.safetensors"] = (good[:len(good) // 2], "damaged")  # a download cut off half way
    files["header-cut.safetensors"] = (good[:100], "not a safetensors checkpoint")
    files["empty.safetensors"] = (b"", "not a safetensors checkpoint")
    files["oversized-header.safetensors"] = (struct.pack("<Q", 2 ** 62) + good[8:], "not a safetensors checkpoint")
    files["header-longer-than-file.safetensors"] = (struct.pack("<Q", len(good) + 4096) + good[8:],
                                                    "not a safetensors checkpoint")
    # The header is honest about names and shapes but claims 40 GB of data the file does not have.
    lying = json.loads(json.dumps(header))
    last = max((k for k in lying if k != "__metadata__"), key=lambda k: lying[k]["data_offsets"][1])
    lying[last]["data_offsets"][1] = 40 * 2 ** 30
    files["oversized-offsets.safetensors"] = (_join(lying, body), "damaged")
    # A header that claims one tensor of 10^10 numbers (and a file far too short for it).
    huge = {"__metadata__": header["__metadata__"],
            "encoder.0.weight": {"dtype": "F32", "shape": [100_000, 100_000], "data_offsets": [0, 4 * 10 ** 10]}}
    files["oversized-tensor.safetensors"] = (_join(huge, b"\0" * 64), "does not fit")

    from safetensors.torch import save
    files["no-card.safetensors"] = (save(dict(weights)), "no genlab model card")
    files["damaged-card.safetensors"] = (save(dict(weights), metadata={"genlab": "{not json"}), "damaged model card")
    files["card-without-kind.safetensors"] = (
        save(dict(weights), metadata={"genlab": json.dumps({"config": card["config"]})}), "without a model kind")
    files["unknown-kind.safetensors"] = (
        save(dict(weights), metadata={"genlab": json.dumps({**card, "kind": "diffusion"})}), "diffusion")
    files["config-mismatch.safetensors"] = (
        save(dict(weights), metadata={"genlab": json.dumps({**card, "config": {**card["config"], "latent_dim": 5}})}),
        "does not fit")
    files["invalid-config.safetensors"] = (
        save(dict(weights), metadata={"genlab": json.dumps({**card, "config": {**card["config"], "width": -1}})}),
        "cannot build")
    # Building this model for real would take about 25 GB: the card alone must not make the server try.
    files["huge-config.safetensors"] = (
        save(dict(weights),
             metadata={"genlab": json.dumps({**card, "config": {**card["config"], "hidden": 2_000_000}})}),
        "does not fit")
    nan = {k: (torch.full_like(v, float("nan")) if v.is_floating_point() else v) for k, v in weights.items()}
    files["nan-weights.safetensors"] = (save(nan, metadata={"genlab": json.dumps(card)}), "NaN or infinite")

    marker = folder / MARKER_NAME
    files["pickle.safetensors"] = (pickle.dumps({"weights": WritesAMarker(marker)}), "not a safetensors checkpoint")
    buffer = io.BytesIO()
    torch.save({"weights": WritesAMarker(marker)}, buffer)
    files["torch-save.safetensors"] = (buffer.getvalue(), "not a safetensors checkpoint")
    files["pickle.pt"] = (pickle.dumps(WritesAMarker(marker)), "Only .safetensors")
    return [_write(folder, name, data, "checkpoint", expect) for name, (data, expect) in files.items()]


# ---------------------------------------------------------------------------------------------------------
# Images


def _png(picture: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def image_files(folder: Path) -> list[BadFile]:
    rng = np.random.default_rng(0)
    real = _png(Image.fromarray(rng.integers(0, 256, (64, 64), dtype=np.uint8)))
    frames = [Image.new("L", (28, 28), v) for v in (0, 255, 128)]
    files = {
        "text.png": (b"These are my lecture notes, not a picture.\n" * 20, "not an image"),
        "random.jpg": (rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(), "not an image"),
        "jpeg-magic-then-garbage.jpg": (b"\xff\xd8\xff\xe0" + rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(),
                                        "not an image"),
        "truncated.png": (real[:len(real) // 2], "not an image"),
        "empty.png": (b"", "empty"),
        # 52 megapixels (more than the 40 accepted), 1 bit per pixel and all black: about 6 kB on disk.
        "huge-50mp.png": (_png(Image.new("1", (8000, 6500))), "megapixels"),
        # 400 megapixels: so large that Pillow itself calls it a decompression bomb.
        "huge-400mp.png": (_png(Image.new("1", (20000, 20000))), "megapixels"),
        # Accepted on purpose: its first frame is used (tests/unit/test_images.py); it must not crash or loop.
        "animated.gif": (_png(frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0), ""),
    }
    return [_write(folder, name, data, "image", expect) for name, (data, expect) in files.items()]


# ---------------------------------------------------------------------------------------------------------
# Zip archives


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data)  # the name exactly as given
    return buffer.getvalue()


def deflate_zeros(megabytes: int) -> tuple[bytes, int]:
    """A raw DEFLATE stream of `megabytes` MB of zeros, and its CRC-32, without compressing them all: after a
    full flush the compressor starts afresh, so every megabyte compresses to the same block, repeated."""
    zeros = bytes(2 ** 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH) == block
    tail = compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    return block * megabytes + tail, crc


def raw_zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip written by hand: (name, deflated data, CRC-32, declared size, true size is not checked here)."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, data, crc, size, _ in entries:
        encoded = name.encode()
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0))
        out.write(encoded + data)
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                                  len(encoded), 0, 0, 0, 0, 0, offset))
        central.write(encoded)
    directory = central.getvalue()
    start = out.tell()
    out.write(directory)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), start, 0))
    return out.getvalue()


def zip_files(folder: Path) -> list[BadFile]:
    rng = np.random.default_rng(1)
    pictures = [_png(Image.fromarray(rng.integers(0, 256, (30, 30), dtype=np.uint8))) for _ in range(3)]
    gigabyte, crc_gigabyte = deflate_zeros(1024)  # about 1 MB that expands to 1 GiB
    megabytes_150, crc_150 = deflate_zeros(150)
    files = {
        "dot-dot.zip": (_zip({"mine/a.png": pictures[0], "mine/b.png": pictures[1],
                              f"../../{ESCAPED_NAME}": pictures[2]}), "unsafe file name"),
        "absolute.zip": (_zip({"mine/a.png": pictures[0], "mine/b.png": pictures[1],
                               f"/tmp/{ESCAPED_NAME}": pictures[2]}), "unsafe file name"),
        "windows-drive.zip": (_zip({"mine/a.png": pictures[0], f"C:\\{ESCAPED_NAME}": pictures[2]}),
                              "unsafe file name"),
        # Four members of 1 GiB of zeros each, honestly declared: 4 GiB from a 4 MB file.
        "bomb-gigabytes.zip": (raw_zip([(f"zeros{i}.png", gigabyte, crc_gigabyte, 2 ** 30, 2 ** 30)
                                        for i in range(4)]), "would unpack to"),
        # Under the 200 MB total limit, but 150 MB of zeros from 150 kB: refused by its compression ratio.
        "bomb-ratio.zip": (raw_zip([("zeros.png", megabytes_150, crc_150, 150 * 2 ** 20, 150 * 2 ** 20)]),
                           "zip bomb"),
        # Declares 1 kB but its data expands to 1 GiB: never read past what it declares.
        "bomb-lying.zip": (raw_zip([("a.png", gigabyte, crc_gigabyte, 1000, 2 ** 30),
                                    ("b.png", gigabyte, crc_gigabyte, 1000, 2 ** 30)]), "At least 2 usable"),
        "huge-image.zip": (_zip({"big/huge.png": _png(Image.new("1", (8000, 6500))),
                                 "big/small.png": pictures[0]}), "At least 2 usable"),
        "not-images.zip": (_zip({"notes.txt": b"hello", "fake.png": b"not a picture", "anim.gif": b"GIF89a"}),
                           "At least 2 usable"),
        "text.zip": (b"This is a text file renamed to .zip.\n", "not a zip archive"),
        "truncated.zip": (_zip({"mine/a.png": pictures[0], "mine/b.png": pictures[1]})[:300], "not a zip archive"),
        "empty.zip": (b"", "not a zip archive"),
    }
    return [_write(folder, name, data, "zip", expect) for name, (data, expect) in files.items()]


# ---------------------------------------------------------------------------------------------------------


def _write(folder: Path, name: str, data: bytes, target: str, expect: str) -> BadFile:
    path = folder / name
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    return BadFile(path, target, expect)


_written: dict[Path, list[BadFile]] = {}


def write_corpus(folder: Path = BAD_DIR) -> list[BadFile]:
    """Write every corpus file into `folder` (once per test session) and return them."""
    folder = Path(folder)
    if folder not in _written:
        folder.mkdir(parents=True, exist_ok=True)
        _written[folder] = checkpoint_files(folder) + image_files(folder) + zip_files(folder)
    return _written[folder]


def corpus(target: str | None = None) -> list[BadFile]:
    """The corpus files (written on first use), optionally only those aimed at one uploader."""
    return [f for f in write_corpus() if target is None or f.target == target]
