"""The GAN playground's plane drawn as a picture on the server (NumPy and Pillow, no plotly, no streamlit).

While the playground plays, a frame is due several times a second. As a plotly figure, the plane made the
browser lay out and paint an SVG of about 1,500 elements on every frame, and the page reached under 2 frames per
second in headless Chromium on 2 cores. A JPEG of the same picture costs the browser one image decode, and the
server draws it in about 25 ms (benchmarks/playground_fps.py measures the page). Colours follow `toy_plots`:
D(x) from red ("fake", 0) through white (1/2) to blue ("real", 1); real points black, generated orange, G's
manifold brown, G's push purple.
"""
from __future__ import annotations

import functools

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from genlab.images import jpeg_bytes
from genlab.playground.data import PLANE
from genlab.playground.gan import ToyGAN
from genlab.playground.slow_motion import SlowMotion

SUPERSAMPLE = 2  # draw at twice the size, then halve: smooth edges without an anti-aliasing library
REAL, FAKE, LINES, PUSH, TRAIL = (17, 17, 17), (255, 127, 14), (150, 75, 0, 140), (91, 42, 134), (110, 110, 110, 170)
# D(x) = 0 -> red, 1/2 -> white, 1 -> blue; already lightened so the points on top stay readable.
_RED, _WHITE, _BLUE = np.array([236, 150, 140.0]), np.array([255, 255, 255.0]), np.array([130, 170, 220.0])


def d_colours() -> np.ndarray:
    """A 256-entry lookup table (256, 3) uint8 from D(x) in [0, 1] to the heat map's colour."""
    t = np.linspace(0, 1, 256)[:, None]  # (256, 1)
    low = _RED + (_WHITE - _RED) * np.clip(2 * t, 0, 1)  # 0 .. 1/2: red -> white
    high = _WHITE + (_BLUE - _WHITE) * np.clip(2 * t - 1, 0, 1)  # 1/2 .. 1: white -> blue
    return np.where(t < 0.5, low, high).round().astype(np.uint8)


_LUT = d_colours()


class Plane:
    """Pixel coordinates of the square [-PLANE, PLANE]^2 in an image of `size` pixels (y up, as on paper)."""

    def __init__(self, size: int):
        self.size = size

    def pixels(self, points: torch.Tensor) -> np.ndarray:
        """(n, 2) plane coordinates -> (n, 2) pixel coordinates (x right, y down)."""
        xy = points.detach().float().cpu().numpy()
        scale = self.size / (2 * PLANE)
        return np.stack([(xy[:, 0] + PLANE) * scale, (PLANE - xy[:, 1]) * scale], axis=1)


def heat_map(probs: torch.Tensor, size: int) -> Image.Image:
    """D(x) on a grid (R, R) whose rows go up in y -> an RGB picture (size, size), smoothly interpolated."""
    levels = (probs.flip(0).float().cpu().numpy() * 255).round().astype(np.uint8)  # (R, R), top row: largest y
    return Image.fromarray(_LUT[levels], "RGB").resize((size, size), Image.BILINEAR)  # colour, then enlarge


def _dots(draw: ImageDraw.ImageDraw, pixels: np.ndarray, radius: float, fill: tuple) -> None:
    for x, y in pixels:
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)


def _arrows(draw: ImageDraw.ImageDraw, starts: np.ndarray, ends: np.ndarray, width: int) -> None:
    """One line per row with a two-stroke head at its end."""
    for start, end in zip(starts, ends):
        draw.line([tuple(start), tuple(end)], fill=PUSH, width=width)
        direction = end - start
        length = np.hypot(*direction)
        if length < 1e-6:
            continue
        back = -direction / length * min(4.0 * width, 0.4 * length)  # head strokes: 40% of a short arrow
        for angle in (0.45, -0.45):
            c, s = np.cos(angle), np.sin(angle)
            tip = end + np.array([c * back[0] - s * back[1], s * back[0] + c * back[1]])
            draw.line([tuple(end), tuple(tip)], fill=PUSH, width=width)


def plane_picture(gan: ToyGAN, heatmap: bool = True, manifold: bool = True, arrows: bool = False,
                  size: int = 480, resolution: int = 48, points: int = 300) -> Image.Image:
    """Real and generated points, D(x) as a heat map, G's manifold as lines, optional gradient arrows."""
    if heatmap:
        picture, draw, plane = _background(gan.discriminator_map(resolution)[1], size)
    else:
        picture, draw, plane = _background(None, size)
    big = picture.width
    for tick in range(-int(PLANE), int(PLANE) + 1):  # faint lines every unit; darker axes through 0
        at = plane.pixels(torch.tensor([[tick, tick]], dtype=torch.float32))[0]
        shade = (0, 0, 0, 90 if tick == 0 else 30)
        draw.line([(at[0], 0), (at[0], big)], fill=shade, width=SUPERSAMPLE)
        draw.line([(0, at[1]), (big, at[1])], fill=shade, width=SUPERSAMPLE)
    if manifold:
        for curve in gan.manifold_lines():  # (M, 2) each
            draw.line([tuple(p) for p in plane.pixels(curve)], fill=LINES, width=SUPERSAMPLE, joint="curve")
    _dots(draw, plane.pixels(gan.display_real[:points]), 2.2 * SUPERSAMPLE, REAL)
    _dots(draw, plane.pixels(gan.fake_points(points)), 2.8 * SUPERSAMPLE, FAKE)
    if arrows:
        fake, direction = gan.fake_gradients(64)  # (n, 2) each
        longest = direction.norm(dim=1).max().clamp_min(1e-12)
        _arrows(draw, plane.pixels(fake), plane.pixels(fake + 0.6 * direction / longest), SUPERSAMPLE + 1)
    draw.rectangle((0, 0, big - 1, big - 1), outline=(120, 120, 120), width=SUPERSAMPLE)
    return picture.reduce(SUPERSAMPLE)


