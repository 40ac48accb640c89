"""The model registry: every model family registers a kind here, and pages build their pickers from it.

A kind bundles a name, a `@dataclass` config (with a `tiny()` preset for tests) and an `nn.Module` class that
implements the small protocol the trainer and the pages use:

    model = kind.build(config)
    optimizers = model.make_optimizers(lr)            # dict name -> torch.optim.Optimizer
    losses = model.train_step(x, y, optimizers)       # one step; returns {name: float}, loss first
    images = model.sample(n, generator)               # (n, C, H, W) in [0, 1]; same seed, same images
    totals = model.evaluate(x, y)                     # per-batch sums of test metrics (optional)

Adding a model means one new file in this package that calls `register_kind`; no page changes. Config fields
that a user may set carry a one-line explanation: `field(default=..., metadata={"help": "..."})`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class ModelKind:
    name: str  # "vae", used in checkpoints and the CLI
    title: str  # "Variational autoencoder"
    family: str  # the course's taxonomy: explicit tractable / explicit approximate / implicit density
    summary: str  # one sentence for the pages
    config_cls: type
    model_cls: type[nn.Module]
    paper: str  # citation shown beside the model
    generative: bool = True  # False for helpers such as the metrics classifier: not offered for generation

    def build(self, config: Any | None = None) -> nn.Module:
        return self.model_cls(config if config is not None else self.config_cls())

    def config_from_dict(self, values: dict) -> Any:
        """Rebuild a config from a checkpoint's JSON; unknown keys are an error, missing keys take defaults."""
        known = {f.name for f in fields(self.config_cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown {self.name} settings: {', '.join(sorted(unknown))}")
        return self.config_cls(**values)


KINDS: dict[str, ModelKind] = {}


def register_kind(kind: ModelKind) -> ModelKind:
    KINDS[kind.name] = kind
    return kind


def generative_kinds() -> dict[str, ModelKind]:
    """The kinds a user can train and sample from (the metrics classifier is not one)."""
    return {name: kind for name, kind in KINDS.items() if kind.generative}


def get_kind(name: str) -> ModelKind:
    if name not in KINDS:
        raise ValueError(f"Unknown model kind '{name}'. Known kinds: {', '.join(sorted(KINDS))}.")
    return KINDS[name]


def config_to_dict(config: Any) -> dict:
    return asdict(config)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def as_generator(seed_or_generator: int | torch.Generator | None, device: torch.device | str = "cpu"
                 ) -> torch.Generator:
    """Samplers take a seed or a torch.Generator; this turns either into a Generator on `device`."""
    if isinstance(seed_or_generator, torch.Generator):
        return seed_or_generator
    g = torch.Generator(device=device)
    g.manual_seed(0 if seed_or_generator is None else int(seed_or_generator))
    return g


def config_help(config_cls: type) -> dict[str, str]:
    """The one-line explanation of each config field that has one (field(metadata={"help": ...}))."""
    return {f.name: f.metadata["help"] for f in fields(config_cls) if "help" in f.metadata}


def _import_model_files() -> None:
    """Importing every module in this package registers its kind: a new model is one new file."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_import_model_files()
