"""How many numbers a density over n binary pixels needs, by how much each pixel may depend on the others.

The chain rule p(x) = prod_i p(x_i | x_<i) holds for any distribution; what a model pays is how it writes the
conditionals:

- a full table of p(x): one probability per image, 2^n of them, minus one because they sum to 1;
- independent pixels: p(x_i) alone, one number per pixel, n;
- a first-order Markov chain: p(x_1), then p(x_i = 1 | x_{i-1}) for both values of the previous pixel, 2n - 1;
- an autoregressive network (NADE, PixelRNN, PixelCNN): earlier pixels (all of them, or those in its receptive
  field) through weights the conditionals share (NADE's W, a convolution's or an LSTM's kernels).
"""
from __future__ import annotations

import math

BINARY_RULES = {  # name -> (count for n pixels, one sentence)
    "full joint table": (lambda n: 2 ** n - 1,
                         "One probability for every possible image, less one because they sum to 1."),
    "independent pixels": (lambda n: n, "One p(white) per pixel; no pixel knows any other, so strokes cannot form."),
    "first-order Markov chain": (lambda n: 2 * n - 1,
                                 "p(x₁), then p(xᵢ = white | xᵢ₋₁) for each value of the pixel just before."),
}


def binary_density_counts(n: int) -> dict[str, int]:
    """Exact parameter counts (Python integers: 2^784 has 237 digits) of each rule for n binary pixels."""
    if n < 1:
        raise ValueError(f"n must be at least 1, not {n}")
    return {name: rule(n) for name, (rule, _) in BINARY_RULES.items()}


def readable_count(count: int) -> str:
    """12,345 as it is; a count too large to read as about 10^k (with the digit count)."""
    if count < 10 ** 9:
        return f"{count:,}"
    digits = len(str(count))
    lead = int(str(count)[:3]) / 100
    return f"≈ {lead:.2f} × 10^{digits - 1}"


def atoms_comparison(count: int) -> str:
    """A sentence that puts a huge count beside the ~10^80 atoms of the observable universe."""
    exponent = math.log10(count) if count > 0 else 0
    if exponent < 80:
        return ""
    return f"More than the about 10^80 atoms in the observable universe, by a factor of about 10^{int(exponent) - 80}."
