"""What the theory of the GAN game says, estimated from points: the optimal discriminator
D*(x) = p_data(x) / (p_data(x) + p_g(x)) and the Jensen-Shannon divergence JSD(p_data ‖ p_g) (Goodfellow et al.
2014, section 4). A GAN never writes p_g down, so both come from Gaussian kernel density estimates: each
distribution is the average of small Gaussians (std BANDWIDTH) centred on its points. The same bandwidth for both
keeps the ratio fair; the estimate is rough (biased by the bandwidth and the point count) but shows the trend.
"""
from __future__ import annotations

import math

import torch

BANDWIDTH = 0.1  # the kernels' std, in plane units (the ring's modes have std 0.05, the plane spans 6)


def kde_log_density(centres: torch.Tensor, points: torch.Tensor, bandwidth: float = BANDWIDTH) -> torch.Tensor:
    """log of the kernel density estimate built on centres (m, 2), evaluated at points (n, 2) -> (n,)."""
    squared = torch.cdist(points, centres).square()  # (n, m)
    log_kernel = -squared / (2 * bandwidth ** 2) - math.log(2 * math.pi * bandwidth ** 2)  # (n, m), 2-D Gaussian
    return torch.logsumexp(log_kernel, dim=1) - math.log(len(centres))  # (n,)


EMPTY = 1e-3  # below this density of p_data + p_g (per unit area) D* is 0/0: shown as 1/2


def optimal_discriminator(real: torch.Tensor, fake: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """D*(x) = p_data / (p_data + p_g) at points (n, 2), from the real (m, 2) and fake (k, 2) points -> (n,);
    1/2 where neither distribution has mass (there the ratio is 0/0 and any D is optimal)."""
    log_data, log_g = kde_log_density(real, points), kde_log_density(fake, points)  # (n,) each
    ratio = torch.sigmoid(log_data - log_g)  # p_d / (p_d + p_g) = 1 / (1 + p_g / p_d)
    return torch.where(torch.logaddexp(log_data, log_g) < math.log(EMPTY), torch.full_like(ratio, 0.5), ratio)


def jensen_shannon_bits(real_fit: torch.Tensor, fake_fit: torch.Tensor, real_eval: torch.Tensor,
                        fake_eval: torch.Tensor) -> float:
    """JSD(p_data ‖ p_g) in bits (0: the same distribution; 1: no overlap), by Monte Carlo on held-out points.

    JSD = ½ E_data[log 2 p_d / (p_d + p_g)] + ½ E_g[log 2 p_g / (p_d + p_g)], with the densities estimated on
    the *_fit points and the expectations taken over the *_eval points.
    """
    def half(eval_points: torch.Tensor, own: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        log_own, log_other = kde_log_density(own, eval_points), kde_log_density(other, eval_points)  # (n,) each
        return (math.log(2) + log_own - torch.logaddexp(log_own, log_other)).mean()

    nats = 0.5 * half(real_eval, real_fit, fake_fit) + 0.5 * half(fake_eval, fake_fit, real_fit)
    return float(nats.clamp(0, math.log(2)) / math.log(2))
