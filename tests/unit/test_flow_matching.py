"""Flow matching (genlab/models/diffusion/flow_matching.py): the forward process, the loss, the sampler and
classifier-free guidance, checked on tiny models."""
import pytest
import torch

from genlab.models import get_kind
from genlab.models.diffusion.denoiser import frozen_copy, update_average
from genlab.models.diffusion.flow_matching import FlowMatching, FlowMatchingConfig


def tiny(**overrides) -> FlowMatching:
    torch.manual_seed(0)
    return FlowMatching(FlowMatchingConfig.tiny(**overrides))


def test_the_forward_process_has_the_closed_form_mean_and_variance():
    """x_t | x ~ N((1 - t) x, t^2 I): measured over many noise draws for one image."""
    image = torch.rand(1, 1, 8, 8)  # in [0, 1]
    x = image * 2 - 1  # the model's scale
    t = 0.3
    noise = torch.randn(20000, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    x_t = (1 - t) * x + t * noise  # what forward_process computes before display scaling
    assert torch.allclose(x_t.mean(0), (1 - t) * x[0], atol=0.01)
    assert torch.allclose(x_t.var(0), torch.full_like(x[0], t * t), rtol=0.05)
    shown = FlowMatching.forward_process(image, t, noise[:1])  # the display version: the same point in [0, 1]
    assert torch.allclose(shown, ((x_t[:1] + 1) / 2).clamp(0, 1))
    assert torch.equal(FlowMatching.forward_process(image, 0.0, noise[:1]), image)  # t = 0: the image itself


def test_the_loss_falls_on_a_fixed_batch():
    model = tiny(num_classes=0).train()
    optimizers = model.make_optimizers(3e-3)
    x = (torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    y = torch.zeros(16, dtype=torch.long)
    g = torch.Generator().manual_seed(2)

    def fixed_loss():  # the same noise and times each time
        g.manual_seed(2)
        with torch.no_grad():
            return model.flow_matching_loss(model.net, x, y, g).mean().item()

    before = fixed_loss()
    for _ in range(60):
        model.train_step(x, y, optimizers)
    assert fixed_loss() < 0.8 * before


def test_seeded_sampling_is_deterministic_and_the_seed_matters():
    model = tiny().eval()
    a, b, c = model.sample(4, 3, steps=5), model.sample(4, 3, steps=5), model.sample(4, 4, steps=5)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_guidance_scale_0_samples_the_unconditional_model_and_1_the_conditional():
    model = tiny().eval()
    net = model._sampling_net()
    x, t = torch.randn(3, 1, 8, 8), torch.full((3,), 0.5)
    label = torch.tensor([0, 1, 2])
    none = torch.full_like(label, model.config.num_classes)
    with torch.inference_mode():
        assert torch.allclose(model.velocity(x, t, label, 0.0), net(x, t, none), atol=1e-6)
        assert torch.allclose(model.velocity(x, t, label, 1.0), net(x, t, label), atol=1e-6)
        two = model.velocity(x, t, label, 2.0)
        assert torch.allclose(two, 2 * net(x, t, label) - net(x, t, none), atol=1e-5)
    # so guidance 0 gives the same images for every class asked for: the class is ignored
    assert torch.equal(model.sample(3, 5, steps=4, label=0, guidance=0.0),
                       model.sample(3, 5, steps=4, label=2, guidance=0.0))


def test_the_trajectory_goes_from_noise_to_the_sample_with_a_guess_per_step():
    model = tiny().eval()
    run = model.trajectory(2, 7, steps=6, label=1, guidance=1.5)
    assert run.states.shape == (7, 2, 1, 8, 8) and run.guesses.shape == (6, 2, 1, 8, 8)
    assert run.times[0] == 1 and run.times[-1] == 0
    assert torch.equal(run.states[-1], model.sample(2, 7, steps=6, label=1, guidance=1.5))
    # at the last step (t = 1/steps) the guess is one straight jump, at a single step the sample itself
    one = model.trajectory(2, 7, steps=1, label=1, guidance=1.5)
    assert torch.allclose(one.guesses[0], one.states[-1])


def test_the_average_weights_follow_the_live_ones_and_are_not_parameters():
    live = torch.nn.Linear(3, 2)
    average = frozen_copy(live)
    assert list(average.parameters()) == [] and len(list(average.buffers())) == 2
    before = average.weight.clone()
    with torch.no_grad():
        live.weight.add_(1.0)
    update_average(average, live, decay=0.75)
    assert torch.allclose(average.weight, 0.75 * before + 0.25 * live.weight)


def test_parameters_count_the_trained_network_only():
    model = tiny()
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in model.net.parameters())


@pytest.mark.parametrize("bad", [dict(width=6), dict(num_classes=-1), dict(label_dropout=1.0), dict(ema_decay=1.0),
                                 dict(image_size=10), dict(time_sampling="cosine")])
def test_bad_settings_are_one_sentence(bad):
    with pytest.raises(ValueError):
        FlowMatchingConfig.tiny(**bad)


def test_a_class_out_of_range_is_refused():
    with pytest.raises(ValueError, match="between 0 and 2"):
        tiny().sample(2, 0, steps=2, label=5)


def test_the_kind_is_iterative_and_conditional():
    kind = get_kind("flow-matching")
    assert kind.can("iterative", "samples", "conditional")
