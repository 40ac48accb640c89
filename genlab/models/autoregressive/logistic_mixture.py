"""A pixel's 256 grey levels as a mixture of discretized logistics (Salimans et al. 2017, PixelCNN++).

A softmax over 256 levels must learn from data that level 101 is like level 100. A logistic distribution
over the grey scale, cut into 256 bins, knows it already: each pixel's conditional is a mixture of K such
logistics, 3K numbers (weights, means, log-scales) instead of 256, and neighbouring levels share probability.
The likelihood stays exact and discrete:

    P(x = k) = sum_m pi_m [sigma((e_{k+1} - mu_m) / s_m) - sigma((e_k - mu_m) / s_m)]

with grey levels scaled to [-1, 1], bin edges e_k = (2k - 1) / 255 - 1, the first bin open to -inf and the last
to +inf, so the 256 probabilities sum to one. Everything is computed in log space without approximating
thin bins by a density, so training, the likelihood table and the sampler all use the same distribution.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

LEVELS = 256
MIN_LOG_SCALE = -7.0  # s >= e^-7: a logistic that narrow, centred in a bin 2/255 wide, puts 97% of its mass in it


def channels_for(mixtures: int) -> int:
    """Numbers the network outputs per pixel: a weight, a mean and a log-scale per logistic."""
    return 3 * mixtures


def _log_sigmoid_difference(upper: torch.Tensor, lower: torch.Tensor) -> torch.Tensor:
    """log(sigmoid(upper) - sigmoid(lower)) for upper > lower, from the identity

        sigmoid(u) - sigmoid(l) = sigmoid(u) sigmoid(-l) (1 - e^(l - u)),

    whose three factors are computed without subtracting two nearly equal numbers, in either tail and for a
    wide logistic (u - l tiny) alike."""
    return F.logsigmoid(upper) + F.logsigmoid(-lower) + torch.log(-torch.expm1(lower - upper))


def log_prob_targets(params: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """params (N, 3K, H, W), targets (N, H, W) integers 0..255 -> log P(target) (N, H, W)."""
    return log_prob_at(params, targets[:, None])[:, 0]  # (N, H, W)


def log_prob_at(params: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """params (N, 3K, *S), levels (N or 1, L, *S) integers -> log P of each level (N, L, *S)."""
    weights, means, log_scales = (t.unsqueeze(2) for t in params.chunk(3, dim=1))  # (N, K, 1, *S) each
    log_weights = F.log_softmax(weights, dim=1)
    inverse_scale = torch.exp(-log_scales.clamp_min(MIN_LOG_SCALE))
    k = levels.unsqueeze(1).to(params.dtype)  # (N, 1, L, *S)
    upper = ((2 * k + 1) / 255 - 1 - means) * inverse_scale  # (N, K, L, *S): the edge e_{k+1}
    lower = ((2 * k - 1) / 255 - 1 - means) * inverse_scale  # the edge e_k
    per_logistic = torch.where(k == 0, F.logsigmoid(upper),  # the first bin: everything below its upper edge
                               torch.where(k == LEVELS - 1, F.logsigmoid(-lower),  # the last: everything above
                                           _log_sigmoid_difference(upper, lower)))
    return torch.logsumexp(log_weights + per_logistic, dim=1)  # (N, L, *S)


def log_pmf(params: torch.Tensor) -> torch.Tensor:
    """params (N, 3K, *S) -> the log-probabilities of all 256 levels (N, 256, *S): logits a softmax sampler can
    draw from (they are already normalized)."""
    shape = (1, LEVELS) + (1,) * (params.dim() - 2)
    return log_prob_at(params, torch.arange(LEVELS, device=params.device).view(shape))
