"""The discretized logistic mixture (PixelCNN++'s output): a normalized distribution over 256 grey levels whose
likelihood at the observed levels is the same number the sampler draws from."""
import torch

from genlab.models.autoregressive import logistic_mixture
from genlab.models.autoregressive.pixelcnn import PixelCNN, PixelCNNConfig


def random_params(n=4, mixtures=5, size=3, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    weights = torch.randn(n, mixtures, size, size, generator=g) * 2
    means = torch.rand(n, mixtures, size, size, generator=g) * 2.4 - 1.2  # some beyond the grey scale
    log_scales = torch.rand(n, mixtures, size, size, generator=g) * 7 - 7  # from a tenth of a bin to one scale
    return torch.cat([weights, means, log_scales], 1)  # (N, 3K, H, W)


def test_the_256_levels_sum_to_one_and_are_finite():
    log_p = logistic_mixture.log_pmf(random_params())  # (N, 256, H, W)
    assert log_p.shape == (4, 256, 3, 3) and torch.isfinite(log_p).all()
    assert torch.allclose(log_p.exp().sum(1), torch.ones(4, 3, 3), atol=1e-5)


def test_float32_agrees_with_float64_wherever_the_probability_matters():
    params = random_params(seed=1)
    single, double = logistic_mixture.log_pmf(params), logistic_mixture.log_pmf(params.double())
    matters = double > -20  # levels with a probability above e^-20
    assert torch.allclose(single[matters].double(), double[matters], atol=1e-3)


def test_the_likelihood_at_the_targets_is_the_pmf_there_and_has_gradients():
    params = random_params(seed=2).requires_grad_()
    targets = torch.randint(0, 256, (4, 3, 3), generator=torch.Generator().manual_seed(0))
    targets[0, 0, 0], targets[0, 0, 1] = 0, 255  # both open-ended bins
    at_targets = logistic_mixture.log_prob_targets(params, targets)  # (N, H, W)
    from_pmf = logistic_mixture.log_pmf(params).gather(1, targets[:, None])[:, 0]
    assert torch.allclose(at_targets, from_pmf, atol=1e-6)
    at_targets.sum().backward()
    assert torch.isfinite(params.grad).all() and params.grad.abs().sum() > 0


def test_a_narrow_logistic_puts_its_mass_on_its_level_and_one_logistic_is_one_bump():
    level = 100
    params = torch.tensor([[[[0.0]], [[2 * level / 255 - 1]], [[-7.0]]]])  # one logistic, centred on level 100
    p = logistic_mixture.log_pmf(params).exp()[0, :, 0, 0]  # (256,)
    assert p.argmax() == level and p[level] > 0.9
    wide = torch.tensor([[[[0.0]], [[0.0]], [[-1.0]]]])
    p = logistic_mixture.log_pmf(wide).exp()[0, :, 0, 0]
    rising, falling = p[1:128].diff(), p[128:255].diff()  # the end bins also hold the tails beyond the scale
    assert (rising >= -1e-7).all() and (falling <= 1e-7).all()


def test_a_logistic_pixelcnn_is_a_normalized_256_level_model():
    torch.manual_seed(0)
    model = PixelCNN(PixelCNNConfig.tiny(output="logistic", mixtures=3)).eval()
    assert model.head[-1].out_channels == 9 and model.config.levels == 256
    x = torch.rand(2, 1, 8, 8)
    with torch.inference_mode():
        logits = model.logits(model.quantize(x))  # (N, 256, H, W) log-probabilities
        per_pixel = model.pixel_log_probs(x)
    assert logits.shape == (2, 256, 8, 8)
    assert torch.allclose(logits.exp().sum(1), torch.ones(2, 8, 8), atol=1e-5)
    assert torch.allclose(per_pixel, logits.gather(1, model.targets(model.quantize(x))[:, None])[:, 0], atol=1e-5)
    assert "discretized logistics" in model.describe()
