"""One test over every registered model kind: the protocol of genlab/models/base.py, kept by all of them.

A new model family gets these checks by registering its kind; nothing here names a kind.
"""
import math

import pytest
import torch

from genlab.checkpoints import save_checkpoint
from genlab.data import ImageDataset
from genlab.models import AUTOREGRESSIVE, KINDS, NO_LIKELIHOOD, SAMPLES
from genlab.models.autoregressive.sampling import fast_sample, hide_mask, naive_sample
from genlab.models.base import evaluate_model
from genlab.models.loading import load_checkpoint

KIND_NAMES = sorted(KINDS)


def tiny_model(kind):
    torch.manual_seed(0)
    return kind.build(kind.config_cls.tiny())


def batch(model, n: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Binary images of the model's shape (every model's data range) and labels 0..2."""
    c = model.config
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, c.image_channels, c.image_size, c.image_size, generator=g) > 0.5).float()  # (n, C, H, W)
    return x, torch.randint(0, 3, (n,), generator=g)


@pytest.mark.parametrize("name", KIND_NAMES)
def test_a_training_step_gives_finite_losses_and_changes_the_weights(name):
    kind = KINDS[name]
    model = tiny_model(kind).train()
    before = [p.detach().clone() for p in model.parameters()]
    losses = model.train_step(*batch(model), model.make_optimizers())
    assert losses and all(math.isfinite(v) for v in losses.values()), losses
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert set(losses) & set(kind.loss_labels), "the Train page has no title for any loss the step reports"


@pytest.mark.parametrize("name", [n for n in KIND_NAMES if KINDS[n].can(SAMPLES)])
def test_sampling_with_a_seed_twice_gives_the_same_images_in_the_unit_range(name):
    model = tiny_model(KINDS[name]).eval()
    c = model.config
    with torch.inference_mode():
        first, second = model.sample(3, 7), model.sample(3, 7)
    assert first.shape == (3, c.image_channels, c.image_size, c.image_size)
    assert torch.equal(first, second)
    assert first.min() >= 0 and first.max() <= 1


@pytest.mark.parametrize("name", KIND_NAMES)
def test_a_checkpoint_round_trip_gives_the_same_model(name, tmp_path):
    kind = KINDS[name]
    model = tiny_model(kind).train()
    optimizers = model.make_optimizers()
    model.train_step(*batch(model), optimizers)
    path = save_checkpoint(tmp_path / "m.safetensors", model, name, {"dataset": "test"}, optimizers=optimizers)
    loaded = load_checkpoint(path, expect_kind=name)
    assert loaded.model.config == model.config
    for (key, a), (_, b) in zip(model.state_dict().items(), loaded.model.state_dict().items()):
        assert torch.equal(a, b), key
    assert loaded.restore_optimizers(loaded.model.make_optimizers())


@pytest.mark.parametrize("name", [n for n in KIND_NAMES if KINDS[n].likelihood != NO_LIKELIHOOD])
def test_kinds_with_a_likelihood_evaluate_it_in_nats_per_image(name):
    kind = KINDS[name]
    model = tiny_model(kind)
    x, y = batch(model, n=10)
    metrics = evaluate_model(model, ImageDataset("test", "test", x, y, ["a", "b", "c"], "random"))
    value = metrics[kind.likelihood_metric]
    assert math.isfinite(value) and value > 0  # -log p(x) of binary images is positive
    assert kind.data_discretisation(model.config)  # and the kind says on which data it is measured


# -- autoregressive kinds: the ordering and the samplers -------------------------------------------------
AUTOREGRESSIVE_NAMES = [n for n in KIND_NAMES if KINDS[n].can(AUTOREGRESSIVE)]


@pytest.mark.parametrize("name", AUTOREGRESSIVE_NAMES)
def test_no_conditional_sees_its_own_pixel_or_a_later_one(name):
    """Causality by perturbation: changing pixels i, i+1, ... never changes the logits of pixel i."""
    model = tiny_model(KINDS[name]).eval()
    x, _ = batch(model, n=2)
    size = model.config.image_size
    g = torch.Generator().manual_seed(1)
    with torch.inference_mode():
        base = model.logits(x)  # (N, K, H, W)
        for i in range(0, size * size, max(1, size * size // 7)):
            changed = x.clone().view(2, -1)
            changed[:, i:] = (torch.rand(2, size * size - i, generator=g) > 0.5).float()  # pixels >= i
            after = model.logits(changed.view_as(x))
            row, col = divmod(i, size)
            assert torch.allclose(base[:, :, row, col], after[:, :, row, col], atol=1e-5), (name, i)
            flat_before, flat_after = base.flatten(2)[:, :, :i], after.flatten(2)[:, :, :i]
            assert torch.allclose(flat_before, flat_after, atol=1e-5), (name, i)  # and every earlier pixel


@pytest.mark.parametrize("name", AUTOREGRESSIVE_NAMES)
def test_the_fast_sampler_gives_the_naive_samplers_logits_and_images(name):
    model = tiny_model(KINDS[name]).eval()
    naive = naive_sample(model, 3, generator=5, keep_logits=True)
    fast = fast_sample(model, 3, generator=5, keep_logits=True)
    assert torch.allclose(naive.logits, fast.logits, atol=1e-4)
    assert torch.equal(naive.images, fast.images)


@pytest.mark.parametrize("name", AUTOREGRESSIVE_NAMES)
def test_completion_keeps_the_known_pixels(name):
    model = tiny_model(KINDS[name]).eval()
    x, _ = batch(model, n=2)
    known = hide_mask("bottom half", model.config.image_size)
    done = fast_sample(model, partial=x, known=known, generator=3).images
    assert torch.equal(done[:, :, known], model.quantize(x)[:, :, known])
