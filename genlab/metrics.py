"""Numbers that say how good a generative model is."""
import math


def nats_to_bits_per_dim(nats_per_image: float, dims: int) -> float:
    """A negative log-likelihood in nats per image, as bits per dimension (per pixel and channel)."""
    return nats_per_image / (dims * math.log(2))
