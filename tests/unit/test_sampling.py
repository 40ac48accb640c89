import pytest
import torch

from genlab.models.autoregressive.pixelcnn import PixelCNN, PixelCNNConfig
from genlab.models.autoregressive.sampling import (complete, draw_pixel, fast_sample, guided_logits, hide_mask,
                                                   log_likelihoods, naive_sample, pixel_log_likelihoods)

SIZE = 8
VARIANTS = ["gated", "plain"]
OUTPUTS = ["softmax", "bernoulli", "logistic"]


def model_for(variant="gated", output="softmax", num_classes=3, class_maps=0) -> PixelCNN:
    torch.manual_seed(0)
    model = PixelCNN(PixelCNNConfig(variant=variant, output=output, channels=8, layers=3, head_channels=8,
                                    image_size=SIZE, num_classes=num_classes, class_maps=class_maps)).eval()
    if num_classes:
        for module in model.modules():  # make the label matter: untrained embeddings are small
            if isinstance(module, torch.nn.Embedding):
                torch.nn.init.normal_(module.weight, std=1.5)
    if class_maps:  # class pictures start blank; give each class a different one
        torch.nn.init.normal_(model.class_pictures, std=1.5)
    return model


def masks() -> dict[str, torch.Tensor]:
    rectangle = torch.ones(SIZE, SIZE, dtype=torch.bool)
    rectangle[3:5, 2:6] = False  # a hole with known pixels after it, in the same rows and below
    per_image = torch.ones(4, 1, SIZE, SIZE, dtype=torch.bool)
    per_image[0, 0, 5:] = False
    per_image[1, 0, :, 6:] = False
    per_image[3, 0, 6, 1] = False
    return {"nothing known": torch.zeros(SIZE, SIZE, dtype=torch.bool),
            "bottom half": hide_mask("bottom half", SIZE), "right half": hide_mask("right half", SIZE),
            "rectangle": rectangle, "one per image": per_image}


CASES = [("gated", "softmax", name) for name in masks()] + [
    (variant, output, "rectangle") for variant in VARIANTS for output in OUTPUTS
    if (variant, output) != ("gated", "softmax")]


@pytest.mark.parametrize("variant, output, mask_name", CASES)
def test_fast_logits_equal_naive_logits_and_images_agree(variant, output, mask_name):
    model = model_for(variant, output)
    known = masks()[mask_name]
    partial = torch.rand(1, 1, SIZE, SIZE)
    kwargs = dict(partial=partial, known=known, label=torch.tensor([0, 1, 2, 3]), generator=5, keep_logits=True)
    naive, fast = naive_sample(model, 4, **kwargs), fast_sample(model, 4, **kwargs)
    drawn = ~torch.isnan(naive.logits)
    assert torch.equal(drawn, ~torch.isnan(fast.logits)) and drawn.any()
    assert torch.allclose(naive.logits[drawn], fast.logits[drawn], atol=1e-5, rtol=1e-5)
    agree = (naive.images == fast.images).float().mean().item()
    assert agree >= 0.999


@pytest.mark.parametrize("output", OUTPUTS)
def test_fast_logits_equal_naive_logits_with_class_pictures(output):
    model = model_for("gated", output, class_maps=2)
    kwargs = dict(partial=torch.rand(1, 1, SIZE, SIZE), known=masks()["rectangle"],
                  label=torch.tensor([0, 1, 2, 3]), generator=5, keep_logits=True)
    naive, fast = naive_sample(model, 4, **kwargs), fast_sample(model, 4, **kwargs)
    drawn = ~torch.isnan(naive.logits)
    assert torch.equal(drawn, ~torch.isnan(fast.logits)) and drawn.any()
    assert torch.allclose(naive.logits[drawn], fast.logits[drawn], atol=1e-5, rtol=1e-5)
    guided = dict(label=torch.tensor([0, 1, 2, 0]), generator=3, keep_logits=True, guidance=2.0)
    assert torch.allclose(naive_sample(model, 4, **guided).logits, fast_sample(model, 4, **guided).logits, atol=1e-4)


def test_seeded_images_agree_on_a_larger_batch():
    model = model_for("gated", "softmax", num_classes=0)
    naive, fast = naive_sample(model, 24, generator=11), fast_sample(model, 24, generator=11)
    assert (naive.images == fast.images).float().mean().item() >= 0.999
    assert not torch.equal(fast.images[0], fast.images[1])  # the batch holds different images


@pytest.mark.parametrize("sampler", [naive_sample, fast_sample])
@pytest.mark.parametrize("output", OUTPUTS)
def test_logits_seen_while_sampling_equal_one_pass_over_the_finished_image(sampler, output):
    """Pixel i was drawn from p(x_i | x_<i); the earlier pixels never change again, so one teacher-forced pass
    over the finished image gives the same conditionals."""
    model = model_for("gated", output)
    result = sampler(model, 3, label=1, generator=2, keep_logits=True, temperature=0.7)
    with torch.inference_mode():
        full = model.logits(result.images, 1)
    assert torch.allclose(result.logits, full, atol=1e-5)


