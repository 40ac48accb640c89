import io

import pytest
import torch
from PIL import Image

from genlab.images import ImageInputError, gif_bytes, grid, read_user_image


def png(image: Image.Image, fmt="PNG", **kw) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kw)
    return buffer.getvalue()


def test_a_dark_digit_on_white_paper_becomes_light_on_dark():
    picture = Image.new("L", (200, 200), 255)
    picture.paste(0, (80, 20, 120, 180))  # a black vertical stroke: a "1"
    x = read_user_image(png(picture))
    assert x.shape == (1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert x[0, 14, 14] > 0.9 and x[0, 2, 2] < 0.1


def test_colour_and_non_square_images_are_padded_not_stretched():
    x = read_user_image(png(Image.new("RGB", (300, 100), (10, 10, 10))))
    assert x.shape == (1, 28, 28)


@pytest.mark.parametrize("data", [b"", b"hello, I am text", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50])
def test_non_images_get_one_sentence(data):
    with pytest.raises(ImageInputError) as e:
        read_user_image(data)
    assert "\n" not in str(e.value)


def test_a_huge_image_is_refused_before_decoding():
    with pytest.raises(ImageInputError, match="megapixels"):
        read_user_image(png(Image.new("L", (8000, 6500))))


def test_an_animated_gif_uses_its_first_frame():
    frames = [Image.new("L", (28, 28), v) for v in (0, 255)]
    data = png(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert read_user_image(data, invert_light_background=False).max() < 0.1


def test_grid_and_gif_encode():
    images = torch.rand(6, 1, 28, 28)
    assert grid(images, nrow=3, scale=2).size == (2 * (3 * 29 + 1), 2 * (2 * 29 + 1))
    assert gif_bytes(images)[:6] == b"GIF89a"
