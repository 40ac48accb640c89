"""Unpaired translation: the domain sets, CycleGAN's and StarGAN's pieces, and the measurements of a translation."""
import math

import pytest
import torch
from torch import nn

from genlab import data
from genlab.data import DIGIT_STYLES, dataset_available, draw_in_style, draw_shapes, load_dataset, sample_shape_factors
from genlab.evaluation.translation import image_moments, shape_content_kept, translation_figures
from genlab.models.cyclegan import CycleGAN, CycleGANConfig
from genlab.models.stargan import StarGAN, StarGANConfig

needs_digits = pytest.mark.skipif(not dataset_available("digits"), reason="../shared/data/mnist is not beside "
                                                                             "the project")


def a_stroke() -> torch.Tensor:
    """A 3-pixel-wide vertical bar (1, 1, 28, 28): a stroke of a digit."""
    x = torch.zeros(1, 1, 28, 28)
    x[..., 6:22, 12:15] = 1.0
    return x


def test_each_style_changes_the_stroke_as_its_name_says():
    x = a_stroke()
    thick, thin, slanted = (draw_in_style(x, torch.tensor([DIGIT_STYLES.index(s)])) for s in
                            ("thick", "thin", "slanted"))
    assert torch.equal(draw_in_style(x, torch.tensor([0])), x)  # plain is the digit itself
    assert thick.sum() > x.sum() > thin.sum() > 0  # thicker strokes have more ink, thinner less, none vanish
    assert thin[0, 0, 14].nonzero().flatten().tolist() == [13]  # the 3-pixel stroke keeps its middle pixel
    top, bottom = (image_moments(slanted[..., rows, :])[0, 0] for rows in (slice(0, 14), slice(14, 28)))
    assert top > bottom + 1  # a shear to the right: the top moves right of the bottom


@needs_digits
def test_digit_styles_are_unpaired_domains_that_carry_the_digit_and_repeat_under_their_seed():
    first = data._load_digit_styles("train", None)
    again = data._load_digit_styles("train", None)
    digits = load_dataset("digits", "train")
    assert torch.equal(first.images, again.images) and torch.equal(first.labels, again.labels)
    assert first.class_names == list(DIGIT_STYLES) and first.factor_names == ["digit"]
    assert torch.equal(first.factors[:, 0].long(), digits.labels)  # the content: each image's digit
    assert set(first.labels.tolist()) == {0, 1, 2, 3} and len(first) == len(digits)  # one style per digit
    test = load_dataset("digit-styles", "test")
    assert not torch.equal(test.labels[:50], first.labels[:50])  # another seed for the test split


def test_image_moments_find_the_known_position_and_scale_of_shapes():
    factors = sample_shape_factors(300, seed=3)  # (300, 5) shape, scale, rotation, x, y
    images = draw_shapes(factors)
    found = image_moments(images)
    assert (found[:, 0] - factors[:, 3]).abs().max() < 0.3 and (found[:, 1] - factors[:, 4]).abs().max() < 0.3
    assert ((found[:, 2] / factors[:, 1]) - 1).abs().max() < 0.05
    names = ["shape", "scale", "rotation", "x", "y"]
    assert shape_content_kept(images, factors, names).all()
    moved = torch.roll(images, shifts=3, dims=3)  # 3 pixels to the right: position lost
    assert not shape_content_kept(moved, factors, names).any()


def test_the_cycle_loss_is_zero_for_identity_generators():
    model = CycleGAN(CycleGANConfig.tiny())
    model.g_ab, model.g_ba = nn.Identity(), nn.Identity()
    a, b = torch.rand(4, 1, 28, 28), torch.rand(5, 1, 28, 28)
    assert model.cycle_loss(a, b, model.g_ab(a), model.g_ba(b)).item() == 0.0
    other = CycleGAN(CycleGANConfig.tiny())  # untrained generators do not come back
    assert other.cycle_loss(a, b, other.g_ab(a), other.g_ba(b)).item() > 0.1