@pytest.mark.parametrize("sampler", [naive_sample, fast_sample])
@pytest.mark.parametrize("output", OUTPUTS)
def test_completion_never_changes_known_pixels(sampler, output):
    model = model_for("gated", output)
    partial = model.quantize(torch.rand(1, 1, SIZE, SIZE))  # already on the model's grey levels
    for name, known in masks().items():
        result = sampler(model, 4, partial=partial, known=known, generator=0)
        keep = known.expand(4, 1, SIZE, SIZE) if known.ndim == 2 else known
        assert torch.equal(result.images[keep], partial.expand(4, -1, -1, -1)[keep]), name
    # an image with other grey levels keeps its known pixels as the model sees them (quantized)
    raw = torch.rand(1, 1, SIZE, SIZE)
    known = hide_mask("bottom half", SIZE)
    result = sampler(model, 2, partial=raw, known=known, generator=0)
    assert torch.equal(result.images[:, 0, known], model.quantize(raw).expand(2, -1, -1, -1)[:, 0, known])


def test_temperature_is_plumbed_through():
    model = model_for("gated", "softmax", num_classes=0)
    hot = fast_sample(model, 4, generator=3, temperature=1.0, keep_logits=True)
    cold = fast_sample(model, 4, generator=3, temperature=1e-4, keep_logits=True)
    assert not torch.equal(hot.images, cold.images)
    # at a very low temperature every pixel is (one of) the most likely level(s) of its conditional
    drawn = (cold.images * 255).round().long()  # (N, 1, H, W)
    assert torch.all(cold.logits.max(1, keepdim=True).values - cold.logits.gather(1, drawn) < 1e-3)
    with pytest.raises(ValueError):
        fast_sample(model, 1, temperature=0)


@pytest.mark.parametrize("sampler", [naive_sample, fast_sample])
def test_labels_are_plumbed_through(sampler):
    model = model_for("gated", "softmax", num_classes=3)
    a = sampler(model, 3, label=0, generator=4, keep_logits=True)
    b = sampler(model, 3, label=2, generator=4, keep_logits=True)
    assert a.labels.tolist() == [0, 0, 0] and b.labels.tolist() == [2, 2, 2]
    assert not torch.equal(a.images, b.images)
    with torch.inference_mode():
        assert torch.allclose(b.logits, model.logits(b.images, 2), atol=1e-5)
    none = sampler(model, 3, generator=4)
    assert none.labels.tolist() == [3, 3, 3]  # no label: the class 'none', i.e. p(x)
    with pytest.raises(ValueError):
        sampler(model, 3, label=7)


def test_the_progress_callback_sees_every_pixel_in_raster_order():
    model = model_for("gated", "bernoulli", num_classes=0)
    known = hide_mask("bottom half", SIZE)
    calls = []

    def progress(done, total, images):
        calls.append((done, total, int((images[0, 0] != 0).sum())))

    fast_sample(model, 2, partial=torch.ones(1, 1, SIZE, SIZE), known=known, generator=0, progress=progress)
    to_draw = SIZE * SIZE // 2
    assert [c[0] for c in calls] == list(range(1, to_draw + 1)) and {c[1] for c in calls} == {to_draw}


def test_same_seed_same_images_and_generators_work():
    model = model_for("plain", "softmax", num_classes=0)
    first = fast_sample(model, 2, generator=9).images
    again = fast_sample(model, 2, generator=torch.Generator().manual_seed(9)).images
    assert torch.equal(first, again)
    assert not torch.equal(first, fast_sample(model, 2, generator=10).images)


def test_draw_pixel_inverts_the_cdf():
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.25]]))
    assert [draw_pixel(logits, torch.tensor([u]), 1.0, 3).item() for u in (0.1, 0.6, 0.9)] == [0.0, 0.5, 1.0]
    assert draw_pixel(torch.tensor([[0.0]]), torch.tensor([0.4]), 1.0, 2).item() == 1.0  # p(white) = 0.5 > 0.4


def test_likelihood_maps_and_ranked_completions():
    model = model_for("gated", "softmax", num_classes=3)
    images = torch.rand(3, 1, SIZE, SIZE)
    per_pixel = pixel_log_likelihoods(model, images, 1)  # (3, H, W)
    assert per_pixel.shape == (3, SIZE, SIZE) and (per_pixel <= 0).all()
    assert torch.allclose(per_pixel.sum((1, 2)), log_likelihoods(model, images, 1), rtol=1e-5)
    known = hide_mask("bottom half", SIZE)
    image = model.quantize(torch.rand(1, SIZE, SIZE))
    result = complete(model, image, known, 6, temperature=0.9, label=2, generator=1)
    assert result.images.shape == (6, 1, SIZE, SIZE)
    assert torch.all(result.log_likelihoods[:-1] >= result.log_likelihoods[1:])  # most likely first
    assert torch.allclose(result.log_likelihoods, log_likelihoods(model, result.images, 2), rtol=1e-5)
    assert torch.equal(result.images[:, 0, known], image.expand(6, -1, -1)[:, known])


