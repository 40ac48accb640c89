"""The model registry: every model family registers a kind here, and declares what it can do.

Pages and shared code never ask for a kind by name. They ask for "every kind that can do X":

    for kind in kinds_with(LATENT): ...          # the latent-space explorer lists these
    kind = get_kind(card["kind"])                # a checkpoint's kind, to read its facts

Adding a model family is one new file (or folder) in this package that calls `register_kind`; every page that
can show it lists it at once. The protocol a model implements is in `genlab/models/base.py`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Callable

from torch import nn

# -- capabilities: what a kind can do (each names the methods of genlab/models/base.py it promises) ---------
SAMPLES = "samples"  # sample(n, seed): new images from nothing; every generative model
LATENT = "latent"  # encode(x) -> (mu, logvar) and decode(z): a code space to walk through (VAE explorer)
GENERATOR = "generator"  # random_latents(n, seed) and decode(z): latent vectors to hold and combine (GAN page)
AUTOREGRESSIVE = "autoregressive"  # pixel conditionals: logits, pixel_log_probs, exact log-likelihood, completion
CONDITIONAL = "conditional"  # can take a class label (a checkpoint trained with classes says so: `conditional`)
TRANSLATOR = "translator"  # translate(x, domain): an image from one domain into another
ITERATIVE = "iterative"  # a sampler with a step count: sample(n, seed, steps=...)
FEATURES = "features"  # features(x): the domain classifier behind FID, KID, precision and recall
CODES = "codes"  # GENERATOR latents with named parts: code_sizes, with_codes, read_codes (InfoGAN's c)
CAPABILITIES = (SAMPLES, LATENT, GENERATOR, AUTOREGRESSIVE, CONDITIONAL, TRANSLATOR, ITERATIVE, FEATURES, CODES)
NEEDS = {  # "this page needs ...": what a model with the capability is, in words
    SAMPLES: "a generative model", LATENT: "a model with an encoder and a decoder (a latent code)",
    GENERATOR: "a generator of images from latent vectors", AUTOREGRESSIVE: "an autoregressive model",
    CONDITIONAL: "a class-conditional model", TRANSLATOR: "an image-to-image translator",
    ITERATIVE: "a model with an iterative sampler", FEATURES: "a metrics classifier",
    CODES: "a generator with interpretable codes",
}

# -- what a likelihood is --------------------------------------------------------------------------------
EXACT, BOUND, NO_LIKELIHOOD = "exact", "bound", "none"


@dataclass(frozen=True)
class ModelKind:
    name: str  # "vae": used in checkpoints and the CLI, never in pages
    title: str  # "Variational autoencoder"
    family: str  # the course's taxonomy: explicit tractable / explicit approximate / implicit density
    summary: str  # one sentence for the pages
    config_cls: type
    model_cls: type[nn.Module]
    paper: str  # citation shown beside the model
    capabilities: frozenset[str] = frozenset()
    likelihood: str = NO_LIKELIHOOD  # EXACT, BOUND (a lower bound on log p(x)) or NO_LIKELIHOOD
    likelihood_metric: str | None = None  # the key of `evaluate` that holds -log p(x) (or its bound), nats/image
    discretisation: str | Callable[[Any], str] = ""  # on which data the likelihood is measured (may use config)
    likelihood_on_grey: bool = True  # False: its score on grey levels is no likelihood (a Bernoulli on [0, 1])
    no_likelihood: str = "none: implicit model"  # what tables say where the kind reports no likelihood
    loss_labels: dict[str, str] = field(default_factory=dict, hash=False)  # train_step and evaluate keys -> titles
    panels_together: tuple[tuple[str, ...], ...] = ()  # losses drawn on one chart of the Train page
    curve_note: str = ""  # one sentence under the Train page's curves
    status_keys: tuple[str, ...] = ()  # train_step keys whose latest value the Train page's progress line shows
    sample_batch: int = 500  # images per `sample` call when metrics draw thousands
    slow_sampler: bool = False  # one network pass per pixel: metrics draw fewer samples
    live_grid: int = 64  # images in the Train page's live sample grid (fewer keep a slow sampler's grid fresh)
    # What the Train page starts a new model with where it differs from the defaults (which the CLI and the shipped
    # checkpoints' commands keep): config fields, "lr" and "batch_size" (a live demo wants speed first), and
    # "dataset", the data set it is offered first.
    starts_with: dict[str, Any] = field(default_factory=dict, hash=False)
    lesson: int = 99  # where the course meets it (COURSE.md's lesson path): lists follow this order

    def __post_init__(self):
        unknown = set(self.capabilities) - set(CAPABILITIES)
        if unknown:
            raise ValueError(f"unknown capabilities for {self.name}: {', '.join(sorted(unknown))}")
        if self.likelihood not in (EXACT, BOUND, NO_LIKELIHOOD):
            raise ValueError(f"likelihood must be exact, bound or none, not {self.likelihood!r}")

    @property
    def reports_likelihood(self) -> bool:
        """True for an exact likelihood or a bound on it; False for autoencoders and implicit models."""
        return self.likelihood != NO_LIKELIHOOD

    def can(self, *capabilities: str) -> bool:
        return set(capabilities) <= self.capabilities

    @property
    def default_lr(self) -> float:
        """The learning rate the model trains with unless told otherwise."""
        return self.model_cls.default_lr

    @property
    def default_batch_size(self) -> int:
        """The batch size the model trains with unless told otherwise."""
        return self.model_cls.default_batch_size

    def data_discretisation(self, config: Any) -> str:
        """On which discretisation of the data the likelihood is measured, for this config."""
        return self.discretisation(config) if callable(self.discretisation) else self.discretisation

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


def unregister_kind(name: str) -> None:
    """Forget a kind (tests register throwaway kinds)."""
    KINDS.pop(name, None)


def kinds_with(*capabilities: str) -> list[ModelKind]:
    """Every registered kind that has all these capabilities, in the course's order."""
    return sorted((k for k in KINDS.values() if k.can(*capabilities)), key=lambda k: (k.lesson, k.name))


def kind_names_with(*capabilities: str) -> set[str]:
    return {k.name for k in kinds_with(*capabilities)}


def kind_of(model: nn.Module) -> ModelKind:
    """The registered kind a model object belongs to (its exact class)."""
    for kind in KINDS.values():
        if type(model) is kind.model_cls:
            return kind
    raise ValueError(f"{type(model).__name__} is not a registered model kind")


def get_kind(name: str) -> ModelKind:
    if name not in KINDS:
        raise ValueError(f"Unknown model kind '{name}'. Known kinds: {', '.join(sorted(KINDS))}.")
    return KINDS[name]


def choices(config_field) -> tuple | None:
    """The allowed values of an enumerated config setting (field(metadata={"choices": (...)})), else None."""
    return tuple(config_field.metadata["choices"]) if config_field.metadata.get("choices") else None


def check_choices(config: Any) -> None:
    """Raise ValueError (one sentence) when an enumerated setting of `config` is not one of its choices."""
    for f in fields(config):
        allowed = choices(f)
        if allowed and getattr(config, f.name) not in allowed:
            raise ValueError(f"{f.name} must be one of {', '.join(map(str, allowed))}, not "
                             f"{getattr(config, f.name)!r}")


def _import_model_files() -> None:
    """Importing every module in this package registers its kind: a new model is one new file."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_import_model_files()
