"""The playground's plane as a picture: size, where things land, the heat map's colours, a JPEG that decodes."""
import io

import numpy as np
import torch
from PIL import Image

from genlab.images import jpeg_bytes
from genlab.playground import canvas as toy_canvas
from genlab.playground.data import PLANE, toy_dataset
from genlab.playground.gan import ToyGAN, ToyGANConfig


def gan() -> ToyGAN:
    return ToyGAN(toy_dataset("ring"), ToyGANConfig.tiny())


def test_the_colour_key_runs_red_white_blue():
    lut = toy_canvas.d_colours()  # (256, 3)
    red, middle, blue = lut[0].astype(int), lut[128].astype(int), lut[255].astype(int)
    assert red[0] > red[2] and blue[2] > blue[0]  # D = 0 reddish ("fake"), D = 1 bluish ("real")
    assert middle.min() > 245  # D = 1/2: white


def test_plane_pixels_put_the_origin_in_the_middle_and_y_up():
    plane = toy_canvas.Plane(100)
    corners = plane.pixels(torch.tensor([[0.0, 0.0], [-PLANE, PLANE], [PLANE, -PLANE]]))
    assert np.allclose(corners, [[50, 50], [0, 0], [100, 100]])


def test_heat_map_top_rows_are_large_y():
    probs = torch.zeros(8, 8)
    probs[-1] = 1.0  # the last row of the grid is the largest y
    picture = np.asarray(toy_canvas.heat_map(probs, 64)).astype(int)  # (64, 64, 3)
    top, bottom = picture[1, 32], picture[-2, 32]
    assert top[2] > top[0] and bottom[0] > bottom[2]  # blue at the top ("real"), red at the bottom


def test_plane_picture_shows_the_real_and_the_generated_points():
    run = gan()
    picture = toy_canvas.plane_picture(run, heatmap=False, manifold=False, size=200)
    assert picture.size == (200, 200) and picture.mode == "RGB"
    pixels = np.asarray(picture).astype(int).reshape(-1, 3)
    dark = (pixels.max(axis=1) < 60).sum()  # real points are near black
    orange = ((pixels[:, 0] > 200) & (pixels[:, 1] > 90) & (pixels[:, 1] < 170) & (pixels[:, 2] < 80)).sum()
    assert dark > 50 and orange > 50


def test_drawing_does_not_change_training_and_the_frame_is_a_jpeg():
    run, twin = gan(), gan()
    frame = jpeg_bytes(toy_canvas.with_key(toy_canvas.plane_picture(run, arrows=True, size=160)))
    run.train(3)
    twin.train(3)
    assert run.history[-1] == twin.history[-1]  # drawing (arrows included) left the training run alone
    picture = Image.open(io.BytesIO(frame))
    assert picture.format == "JPEG" and picture.width == 160 and picture.height > 160  # plane plus the key