@functools.lru_cache(maxsize=4)
def colour_bar(width: int = 480, height: int = 34) -> Image.Image:
    """The heat map's key: a strip from D(x) = 0 to 1 with three labels under it. Drawn once per size, then
    reused (callers paste it and never change it)."""
    bar = Image.new("RGB", (width, height), "white")
    strip = _LUT[np.linspace(0, 255, width).round().astype(int)]  # (width, 3)
    bar.paste(Image.fromarray(np.repeat(strip[None], 12, axis=0), "RGB"), (0, 0))
    draw, font = ImageDraw.Draw(bar), ImageFont.load_default(size=12)
    labels = [("D(x) = 0: 'fake'", 0, "la"), ("1/2", width // 2, "ma"), ("1: 'real'", width - 1, "ra")]
    for text, x, anchor in labels:
        draw.text((x, 15), text, fill=(40, 40, 40), font=font, anchor=anchor)
    return bar


def with_key(picture: Image.Image) -> Image.Image:
    """The plane with the colour bar under it."""
    bar = colour_bar(picture.width)
    whole = Image.new("RGB", (picture.width, picture.height + bar.height + 4), "white")
    whole.paste(picture, (0, 0))
    whole.paste(bar, (0, picture.height + 4))
    return whole


def plane_frame(gan: ToyGAN, **options) -> tuple[bytes, int]:
    """What the page shows each frame: plane_picture(gan, **options) with its colour key, as JPEG bytes, and
    the picture's width in pixels."""
    return jpeg_frame(plane_picture(gan, **options))


def _background(probs: torch.Tensor | None, size: int) -> tuple[Image.Image, ImageDraw.ImageDraw, Plane]:
    """A heat map of probabilities on the plane grid (R, R) (white for None), supersampled, with its drawing
    context and pixel coordinates."""
    big = size * SUPERSAMPLE
    picture = heat_map(probs, big) if probs is not None else Image.new("RGB", (big, big), "white")
    return picture, ImageDraw.Draw(picture, "RGBA"), Plane(big)


def slow_motion_picture(slow: SlowMotion, size: int = 440, resolution: int = 48) -> Image.Image:
    """D(x) now, the batch's real points and fakes, G's push (sub-step 3) and where the fakes moved (4)."""
    picture, draw, plane = _background(slow.gan.discriminator_map(resolution)[1], size)
    if slow.real is not None:
        _dots(draw, plane.pixels(slow.real), 3 * SUPERSAMPLE, REAL)
        if slow.moved is not None:
            for start, end in zip(plane.pixels(slow.fake), plane.pixels(slow.moved)):
                draw.line([tuple(start), tuple(end)], fill=TRAIL, width=SUPERSAMPLE)
            _dots(draw, plane.pixels(slow.moved), 3.5 * SUPERSAMPLE, FAKE)
        else:
            _dots(draw, plane.pixels(slow.fake), 3.5 * SUPERSAMPLE, FAKE)
        if slow.push is not None and slow.moved is None:
            longest = slow.push.norm(dim=1).max().clamp_min(1e-12)
            _arrows(draw, plane.pixels(slow.fake), plane.pixels(slow.fake + 0.6 * slow.push / longest), SUPERSAMPLE + 1)
    return picture.reduce(SUPERSAMPLE)


def optimal_picture(gan: ToyGAN, size: int = 440, resolution: int = 48, points: int = 300) -> Image.Image:
    """D*(x) = p_data / (p_data + p_g) from density estimates, under the displayed real and generated points."""
    picture, draw, plane = _background(gan.optimal_discriminator_map(resolution)[1], size)
    _dots(draw, plane.pixels(gan.display_real[:points]), 2.2 * SUPERSAMPLE, REAL)
    _dots(draw, plane.pixels(gan.fake_points(points)), 2.8 * SUPERSAMPLE, FAKE)
    return picture.reduce(SUPERSAMPLE)


def jpeg_frame(picture: Image.Image) -> tuple[bytes, int]:
    """A picture with the colour key under it, as JPEG bytes, and its width in pixels."""
    whole = with_key(picture)
    return jpeg_bytes(whole), whole.width