def test_cyclegan_translates_only_between_its_two_domains_and_says_so():
    model = CycleGAN(CycleGANConfig.tiny(source=0, target=2))
    x = torch.rand(3, 1, 28, 28)
    assert model.translate(x, 2).shape == x.shape and model.translate(x, 0).shape == x.shape
    with pytest.raises(ValueError, match="between domains 0 and 2"):
        model.translate(x, 1)
    with pytest.raises(ValueError, match="no image of domain 2"):
        model.train_step(x, torch.zeros(3, dtype=torch.long), model.make_optimizers())
    with pytest.raises(ValueError, match="two different domains"):
        CycleGANConfig(source=1, target=1)


def test_without_the_cycle_loss_the_generators_do_not_learn_from_the_round_trip():
    torch.manual_seed(0)
    model = CycleGAN(CycleGANConfig.tiny(cycle_weight=0.0))
    x, y = torch.rand(8, 1, 28, 28), torch.tensor([0, 1] * 4)
    losses = model.train_step(x, y, model.make_optimizers())
    assert losses["cycle"] > 0 and math.isclose(losses["loss_g"], losses["adversarial"], rel_tol=1e-6)


def test_stargan_sent_to_the_source_domain_returns_nearly_the_input_after_training_on_a_tiny_set():
    torch.manual_seed(0)
    x = torch.zeros(16, 1, 28, 28)  # two domains: bars standing up (0) and lying down (1), at several places
    for i in range(8):
        x[i, 0, 6:22, 4 + 2 * i:7 + 2 * i] = 1.0
        x[8 + i, 0, 4 + 2 * i:7 + 2 * i, 6:22] = 1.0
    y = torch.tensor([0] * 8 + [1] * 8)
    model = StarGAN(StarGANConfig(num_domains=2, width=8, res_blocks=1))
    optimizers = model.make_optimizers(1e-3)
    before = (model.translate(x, y) - x).abs().mean().item()
    for _ in range(300):
        model.train_step(x, y, optimizers)
    after = (model.translate(x, y) - x).abs().mean().item()  # G(x, its own domain) against x
    across = (model.translate(x, 1 - y) - x).abs().mean().item()  # G(x, the other domain): a real change
    assert after < 0.02 < before and across > 3 * after, (before, after, across)


def test_stargan_lets_the_discriminator_learn_d_steps_times_per_generator_step():
    torch.manual_seed(0)
    model = StarGAN(StarGANConfig.tiny(d_steps=3))
    optimizers = model.make_optimizers()
    model.train_step(torch.rand(6, 1, 28, 28), torch.tensor([0, 1, 2] * 2), optimizers)
    steps = {name: next(iter(o.state.values()))["step"].item() for name, o in optimizers.items()}
    assert steps == {"discriminator": 3, "generator": 1}
    with pytest.raises(ValueError, match="d_steps must be between 1 and 10"):
        StarGANConfig.tiny(d_steps=0)


class AnyCircle:
    """A translator that draws one circle, always the same: in the target domain, with the content lost."""

    def translate(self, x, target):
        return draw_shapes(torch.tensor([[float(target), 5.0, 0.0, 14.0, 14.0]]).expand(len(x), 5))


def always_reads(domain: int):
    """A stand-in domain classifier that reads every image as `domain` (logits (N, 3))."""
    return lambda images: nn.functional.one_hot(torch.full((len(images),), domain), 3).float()


def test_translation_figures_tell_a_kept_content_from_a_lost_one():
    shapes = load_dataset("shapes", "test")
    lost = translation_figures(AnyCircle(), shapes, source=0, target=1, domain_classifier=always_reads(1), n=60)
    assert lost["n"] == 60 and lost["domain_accuracy"] == 1.0
    assert lost["content_kept"] < 0.2 and lost["content_kept_source"] == 1.0  # the inputs keep their own factors
    assert lost["round_trip"] > 0.05
    wrong = translation_figures(AnyCircle(), shapes, 0, 1, domain_classifier=always_reads(2), n=60)
    assert wrong["domain_accuracy"] == 0.0
