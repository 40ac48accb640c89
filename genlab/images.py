"""Turning tensors into pictures (PNG, grids, GIF) and user files into tensors, safely.

A user's upload is checked before anything else touches it: it must be an image Pillow can read, not too
many pixels, and it is converted to the model's input (grayscale 28x28 in [0, 1]) here and nowhere else.
"""
from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 20_000_000  # 20 MB
MAX_UPLOAD_PIXELS = 40_000_000  # about 40 megapixels: larger images are refused before decoding


class ImageInputError(ValueError):
    """A file that cannot be used as an input image; the message is one sentence for the page."""


def to_pil(image: torch.Tensor, scale: int = 1) -> Image.Image:
    """(C, H, W) or (H, W) in [0, 1] -> PIL image, enlarged `scale` times with sharp pixels."""
    image = image.detach().float().cpu().clamp(0, 1)
    if image.ndim == 3 and image.shape[0] == 1:
        image = image[0]
    array = (image.numpy() * 255).round().astype(np.uint8)
    if array.ndim == 3:  # (C, H, W) -> (H, W, C)
        array = array.transpose(1, 2, 0)
    pil = Image.fromarray(array)
    return pil.resize((pil.width * scale, pil.height * scale), Image.NEAREST) if scale > 1 else pil


def png_bytes(image: Image.Image) -> bytes:
    """PNG, compressed quickly (zlib level 1): a 64-image sample grid takes about a third of the default level's
    time, for a file about a fifth larger. Every PNG the app makes uses it, the live ones (sample grids, loss
    curves, redrawn every second or so) among them; they travel over a local network."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    """JPEG, for pictures of smooth colours redrawn several times a second (the GAN playground's plane): it
    encodes several times faster than PNG, and smaller."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def grid(images: torch.Tensor, nrow: int, scale: int = 1, padding: int = 1) -> Image.Image:
    """(N, C, H, W) in [0, 1] -> one PIL image with `nrow` images per row, thin grey lines between."""
    import torchvision  # here: importing it takes a second, and most pictures need no grid

    tiled = torchvision.utils.make_grid(images.detach().float().cpu(), nrow=nrow, padding=padding, pad_value=0.5)
    return to_pil(tiled, scale)  # make_grid returns (3, H', W'); to_pil keeps the three equal channels


def gif_bytes(frames: torch.Tensor, scale: int = 4, ms_per_frame: int = 120, bounce: bool = True) -> bytes:
    """(N, C, H, W) frames in [0, 1] -> an animated GIF that loops (and plays back again when `bounce`)."""
    pictures = [to_pil(frame, scale).convert("P") for frame in frames]
    if bounce and len(pictures) > 2:
        pictures = pictures + pictures[-2:0:-1]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=ms_per_frame, loop=0)
    return buffer.getvalue()


def read_user_image(data: bytes, size: int = 28, invert_light_background: bool = True) -> torch.Tensor:
    """Bytes of an uploaded picture -> (1, size, size) grayscale in [0, 1], or ImageInputError.

    MNIST-like data is light on dark; a photo or scan with a light background is inverted to match."""
    if not data:
        raise ImageInputError("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageInputError(f"The file is {len(data) / 1e6:.0f} MB; images up to {MAX_UPLOAD_BYTES // 1_000_000} MB "
                              "are accepted.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > MAX_UPLOAD_PIXELS:
                raise ImageInputError(f"The image is {width}x{height} pixels; at most "
                                      f"{MAX_UPLOAD_PIXELS // 1_000_000} megapixels are accepted.")
            probe.seek(0)  # an animated GIF: use its first frame
            picture = probe.convert("L")
    except ImageInputError:
        raise
    except Image.DecompressionBombError:  # Pillow refuses it before we can read its size
        raise ImageInputError(f"The image has far more pixels than the {MAX_UPLOAD_PIXELS // 1_000_000} "
                              "megapixels accepted.") from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise ImageInputError("That file is not an image that can be read (try a PNG or JPEG).") from None
    picture = ImageOps.pad(picture, (max(picture.size),) * 2, color=_border_colour(picture))  # square, not stretched
    picture = picture.resize((size, size), Image.LANCZOS)
    array = np.asarray(picture, dtype=np.float32) / 255  # (size, size)
    if invert_light_background and _border_colour(picture) > 127:
        array = 1 - array
    return torch.from_numpy(array.copy()).unsqueeze(0)  # (1, size, size)


def _border_colour(picture: Image.Image) -> int:
    """The median grey level of the outermost pixels: the background of a typical drawing or photo."""
    array = np.asarray(picture)
    border = np.concatenate([array[0], array[-1], array[:, 0], array[:, -1]])
    return int(np.median(border))
