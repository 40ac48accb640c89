"""Moving around a latent space: grids, traversals, interpolation (lerp and slerp), vector arithmetic.

These functions only make latent vectors; a model's decoder or generator turns them into images.
"""
from __future__ import annotations

import torch


def grid_points(n: int, span: float, dims: tuple[int, int] = (0, 1), base: torch.Tensor | None = None,
                latent_dim: int = 2) -> torch.Tensor:
    """An n x n grid over two latent dimensions, [-span, span] each, other dimensions fixed at `base`.

    Rows go from +span (top) to -span (bottom) so the picture reads like a plot. Returns (n*n, latent_dim),
    row-major: point [r*n + c] sits at row r, column c.
    """
    base = torch.zeros(latent_dim) if base is None else base.detach().float().cpu()
    values = torch.linspace(-span, span, n)  # (n,)
    ys, xs = torch.meshgrid(values.flip(0), values, indexing="ij")  # (n, n) each
    points = base.repeat(n * n, 1)  # (n*n, latent_dim)
    points[:, dims[0]] = xs.reshape(-1)
    points[:, dims[1]] = ys.reshape(-1)
    return points


def traversal(base: torch.Tensor, dim: int, span: float, steps: int) -> torch.Tensor:
    """Vary one latent dimension from -span to +span, the others fixed at `base`: (steps, latent_dim)."""
    points = base.detach().float().cpu().repeat(steps, 1)  # (steps, latent_dim)
    points[:, dim] = torch.linspace(-span, span, steps)
    return points


def lerp(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """Straight line from a to b: (steps, D)."""
    t = torch.linspace(0, 1, steps).unsqueeze(1)  # (steps, 1)
    return (1 - t) * a + t * b


def slerp(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """Spherical interpolation (Shoemake 1985; White 2016 for generative models): follows the great circle
    between a and b, so intermediate points keep a norm typical of a Gaussian prior instead of passing close
    to the origin, where a high-dimensional N(0, I) almost never puts its samples. (steps, D)."""
    a_unit, b_unit = a / a.norm(), b / b.norm()
    omega = torch.arccos((a_unit * b_unit).sum().clamp(-1 + 1e-7, 1 - 1e-7))  # angle between a and b
    if omega.abs() < 1e-4:  # (nearly) parallel: slerp and lerp coincide
        return lerp(a, b, steps)
    t = torch.linspace(0, 1, steps).unsqueeze(1)  # (steps, 1)
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def interpolate(a: torch.Tensor, b: torch.Tensor, steps: int, method: str = "slerp") -> torch.Tensor:
    if method not in ("lerp", "slerp"):
        raise ValueError(f"method must be 'lerp' or 'slerp', not {method!r}")
    return (slerp if method == "slerp" else lerp)(a.float(), b.float(), steps)


def vector_arithmetic(group_a: torch.Tensor, group_b: torch.Tensor, group_c: torch.Tensor) -> torch.Tensor:
    """mean(A) - mean(B) + mean(C), the DCGAN paper's "smiling woman - neutral woman + neutral man".

    Each group is (k, D) with k >= 1; averaging several vectors of one concept cancels what they do not share.
    Returns (D,)."""
    for name, group in (("A", group_a), ("B", group_b), ("C", group_c)):
        if group.ndim != 2 or len(group) == 0:
            raise ValueError(f"group {name} needs at least one latent vector")
    return group_a.mean(0) - group_b.mean(0) + group_c.mean(0)
