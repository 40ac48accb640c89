"""Server-drawn line charts: round ticks, short labels, one legend entry per name, bad values skipped."""
import numpy as np
import pytest
from PIL import Image

from genlab.line_chart import Panel, Series, line_chart, nice_ticks, tick_label


@pytest.mark.parametrize("low, high, expected", [(0, 419, [0, 200, 400]), (-0.3, 12.7, [0, 5, 10]),
                                                 (250, 551, [300, 400, 500]), (0.12, 0.19, [0.12, 0.14, 0.16, 0.18])])
def test_nice_ticks_are_round_and_inside_the_range(low, high, expected):
    assert nice_ticks(low, high) == pytest.approx(expected)


def test_a_flat_or_broken_range_still_gets_ticks_or_none():
    assert len(nice_ticks(5, 5)) >= 2
    assert nice_ticks(float("nan"), 1) == []


def test_tick_labels_use_as_many_decimals_as_the_step():
    assert tick_label(0.14, 0.02) == "0.14" and tick_label(400, 200) == "400" and tick_label(20000, 5000) == "20k"


def curve(name: str, colour: str = "#1f77b4", **kwargs) -> Series:
    x = np.arange(100.0)
    return Series(name, x, 300 * np.exp(-x / 30) + 250, colour, **kwargs)


def test_panels_side_by_side_with_a_legend_only_when_asked():
    alone = line_chart([Panel("loss", [curve("loss", in_legend=False)])], width=400, height=200)
    assert alone.size == (400, 200) and alone.mode == "RGB"
    together = line_chart([Panel("D and G", [curve("D loss"), curve("G loss", "#d62728")]),
                           Panel("D(x)", [curve("D(x)", in_legend=False)])], width=400, height=200)
    assert together.size == (400, 222)  # a legend line under the panels
    pixels = np.asarray(together).reshape(-1, 3).astype(int)
    red = ((pixels[:, 0] > 180) & (pixels[:, 1] < 90) & (pixels[:, 2] < 90)).sum()
    assert red > 50  # the G curve and its legend sample are drawn in their colour


def test_nan_and_inf_values_are_skipped_not_drawn():
    x = np.arange(5.0)
    broken = Series("loss", x, np.array([1.0, np.nan, np.inf, 2.0, 3.0]))
    picture = line_chart([Panel("loss", [broken]), Panel("empty", [Series("none", x[:0], x[:0])])], width=300)
    assert isinstance(picture, Image.Image)


def test_a_title_wider_than_its_panel_is_cut_short_and_a_short_one_is_kept():
    from PIL import ImageDraw

    from genlab.line_chart import _font, fitted
    draw, font = ImageDraw.Draw(Image.new("RGB", (10, 10))), _font(12)
    long = "G's adversarial term vs Round trip |x - back(there(x))| (L1, [-1, 1])"
    short = fitted(draw, long, font, 300)
    assert short.endswith("...") and long.startswith(short[:-3]) and draw.textlength(short, font=font) <= 300
    assert fitted(draw, "loss", font, 300) == "loss"
