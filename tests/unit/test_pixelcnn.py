import itertools
import math

import pytest
import torch

from genlab.checkpoints import save_checkpoint
from genlab.models import get_kind
from genlab.models.autoregressive.masks import causal_mask
from genlab.models.autoregressive.pixelcnn import PixelCNN, PixelCNNConfig
from genlab.models.autoregressive.receptive_field import receptive_field
from genlab.models.loading import load_checkpoint

VARIANTS = ["gated", "plain"]
OUTPUTS = ["softmax", "bernoulli", "logistic"]


def tiny(variant="gated", output="softmax", **overrides) -> PixelCNN:
    torch.manual_seed(0)
    return PixelCNN(PixelCNNConfig.tiny(variant=variant, output=output, **overrides)).eval()


def raster_after(row: int, col: int, size: int) -> torch.Tensor:
    """(size, size) bool: the pixel (row, col) and every pixel after it in raster order."""
    later = torch.zeros(size * size, dtype=torch.bool)
    later[row * size + col:] = True
    return later.view(size, size)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("output", OUTPUTS)
def test_outputs_depend_only_on_earlier_pixels_by_gradient(variant, output):
    model = tiny(variant, output, num_classes=3)
    size = model.config.image_size
    for row, col in [(0, 0), (0, 5), (3, 0), (4, 4), (7, 7)]:
        x = torch.rand(2, 1, size, size, requires_grad=True)
        logits = model.logits(x, torch.tensor([1, 2]))  # (2, K, H, W)
        (grad,) = torch.autograd.grad(logits[:, :, row, col].sum(), x)
        assert grad[:, 0][:, raster_after(row, col, size)].abs().max() == 0, (row, col)
        if (row, col) != (0, 0):
            assert grad.abs().sum() > 0  # and it does look at the past


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("output", OUTPUTS)
def test_changing_later_pixels_leaves_earlier_outputs_unchanged(variant, output):
    model = tiny(variant, output)
    size = model.config.image_size
    x = torch.rand(3, 1, size, size)
    with torch.inference_mode():
        before = model.logits(x)
        for i in [0, 9, 27, 63]:
            row, col = divmod(i, size)
            changed = x.clone()
            changed[:, 0][:, raster_after(row, col, size)] = torch.rand(3, size * size - i)
            after = model.logits(changed)
            flat_before, flat_after = before.flatten(2), after.flatten(2)  # (N, K, H*W)
            assert torch.equal(flat_before[:, :, :i + 1], flat_after[:, :, :i + 1])
            if i < size * size - 1:
                assert not torch.equal(flat_before[:, :, i + 1:], flat_after[:, :, i + 1:])


def test_the_gated_variant_has_no_blind_spot_and_the_plain_one_has():
    """With enough layers to reach the image border, the gated PixelCNN sees every earlier pixel; stacked 3x3
    masked convolutions miss a wedge above and to the right (van den Oord et al. 2016b, figure 1)."""
    size = 10
    row, col = 6, 3
    earlier = ~raster_after(row, col, size)
    gated = PixelCNN(PixelCNNConfig(variant="gated", channels=8, layers=6, head_channels=8, image_size=size))
    seen = receptive_field(gated, row, col)  # (H, W) bool
    assert torch.equal(seen, earlier)
    plain = PixelCNN(PixelCNNConfig(variant="plain", channels=8, layers=6, head_channels=8, image_size=size))
    seen_plain = receptive_field(plain, row, col)
    assert not (seen_plain & ~earlier).any()  # causal
    assert seen_plain[row - 1, col + 1] and not seen_plain[row - 2, col + 5]  # the blind spot, up and right
    assert (earlier & ~seen_plain).sum() > 0


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_likelihood_is_a_normalised_distribution_over_all_images(variant):
    """Exact likelihood: summing p(x) over all 2^(2*2) binary 2x2 images gives 1."""
    model = PixelCNN(PixelCNNConfig(variant=variant, output="bernoulli", channels=4, layers=1, head_channels=4,
                                    image_size=2, num_classes=2))
    images = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4))).view(16, 1, 2, 2)
    with torch.inference_mode():
        for label in (None, 0, 1):
            total = model.log_prob(images, label).exp().sum()
            assert total.item() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("output", OUTPUTS)
