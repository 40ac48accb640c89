"""Small line charts drawn as pictures on the server (NumPy and Pillow; no plotly, no streamlit).

The Train page shows its loss curves again every 1.5 s while a model trains. As a plotly figure, each redraw
cost headless Chromium about 0.3 of a CPU core on its own, taken from the training thread on a 2-core laptop
(benchmarks/watch_overhead.py). A picture costs the browser one image decode. The server draws it mostly in
Pillow's C code, in a few milliseconds, so it hardly holds the GIL that the training thread also needs
(matplotlib would spend a hundred milliseconds in Python per redraw). Axes get "nice" ticks (1, 2 or 5 times
a power of ten) and a title; a legend lists the curves that asked for one.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SUPERSAMPLE = 2  # draw at twice the size, then halve: smooth lines
TEXT, AXIS, GRID = (60, 60, 60), (150, 150, 150), (232, 232, 232)


@dataclass
class Series:
    """One curve: x and y of the same length, a colour, and whether to mark its points (a sparse curve)."""
    name: str
    x: np.ndarray
    y: np.ndarray
    colour: str = "#1f77b4"
    markers: bool = False
    in_legend: bool = True


@dataclass
class Panel:
    title: str
    series: list[Series] = field(default_factory=list)


def nice_ticks(low: float, high: float, most: int = 5) -> list[float]:
    """At most about `most` round values (1, 2 or 5 times a power of ten) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(1, most - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    return [round(first + i * step, 12) for i in range(int((high - first) / step + 1e-9) + 1)]


def tick_label(value: float, step: float) -> str:
    """Few digits: as many decimals as the tick step needs, thousands as 'k'."""
    if abs(value) >= 10_000 and step >= 1000:
        return f"{value / 1000:g}k"
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0
    return f"{value:.{decimals}f}"


ASCII = str.maketrans({"β": "beta ", "·": "*", "−": "-", "‖": "||", "₂": "2", "₁": "1"})


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont:
    """DejaVu Sans (Debian's fonts-dejavu-core, which scripts/setup.sh installs) has the Greek letters and maths
    signs of the labels; without it, Pillow's own font and ASCII spellings (see _text)."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size * SUPERSAMPLE)
    except OSError:
        return ImageFont.load_default(size=size * SUPERSAMPLE)


def _text(text: str, font: ImageFont.ImageFont) -> str:
    return text if "DejaVu" in str(getattr(font, "path", "")) else text.translate(ASCII)


def fitted(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont, width: float) -> str:
    """The text, cut short with "..." where it is wider than `width` pixels (the legend still names every curve)."""
    if draw.textlength(text, font=font) <= width:
        return text
    while len(text) > 1 and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "..."


def _draw_panel(draw: ImageDraw.ImageDraw, panel: Panel, box: tuple[int, int, int, int], x_label: str) -> None:
    """One panel inside box = (left, top, right, bottom) of the (supersampled) picture."""
    s = SUPERSAMPLE
    left, top, right, bottom = box
    small, title_font = _font(11), _font(12)
    title = fitted(draw, _text(panel.title, title_font), title_font, right - left - 8 * s)  # never over its neighbour
    draw.text(((left + right) / 2, top), title, fill=TEXT, font=title_font, anchor="ma")
    area = (left + 46 * s, top + 22 * s, right - 8 * s, bottom - 34 * s)  # the plotting area
    xs = np.concatenate([np.asarray(sr.x, dtype=float) for sr in panel.series] or [np.zeros(0)])
    ys = np.concatenate([np.asarray(sr.y, dtype=float) for sr in panel.series] or [np.zeros(0)])
    xs, ys = xs[np.isfinite(xs)], ys[np.isfinite(ys)]
    if not xs.size or not ys.size:
        return
    x_ticks, y_ticks = nice_ticks(min(xs), max(xs), 5), nice_ticks(min(ys), max(ys), 5)
    x_low, x_high = min(x_ticks[0], min(xs)), max(x_ticks[-1], max(xs))
    y_low, y_high = min(y_ticks[0], min(ys)), max(y_ticks[-1], max(ys))
    x_high, y_high = (x_high if x_high > x_low else x_low + 1), (y_high if y_high > y_low else y_low + 1)

    def to_pixels(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        px = area[0] + (x - x_low) / (x_high - x_low) * (area[2] - area[0])
        py = area[3] - (y - y_low) / (y_high - y_low) * (area[3] - area[1])
        return np.stack([px, py], axis=1)

    for value in y_ticks:  # horizontal grid lines with their labels
        y = to_pixels(np.array([x_low]), np.array([value]))[0, 1]
        draw.line([(area[0], y), (area[2], y)], fill=GRID, width=s)
        label = tick_label(value, y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0)
        draw.text((area[0] - 5 * s, y), label, fill=TEXT, font=small, anchor="rm")
    for value in x_ticks:
        x = to_pixels(np.array([value]), np.array([y_low]))[0, 0]
        draw.line([(x, area[3]), (x, area[3] + 4 * s)], fill=AXIS, width=s)
        label = tick_label(value, x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else 1.0)
        draw.text((x, area[3] + 6 * s), label, fill=TEXT, font=small, anchor="ma")
    draw.text(((area[0] + area[2]) / 2, bottom), x_label, fill=TEXT, font=small, anchor="md")
    draw.line([(area[0], area[3]), (area[2], area[3])], fill=AXIS, width=s)
    for series in panel.series:
        x, y = np.asarray(series.x, dtype=float), np.asarray(series.y, dtype=float)
        keep = np.isfinite(x) & np.isfinite(y)
        points = [tuple(p) for p in to_pixels(x[keep], y[keep])]
        if len(points) > 1:
            draw.line(points, fill=series.colour, width=(1 if series.markers else 2) * s, joint="curve")
        if series.markers or len(points) == 1:
            r = 2.5 * s
            for px, py in points:
                draw.ellipse((px - r, py - r, px + r, py + r), fill=series.colour)


def line_chart(panels: list[Panel], width: int = 900, height: int = 250, x_label: str = "step") -> Image.Image:
    """Panels side by side, each with its own axes, and one legend line under them."""
    s = SUPERSAMPLE
    legend = [sr for panel in panels for sr in panel.series if sr.in_legend]
    legend = list({sr.name: sr for sr in legend}.values())  # one entry per name
    legend_height = 22 if legend else 0
    picture = Image.new("RGB", (width * s, (height + legend_height) * s), "white")
    draw = ImageDraw.Draw(picture)
    panel_width = width * s / max(1, len(panels))
    for index, panel in enumerate(panels):
        left = int(index * panel_width)
        _draw_panel(draw, panel, (left, 4 * s, int(left + panel_width), height * s), x_label)
    x, y, font = 10 * s, (height + 4) * s, _font(11)
    for series in legend:  # a short sample of each curve, then its name
        draw.line([(x, y + 7 * s), (x + 22 * s, y + 7 * s)], fill=series.colour, width=2 * s)
        if series.markers:
            draw.ellipse((x + 8 * s, y + 4 * s, x + 14 * s, y + 10 * s), fill=series.colour)
        name = _text(series.name, font)
        draw.text((x + 28 * s, y + 7 * s), name, fill=TEXT, font=font, anchor="lm")
        x += 28 * s + draw.textlength(name, font=font) + 24 * s
    return picture.reduce(s)
