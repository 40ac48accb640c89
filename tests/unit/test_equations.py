import json

import pytest
import torch

from genlab.explore.arithmetic import (GALLERY_SIZE, VARIATION_SCALE, Equation, EquationError, equation_latents,
                                       interpolation_frames, make_gallery, random_direction, render_equation,
                                       walk_latents)
from genlab.models.dcgan import DCGAN, DCGANConfig


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return DCGAN(DCGANConfig.tiny()).eval()


def test_arithmetic_on_known_vectors():
    latents = torch.tensor([[1.0, 0.0], [3.0, 0.0],  # A: mean (2, 0)
                            [0.0, 1.0],  # B: (0, 1)
                            [5.0, 5.0], [5.0, 7.0]])  # C: mean (5, 6)
    eq = equation_latents(latents, [[0, 1], [2], [3, 4]], variations=0)
    assert eq.result.tolist() == [7.0, 5.0]  # (2, 0) - (0, 1) + (5, 6)
    assert eq.group_means.tolist() == [[2.0, 0.0], [0.0, 1.0], [5.0, 6.0]]


def test_variations_stay_within_the_noise_scale_and_repeat():
    latents = torch.randn(GALLERY_SIZE, 16, generator=torch.Generator().manual_seed(0))
    groups = {"A": [0, 1, 2], "B": [3, 4, 5], "C": [6, 7, 8]}
    eq = equation_latents(latents, groups, variations=8, seed=3)
    assert eq.variations.shape == (8, 16)
    assert (eq.variations - eq.result).abs().max() <= VARIATION_SCALE
    assert torch.equal(eq.variations, equation_latents(latents, groups, variations=8, seed=3).variations)


@pytest.mark.parametrize("groups, words", [([[0], [], [1]], "Group B is empty"),
                                           ([[0], [1], [GALLERY_SIZE]], "Group C refers to image"),
                                           ([[0], [1]], "three groups")])
def test_bad_groups_get_one_sentence(groups, words):
    with pytest.raises(EquationError, match=words):
        equation_latents(torch.zeros(GALLERY_SIZE, 4), groups)


def test_gallery_is_the_models_own_seeded_samples(model):
    z, images = make_gallery(model, seed=7)
    assert z.shape == (GALLERY_SIZE, 8) and images.shape == (GALLERY_SIZE, 1, 28, 28)
    assert torch.equal(z, model.random_latents(GALLERY_SIZE, 7))
    assert torch.allclose(images, model.sample(GALLERY_SIZE, 7))
    assert not torch.equal(z, model.random_latents(GALLERY_SIZE, 8))


def test_render_equation_decodes_means_result_and_variations(model):
    z, _ = make_gallery(model, seed=1)
    out = render_equation(model, z, [[0, 1, 2], [3, 4, 5], [6, 7, 8]], variations=4)
    assert out.group_means.shape == (3, 1, 28, 28)
    assert out.result.shape == (1, 28, 28) and out.variations.shape == (4, 1, 28, 28)
    eq = equation_latents(z, [[0, 1, 2], [3, 4, 5], [6, 7, 8]], variations=4)
    assert torch.allclose(out.result, model.decode(eq.result[None])[0])


def test_interpolation_and_walk(model):
    z = model.random_latents(GALLERY_SIZE, 0)
    frames = interpolation_frames(model, z[0], z[1], 6, "slerp")
    assert frames.shape == (6, 1, 28, 28)
    assert torch.allclose(frames[0], model.decode(z[:1])[0], atol=1e-5)
    assert torch.allclose(frames[-1], model.decode(z[1:2])[0], atol=1e-5)
    direction = random_direction(8, 3)
    assert direction.norm().item() == pytest.approx(1.0)
    walk = walk_latents(z[0], direction, step=0.5, steps_each_side=2)
    assert walk.shape == (5, 8)
    assert torch.allclose(walk[2], z[0])
    assert torch.allclose(walk[4] - walk[3], 0.5 * direction)


def test_json_round_trip():
    eq = Equation(name="shoe - sandal + boot", seed=42, latent_dim=64, a=[1, 2, 3], b=[4], c=[5, 6])
    text = eq.to_json()
    assert json.loads(text)["genlab"] == "gan-equation"
    assert Equation.from_json(text) == eq
    assert Equation.from_json(text.encode()) == eq
    assert eq.file_name == "shoe_-_sandal___boot.json"


@pytest.mark.parametrize("data, words", [
    (b"\x89PNG not json", "not valid JSON"),
    ("[1, 2, 3]", "not a saved GAN equation"),
    ('{"genlab": "something-else", "seed": 1}', "not a saved GAN equation"),
    ('{"seed": 1, "latent_dim": 64, "a": [1], "b": [2]}', "lacks the field 'c'"),
    ('{"seed": -1, "latent_dim": 64, "a": [1], "b": [2], "c": [3]}', "seed must be"),
    ('{"seed": true, "latent_dim": 64, "a": [1], "b": [2], "c": [3]}', "seed must be"),
    ('{"seed": 1, "latent_dim": "64", "a": [1], "b": [2], "c": [3]}', "latent_dim must be"),
    ('{"seed": 1, "latent_dim": 64, "a": [1], "b": "2", "c": [3]}', "Group B must be a list"),
    ('{"seed": 1, "latent_dim": 64, "a": [1], "b": [2], "c": []}', "Group C is empty"),
    ('{"seed": 1, "latent_dim": 64, "a": [99], "b": [2], "c": [3]}', "refers to image #99"),
    ("x" * 200_000, "too large"),
])
def test_bad_json_is_refused_with_one_sentence(data, words):
    with pytest.raises(EquationError, match=words) as error:
        Equation.from_json(data)
    assert str(error.value).count(". ") == 0 and str(error.value).endswith(".")


def test_equation_checks_the_latent_size():
    eq = Equation(name="x", seed=1, latent_dim=64, a=[0], b=[1], c=[2])
    eq.check_fits(64)
    with pytest.raises(EquationError, match="64-dimensional"):
        eq.check_fits(100)