def test_output_types_shapes_and_values(output):
    model = tiny("gated", output)
    x = torch.rand(4, 1, 8, 8)
    with torch.inference_mode():
        logits = model.logits(model.quantize(x))
        per_pixel = model.pixel_log_probs(x)
    assert logits.shape == (4, 1 if output == "bernoulli" else 256, 8, 8)
    assert per_pixel.shape == (4, 8, 8) and (per_pixel <= 0).all()
    images = model.sample(3, 0)
    assert images.shape == (3, 1, 8, 8) and images.min() >= 0 and images.max() <= 1
    levels = images * (model.config.levels - 1)
    assert torch.allclose(levels, levels.round(), atol=1e-5)  # only the model's grey levels
    if output == "bernoulli":
        assert set(images.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("output", OUTPUTS)
def test_nll_is_finite_and_falls_over_a_few_steps_on_a_fixed_batch(variant, output):
    torch.manual_seed(0)
    model = PixelCNN(PixelCNNConfig.tiny(variant=variant, output=output, num_classes=2)).train()
    optimizers = model.make_optimizers(3e-3)
    x = torch.rand(16, 1, 8, 8)
    x[:, :, :4] = 0  # something to learn
    y = torch.randint(0, 2, (16,))
    first = model.evaluate(x, y)["nll"]
    losses = [model.train_step(x, y, optimizers)["loss"] for _ in range(15)]
    last = model.evaluate(x, y)["nll"]
    assert all(math.isfinite(v) for v in losses + [first, last])
    assert last < first
    assert losses[-1] < losses[0]


def test_evaluate_sums_the_exact_nll_of_the_batch():
    model = tiny("gated", "softmax", num_classes=3)
    x, y = torch.rand(5, 1, 8, 8), torch.randint(0, 3, (5,))
    with torch.inference_mode():
        expected = -model.pixel_log_probs(x).sum().item()
    assert model.evaluate(x, y)["nll"] == pytest.approx(expected, rel=1e-5)
    # an untrained softmax model is close to uniform over 256 levels: about 64 * log(256) nats
    assert expected / 5 == pytest.approx(64 * math.log(256), rel=0.2)


def test_class_labels_change_the_conditionals_and_bad_labels_are_refused():
    model = tiny("gated", "softmax", num_classes=3)
    for layer in model.gated:  # an untrained embedding is random already; make the effect large
        torch.nn.init.normal_(layer.label.weight, std=2.0)
    x = torch.rand(2, 1, 8, 8)
    with torch.inference_mode():
        a, b, none = model.logits(x, 0), model.logits(x, 2), model.logits(x)
        assert torch.equal(none, model.logits(x, 3))  # no label is the extra class 'none'
    assert not torch.allclose(a, b) and not torch.allclose(a, none)
    with pytest.raises(ValueError):
        model.logits(x, 4)
    with pytest.raises(ValueError):
        model.logits(x, torch.tensor([0, 1, 2]))


def test_class_pictures_start_blank_and_differ_by_position_once_learned():
    blank = tiny("gated", "softmax", num_classes=3, class_maps=2)
    plain = tiny("gated", "softmax", num_classes=3)
    plain.load_state_dict(blank.state_dict(), strict=False)  # the same weights, without the pictures
    x = torch.rand(2, 1, 8, 8)
    with torch.inference_mode():
        assert torch.equal(blank.logits(x, 1), plain.logits(x, 1))  # a blank picture changes nothing
        torch.nn.init.normal_(blank.class_pictures, std=2.0)
        bias = blank.gated[1].label_bias(torch.tensor([1, 2]), blank.pictures_of(torch.tensor([1, 2])))
    assert bias.shape == (2, 16, 8, 8) and not torch.allclose(bias[:, :, 0, 0], bias[:, :, 5, 3])
    assert not torch.allclose(bias[0], bias[1])  # and by class


def test_class_pictures_keep_the_ordering():
    model = tiny("gated", "logistic", num_classes=3, class_maps=2)
    torch.nn.init.normal_(model.class_pictures, std=2.0)
    x = torch.rand(2, 1, 8, 8, requires_grad=True)
    for row, col in [(0, 0), (3, 4), (7, 7)]:
        (grad,) = torch.autograd.grad(model.logits(x, torch.tensor([0, 2]))[:, :, row, col].sum(), x)
        assert grad[:, 0][:, raster_after(row, col, 8)].abs().max() == 0, (row, col)


def test_seeded_sampling_repeats():
    model = tiny()
    assert torch.equal(model.sample(3, 7), model.sample(3, 7))
    assert not torch.equal(model.sample(3, 7), model.sample(3, 8))


def test_masks_are_causal_pictures():
    a, b = causal_mask(5, "A"), causal_mask(5, "B")
    assert a.shape == b.shape == (5, 5)
    assert a[2, 2] == 0 and b[2, 2] == 1 and a[2, :2].all() and not a[2, 3:].any() and not b[3:].any()
    assert a[:2].all() and b.sum() == a.sum() + 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_checkpoint_round_trip(tmp_path, variant):
    model = tiny(variant, "bernoulli", num_classes=10)
    path = save_checkpoint(tmp_path / "p.safetensors", model, "pixelcnn", {"dataset": "digits"}, half=True)
    loaded = load_checkpoint(path, expect_kind="pixelcnn").model
    x = torch.rand(2, 1, 8, 8)
    with torch.inference_mode():
        assert torch.allclose(loaded.logits(x, 3), model.half().float().logits(x, 3), atol=1e-5)


@pytest.mark.parametrize("bad", [{"variant": "diagonal"}, {"output": "gaussian"}, {"kernel_size": 4},
                                 {"first_kernel_size": 1}, {"image_channels": 3}, {"num_classes": -1},
                                 {"label_dropout": 1.0}, {"channels": 0},
                                 {"class_maps": 2}, {"class_maps": 2, "num_classes": 10, "variant": "plain"},
                                 {"class_maps": -1, "num_classes": 10}])
def test_bad_configs_are_refused(bad):
    with pytest.raises(ValueError):
        PixelCNNConfig(**bad)


def test_registered_as_a_tractable_kind():
    kind = get_kind("pixelcnn")
    assert isinstance(kind.build(PixelCNNConfig.tiny()), PixelCNN)
    assert "tractable" in kind.family
