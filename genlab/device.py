"""Pick the fastest device this machine has: CUDA, then Apple's MPS, then the CPU."""
import os

import torch


def pick_device(prefer: str | None = None) -> torch.device:
    """The device to run on. `prefer` (or GENLAB_DEVICE) forces one, e.g. "cpu"."""
    prefer = prefer or os.environ.get("GENLAB_DEVICE")
    if prefer:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device) -> str:
    """A one-line, human description of the device, for the home page and model cards."""
    if device.type == "cuda":
        return f"CUDA GPU ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({torch.get_num_threads()} threads)"