def test_hide_masks():
    assert hide_mask("bottom half", 28)[:14].all() and not hide_mask("bottom half", 28)[14:].any()
    assert hide_mask("right half", 28)[:, :14].all() and not hide_mask("right half", 28)[:, 14:].any()
    rectangle = hide_mask("rectangle", 28, rows=(5, 10), cols=(3, 20))
    assert not rectangle[5:10, 3:20].any() and rectangle.sum() == 28 * 28 - 5 * 17
    with pytest.raises(ValueError):
        hide_mask("circle", 28)


def test_the_class_posterior_of_a_visible_prefix_is_bayes_rule_on_the_models_likelihoods():
    from genlab.models.autoregressive.sampling import class_posterior, guess_labels, visible_prefix

    known = hide_mask("bottom half", 8)
    prefix = visible_prefix(known)
    assert prefix[:4].all() and not prefix[4:].any()
    rectangle = hide_mask("rectangle", 8, rows=(2, 4), cols=(3, 5))
    assert visible_prefix(rectangle).sum() == 2 * 8 + 3  # the known pixels before the first hidden one
    torch.manual_seed(0)
    model = PixelCNN(PixelCNNConfig.tiny(output="bernoulli", num_classes=3)).eval()
    x = (torch.rand(2, 1, 8, 8) > 0.5).float()
    posterior = class_posterior(model, x, known)
    with torch.inference_mode():
        log_p = torch.stack([(model.pixel_log_probs(x, y)[:, :4]).sum((1, 2)) for y in range(3)], 1)
    assert torch.allclose(posterior, torch.softmax(log_p, 1), atol=1e-5)
    labels = guess_labels(model, x, known, generator=0)
    assert labels.shape == (2,) and torch.equal(labels, guess_labels(model, x, known, generator=0))


# -- classifier-free guidance ----------------------------------------------------------------------------


def test_guided_logits_are_the_conditional_times_the_class_likelihood_ratio_to_the_power_w():
    """softmax(l_u + (1 + w)(l_c - l_u)) ∝ p_c (p_c / p_u)^w, for a softmax and a Bernoulli pixel alike."""
    torch.manual_seed(0)
    cond, uncond, w = torch.randn(3, 256), torch.randn(3, 256), 1.5
    p_c, p_u = cond.softmax(1), uncond.softmax(1)
    expected = p_c * (p_c / p_u) ** w
    assert torch.allclose(guided_logits(cond, uncond, w).softmax(1), expected / expected.sum(1, keepdim=True),
                          atol=1e-5)
    cond, uncond = torch.randn(3, 1), torch.randn(3, 1)
    q_c, q_u = torch.sigmoid(cond), torch.sigmoid(uncond)
    white, black = q_c * (q_c / q_u) ** w, (1 - q_c) * ((1 - q_c) / (1 - q_u)) ** w
    assert torch.allclose(torch.sigmoid(guided_logits(cond, uncond, w)), white / (white + black), atol=1e-5)
    assert torch.equal(guided_logits(cond, uncond, 0.0), cond)


@pytest.mark.parametrize("output", OUTPUTS)
def test_guided_sampling_fast_equals_naive_and_moves_towards_the_class(output):
    model = model_for("gated", output)
    kwargs = dict(label=torch.tensor([0, 1, 2, 0]), generator=3, keep_logits=True)
    naive, fast = naive_sample(model, 4, guidance=2.0, **kwargs), fast_sample(model, 4, guidance=2.0, **kwargs)
    assert torch.allclose(naive.logits, fast.logits, atol=1e-4)
    assert (naive.images == fast.images).float().mean().item() >= 0.999
    # the kept logits are guided: l_u + 3 (l_c - l_u) over the finished image, pixel by pixel
    with torch.inference_mode():
        cond = model.logits(fast.images, kwargs["label"])
        uncond = model.logits(fast.images, None)
    assert torch.allclose(fast.logits, guided_logits(cond, uncond, 2.0), atol=1e-4)
    # guidance 0 is the plain sampler; a negative weight is refused in one sentence
    assert torch.equal(fast_sample(model, 4, guidance=0.0, **kwargs).images, fast_sample(model, 4, **kwargs).images)
    with pytest.raises(ValueError, match="guidance weight"):
        fast_sample(model, 2, guidance=-1.0, label=0)


def test_guidance_on_an_unconditional_model_changes_nothing():
    model = model_for("gated", "softmax", num_classes=0)
    assert torch.equal(fast_sample(model, 3, generator=1, guidance=3.0).images,
                       fast_sample(model, 3, generator=1).images)
